"""LIME for tables (Ribeiro et al. 2016): a weighted linear surrogate of any
model's output around each input.

Perturbations are drawn around the input, each feature with the spread of
the training data (or, with ``discretize="quartile"``, from the training
values of each feature, represented by whether they fall in the input's own
quartile); each perturbation weighs ``sqrt(exp(-d^2 / width^2))`` (LIME's
kernel) by its distance d to the input in that representation, and a ridge
regression of the model's output on the representation gives the local
weights.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.utils import check_random_state

from sklears_neural.inspection._kernel_shap import checked_tables, explained_output
from sklears_neural.inspection._result import Attribution

__all__ = ["lime_tabular"]


def lime_tabular(estimator, X, training_data, target=None, *, n_samples=5000,
                 discretize=None, kernel_width=None, alpha=1.0, random_state=None):
    """Local linear explanations of each input's prediction, model-agnostic (LIME).

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        Classifiers are explained on ``predict_proba``, regressors on
        ``predict``.
    X : array-like of shape (n_samples, n_features)
        The inputs to explain.
    training_data : array-like of shape (n_rows, n_features)
        Gives each feature's spread (its std) or, with ``discretize``, its
        quartiles and the values perturbations draw from.
    target : label or int, optional
        Classifiers: the class label whose probability is explained (None:
        each row's predicted class). Regressors: the output index.
    n_samples : int, default=5000
        Perturbations per input (the first is the input itself).
    discretize : {None, "quartile"}, default=None
        None: Gaussian perturbations of each feature with its training std,
        and weights per training std of the feature. "quartile": each
        feature is represented by whether it falls in the input's quartile
        (LIME's default for tables), and a weight is the change of output
        when it does.
    kernel_width : float, optional
        Width of the exponential kernel on distances (default:
        ``0.75 * sqrt(n_features)``, LIME's).
    alpha : float, default=1.0
        Ridge penalty of the surrogate.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations.

    Returns
    -------
    Attribution
        ``values`` of shape (n_samples, n_features), the surrogate's
        weights; ``intercepts`` and ``scores`` (the surrogate's weighted R²
        on its perturbations); ``outputs``, the model's output at each input.
    """
    names = getattr(X, "columns", None)  # a frame's, given back to the model
    X, training_data = checked_tables(estimator, X, training_data, "training_data")
    if discretize not in (None, "quartile"):
        raise ValueError(f"discretize must be None or 'quartile'; got {discretize!r}.")
    if not isinstance(n_samples, Integral) or n_samples < 2:
        raise ValueError(f"n_samples must be an int >= 2; got {n_samples!r}.")
    width = 0.75 * np.sqrt(X.shape[1]) if kernel_width is None else kernel_width
    if not isinstance(width, Real) or width <= 0:
        raise ValueError(f"kernel_width must be a positive number; got {kernel_width!r}.")
    rng = check_random_state(random_state)
    predict, columns, targets, output = explained_output(estimator, X, target, names)
    values = np.empty(X.shape)
    intercepts, scores, outputs = (np.empty(len(X)) for _ in range(3))
    for i, x in enumerate(X):
        inputs, representation = (_quartile_samples if discretize else _gaussian_samples)(
            x, training_data, n_samples, rng)
        distance = np.linalg.norm(representation - representation[0], axis=1)
        weights = np.sqrt(np.exp(-distance ** 2 / width ** 2))  # LIME's kernel
        response = predict(inputs)[:, columns[i]]
        surrogate = Ridge(alpha=alpha).fit(representation, response, sample_weight=weights)
        values[i] = surrogate.coef_
        intercepts[i] = surrogate.intercept_
        scores[i] = surrogate.score(representation, response, sample_weight=weights)
        outputs[i] = response[0]
    result = Attribution(values, method="lime", target=targets, output=output, space="input",
                         outputs=outputs)
    result.intercepts, result.scores = intercepts, scores
    return result


def _gaussian_samples(x, training_data, n_samples, rng):
    """Inputs x + std * z and their representation z (in training stds)."""
    std = training_data.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    z = rng.normal(size=(n_samples, x.shape[0]))
    z[0] = 0.0
    return x + z * std, z


def _quartile_samples(x, training_data, n_samples, rng):
    """Inputs with each feature drawn from its training values, and 0/1 for whether
    each lands in x's own quartile."""
    edges = np.percentile(training_data, [25, 50, 75], axis=0)  # (3, M)
    rows = rng.randint(len(training_data), size=(n_samples, x.shape[0]))
    inputs = training_data[rows, np.arange(x.shape[0])]
    inputs[0] = x

    def quartile(values):
        return (values[..., None, :] > edges).sum(axis=-2) if values.ndim > 1 else (
            (values > edges).sum(axis=0))

    representation = (quartile(inputs) == quartile(x)).astype(np.float64)
    return inputs, representation
