"""method="piecewise_linear": integrated gradients on the exact linear pieces of a
ReLU MLP's path, so every row is complete up to rounding (the per-row reading of
the completeness bound, at 200 steps); the kinks found by hand on a small network;
networks that are not piecewise linear are refused."""

import numpy as np
import pytest
from test_gradient_attributions import digits_mlp  # noqa: F401  (the shared fixture)

from sklears_neural import CNNClassifier, MLPClassifier, MLPRegressor
from sklears_neural.inspection import integrated_gradients
from sklears_neural.inspection._piecewise import path_pieces
from sklears_neural.mlp._network import MLPNetwork

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_every_row_of_a_trained_digits_mlp_is_complete_at_200_steps(digits_mlp):  # noqa: F811
    pipe, X, _ = digits_mlp  # the aggregate test's model (test_gradient_attributions)
    result = integrated_gradients(pipe, X[:100], n_steps=200, method="piecewise_linear")
    change = np.abs(result.outputs - result.baseline_outputs)
    assert np.all(np.abs(result.delta) < 1e-3 * change)  # row by row
    fine = integrated_gradients(pipe, X[:3], n_steps=4000, method="riemann_middle")
    np.testing.assert_allclose(np.asarray(result)[:3], np.asarray(fine), atol=2e-3)
    at_baseline = integrated_gradients(pipe, np.zeros((2, 64)), method="piecewise_linear")
    np.testing.assert_array_equal(np.asarray(at_baseline), 0.0)


def test_the_kinks_are_where_a_unit_crosses_zero():
    net = MLPNetwork(1, (2,), 1, activations=["relu"], dropout=[0.0],
                     generator=np.random.default_rng(0)).to(dtype=np.float64)
    first, last = net.linears()
    first.weight.data[...] = [[1.0], [-1.0]]
    first.bias.data[...] = [-0.25, 0.5]  # unit 0 turns on at x = 0.25, unit 1 off at 0.5
    last.weight.data[...] = [[1.0, 1.0]]
    pieces = path_pieces(net, np.array([[0.0]]), np.array([[1.0]]), max_pieces=10)[0]
    np.testing.assert_allclose(pieces, [0.0, 0.25, 0.5, 1.0])
    with pytest.raises(ValueError, match="raise n_steps to 3"):
        path_pieces(net, np.array([[0.0]]), np.array([[1.0]]), max_pieces=2)


def test_networks_that_are_not_piecewise_linear_are_refused(rng):
    X = rng.random((30, 4))
    y = np.arange(30) % 2
    for model, match in ((MLPClassifier(activation="gelu", max_iter=2), "gelu activation"),
                         (MLPClassifier(layer_norm=True, max_iter=2), "LayerNorm layer"),
                         (CNNClassifier(input_shape=(1, 2, 2), max_iter=1), "CNNNetwork")):
        with pytest.raises(ValueError, match=match):
            integrated_gradients(model.fit(X, y), X[:2], method="piecewise_linear")
    relu = MLPClassifier(max_iter=2, batch_norm=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="exact on the raw outputs only"):
        integrated_gradients(relu, X[:2], method="piecewise_linear", output="probabilities")
    result = integrated_gradients(relu, X[:5], method="piecewise_linear",
                                  n_steps=400)  # batch norm: an affine step
    assert np.all(np.abs(result.delta) < 1e-4 * (np.abs(result.outputs) + 1))
    residual = MLPClassifier(hidden_layer_sizes=(16, 16, 16), residual=True, max_iter=5,
                             random_state=0).fit(X, y)  # the skips are followed too
    result = integrated_gradients(residual, X[:5], method="piecewise_linear", n_steps=400)
    assert np.all(np.abs(result.delta) < 1e-4 * (np.abs(result.outputs) + 1))
    leaky = MLPRegressor(activation="leaky_relu", max_iter=2).fit(X, y * 1.0)
    result = integrated_gradients(leaky, X[:5], method="piecewise_linear", n_steps=400)
    assert np.all(np.abs(result.delta) < 1e-4)
