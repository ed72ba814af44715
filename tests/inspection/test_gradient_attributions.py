"""Gradient attributions (``sklears_neural.inspection``): properties, the
gradient against finite differences of ``predict_proba`` for every input form,
Pipelines, and errors."""

import warnings

import numpy as np
import pytest
from _folding import fold_scaler
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklears_neural import CNN1DClassifier, MLPClassifier, MLPRegressor
from sklears_neural.inspection import (
    input_x_gradient,
    integrated_gradients,
    saliency,
    smoothgrad,
)
from sklears_neural.inspection._integration import INTEGRATION_METHODS, integration_rule
from sklears_neural.rnn import RNNClassifier, TransformerClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# -- integration rules -----------------------------------------------------------------------
@pytest.mark.parametrize("method", INTEGRATION_METHODS)
def test_integration_rules_integrate_the_unit_interval(method):
    alphas, steps = integration_rule(method, 7)
    assert alphas.shape == steps.shape == (7,)
    assert np.all((alphas >= 0) & (alphas <= 1))
    np.testing.assert_allclose(steps.sum(), 1.0)
    exact_degree = {"gausslegendre": 13, "riemann_trapezoid": 1, "riemann_middle": 1}
    if method in exact_degree:  # integrates polynomials up to this degree exactly
        degree = exact_degree[method]
        np.testing.assert_allclose(steps @ alphas ** degree, 1 / (degree + 1))


def test_integration_rule_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        integration_rule("simpson", 5)
    with pytest.raises(ValueError, match="n_steps >= 2"):
        integration_rule("riemann_trapezoid", 1)


# -- properties ------------------------------------------------------------------------------
def _linear_regressor(rng):
    X = rng.normal(size=(40, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.3
    return MLPRegressor(hidden_layer_sizes=(), max_iter=20, dtype="float64",
                        random_state=0).fit(X, y), X


def test_integrated_gradients_of_a_linear_network_are_weights_times_distance(rng):
    model, X = _linear_regressor(rng)
    weights = np.asarray(model.module_.layers[0].weight.data)[0]
    baseline = rng.normal(size=5)
    for method in ("gausslegendre", "riemann_left"):
        result = integrated_gradients(model, X[:6], baseline=baseline, n_steps=3, method=method)
        np.testing.assert_allclose(result.values, weights * (X[:6] - baseline), atol=1e-12)
        np.testing.assert_allclose(result.delta, 0.0, atol=1e-12)
    np.testing.assert_allclose(saliency(model, X[:2], abs=False).values,
                               np.tile(weights, (2, 1)), atol=1e-12)
    np.testing.assert_allclose(input_x_gradient(model, X[:2]).values, weights * X[:2],
                               atol=1e-12)


def test_attributions_at_the_baseline_are_zero(rng):
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, y)
    result = integrated_gradients(model, X[:5], baseline=X[:5], target=1)
    assert not np.asarray(result).any()
    np.testing.assert_allclose(result.outputs, result.baseline_outputs)


@pytest.fixture(scope="module")
def digits_mlp():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), MLPClassifier(random_state=0, max_iter=100))
        return pipe.fit(X, y), X, y


def test_integrated_gradients_are_complete_on_a_trained_digits_mlp(digits_mlp):
    pipe, X, _ = digits_mlp
    result = integrated_gradients(pipe, X[:100], n_steps=200)
    change = np.abs(result.outputs - result.baseline_outputs)
    # a ReLU network's path has kinks: 200 Gauss-Legendre points leave ~6e-4 of
    # the change in total (~3e-3 at worst in one row; 1000 points: 1.2e-4)
    assert np.abs(result.delta).sum() < 1e-3 * change.sum()
    np.testing.assert_allclose(np.asarray(result).sum(axis=1),
                               result.outputs - result.baseline_outputs + result.delta,
                               rtol=1e-4, atol=1e-4)
    assert (result.target == pipe.predict(X[:100])).all()  # None: the predicted class


