"""MLPs with residual connections: the forward pass adds each equal-width hidden
layer's input to its output, training works, and the rule-propagation explanations
refuse such networks."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklears_neural import MLPClassifier, MLPRegressor, Tensor
from sklears_neural.mlp._network import MLPNetwork

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _relu(z):
    return np.maximum(z, 0)


def test_residual_forward_adds_the_input_of_equal_width_layers():
    rng = np.random.default_rng(0)
    net = MLPNetwork(5, (8, 8, 4), 3, activations=["relu"] * 3, dropout=[0.0] * 3,
                     residual=True, generator=rng).to(dtype=np.float64)
    x = rng.standard_normal((6, 5))
    (w1, b1), (w2, b2), (w3, b3), (w4, b4) = [(lin.weight.data, lin.bias.data)
                                              for lin in net.linears()]
    h1 = _relu(x @ w1.T + b1)  # 5 -> 8: no skip
    h2 = _relu(h1 @ w2.T + b2) + h1  # 8 -> 8: skip
    h3 = _relu(h2 @ w3.T + b3)  # 8 -> 4: no skip
    expected = h3 @ w4.T + b4
    np.testing.assert_allclose(net(Tensor(x)).data, expected, rtol=1e-12)
    plain = MLPNetwork(5, (8, 8, 4), 3, activations=["relu"] * 3, dropout=[0.0] * 3,
                       generator=np.random.default_rng(0)).to(dtype=np.float64)
    assert not np.allclose(plain(Tensor(x)).data, expected)


def test_residual_mlp_trains_and_refuses_rule_propagation():
    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    y = y[:600]
    model = MLPClassifier(hidden_layer_sizes=(64, 64, 64), residual=True, batch_norm=True,
                          max_iter=30, random_state=0).fit(X[:450], y[:450])
    assert model.module_.residual and model.score(X[450:], y[450:]) > 0.85
    regressor = MLPRegressor(hidden_layer_sizes=(16, 16), residual=True, max_iter=5,
                             random_state=0).fit(X[:100], y[:100] * 1.0)
    assert regressor.predict(X[:3]).shape == (3,)
    from sklears_neural.inspection import deeplift, guided_backprop, integrated_gradients

    with pytest.raises(ValueError, match="residual connections"):
        guided_backprop(model, X[:2])
    with pytest.raises(ValueError, match="residual connections"):
        deeplift(model, X[:2])
    result = integrated_gradients(model, X[:2], n_steps=64)  # gradients follow the skips
    assert np.all(np.abs(result.delta) < 0.05 * np.abs(result.values.sum(axis=1)) + 1e-3)
