"""MLPClassifier / MLPRegressor behave as scikit-learn users expect."""

import pickle
import os
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklears_neural.mlp import MLPClassifier, MLPRegressor

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def small_problem(n=300, seed=0):
    return make_classification(n_samples=n, n_features=10, n_informative=6, n_classes=3,
                                random_state=seed)


@pytest.mark.slow
def test_digits_accuracy_within_half_a_point_of_scikit_learn(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    ours = MLPClassifier(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    theirs = SkMLPClassifier(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    assert ours >= theirs - 0.005


def test_pipeline_in_grid_search_with_two_jobs_and_cross_validate():
    X, y = small_problem()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=100, learning_rate_init=0.01,
                                                         random_state=0))
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(8,), (16,)],
                               "mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_score_ > 0.6
    assert set(grid.best_params_) == {"mlpclassifier__hidden_layer_sizes", "mlpclassifier__alpha"}
    scores = cross_validate(pipe, X, y, cv=3)
    assert scores["test_score"].mean() > 0.6


def test_joblib_round_trip_in_a_fresh_process(tmp_path):
    X, y = small_problem()
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", model.predict_proba(X))
    script = (
        "import sys, joblib, numpy as np\n"
        f"model = joblib.load({str(path)!r})\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"expected = np.load({str(tmp_path / 'expected.npy')!r})\n"
        "assert np.array_equal(model.predict_proba(X), expected), np.abs(model.predict_proba(X) - expected).max()\n"
        "print('identical')\n"
    )
    # The same BLAS kernel as here (OPENBLAS_CORETYPE picks it), or the last bits differ.
    blas = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                                           **blas})
    assert result.returncode == 0, result.stderr
    assert "identical" in result.stdout


def test_pickle_keeps_optimizer_state_for_warm_start():
    X, y = small_problem()
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
    model.fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    model.fit(X, y)
    clone.fit(X, y)
    for a, b in zip(model.coefs_, clone.coefs_):
        np.testing.assert_array_equal(a, b)


def test_string_labels_and_pandas_input():
    pd = pytest.importorskip("pandas")
    X, y = small_problem()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = np.array(["cat", "dog", "emu"])[y]
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01,
                          random_state=0)
    model.fit(frame, pd.Series(labels))
    assert list(model.classes_) == ["cat", "dog", "emu"]
    assert list(model.feature_names_in_) == list(frame.columns)
    assert set(model.predict(frame)) <= {"cat", "dog", "emu"}
    assert model.score(frame, labels) > 0.7
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)


def test_rows_with_zero_weight_change_nothing():
    X, y = small_problem()
    rng = np.random.default_rng(1)
    noise_X = rng.normal(size=(50, X.shape[1])) * 10
    noise_y = rng.integers(0, 3, 50)
    X_all, y_all = np.vstack([X, noise_X]), np.concatenate([y, noise_y])
    weights = np.concatenate([np.ones(len(X)), np.zeros(50)])
    params = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    with_zeros = MLPClassifier(**params).fit(X_all, y_all, sample_weight=weights)
    without = MLPClassifier(**params).fit(X, y, sample_weight=np.ones(len(X)))
    for a, b in zip(with_zeros.coefs_, without.coefs_):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="non-zero|sums to zero"):
        MLPClassifier(**params).fit(X, y, sample_weight=np.zeros(len(X)))


def test_sample_weight_matters():
    X, y = small_problem()
    params = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    weights = np.where(y == 0, 5.0, 1.0)
    a = MLPClassifier(**params).fit(X, y)
    b = MLPClassifier(**params).fit(X, y, sample_weight=weights)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


def test_class_weight_balanced_helps_an_imbalanced_problem():
    X, y = make_classification(n_samples=2100, n_features=8, n_informative=4, weights=[20 / 21],
                               class_sep=0.6, random_state=3)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    params = dict(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=0.01, random_state=0)
    plain = MLPClassifier(**params).fit(X_train, y_train)
    balanced = MLPClassifier(class_weight="balanced", **params).fit(X_train, y_train)
    plain_score = balanced_accuracy_score(y_test, plain.predict(X_test))
    balanced_score = balanced_accuracy_score(y_test, balanced.predict(X_test))
    assert balanced_score > plain_score + 0.05