def test_a_standard_scaler_pipeline_equals_the_scaler_folded_into_the_first_layer(rng):
    X = rng.normal(5.0, 3.0, size=(80, 6)) * np.array([1, 10, 0.1, 1, 100, 2])
    y = (X[:, 0] / 3 + X[:, 1] / 30 > 2).astype(int)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(10,), max_iter=30,
                                                         dtype="float64", random_state=0))
    folded = fold_scaler(pipe.fit(X, y))
    np.testing.assert_allclose(folded.predict_proba(X), pipe.predict_proba(X), atol=1e-12)
    for method in (saliency, input_x_gradient, integrated_gradients):
        through = method(pipe, X[:7], target=1)
        direct = method(folded, X[:7], target=1)
        assert through.space == "input"
        np.testing.assert_allclose(through.values, direct.values, rtol=1e-9, atol=1e-12)


def test_a_step_that_is_not_elementwise_is_explained_in_its_output_space(rng):
    X, y = rng.normal(size=(60, 8)), rng.integers(0, 2, 60)
    pipe = make_pipeline(PCA(3), MinMaxScaler(), MLPClassifier(hidden_layer_sizes=(6,),
                                                                max_iter=10, random_state=0))
    result = saliency(pipe.fit(X, y), X[:4])
    assert result.space == "output of step 'pca'"
    assert np.shape(result) == (4, 3)


