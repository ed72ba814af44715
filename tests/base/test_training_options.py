"""The training options every estimator shares: penalties, clipping, noise,
label smoothing and learning-rate schedules."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from _modules import TinyNet
from sklears_neural.base import Callback, NeuralNetClassifier
from sklears_neural.base._regularization import weight_penalty
from sklears_neural.mlp import MLPClassifier
from sklears_neural.nn import Parameter

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data():
    return make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3,
                               random_state=0)


def test_weight_penalty_value_and_gradient():
    rng = np.random.default_rng(0)
    W = Parameter(rng.standard_normal((3, 4)))
    W.grad = np.zeros((3, 4))
    value = weight_penalty([W], alpha=0.5, l1=0.2, sample_weight_sum=10.0)
    expected = (0.25 * (W.data ** 2).sum() + 0.2 * np.abs(W.data).sum()) / 10.0
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(W.grad, (0.5 * W.data + 0.2 * np.sign(W.data)) / 10.0, rtol=1e-12)
    assert weight_penalty([W], 0.0, 0.0, 1.0) == 0.0


def test_l1_makes_weights_smaller_and_sparser():
    X, y = data()
    params = dict(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.01, random_state=0,
                  alpha=0.0)
    plain = MLPClassifier(**params).fit(X, y)
    sparse = MLPClassifier(l1=0.5, **params).fit(X, y)
    assert np.abs(sparse.coefs_[0]).sum() < 0.7 * np.abs(plain.coefs_[0]).sum()
    assert (np.abs(sparse.coefs_[0]) < 0.01).mean() > (np.abs(plain.coefs_[0]) < 0.01).mean()
    net = NeuralNetClassifier(TinyNet, max_iter=5, random_state=0, alpha=1.0, l1=0.1).fit(X, y)
    assert net.loss_curve_[0] > NeuralNetClassifier(TinyNet, max_iter=5,
                                                    random_state=0).fit(X, y).loss_curve_[0]


def test_clip_grad_norm_bounds_every_step():
    X, y = data()
    norms = []

    class Spy(Callback):
        def on_backward_end(self, net, parameters):
            norms.append(np.sqrt(sum(float((p.grad ** 2).sum()) for p in parameters)))

    NeuralNetClassifier(TinyNet, max_iter=2, random_state=0, clip_grad_norm=0.05,
                        callbacks=[Spy()]).fit(X * 50, y)
    assert norms and max(norms) <= 0.05 + 1e-6


def test_input_noise_changes_training_but_not_prediction_path():
    X, y = data()
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    a = MLPClassifier(**params).fit(X, y)
    b = MLPClassifier(noise=0.5, **params).fit(X, y)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])
    c = MLPClassifier(noise=0.5, **params).fit(X, y)
    np.testing.assert_array_equal(b.coefs_[0], c.coefs_[0])  # still seeded


def test_label_smoothing_raises_the_loss_floor():
    X, y = data()
    params = dict(hidden_layer_sizes=(32,), max_iter=150, learning_rate_init=0.01,
                  random_state=0, alpha=0.0)
    sharp = MLPClassifier(**params).fit(X, y)
    smooth = MLPClassifier(label_smoothing=0.3, **params).fit(X, y)
    assert smooth.loss_ > sharp.loss_ + 0.1
    assert smooth.predict_proba(X).max() < sharp.predict_proba(X).max()


@pytest.mark.parametrize("params, match", [
    ({"l1": -1.0}, "l1"), ({"noise": -0.1}, "noise"), ({"clip_grad_norm": 0.0}, "clip_grad_norm"),
    ({"label_smoothing": 1.5}, "label_smoothing"),
    ({"lr_schedule": "warp"}, "lr_schedule|one of"),
    ({"lr_schedule": "plateau", "validation_fraction": 0.0}, "validation"),
])
def test_bad_training_options(params, match):
    X, y = data()
    with pytest.raises(ValueError, match=match):
        NeuralNetClassifier(TinyNet, max_iter=2, **params).fit(X, y)


def test_lr_schedule_by_name_with_options():
    X, y = data()
    net = NeuralNetClassifier(TinyNet, lr=0.1, max_iter=6, random_state=0,
                              lr_schedule=("step", {"step_size": 2, "gamma": 0.5})).fit(X, y)
    np.testing.assert_allclose([r["lr"] for r in net.history_],
                               [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_cosine_schedule_in_mlp_and_onecycle_per_batch():
    X, y = data()
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, learning_rate_init=0.1, tol=0,
                        random_state=0, lr_schedule=("cosine", {"T_max": 4}))
    mlp.fit(X, y)
    expected = [0.1 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)]
    np.testing.assert_allclose([r["lr"] for r in mlp.history_], expected, atol=1e-12)
    steps_per_epoch = int(np.ceil(len(X) / 128))
    batch_lrs = []

    class BatchLR(Callback):
        def on_batch_end(self, net, batch_loss, batch_size):
            batch_lrs.append(net.optimizer_.param_groups[0]["lr"])

    net = NeuralNetClassifier(TinyNet, lr=0.1, max_iter=3, random_state=0, callbacks=[BatchLR()],
                              lr_schedule=("onecycle", {"max_lr": 0.1,
                                                        "total_steps": 3 * steps_per_epoch + 1}))
    net.fit(X, y)
    peak = int(np.argmax(batch_lrs))
    assert len(batch_lrs) == 3 * steps_per_epoch  # stepped once per batch
    assert 0 < peak < len(batch_lrs) - 1 and batch_lrs[peak] == pytest.approx(0.1, rel=0.05)
    assert batch_lrs[-1] < 0.01


def test_plateau_schedule_watches_validation_loss():
    X, y = data()
    net = NeuralNetClassifier(TinyNet, lr=0.5, max_iter=30, random_state=0, tol=0,
                              n_iter_no_change=1000, validation_fraction=0.2,
                              lr_schedule=("plateau", {"patience": 1, "factor": 0.5}))
    net.fit(X, y)
    lrs = [r["lr"] for r in net.history_]
    assert min(lrs) < 0.5 and all(b <= a for a, b in zip(lrs, lrs[1:]))