def test_partial_fit_over_chunks_converges():
    X, y = small_problem(n=600)
    model = MLPClassifier(hidden_layer_sizes=(32,), random_state=0, learning_rate_init=3e-3)
    losses = []
    for epoch in range(30):
        for chunk in np.array_split(np.arange(len(X)), 4):
            model.partial_fit(X[chunk], y[chunk], classes=np.unique(y))
        losses.append(model.loss_)
    assert model.n_iter_ == 120
    assert losses[-1] < 0.5 * losses[0]
    assert model.score(X, y) > 0.8


def test_partial_fit_needs_all_classes_when_the_first_chunk_lacks_some():
    X, y = small_problem()
    model = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    model.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    model.partial_fit(X[y == 2], y[y == 2])
    assert list(model.classes_) == [0, 1, 2]
    fresh = MLPClassifier(hidden_layer_sizes=(8,), random_state=0).partial_fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="not seen"):
        fresh.partial_fit(X[y == 2], y[y == 2])


def test_warm_start_continues_rather_than_restarts():
    X, y = small_problem()
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, warm_start=True, random_state=0)
    model.fit(X, y)
    first_loss, steps = model.loss_, model.optimizer_.state[model.module_.linears()[0].weight]["step"]
    model.fit(X, y)
    assert model.n_iter_ == 10
    assert len(model.loss_curve_) == 10
    assert model.loss_curve_[5] < first_loss * 1.05  # picks up where it stopped
    assert model.optimizer_.state[model.module_.linears()[0].weight]["step"] == 2 * steps
    cold = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 5  # without warm_start a refit starts over


def test_early_stopping_restores_the_best_weights():
    from sklears_neural.base import Callback

    class Recorder(Callback):
        def on_train_begin(self, net, X=None, y=None):
            self.states = []

        def on_epoch_end(self, net, logs):
            self.states.append(net.module_.state_dict())

    X, y = small_problem(n=400)
    recorder = Recorder()
    model = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, n_iter_no_change=3,
                          learning_rate_init=0.05, max_iter=200, random_state=0,
                          callbacks=[("rec", recorder)])
    model.fit(X, y)
    scores = model.validation_scores_
    assert model.best_validation_score_ == max(scores)
    assert model.n_iter_ < 200  # it stopped early
    best_epoch = int(np.argmax(scores))
    assert best_epoch < len(scores) - 1  # the last epoch was not the best
    recorded = dict(model.callbacks_)["rec"].states[best_epoch]
    for key, value in model.module_.state_dict().items():
        np.testing.assert_array_equal(value, recorded[key])


def test_same_random_state_gives_identical_models():
    X, y = small_problem()
    params = dict(hidden_layer_sizes=(16, 8), max_iter=10, random_state=42, dropout=0.2)
    a = MLPClassifier(**params).fit(X, y)
    b = MLPClassifier(**params).fit(X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = MLPClassifier(**{**params, "random_state": 43}).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_fitted_attributes_look_like_scikit_learn():
    X, y = small_problem()
    ours = MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=5, random_state=0).fit(X, y)
    theirs = SkMLPClassifier(hidden_layer_sizes=(7, 5), max_iter=5, random_state=0).fit(X, y)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_iter_", "t_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    binary = MLPClassifier(max_iter=5, random_state=0).fit(X, y == 0)
    assert binary.out_activation_ == "logistic" and binary.n_outputs_ == 1
    assert binary.predict_proba(X).shape == (len(X), 2)
    np.testing.assert_allclose(binary.predict_proba(X).sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(ours.predict_log_proba(X)), ours.predict_proba(X))


def test_multilabel_targets():
    X, y = small_problem()
    Y = np.column_stack([y == 0, y == 1, y != 2]).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=100, learning_rate_init=0.01,
                          random_state=0).fit(X, Y)
    assert model.predict(X).shape == Y.shape
    assert model.out_activation_ == "logistic"
    assert (model.predict(X) == Y).mean() > 0.8