# -- the gradient against finite differences, for every family and input form -----------------
def _finite_difference(predict, X, row, column, eps=1e-6):
    """d predict(X)[row, column] / d X[row] by central differences, in X[row]'s shape."""
    x = np.array(X[row], dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (predict(up)[0, column] - predict(down)[0, column]) / (2 * eps)
    return grad


def _check_against_predict_proba(model, X, rows=(0, 1)):
    target = model.classes_[-1]
    result = saliency(model, X, target=target, output="probabilities", abs=False)
    values = result.values
    for row in rows:
        expected = _finite_difference(lambda x: model.predict_proba([x] if isinstance(X, list)
                                                                    else x[None]), X, row, -1)
        np.testing.assert_allclose(values[row], expected, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(result.outputs, model.predict_proba(X)[:, -1], rtol=1e-10)


def _sequences(rng, n=24, steps=9, features=2):
    X = rng.normal(size=(n, steps, features))
    return X, (X[:, :, 0].mean(axis=1) > 0).astype(int)


def test_mlp_gradients_binary_and_multiclass(rng):
    X = rng.normal(size=(50, 4))
    for y in ((X[:, 0] > 0).astype(int), (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)):
        model = MLPClassifier(hidden_layer_sizes=(6,), activation="tanh", max_iter=30,
                              dtype="float64", random_state=0).fit(X, y)
        _check_against_predict_proba(model, X)
    # a binary model's single logit z explains class 0 as -z
    positive = saliency(model := MLPClassifier(hidden_layer_sizes=(5,), max_iter=5,
                                               dtype="float64", random_state=0)
                        .fit(X, (X[:, 0] > 0).astype(int)), X[:3], target=1, abs=False)
    negative = saliency(model, X[:3], target=0, abs=False)
    np.testing.assert_allclose(negative.values, -positive.values)
    np.testing.assert_allclose(negative.outputs, -positive.outputs)


@pytest.mark.parametrize("layout", ["NTC", "NCT"])
@pytest.mark.parametrize("scale", [None, "series", "channel"])
def test_recurrent_gradients_in_the_form_x_was_given(rng, layout, scale):
    X, y = _sequences(rng)
    X = X * np.array([1.0, 20.0]) + 3.0
    if layout == "NCT":
        X = X.transpose(0, 2, 1)
    model = RNNClassifier("gru", hidden_size=5, max_iter=5, layout=layout, scale=scale,
                          dtype="float64", random_state=0).fit(X, y)
    _check_against_predict_proba(model, X)
    flat = X.reshape(len(X), -1)  # flat rows, read as the fitted shape
    flat_result = saliency(model, flat, target=1, output="probabilities", abs=False)
    np.testing.assert_allclose(flat_result.values,
                               saliency(model, X, target=1, output="probabilities",
                                        abs=False).values.reshape(len(X), -1))


def test_gradients_of_variable_length_series(rng):
    X = [rng.normal(size=(length, 2)) for length in (7, 3, 9, 5, 8, 4)] * 3
    y = np.arange(len(X)) % 2
    model = RNNClassifier(hidden_size=4, max_iter=3, scale="series", dtype="float64",
                          random_state=0).fit(X, y)
    _check_against_predict_proba(model, X, rows=(0, 1))
    result = integrated_gradients(model, X[:4], n_steps=64)
    assert [v.shape for v in result.values] == [x.shape for x in X[:4]]
    with pytest.raises(TypeError, match="list of arrays"):
        np.asarray(result)


def test_cnn1d_and_transformer_gradients(rng):
    X, y = _sequences(rng, n=16, steps=12)
    cnn = CNN1DClassifier(conv_layers="fcn", max_iter=2, dtype="float64",
                          random_state=0).fit(X.transpose(0, 2, 1), y)
    _check_against_predict_proba(cnn, X.transpose(0, 2, 1), rows=(0,))
    transformer = TransformerClassifier(d_model=8, nhead=2, num_layers=1, max_iter=2,
                                        dtype="float64", random_state=0).fit(X, y)
    _check_against_predict_proba(transformer, X, rows=(0,))


# -- SmoothGrad ----------------------------------------------------------------------------
def test_smoothgrad_variants(rng):
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, dtype="float64",
                          random_state=0).fit(X, y)
    grad = saliency(model, X[:5], target=1, abs=False).values
    quiet = {variant: smoothgrad(model, X[:5], target=1, noise_level=0.0, n_samples=3,
                                 variant=variant).values
             for variant in ("smoothgrad", "smoothgrad_sq", "vargrad")}
    np.testing.assert_allclose(quiet["smoothgrad"], grad)
    np.testing.assert_allclose(quiet["smoothgrad_sq"], grad ** 2)
    np.testing.assert_allclose(quiet["vargrad"], 0.0, atol=1e-20)
    noisy = [smoothgrad(model, X[:5], target=1, n_samples=20, random_state=3).values
             for _ in range(2)]
    np.testing.assert_array_equal(noisy[0], noisy[1])
    assert not np.allclose(noisy[0], grad)
    sq = smoothgrad(model, X[:5], target=1, n_samples=20, random_state=3, variant="smoothgrad_sq")
    var = smoothgrad(model, X[:5], target=1, n_samples=20, random_state=3, variant="vargrad")
    np.testing.assert_allclose(var.values, sq.values - noisy[0] ** 2, atol=1e-12)


# -- the estimator is left as it was ----------------------------------------------------------
def test_explaining_leaves_the_parameters_untouched(rng):
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    before = [(p.requires_grad, None if p.grad is None else np.array(p.grad))
              for p in model.module_.parameters()]
    integrated_gradients(model, X[:3])
    after = [(p.requires_grad, p.grad) for p in model.module_.parameters()]
    for (flag, grad), (flag_after, grad_after) in zip(before, after):
        assert flag == flag_after
        assert (grad is None and grad_after is None) or np.array_equal(grad, grad_after)


# -- errors ------------------------------------------------------------------------------
def test_errors_name_the_problem(rng):
    X, y = rng.normal(size=(30, 3)), np.array(["a", "b", "c"] * 10)
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"target 'z' is not one of the classes.*'a', 'b'"):
        saliency(model, X[:2], target="z")
    with pytest.raises(ValueError, match=r"baseline has shape \(2,\)"):
        integrated_gradients(model, X[:2], baseline=np.zeros(2))
    with pytest.raises(NotFittedError):
        saliency(MLPClassifier(), X)
    with pytest.raises(TypeError, match="LogisticRegression is not an estimator of "
                                        "sklears_neural.*kernel_shap"):
        saliency(LogisticRegression().fit(X, y), X)
    with pytest.raises(ValueError, match="output must be 'logits' or 'probabilities'"):
        saliency(model, X, output="proba")
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        integrated_gradients(model, X, n_steps=0)
    with pytest.raises(ValueError, match="variant must be one of"):
        smoothgrad(model, X, variant="smooth")
    regressor = MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    regressor.fit(X, rng.normal(size=(30, 2)))
    with pytest.raises(ValueError, match="has 2 outputs: pass target"):
        saliency(regressor, X)
    with pytest.raises(ValueError, match=r"target must be an output index in \[0, 2\)"):
        saliency(regressor, X, target=2)
    with pytest.raises(ValueError, match="output='probabilities' needs a classifier"):
        saliency(regressor, X, target=0, output="probabilities")
    assert saliency(regressor, X[:3], target=1).output == "outputs"
