"""NeuralNetClassifier / NeuralNetRegressor and the callbacks of the base loop."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV

from _modules import TinyNet
from sklears_neural import nn
from sklears_neural.base import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LearningRateSchedule,
    NeuralNetClassifier,
    NeuralNetRegressor,
    ProgressBar,
)


def data(n=300):
    return make_classification(n_samples=n, n_features=8, n_informative=5, n_classes=3,
                               random_state=0)


def test_routed_parameters_work_in_grid_search():
    X, y = data()
    net = NeuralNetClassifier(TinyNet, max_iter=15, lr=1e-2, random_state=0,
                              callbacks=[("stop", EarlyStopping(monitor="train_loss"))])
    grid = GridSearchCV(net, {"module__hidden": [4, 32], "optimizer__weight_decay": [0.0, 1e-3],
                              "callbacks__stop__patience": [2, 5]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["module__hidden"] == 32
    best = grid.best_estimator_
    assert best.module_.hidden.out_features == 32
    assert best.optimizer_.param_groups[0]["weight_decay"] == grid.best_params_["optimizer__weight_decay"]
    assert dict(best.callbacks_)["stop"].patience == grid.best_params_["callbacks__stop__patience"]


def test_clone_keeps_routed_parameters_and_does_not_share_callbacks():
    cb = EarlyStopping(patience=3)
    net = NeuralNetClassifier(TinyNet, module__hidden=7, callbacks=[cb])
    copy = clone(net)
    assert copy.get_params()["module__hidden"] == 7
    assert copy.callbacks[0] is not cb and copy.callbacks[0].patience == 3


def test_module_instance_and_criterion_routing():
    X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    y = y / y.std()
    module = nn.Sequential(nn.Linear(4, 16, activation="tanh", generator=0), nn.Linear(16, 1, generator=1))
    net = NeuralNetRegressor(module, criterion=nn.HuberLoss, criterion__delta=0.5, max_iter=50,
                             lr=1e-2, random_state=0).fit(X, y)
    assert isinstance(net.criterion_, nn.HuberLoss) and net.criterion_.delta == 0.5
    assert net.module_ is not module  # the given instance is copied, not trained in place
    assert net.score(X, y) > 0.8


def test_unknown_extra_arguments_fail_at_fit_with_a_clear_error():
    X, y = data()
    net = NeuralNetClassifier(TinyNet, modul__hidden=3)
    with pytest.raises(ValueError, match="modul__hidden.*module__"):
        net.fit(X, y)
    with pytest.raises(ValueError, match="module is required"):
        NeuralNetClassifier().fit(X, y)
    with pytest.raises(ValueError, match="optimizer must be one of .*adam.*sgd"):
        NeuralNetClassifier(TinyNet, optimizer="newton").fit(X, y)
    with pytest.raises(ValueError, match="callbacks__nope"):
        NeuralNetClassifier(TinyNet, callbacks=[EarlyStopping()], callbacks__nope__patience=1).fit(X, y)


def test_history_rows_and_sklearn_attributes():
    X, y = data()
    net = NeuralNetClassifier(TinyNet, max_iter=4, validation_fraction=0.2, random_state=0).fit(X, y)
    assert len(net.history_) == 4 == net.n_iter_ == len(net.loss_curve_)
    row = net.history_[-1]
    assert set(row) == {"epoch", "train_loss", "valid_loss", "valid_score", "lr", "time",
                        "batches"}
    n_train = int(len(X) * 0.8)
    assert sum(b["size"] for b in row["batches"]) == n_train
    batch_losses = np.array(net.history_[-1, "batches", :, "loss"])
    sizes = np.array(net.history_[-1, "batches", :, "size"])
    assert row["train_loss"] == pytest.approx(float(batch_losses @ sizes) / n_train, rel=1e-6)
    assert net.history_[:, "epoch"] == [1, 2, 3, 4]
    assert 0 <= row["valid_score"] <= 1 and row["valid_loss"] > 0 and row["lr"] == 1e-3
    assert net.validation_scores_ == [r["valid_score"] for r in net.history_]
    assert net.t_ == 4 * int(len(X) * 0.8)
    assert net.best_loss_ == min(net.loss_curve_)


def test_early_stopping_callback_restores_its_best_epoch():
    X, y = data()
    states = []

    class Recorder(Callback):
        def on_epoch_end(self, net, logs):
            states.append(net.module_.state_dict())

    stopper = EarlyStopping(monitor="valid_loss", patience=3)
    net = NeuralNetClassifier(TinyNet, lr=0.3, max_iter=100, validation_fraction=0.3,
                              random_state=0, callbacks=[Recorder(), stopper]).fit(X, y)
    losses = [r["valid_loss"] for r in net.history_]
    assert net.n_iter_ < 100
    fitted_stopper = dict(net.callbacks_)["earlystopping"]
    best = int(np.argmin(losses))
    assert fitted_stopper.best_epoch_ == best + 1
    for key, value in net.module_.state_dict().items():
        np.testing.assert_array_equal(value, states[best][key])
    assert stopper.__dict__.get("best_state_") is None  # the user's callback was not mutated


def test_lr_scheduler_sets_the_rate_each_epoch():
    X, y = data()
    net = NeuralNetClassifier(TinyNet, lr=0.1, max_iter=5, random_state=0,
                              callbacks=[LearningRateSchedule(lambda epoch, lr: lr * 0.5 ** epoch)]).fit(X, y)
    np.testing.assert_allclose([r["lr"] for r in net.history_], [0.1 * 0.5 ** e for e in range(5)])


def test_checkpoint_writes_the_best_weights(tmp_path):
    X, y = data()
    from sklears_neural.io import load_checkpoint, load_metadata

    path = tmp_path / "best.skn"
    net = NeuralNetClassifier(TinyNet, max_iter=6, random_state=0,
                              callbacks=[Checkpoint(path, monitor="train_loss")]).fit(X, y)
    best_epoch = int(np.argmin(net.loss_curve_)) + 1
    assert load_metadata(path)["metadata"]["epoch"] == best_epoch
    saved = load_checkpoint(path)
    assert saved.n_iter_ == best_epoch
    assert set(saved.module_.state_dict()) == set(net.module_.state_dict())


def test_gradient_clipping_bounds_the_update():
    X, y = data()

    class GradNorm(Callback):
        def on_train_begin(self, net, X=None, y=None):
            self.norms = []

        def on_backward_end(self, net, parameters):
            self.norms.append(np.sqrt(sum(float((p.grad ** 2).sum()) for p in parameters)))

    net = NeuralNetClassifier(TinyNet, max_iter=2, random_state=0, optimizer="sgd", lr=0.1,
                              callbacks=[GradientClipping(max_norm=0.01), GradNorm()]).fit(X * 100, y)
    norms = dict(net.callbacks_)["gradnorm"].norms
    assert max(norms) <= 0.01 + 1e-6
    with pytest.raises(ValueError, match="max_norm must be positive"):
        NeuralNetClassifier(TinyNet, callbacks=[GradientClipping(max_norm=-1)]).fit(X, y)


def test_progress_bar(capsys):
    X, y = data()
    NeuralNetClassifier(TinyNet, max_iter=3, callbacks=[ProgressBar(desc="training")]).fit(X, y)
    err = capsys.readouterr().err
    assert "training" in err and "3/3" in err


def test_same_seed_bit_identical_and_warm_start_continues():
    X, y = data()
    a = NeuralNetClassifier(TinyNet, max_iter=3, random_state=5).fit(X, y)
    b = NeuralNetClassifier(TinyNet, max_iter=3, random_state=5).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    warm = NeuralNetClassifier(TinyNet, max_iter=3, random_state=5, warm_start=True).fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_ == 6
    assert warm.loss_curve_[3] < warm.loss_curve_[0]


def test_multilabel_and_class_weight():
    X, y = data()
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    net = NeuralNetClassifier(TinyNet, max_iter=30, lr=1e-2, random_state=0).fit(X, Y)
    assert isinstance(net.criterion_, nn.BCEWithLogitsLoss)
    assert net.predict(X).shape == Y.shape
    params = dict(max_iter=10, lr=1e-2, random_state=0)
    plain = NeuralNetClassifier(TinyNet, **params).fit(X, y)
    weighted = NeuralNetClassifier(TinyNet, class_weight={0: 10.0, 1: 1.0, 2: 1.0}, **params).fit(X, y)
    assert (weighted.predict(X) == 0).mean() > (plain.predict(X) == 0).mean() + 0.1
    with pytest.raises(ValueError, match="'class_weight' parameter .* must be"):
        NeuralNetClassifier(TinyNet, class_weight="auto").fit(X, y)


def test_thread_limit_is_applied_during_fit():
    from threadpoolctl import threadpool_info

    X, y = data()
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, net, logs):
            seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    NeuralNetClassifier(TinyNet, max_iter=1, n_threads=1, callbacks=[Spy()]).fit(X, y)
    assert seen and all(n == 1 for n in seen)
