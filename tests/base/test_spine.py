"""The spine's promises: fit is a transaction, Ctrl-C keeps a consistent model, callbacks
are re-read, evaluation never flips the training module's mode, and bad settings fail early."""

import os
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import DataConversionWarning, NotFittedError

from _modules import TinyNet
from sklears_neural import MLPClassifier, MLPRegressor, NeuralNetClassifier, RNNClassifier
from sklears_neural.base import Callback, EarlyStopping, GradientClipping, LearningRateSchedule
from sklears_neural.cnn import CNN1DClassifier

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(n=300, seed=0):
    return make_classification(n_samples=n, n_features=8, n_informative=5, n_classes=3,
                               random_state=seed)


class Boom(Exception):
    pass


class RaiseAt(Callback):
    """Raises in the middle of an epoch (after ``batches`` optimizer steps of this fit)."""

    def __init__(self, batches=3):
        self.batches = batches

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.seen_ = 0

    def on_batch_end(self, net, batch_loss=None, batch_size=None, **kwargs):
        self.seen_ += 1
        if self.seen_ == self.batches:
            raise Boom("raised mid-epoch")


def _state(model):
    return {k: v.copy() for k, v in model.module_.state_dict().items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# -- fit is a transaction -------------------------------------------------------------
def test_failed_first_fit_leaves_the_estimator_unfitted():
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, batch_size=32, random_state=0,
                          callbacks=[RaiseAt(batches=3)])
    with pytest.raises(Boom):
        model.fit(X, y)
    assert not any(k.endswith("_") and not k.startswith("__") for k in vars(model))
    with pytest.raises(NotFittedError):
        model.predict(X)


@pytest.mark.parametrize("how", ["refit", "warm_start", "partial_fit"])
def test_failed_fit_restores_the_previous_model_exactly(how):
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, batch_size=32, dropout=0.2,
                          random_state=0).fit(X, y)
    before = _state(model)
    proba = model.predict_proba(X)
    optimizer_before = model.optimizer_.state_dict()
    history, n_iter, t = [dict(r) for r in model.history_], model.n_iter_, model.t_
    model.set_params(callbacks=[RaiseAt(batches=3)], warm_start=how == "warm_start")
    with pytest.raises(Boom):
        if how == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.fit(X, y)
    _assert_same_state(before, _state(model))
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    assert model.n_iter_ == n_iter and model.t_ == t
    assert [dict(r) for r in model.history_] == history
    after = model.optimizer_.state_dict()
    for index, entries in optimizer_before["state"].items():
        for name, value in entries.items():
            np.testing.assert_array_equal(after["state"][index][name], value)
    assert not model.module_.training
    assert all(p.grad is None for p in model.module_.parameters())
    # and it trains on afterwards as if nothing had happened
    model.set_params(callbacks=None, warm_start=True)
    model.fit(X, y)
    assert model.n_iter_ == n_iter + 5


def test_a_failed_warm_fit_restores_the_callbacks_state_too():
    X, y = data()
    counter = Counter()
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                          callbacks=[("count", counter), ("boom", RaiseAt(batches=10**9))])
    model.fit(X, y)
    assert dict(model.callbacks_)["count"].epochs_ == 3
    dict(model.callbacks_)["boom"].batches = 4  # the fitted copy raises in the next fit
    model.set_params(warm_start=True)
    with pytest.raises(Boom):
        model.fit(X, y)
    assert dict(model.callbacks_)["count"].epochs_ == 3


@pytest.mark.parametrize("params, callback", [
    ({"early_stopping": True}, EarlyStopping()),
    ({"lr_schedule": ("step", {"step_size": 2})}, LearningRateSchedule(lambda epoch, lr: lr)),
    ({"clip_grad_norm": 1.0}, GradientClipping(max_norm=1.0)),
], ids=["early_stopping", "lr_schedule", "clip_grad_norm"])
def test_a_parameter_and_the_callback_doing_its_job_are_refused_together(params, callback):
    X, y = data(n=60)
    name = next(iter(params))
    with pytest.raises(ValueError, match=f"{name} and a {type(callback).__name__} callback"):
        MLPClassifier(max_iter=2, callbacks=[callback], **params).fit(X, y)
    MLPClassifier(max_iter=2, **params).fit(X, y)  # each alone is fine
    MLPClassifier(max_iter=2, callbacks=[callback], validation_fraction=0.2).fit(X, y)


