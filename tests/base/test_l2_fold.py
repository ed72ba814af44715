"""The L2 gradient added by the optimizer's step equals the one added by hand."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sklears_neural import MLPClassifier, NeuralNetRegressor
from sklears_neural.base import Callback
from sklears_neural.base import _regularization
from sklears_neural.base._l2_fold import split_penalized
from _modules import TinyNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class ReadsGradients(Callback):
    """Any on_backward_end switches the fold off: the gradients must be whole there."""

    def on_backward_end(self, net, parameters=None, **kwargs):
        pass


def _count_axpy(monkeypatch):
    calls = []
    original = _regularization._add_scaled
    monkeypatch.setattr(_regularization, "_add_scaled",
                        lambda *a: calls.append(1) or original(*a))
    return calls


@pytest.mark.parametrize("solver, extra", [
    ("adam", {}), ("sgd", {"momentum": 0.9}), ("rmsprop", {}), ("adagrad", {}),
    ("adam", {"optimizer__weight_decay": 1e-3}),
])
def test_folded_l2_trains_the_same_model(monkeypatch, solver, extra):
    X, y = make_classification(n_samples=300, n_features=10, n_informative=6, n_classes=3,
                               random_state=0)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    params = dict(hidden_layer_sizes=(16,), alpha=0.05, solver=solver, max_iter=4,
                  batch_size=64, random_state=0, dtype="float64", **extra)
    calls = _count_axpy(monkeypatch)
    folded = MLPClassifier(**params).fit(X, y, sample_weight=w)
    assert calls == []  # no separate pass: the optimizer added the L2 gradient
    by_hand = MLPClassifier(**params, callbacks=[ReadsGradients()]).fit(X, y, sample_weight=w)
    assert calls  # ... and here it was added before the step, as without folding
    for a, b in zip(folded.coefs_ + folded.intercepts_, by_hand.coefs_ + by_hand.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(folded.loss_curve_, by_hand.loss_curve_, rtol=1e-10)
    base = extra.get("optimizer__weight_decay", 0)
    assert [g["weight_decay"] for g in folded.optimizer_.param_groups] == [base, base]


def test_no_fold_where_it_would_change_the_step(monkeypatch):
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    calls = _count_axpy(monkeypatch)
    MLPClassifier(hidden_layer_sizes=(8,), alpha=0.1, solver="adamw", max_iter=1).fit(X, y)
    assert calls, "AdamW's decay is decoupled: the L2 gradient must be added by hand"
    calls.clear()
    MLPClassifier(hidden_layer_sizes=(8,), alpha=0.1, clip_grad_norm=1.0, max_iter=1).fit(X, y)
    assert calls, "clipping must see the penalty's gradient"


def test_penalized_weights_get_groups_of_their_own():
    net = NeuralNetRegressor(TinyNet, alpha=0.1, max_iter=1, random_state=0)
    X = np.random.default_rng(0).normal(size=(40, 3))
    net.fit(X, X[:, 0])
    groups = net.optimizer_.param_groups
    assert [len(g["params"]) for g in groups] == [2, 2]
    assert all(p.ndim == 2 for p in groups[0]["params"])
    weights = [p for p in net.module_.parameters() if p.ndim == 2]
    split = split_penalized([{"params": list(net.module_.parameters()), "lr": 0.5}], weights)
    assert [g["lr"] for g in split] == [0.5, 0.5]
