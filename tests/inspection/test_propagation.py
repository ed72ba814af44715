"""Guided backpropagation, DeepLIFT and LRP: properties, Pipelines, errors (their
values against captum's are in test_against_captum.py)."""

import numpy as np
import pytest
from _folding import fold_scaler
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklears_neural import CNNClassifier, MLPClassifier, MLPRegressor
from sklears_neural.inspection import deeplift, guided_backprop, lrp, saliency
from sklears_neural.rnn import RNNClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _mlp(rng, activation="relu", **kwargs):
    X = rng.normal(2.0, 3.0, size=(80, 5))
    y = (X[:, 0] - X[:, 1] > 0).astype(int) + (X[:, 2] > 2)
    return MLPClassifier(hidden_layer_sizes=(8, 6), activation=activation, max_iter=30,
                         dtype="float64", random_state=0, **kwargs), X, y


def test_deeplift_sums_to_the_change_of_output(rng):
    model, X, y = _mlp(rng)
    model.fit(X, y)
    result = deeplift(model, X[:6], target=2, baseline=X[10])
    np.testing.assert_allclose(result.delta, 0.0, atol=1e-10)
    np.testing.assert_allclose(result.values.sum(axis=1),
                               result.outputs - result.baseline_outputs, atol=1e-10)
    assert not deeplift(model, X[:2], target=2, baseline=X[:2]).values.any()


def test_lrp_of_a_bias_free_relu_network_conserves_relevance(rng):
    X = rng.normal(size=(60, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0])
    model = MLPRegressor(hidden_layer_sizes=(6,), max_iter=30, dtype="float64",
                         random_state=0).fit(X, y)
    for layer in model.module_.layers:
        layer.bias.data[...] = 0.0  # no bias absorbs relevance
    result = lrp(model, X[:5], epsilon=0.0)
    np.testing.assert_allclose(result.values.sum(axis=1), result.outputs, rtol=1e-9)


def test_guided_backprop_equals_the_gradient_where_it_is_positive(rng):
    X = rng.normal(size=(50, 3))
    model = MLPRegressor(hidden_layer_sizes=(), max_iter=5, dtype="float64",
                         random_state=0).fit(X, X[:, 0])
    # no hidden ReLU: guided backpropagation is the plain gradient
    np.testing.assert_allclose(guided_backprop(model, X[:3]).values,
                               saliency(model, X[:3], abs=False).values)


@pytest.mark.parametrize("method", [deeplift, lrp, guided_backprop])
def test_a_scaler_pipeline_equals_the_folded_network(rng, method):
    model, X, y = _mlp(rng)
    pipe = make_pipeline(StandardScaler(), model).fit(X, y)
    folded = fold_scaler(pipe)
    np.testing.assert_allclose(method(pipe, X[:4], target=1).values,
                               method(folded, X[:4], target=1).values, rtol=1e-8, atol=1e-12)


def test_propagation_works_through_a_default_cnn(rng):
    images, labels = rng.normal(size=(30, 8, 8)), rng.integers(0, 3, 30)
    cnn = CNNClassifier(max_iter=1, random_state=0).fit(images, labels)
    for method in (guided_backprop, deeplift, lrp):
        assert method(cnn, images[:2]).values.shape == (2, 8, 8)


def test_propagation_errors_name_the_problem(rng):
    model, X, y = _mlp(rng, activation="tanh")
    model.fit(X, y)
    with pytest.raises(ValueError, match="guided_backprop is defined for ReLU networks"):
        guided_backprop(model, X[:2])
    with pytest.raises(ValueError, match="rule must be one of 'epsilon', 'gamma'"):
        lrp(model, X[:2], rule="alpha_beta")
    sequences = rng.normal(size=(20, 6, 2))
    rnn = RNNClassifier(hidden_size=4, max_iter=1, random_state=0)
    rnn.fit(sequences, (sequences[:, 0, 0] > 0).astype(int))
    with pytest.raises(ValueError, match="deeplift propagates its rules layer by layer"):
        deeplift(rnn, sequences[:2])


def test_lrp_rules_leave_the_model_unchanged(rng):
    model, X, y = _mlp(rng)
    model.fit(X, y)
    before = model.predict_proba(X)
    for rule in ("gamma", "alpha1_beta0"):
        assert not np.allclose(lrp(model, X[:3], rule=rule).values, lrp(model, X[:3]).values)
    np.testing.assert_array_equal(model.predict_proba(X), before)
