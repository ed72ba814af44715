"""``RNNForecaster``: forecast a time series from its last ``window`` values.

A sequence-to-one model: the training series is cut into windows of
``window`` steps, each paired with the ``horizon`` steps that follow; an
``RNNRegressor`` learns that map. ``predict(h)`` forecasts the next ``h``
steps after a series, feeding forecasts back in when ``h > horizon``.
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from sklears_neural.rnn._estimators import RNNRegressor

__all__ = ["RNNForecaster"]

# Constructor arguments passed on unchanged to the RNNRegressor.
_REGRESSOR_PARAMS = ("cell", "hidden_size", "num_layers", "dropout", "optimizer", "lr",
                     "max_iter", "max_epochs", "batch_size", "alpha", "clip_grad_norm",
                     "validation_fraction",
                     "early_stopping", "n_iter_no_change", "tol", "shuffle", "random_state",
                     "device", "dtype", "verbose", "n_threads")


class RNNForecaster(BaseEstimator):
    """Recurrent sequence-to-one forecaster for univariate or multivariate series.

    Parameters
    ----------
    window : int, default=24
        Past steps the model reads for each forecast.
    horizon : int, default=1
        Steps the model forecasts at once. ``predict`` can go further by
        feeding its forecasts back as inputs.
    cell : {"lstm", "gru", "rnn"}, default="lstm"
        The recurrent layer.
    hidden_size : int, default=32
        The number of features of the hidden state.
    num_layers : int, default=1
        The number of stacked recurrent layers.
    dropout : float, default=0.0
        Between stacked layers and before the output layer.
    scale : bool, default=True
        Standardise each series with the training mean and standard
        deviation (forecasts are returned in the original units).
    optimizer : str or Optimizer subclass, default="adam"
        As for ``RNNRegressor``, which is fitted on the windows; so are the
        parameters below.
    lr : float, default=1e-3
        The learning rate.
    max_iter : int, default=100
        Epochs of one ``fit``.
    batch_size : int or "auto", default=32
        Windows per minibatch.
    alpha : float, default=0.0
        L2 penalty on the weight matrices.
    clip_grad_norm : float, default=None
        Clip the global gradient norm of every step.
    validation_fraction : float in [0, 1) or None, default=None
        Share of the windows held out and scored every epoch.
    early_stopping : bool, default=False
        Stop when the validation score stalls and restore the best weights.
    n_iter_no_change : int, default=10
        The number of epochs without improvement that stops training.
    tol : float, default=1e-4
        The improvement that counts (see ``RNNRegressor``).
    shuffle : bool, default=True
        Shuffle the windows at every epoch.
    random_state : int, RandomState or None, default=None
        Seeds initial weights, splits and shuffling.
    device : str, default="cpu"
        "cuda" / "cuda:N" trains on a GPU through CuPy.
    dtype : {"float32", "float64"}, default="float32"
        The dtype of the weights and of the computation.
    verbose : int, default=0
        1 shows a progress bar, 2 also prints every epoch.
    n_threads : int, default=None
        Limit of BLAS/OpenMP threads during fit and predict.
    max_epochs : int
        Deprecated name of ``max_iter``; it will be removed in the next release.

    Attributes
    ----------
    regressor_ : RNNRegressor
        The fitted window → next-``horizon``-steps model.
    n_series_ : int
        Number of series (columns of ``y``).
    mean_, scale_ : ndarray of shape (n_series,)
        Standardisation of each series (0 and 1 when ``scale=False``).
    last_window_ : ndarray of shape (window, n_series)
        The end of the training series, where ``predict()`` starts.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.rnn import RNNForecaster
    >>> y = np.sin(np.arange(300) / 5)
    >>> f = RNNForecaster(window=20, hidden_size=16, max_iter=30, lr=1e-2, random_state=0)
    >>> f.fit(y).predict(5).shape
    (5,)
    """

    def __init__(self, window=24, horizon=1, *, cell="lstm", hidden_size=32, num_layers=1,
                 dropout=0.0, scale=True, optimizer="adam", lr=1e-3, max_iter=100,
                 batch_size=32, alpha=0.0, clip_grad_norm=None, validation_fraction=None,
                 early_stopping=False, n_iter_no_change=10, tol=1e-4, shuffle=True,
                 random_state=None, device="cpu", dtype="float32", verbose=0, n_threads=None,
                 max_epochs="deprecated"):
        self.window = window
        self.horizon = horizon
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.scale = scale
        self.optimizer = optimizer
        self.lr = lr
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.clip_grad_norm = clip_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose
        self.n_threads = n_threads

    def fit(self, y):
        """Learn to forecast ``y``.

        Parameters
        ----------
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
            Equally spaced observations, oldest first.

        Returns
        -------
        self : object
            The fitted forecaster.

        Raises
        ------
        ValueError
            If ``window`` or ``horizon`` is not a positive integer, or the series
            is too short for one window and its horizon.
        """
        for name in ("window", "horizon"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        series = self._check_series(y)
        if len(series) < self.window + self.horizon:
            raise ValueError(f"y has {len(series)} time steps; window={self.window} plus "
                             f"horizon={self.horizon} need at least "
                             f"{self.window + self.horizon}.")
        self.n_series_ = series.shape[1]
        self._univariate = np.ndim(y) == 1
        self.mean_ = series.mean(axis=0) if self.scale else np.zeros(self.n_series_)
        std = series.std(axis=0) if self.scale else np.ones(self.n_series_)
        self.scale_ = np.where(std > 0, std, 1.0)
        scaled = (series - self.mean_) / self.scale_
        # windows[i] = scaled[i : i + window + horizon]: inputs, then targets
        windows = sliding_window_view(scaled, self.window + self.horizon, axis=0)
        windows = windows.transpose(0, 2, 1)  # (n_windows, window + horizon, n_series)
        inputs = windows[:, :self.window]
        targets = windows[:, self.window:].reshape(len(windows), -1)
        params = {name: getattr(self, name) for name in _REGRESSOR_PARAMS}
        self.regressor_ = RNNRegressor(**params).fit(np.ascontiguousarray(inputs),
                                                     targets.ravel() if targets.shape[1] == 1
                                                     else targets)
        self.last_window_ = series[-self.window:].copy()
        return self

    def predict(self, horizon=None, y=None):
        """Forecast the steps after ``y`` (default: after the training series).

        Parameters
        ----------
        horizon : int, optional
            How many steps to forecast (default: the fitted ``horizon``).
            Beyond the fitted ``horizon`` the forecasts are fed back as inputs.
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_series), optional
            A series to forecast from, at least ``window`` steps long (its
            last ``window`` are read), e.g. the training series extended by
            newer observations.

        Returns
        -------
        ndarray of shape (horizon,) or (horizon, n_series)
            Shaped like the ``y`` given to ``fit``.
        """
        check_is_fitted(self, "regressor_")
        steps = self.horizon if horizon is None else horizon
        if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"horizon must be a positive integer; got {horizon!r}.")
        if y is None:
            history = self.last_window_
        else:
            history = self._check_series(y)
            if history.shape[1] != self.n_series_:
                raise ValueError(f"y has {history.shape[1]} series; the forecaster was fitted "
                                 f"on {self.n_series_}.")
            if len(history) < self.window:
                raise ValueError(f"y has {len(history)} time steps; the forecaster reads the "
                                 f"last window={self.window}.")
        context = (history[-self.window:] - self.mean_) / self.scale_
        forecasts = []
        while len(forecasts) < steps:
            out = self.regressor_.predict(context[None]).reshape(self.horizon, self.n_series_)
            forecasts.extend(out)
            context = np.concatenate([context, out])[-self.window:]
        result = np.asarray(forecasts[:steps]) * self.scale_ + self.mean_
        return result[:, 0] if self._univariate else result

    @property
    def loss_curve_(self):
        """Training loss per epoch of the underlying regressor."""
        check_is_fitted(self, "regressor_")
        return self.regressor_.loss_curve_

    def _check_series(self, y):
        array = np.asarray(y)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"y must hold numbers; got dtype {array.dtype}.")
        if array.ndim not in (1, 2):
            raise ValueError("y must be (n_timesteps,) or (n_timesteps, n_series); got "
                             f"shape {array.shape}.")
        if not np.isfinite(array).all():
            raise ValueError("y contains NaN or infinity.")
        return array.astype(np.float64).reshape(len(array), -1)