def test_callback_names_must_be_unique():
    X, y = data(n=60)
    with pytest.raises(ValueError, match=r"unique; \['counter'\]"):
        MLPClassifier(max_iter=1, callbacks=[Counter(), Counter()]).fit(X, y)
    with pytest.raises(ValueError, match=r"unique; \['stopping'\]"):
        MLPClassifier(max_iter=1, callbacks=[("stopping", Counter())]).fit(X, y)


def test_lbfgs_keeps_scikit_learns_rules_and_hands_over_to_a_stochastic_solver():
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20,
                          early_stopping=True, random_state=0).fit(X, y)
    assert model.t_ == len(X) and model.validation_scores_ is None  # no split, as sklearn
    assert model.loss_curve_ is None
    model.set_params(solver="adam", warm_start=True, max_iter=2)
    model.fit(X, y)
    assert len(model.loss_curve_) == 2 and model.history_[:, "epoch"] == [20, 21, 22]
    with pytest.raises(ValueError, match="clip_grad_norm needs a stochastic solver"):
        MLPClassifier(solver="lbfgs", clip_grad_norm=1.0).fit(X, y)


def test_a_diverging_fit_names_the_likely_causes_and_rolls_back():
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X, y)
    before = _state(model)
    model.set_params(learning_rate_init=1e12, warm_start=True, solver="sgd", momentum=0.0)
    with pytest.raises(FloatingPointError, match="learning rate") as info:
        model.fit(X * 1e6, y)
    assert "StandardScaler" in str(info.value)
    _assert_same_state(before, _state(model))


def test_non_finite_weights_are_caught_even_when_the_loss_looks_finite():
    X, y = data()

    class PoisonWeights(Callback):
        """After the last batch's step, as a float32 overflow inside an epoch would."""

        def on_batch_end(self, net, batch_loss=None, batch_size=None, **kwargs):
            if batch_size == 100:  # the last batch of 300 rows in batches of 200
                net.module_.layers[0].weight.data[0, 0] = -np.inf

    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0, alpha=0.0,
                          callbacks=[PoisonWeights()])
    with pytest.raises(FloatingPointError, match="weights .* became non-finite"):
        model.fit(X, y)
    assert not hasattr(model, "module_")


# -- Ctrl-C -----------------------------------------------------------------------------
def test_ctrl_c_stops_at_a_batch_boundary_and_keeps_a_consistent_model():
    script = textwrap.dedent("""
        import os, signal, threading, warnings
        # Ctrl-C as in a terminal, even when the test run was started in the background
        # (a shell without job control starts background jobs with SIGINT ignored,
        # and children inherit that)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import numpy as np
        from sklearn.datasets import make_classification
        from sklears_neural import MLPClassifier

        X, y = make_classification(n_samples=2000, n_features=20, random_state=0)
        model = MLPClassifier(hidden_layer_sizes=(64,), max_iter=100000, tol=0,
                              n_iter_no_change=10**9, batch_size=16, random_state=0)
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        assert any("interrupted" in str(w.message) for w in caught), caught
        assert 0 < model.n_iter_ < 100000
        assert model.n_iter_ == len(model.history_) == len(model.loss_curve_)
        last = model.history_[-1]
        assert last["interrupted"] and last["epoch"] == model.n_iter_
        assert sum(b["size"] for b in last["batches"]) < len(X) or model.n_iter_ >= 1
        assert model.t_ == sum(sum(b["size"] for b in r["batches"]) for r in model.history_)
        assert not model.module_.training
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        model.set_params(warm_start=True, max_iter=2)
        model.fit(X, y)  # the optimizer state is whole: training goes on
        assert np.isfinite(model.predict_proba(X)).all()
        print("ok", model.n_iter_)
    """)
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=REPO, timeout=300,
                            env={**env, "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok")


# -- callbacks ------------------------------------------------------------------------
class Counter(Callback):
    def __init__(self, tag="x"):
        self.tag = tag

    def on_epoch_end(self, net, logs=None, **kwargs):
        self.epochs_ = getattr(self, "epochs_", 0) + 1


def test_callbacks_are_reread_at_every_fit_and_partial_fit():
    X, y = data()
    first, second = Counter("a"), Counter("b")
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                          callbacks=[("first", first)]).fit(X, y)
    assert dict(model.callbacks_)["first"].epochs_ == 3
    model.set_params(callbacks=[("second", second)], warm_start=True)
    model.fit(X, y)
    names = dict(model.callbacks_)
    assert "first" not in names and names["second"].epochs_ == 3
    model.partial_fit(X, y)  # the same callback object again: its fitted copy keeps counting
    assert dict(model.callbacks_)["second"].epochs_ == 4
    model.set_params(callbacks=None)
    model.partial_fit(X, y)
    assert [name for name, _ in model.callbacks_] == ["stopping"]


