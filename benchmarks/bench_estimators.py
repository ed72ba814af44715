"""asv benchmarks of the estimators: ``MLPClassifier`` fit and predict.

What a user sees end to end (input validation, initialisation, the training
loop, label decoding), tracked over commits by asv; ``bench_engine.py``
times the engine underneath, and ``compare.py`` (tables ``mlp`` and
``predict``) puts the same calls next to scikit-learn and PyTorch.

The model is the one of ``compare.py``: hidden layers (256, 128), relu,
Adam (lr 1e-3), trained on a standardised 5000 x 784 ten-class
``make_classification`` for 2 epochs (``tol=0``, so every fit runs all
epochs). Every benchmark runs single-threaded (all BLAS and OpenMP pools
limited to one thread in ``setup``), like ``bench_engine.py``. PyTorch is
not part of the asv suite.
"""

import warnings

import numpy as np
import threadpoolctl

HIDDEN = (256, 128)
N_SAMPLES, N_FEATURES, N_CLASSES = 5000, 784, 10
EPOCHS = 2


def _limit_threads():
    """Run on one thread; the limiter must stay referenced while it applies."""
    from sklears_neural._dispatch import kernels_for

    kernels_for(np.zeros(1))  # load the kernels (and their OpenMP runtime) first
    return threadpoolctl.threadpool_limits(limits=1)


def _data():
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=N_SAMPLES, n_features=N_FEATURES, n_informative=50,
                               n_classes=N_CLASSES, random_state=0)
    return StandardScaler().fit_transform(X), y


def _estimator(batch_size, epochs):
    from sklears_neural import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=HIDDEN, learning_rate_init=1e-3,
                         batch_size=batch_size, max_iter=epochs, tol=0,
                         n_iter_no_change=10**9, random_state=0)


def _fit(estimator, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


class MLPClassifierFit:
    """``MLPClassifier.fit``: 2 epochs over 5000 x 784 (float64 input, float32 training)."""

    params = [32, 128, 512]
    param_names = ["batch_size"]
    number = 1  # one fit is long enough to time on its own
    repeat = (3, 10, 30.0)
    timeout = 300

    def setup(self, batch_size):
        self._limiter = _limit_threads()
        self.X, self.y = _data()
        # Warm up: one short fit (BLAS buffers, imports, first-call paths).
        _fit(_estimator(batch_size, 1), self.X[:1000], self.y[:1000])

    def time_fit(self, batch_size):
        """A whole fit: validation, initialisation and every epoch."""
        _fit(_estimator(batch_size, EPOCHS), self.X, self.y)

    def peakmem_fit(self, batch_size):
        """Peak memory of the process around one fit (the data set included)."""
        _fit(_estimator(batch_size, EPOCHS), self.X, self.y)


class MLPClassifierPredict:
    """``MLPClassifier.predict`` on 1, 100 and 10 000 rows (float64 input).

    The model is fitted once per process (``setup_cache``: 1 epoch, batch
    128) and handed to every benchmark.
    """

    params = [1, 100, 10_000]
    param_names = ["rows"]
    timeout = 300

    def setup_cache(self):
        limiter = _limit_threads()
        X, y = _data()
        model = _fit(_estimator(128, 1), X, y)
        del limiter
        return model, X[np.arange(max(self.params)) % X.shape[0]]

    def setup(self, cache, rows):
        self._limiter = _limit_threads()
        self.model, pool = cache
        self.x = np.ascontiguousarray(pool[:rows])
        self.model.predict(self.x)  # warm up

    def time_predict(self, cache, rows):
        """Validation, cast to float32, forward pass, label decoding."""
        self.model.predict(self.x)