def test_per_layer_activations_dropout_and_norms():
    X, y = small_problem()
    for extra in ({"activation": ["gelu", "tanh"]}, {"dropout": [0.1, 0.0]},
                  {"batch_norm": True}, {"layer_norm": True, "activation": "mish"}):
        model = MLPClassifier(hidden_layer_sizes=(16, 16), max_iter=60, learning_rate_init=0.01,
                              random_state=0, **extra)
        assert model.fit(X, y).score(X, y) > 0.7, extra


@pytest.mark.parametrize("solver", ["sgd", "lbfgs", "adamw", "rmsprop"])
def test_other_solvers_learn(solver):
    X, y = small_problem()
    X = StandardScaler().fit_transform(X)
    lr = 0.1 if solver == "sgd" else 0.01
    model = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, max_iter=100,
                          learning_rate_init=lr, random_state=0)
    assert model.fit(X, y).score(X, y) > 0.8


def test_sgd_invscaling_follows_scikit_learn_formula():
    X, y = small_problem()
    model = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", learning_rate="invscaling",
                          learning_rate_init=0.1, power_t=0.25, max_iter=7, random_state=0)
    model.fit(StandardScaler().fit_transform(X), y)
    lrs = [row["lr"] for row in model.history_]
    expected = [0.1] + [0.1 / (len(X) * epoch + 1) ** 0.25 for epoch in range(1, 7)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_sgd_adaptive_divides_by_five_on_plateaus_then_stops():
    X, y = small_problem()
    # tol so large that only the first epoch (against an infinite best loss) improves:
    # then every n_iter_no_change + 1 = 3 stalled epochs divide the rate by 5
    model = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive",
                          learning_rate_init=0.1, tol=1e3, n_iter_no_change=2, max_iter=500,
                          random_state=0)
    model.fit(StandardScaler().fit_transform(X), y)
    lrs = [row["lr"] for row in model.history_]
    expected, lr = [], 0.1
    while len(expected) < len(lrs):
        expected += [lr] * (4 if not expected else 3)
        lr /= 5
    np.testing.assert_allclose(lrs, expected[:len(lrs)], rtol=1e-12)
    assert model.n_iter_ < 500 and lrs[-1] <= 1e-6 * 5


def test_lbfgs_has_no_partial_fit():
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPClassifier(solver="adam"), "partial_fit")


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "absolute_error", "huber"])
def test_regressor_losses(loss):
    X, y = make_regression(n_samples=300, n_features=6, noise=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    if loss == "poisson":
        y = np.random.default_rng(0).poisson(np.exp(0.5 * X[:, 0]))
    model = MLPRegressor(loss=loss, hidden_layer_sizes=(32,), max_iter=200, learning_rate_init=0.01,
                         random_state=0)
    model.fit(X, y)
    pred = model.predict(X)
    assert pred.shape == y.shape and pred.dtype == np.float64
    if loss == "poisson":
        assert model.out_activation_ == "exp" and (pred > 0).all()
        assert np.corrcoef(pred, y)[0, 1] > 0.5
    else:
        assert model.score(X, y) > 0.8


def test_regressor_squared_error_loss_matches_scikit_learn_definition():
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=1, random_state=0, shuffle=False,
                         batch_size=100, dtype="float64", alpha=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(X, y)
        # the loss of the one full batch, computed before the step
    assert model.loss_ > 0
    module_out = None  # the first loss is 0.5 * mean squared error of the initial model
    initial = MLPRegressor(hidden_layer_sizes=(5,), max_iter=1, random_state=0, dtype="float64")
    initial._validate_common()
    initial._check_X_y(X, y, reset=True)
    initial._initialize(y)
    module_out = initial._forward(X.astype(np.float64)).ravel()
    assert model.loss_ == pytest.approx(0.5 * np.mean((module_out - y) ** 2), rel=1e-10)


def test_multi_output_regression():
    X, Y = make_regression(n_samples=200, n_features=5, n_targets=3, random_state=0)
    Y = Y / Y.std(axis=0)
    model = MLPRegressor(hidden_layer_sizes=(32,), max_iter=200, learning_rate_init=0.01,
                         random_state=0).fit(X, Y)
    assert model.predict(X).shape == (200, 3) and model.n_outputs_ == 3
    assert model.score(X, Y) > 0.8


def test_sparse_input_matches_dense():
    sp = pytest.importorskip("scipy.sparse")
    X, y = small_problem()
    X[np.abs(X) < 0.8] = 0
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    dense = MLPClassifier(**params).fit(X, y)
    sparse = MLPClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)),
                               rtol=1e-5)


