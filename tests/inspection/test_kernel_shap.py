"""KernelSHAP (``inspection.kernel_shap``): exact on small problems, efficient
always, and shap's and LIME's own explainers work on our estimators."""

import itertools
import math

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from sklears_neural import MLPClassifier, MLPRegressor
from sklears_neural.inspection import kernel_shap

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _shapley_by_definition(value, n_features):
    """phi_i = sum over S not holding i of |S|! (M - |S| - 1)! / M! (v(S + i) - v(S))."""
    phi = np.zeros(n_features)
    for i in range(n_features):
        others = [j for j in range(n_features) if j != i]
        for size in range(n_features):
            weight = (math.factorial(size) * math.factorial(n_features - size - 1)
                      / math.factorial(n_features))
            for subset in itertools.combinations(others, size):
                phi[i] += weight * (value(set(subset) | {i}) - value(set(subset)))
    return phi


def test_exact_values_of_a_linear_model_are_weights_times_distance_to_the_mean(rng):
    X = rng.normal(size=(60, 6))
    model = LinearRegression().fit(X, X @ rng.normal(size=6) + 2.0)
    background = X[20:]
    result = kernel_shap(model, X[:4], background)
    np.testing.assert_allclose(result.values, model.coef_ * (X[:4] - background.mean(axis=0)),
                               atol=1e-10)
    np.testing.assert_allclose(result.base_values, model.predict(background).mean())


def test_exact_values_of_a_network_match_the_definition(rng):
    X = rng.normal(size=(80, 5))
    y = (X[:, 0] * X[:, 1] + np.sin(X[:, 2]) > 0).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, dtype="float64",
                          random_state=0).fit(X, y)
    background, x = X[50:62], X[0]
    result = kernel_shap(model, x[None], background, target=1)

    def value(subset):
        rows = background.copy()
        rows[:, sorted(subset)] = x[sorted(subset)]
        return model.predict_proba(rows)[:, 1].mean()

    np.testing.assert_allclose(result.values[0], _shapley_by_definition(value, 5), atol=1e-10)
    # efficiency: the values and the base value add up to the output
    np.testing.assert_allclose(result.values.sum() + result.base_values[0], result.outputs[0],
                               atol=1e-6)
    np.testing.assert_allclose(result.outputs[0], model.predict_proba(x[None])[0, 1])


def test_sampled_values_are_efficient_and_close(rng):
    X = rng.normal(size=(60, 14))
    coef = rng.normal(size=14)
    regressor = MLPRegressor(hidden_layer_sizes=(), max_iter=1, random_state=0).fit(X, X[:, 0])
    weights = np.asarray(regressor.module_.layers[0].weight.data, dtype=np.float64)[0]
    linear = LinearRegression().fit(X, X @ coef)
    background = X[30:]
    for model, w in ((linear, linear.coef_), (regressor, weights)):
        result = kernel_shap(model, X[:3], background, random_state=0)
        np.testing.assert_allclose(result.values.sum(axis=1) + result.base_values,
                                   result.outputs, atol=1e-5)
        np.testing.assert_allclose(result.values, w * (X[:3] - background.mean(axis=0)),
                                   atol=1e-4)


def test_summarised_background_is_weighted_by_cluster_size(rng):
    X = rng.normal(size=(90, 3))
    model = LinearRegression().fit(X, X @ np.array([1.0, -1.0, 2.0]))
    result = kernel_shap(model, X[:2], X, summarize=5, random_state=0)
    # a linear model's mean over the weighted centres is its mean over the data
    np.testing.assert_allclose(result.base_values, model.predict(X).mean())


def test_kernel_shap_errors(rng):
    X, y = rng.normal(size=(30, 4)), np.array(["a", "b", "c"] * 10)
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="background has 3 features; X has 4"):
        kernel_shap(model, X, X[:, :3])
    with pytest.raises(ValueError, match="target 'z' is not one of the classes"):
        kernel_shap(model, X[:1], X, target="z")
    with pytest.raises(NotFittedError):
        kernel_shap(MLPClassifier(), X, X)
    regressor = MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    regressor.fit(X, rng.normal(size=(30, 2)))
    with pytest.raises(ValueError, match="has 2 outputs: pass target"):
        kernel_shap(regressor, X[:1], X)
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        kernel_shap(model, X[:1], X, n_samples=0)


def test_shap_and_lime_explain_our_estimators(rng):
    shap = pytest.importorskip("shap", reason="shap is a peer, installed for the benchmarks")
    lime_tabular = pytest.importorskip("lime.lime_tabular", reason="LIME is a peer")
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, dtype="float64",
                          random_state=0).fit(X, y)
    background = X[40:60]
    theirs = shap.KernelExplainer(model.predict_proba, background).shap_values(
        X[:3], nsamples=1000, silent=True)
    theirs = np.asarray(theirs)
    theirs = theirs[..., 1] if theirs.shape[-1] == 2 else theirs[1]  # shap's layouts vary
    ours = kernel_shap(model, X[:3], background, target=1)
    np.testing.assert_allclose(ours.values, theirs, atol=1e-6)
    explainer = lime_tabular.LimeTabularExplainer(
        X, mode="classification", feature_names=["f0", "f1", "f2", "f3"], random_state=0)
    explanation = explainer.explain_instance(X[0], model.predict_proba, num_features=2)
    top = [name for name, _ in explanation.as_list()]
    assert "f0" in top[0], top  # the feature the labels depend on most


# -- LIME ------------------------------------------------------------------------------------
def test_lime_recovers_a_sparse_linear_ground_truth(rng):
    from sklears_neural.inspection import lime_tabular

    X = rng.normal(size=(300, 8)) * np.array([1, 2, 1, 0.5, 1, 1, 3, 1])
    truth = np.array([3.0, 0, 0, -4.0, 0, 0, 0, 0])
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, dtype="float64",
                         random_state=0).fit(X, X @ truth)
    result = lime_tabular(model, X[:3], X, random_state=0)
    for row in result.values:
        assert set(np.argsort(-np.abs(row))[:2]) == {0, 3}
    assert (result.scores > 0.8).all()
    np.testing.assert_allclose(result.outputs, model.predict(X[:3]))
    # for a model that is linear, the weights per training std are its slopes times that std
    exact = lime_tabular(LinearRegression().fit(X, X @ truth), X[:3], X, random_state=0)
    np.testing.assert_allclose(exact.values, np.tile(truth * X.std(axis=0), (3, 1)),
                               rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(exact.scores, 1.0, atol=1e-5)  # only the ridge penalty
    quartiles = lime_tabular(model, X[:3], X, discretize="quartile", random_state=0)
    for row in quartiles.values:
        assert set(np.argsort(-np.abs(row))[:2]) == {0, 3}


def test_lime_errors(rng):
    from sklears_neural.inspection import lime_tabular

    X = rng.normal(size=(30, 4))
    model = LinearRegression().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="training_data has 3 features; X has 4"):
        lime_tabular(model, X, X[:, :3])
    with pytest.raises(ValueError, match="discretize must be None or 'quartile'"):
        lime_tabular(model, X, X, discretize="decile")
    with pytest.raises(ValueError, match="n_samples must be an int >= 2"):
        lime_tabular(model, X, X, n_samples=1)