def test_callback_hooks_take_keyword_arguments():
    X, y = data()
    calls = []

    class KeywordsOnly(Callback):
        def on_epoch_begin(self, net, **kwargs):
            calls.append(("begin", kwargs["epoch"]))

        def on_epoch_end(self, net, **kwargs):
            calls.append(("end", kwargs["logs"]["epoch"]))

    MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                  callbacks=[KeywordsOnly()]).fit(X, y)
    assert calls == [("begin", 0), ("end", 1), ("begin", 1), ("end", 2)]


# -- validation -----------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, validation_fraction=0.2,
                          random_state=0),
    lambda: NeuralNetClassifier(TinyNet, max_iter=3, validation_fraction=0.2, random_state=0),
    lambda: CNN1DClassifier(conv_layers=((4, 3),), hidden_layer_sizes=(8,), max_iter=3,
                            validation_fraction=0.2, random_state=0),
    lambda: RNNClassifier(hidden_size=4, input_shape=(-1, 1), max_iter=3,
                          validation_fraction=0.2, random_state=0),
], ids=["mlp", "neuralnet", "cnn1d", "rnn"])
def test_validation_fraction_always_scores_a_held_out_split(make):
    X, y = data(n=120)
    model = make().fit(X, y)
    assert all(r["valid_loss"] > 0 and 0 <= r["valid_score"] <= 1 for r in model.history_)
    assert model.t_ == 3 * (len(X) - 24)
    stop = EarlyStopping(monitor="valid_loss", patience=1)
    model = make().set_params(callbacks=[stop], max_iter=50).fit(X, y)
    assert dict(model.callbacks_)["earlystopping"].best_epoch_ is not None


def test_validation_data_serves_early_stopping_without_a_split():
    X, y = data(n=400)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, early_stopping=True,
                          validation_fraction=0.0, random_state=0)
    model.fit(X[:300], y[:300], validation_data=(X[300:], y[300:]))
    assert model.t_ == model.n_iter_ * 300 and model.n_iter_ < 200
    assert model.best_validation_score_ == max(model.validation_scores_)
    with pytest.raises(ValueError, match="early_stopping=True needs validation data"):
        MLPClassifier(early_stopping=True, validation_fraction=0.0).fit(X, y)


def test_validation_data_is_scored_with_the_training_criterion():
    X, y = data(n=400)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=4, random_state=0)
    model.fit(X[:300], y[:300], validation_data=(X[300:], y[300:]))
    assert model.t_ == 4 * 300
    last = model.history_[-1]
    assert last["valid_score"] == pytest.approx(model.score(X[300:], y[300:]))
    proba = model.predict_proba(X[300:])
    expected = -np.mean(np.log(proba[np.arange(100), np.searchsorted(model.classes_,
                                                                     y[300:])]))
    assert last["valid_loss"] == pytest.approx(expected, rel=1e-4)


# -- evaluation never flips the training module's mode ----------------------------------
def test_predict_from_another_thread_during_fit_changes_nothing():
    X, y = data()
    kwargs = dict(hidden_layer_sizes=(32,), dropout=0.3, batch_norm=True, max_iter=4,
                  batch_size=32, random_state=0)
    quiet = MLPClassifier(**kwargs).fit(X, y)
    model = MLPClassifier(**kwargs).fit(X, y)  # fitted, so predict works during the refit
    stop = threading.Event()
    modes = []

    def hammer():
        while not stop.is_set():
            model.predict(X[:50])

    class WatchMode(Callback):
        def on_batch_end(self, net, **kwargs):
            modes.append(net.module_.training)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        model.set_params(callbacks=[WatchMode()])
        model.fit(X, y)
    finally:
        stop.set()
        thread.join()
    assert modes and all(modes)
    _assert_same_state(_state(quiet), _state(model))