def test_verbose_shows_a_progress_bar(capsys):
    X, y = small_problem()
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, verbose=True, random_state=0).fit(X, y)
    assert "epoch" in capsys.readouterr().err


# -- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_X_or_y_raise(bad):
    X, y = small_problem()
    X_bad = X.copy()
    X_bad[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        MLPClassifier(max_iter=2).fit(X_bad, y)
    y_bad = y.astype(float)
    y_bad[0] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        MLPRegressor(max_iter=2).fit(X, y_bad)


def test_predict_before_fit_raises_not_fitted():
    X, _ = small_problem()
    for model in (MLPClassifier(), MLPRegressor()):
        with pytest.raises(NotFittedError):
            model.predict(X)


def test_wrong_number_of_features_names_both_numbers():
    X, y = small_problem()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=r"9 features.*10 features|10 features.*9"):
        model.predict(X[:, :9])


@pytest.mark.parametrize("params, match", [
    ({"solver": "newton"}, "solver must be one of 'adam', 'sgd', 'lbfgs'"),
    ({"activation": "swish"}, "activation must be one of"),
    ({"learning_rate": "fast"}, "learning_rate must be one of 'constant', 'invscaling', 'adaptive'"),
    ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
    ({"alpha": -1.0}, "alpha"),
    ({"batch_size": 0}, "batch_size"),
    ({"activation": ["relu"], "hidden_layer_sizes": (3, 3)}, "one per hidden layer"),
    ({"dropout": 1.0}, "dropout"),
    ({"device": "tpu"}, "device must be"),
    ({"dtype": "float16"}, "float32 or float64"),
    ({"early_stopping": True, "validation_fraction": 0.0}, "validation_fraction"),
])
def test_invalid_parameters_list_the_allowed_values(params, match):
    X, y = small_problem()
    with pytest.raises(ValueError, match=match):
        MLPClassifier(max_iter=2, **params).fit(X, y)
    with pytest.raises(ValueError, match="loss must be one of"):
        MLPRegressor(loss="hinge").fit(X, y.astype(float))


def test_diverging_fit_raises_and_leaves_the_previous_model():
    X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=0, warm_start=True)
    model.fit(X, y / y.std())
    before = [c.copy() for c in model.coefs_]
    n_iter = model.n_iter_
    model.set_params(learning_rate_init=1e6, solver="sgd", momentum=0.0)
    with pytest.raises(FloatingPointError, match="learning rate"):
        model.fit(X * 1e3, y * 1e6)
    assert model.n_iter_ == n_iter
    for a, b in zip(before, model.coefs_):
        np.testing.assert_array_equal(a, b)
    fresh = MLPRegressor(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=1e6,
                         max_iter=5, random_state=0)
    with pytest.raises(FloatingPointError):
        fresh.fit(X * 1e3, y * 1e6)
    assert not hasattr(fresh, "module_")  # nothing half-trained left behind


def test_a_gpu_trained_model_pickles_to_a_cpu_model():
    # Simulated: a CPU model marked as living on a GPU pickles through the same
    # path (module copied to the CPU, device_ reset), so it loads without CuPy.
    X, y = small_problem()
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    expected = model.predict_proba(X)
    model.device_ = "cuda:0"
    state = model.__getstate__()
    assert state["device_"] == "cpu" and state["module_"] is not model.module_
    model.device_ = "cpu"
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