# -- batch sizes -----------------------------------------------------------------------
def test_a_last_batch_of_one_row_never_reaches_batch_norm():
    X, y = data(n=201)
    model = MLPClassifier(hidden_layer_sizes=(8,), batch_norm=True, max_iter=2,
                          random_state=0).fit(X, y)
    assert [b["size"] for b in model.history_[-1]["batches"]] == [201]
    model = MLPClassifier(hidden_layer_sizes=(8,), batch_norm=True, batch_size=50, max_iter=2,
                          random_state=0).fit(X, y)
    assert [b["size"] for b in model.history_[-1]["batches"]] == [50, 50, 50, 51]
    with pytest.raises(ValueError, match="batch_size=1 with 201 samples .* batch normalisation"):
        MLPClassifier(batch_norm=True, batch_size=1, max_iter=1).fit(X, y)
    MLPClassifier(batch_size=1, max_iter=1, hidden_layer_sizes=(4,)).fit(X[:20], y[:20])


# -- parameters and targets -------------------------------------------------------------
@pytest.mark.parametrize("params, match", [
    ({"dropout": float("nan")}, "dropout"),
    ({"tol": float("nan")}, "tol"),
    ({"alpha": float("nan")}, "alpha"),
    ({"learning_rate_init": float("nan")}, "learning_rate_init"),
    ({"class_weight": {0: -1.0, 1: 1.0, 2: 1.0}}, r"class_weight\[0\]"),
    ({"class_weight": {0: float("nan")}}, r"class_weight\[0\]"),
])
def test_nan_hyperparameters_and_negative_class_weights_are_rejected(params, match):
    X, y = data(n=60)
    with pytest.raises(ValueError, match=match):
        MLPClassifier(max_iter=1, **params).fit(X, y)


def test_set_params_with_an_unknown_name_raises_at_once():
    with pytest.raises(ValueError, match="Invalid parameter 'hiden_layer_sizes'"):
        MLPClassifier().set_params(hiden_layer_sizes=(3,))
    assert MLPClassifier().set_params(optimizer__weight_decay=0.1).optimizer__weight_decay == 0.1


def test_column_vector_targets_and_single_class_behave_as_scikit_learn():
    X, y = make_regression(n_samples=80, n_features=4, random_state=0)
    with pytest.warns(DataConversionWarning):
        model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=3).fit(X, y.reshape(-1, 1))
    assert model.predict(X).shape == (80,)
    X, _ = data(n=40)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3).fit(X, np.full(40, "only"))
    assert (clf.predict(X) == "only").all()
    np.testing.assert_array_equal(clf.predict_proba(X), np.ones((40, 1)))
    net = NeuralNetClassifier(TinyNet, max_iter=2).fit(X, np.zeros(40, dtype=int))
    assert (net.predict(X) == 0).all()


def test_values_beyond_float32_are_rejected_with_a_clear_error():
    X, y = data(n=40)
    X = X.copy()
    X[0, 0] = 1e300
    with pytest.raises(ValueError, match="too large for dtype|beyond the range"):
        MLPClassifier(max_iter=1).fit(X, y)
    sequences = np.random.default_rng(0).normal(size=(40, 6, 2))
    sequences[3, 2, 1] = 1e300
    with pytest.raises(ValueError, match="beyond the range of float32.*dtype='float64'"):
        RNNClassifier(hidden_size=4, max_iter=1).fit(sequences, y)


def test_max_epochs_still_works_for_one_release_with_a_future_warning():
    X, y = data(n=60)
    with pytest.warns(FutureWarning, match="max_iter"):
        net = NeuralNetClassifier(TinyNet, max_epochs=2, random_state=0).fit(X, y)
    assert net.n_iter_ == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        NeuralNetClassifier(TinyNet, max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"'max_iter' parameter of NeuralNetClassifier must "
                                         r"be an int in the range \[1, inf\)"):
        NeuralNetClassifier(TinyNet, max_iter=0).fit(X, y)


def test_the_loss_is_read_once_per_epoch_not_per_batch(monkeypatch):
    """The spine keeps batch losses on the device: ``Tensor.item`` is never called in an epoch."""
    from sklears_neural.autograd import Tensor

    X, y = data()
    calls = []
    original = Tensor.item
    monkeypatch.setattr(Tensor, "item", lambda self: calls.append(1) or original(self))
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, batch_size=32, alpha=1e-3,
                          random_state=0, validation_fraction=0.2).fit(X, y)
    assert len(model.history_[-1]["batches"]) > 5
    assert len(calls) == 2  # the validation loss, once per epoch


def test_old_callback_name_lrscheduler_warns_and_is_the_new_class():
    import sklears_neural.base as base
    from sklears_neural.base import LearningRateSchedule

    with pytest.warns(FutureWarning, match="renamed LearningRateSchedule"):
        old = base.LRScheduler
    assert old is LearningRateSchedule
