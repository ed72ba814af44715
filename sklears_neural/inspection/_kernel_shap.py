"""KernelSHAP (Lundberg and Lee 2017): Shapley values of any model's output by a
weighted linear regression over coalitions of features.

A coalition z (a 0/1 vector over the M features) is valued by the model's
mean output when the features outside z are taken from background rows:
``v(z) = mean_b f(x_z, b_{not z})``. The Shapley values are the solution of
the regression of v on z with the Shapley kernel weights
``(M - 1) / (C(M, |z|) |z| (M - |z|))``, constrained so that the base value
``v(empty)`` plus the values sum to ``v(all) = f(x)``. With every coalition
enumerated (M <= 10) the solution is the exact Shapley values; otherwise
coalitions are sampled by size from the kernel, each with its complement.
"""

import itertools
import math
from numbers import Integral

import numpy as np
from sklearn.base import is_classifier
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sklears_neural.inspection._explained import class_targets, output_targets
from sklears_neural.inspection._result import Attribution

__all__ = ["kernel_shap"]

EXACT_MAX_FEATURES = 10


def kernel_shap(estimator, X, background, target=None, *, n_samples="auto",
                summarize=None, random_state=None, batch_rows=65536):
    """Shapley values of each input's prediction, model-agnostic (KernelSHAP).

    Works with any fitted scikit-learn estimator or Pipeline: classifiers are
    explained on ``predict_proba``, regressors on ``predict``.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        The model; X and the background are given to it as they are.
    X : array-like of shape (n_samples, n_features)
        The inputs to explain.
    background : array-like of shape (n_background, n_features)
        Rows that stand in for the features outside a coalition; the base
        value is the model's mean output over them.
    target : label, int or array-like of shape (n_samples,), optional
        Classifiers: the class label whose probability is explained, or one
        per row (None: each row's predicted class). Regressors: the output
        index (None: the only output).
    n_samples : int or "auto", default="auto"
        Coalitions evaluated per input. "auto": every coalition when there
        are at most 10 features (exact Shapley values), else
        ``2 * n_features + 2048`` sampled ones (shap's default).
    summarize : int, optional
        Replace the background by this many k-means centres, weighted by
        their cluster sizes (shap's ``kmeans`` summary): fewer model calls.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampling of coalitions and the k-means summary.
    batch_rows : int, default=65536
        Rows per call of the model.

    Returns
    -------
    Attribution
        ``values`` of shape (n_samples, n_features), ``base_values`` (the
        mean output over the background), ``outputs`` (the explained output
        at each input); for every row ``values.sum() + base_value`` equals
        the output up to rounding.
    """
    names = getattr(X, "columns", None)  # a frame's, given back to the model
    X, background = checked_tables(estimator, X, background, "background")
    rng = check_random_state(random_state)
    background, weights = _summarize(background, summarize, rng)
    n_features = X.shape[1]
    coalitions, kernel = _coalitions(n_features, n_samples, rng)
    predict, columns, targets, output = explained_output(estimator, X, target, names)
    base = np.average(predict(background), axis=0, weights=weights)
    values = np.empty(X.shape)
    outputs = np.empty(len(X))
    base_values = np.empty(len(X))
    for i, x in enumerate(X):
        column = columns[i]
        full = predict(x[None])[0, column]
        outputs[i], base_values[i] = full, base[column]
        if len(coalitions) == 0:  # one feature: it holds the whole change
            values[i] = full - base[column]
            continue
        value = _coalition_values(predict, x, background, weights, coalitions, batch_rows)
        values[i] = _constrained_regression(coalitions, kernel, value[:, column] - base[column],
                                            full - base[column])
    return Attribution(values, method="kernel_shap", target=targets, output=output,
                       space="input", outputs=outputs, base_values=base_values)


def checked_tables(estimator, X, reference, name):
    """X and the reference rows (``name``) as float tables with the same features, for a
    fitted estimator."""
    check_is_fitted(estimator)
    X, reference = as_table(X, "X"), as_table(reference, name)
    if reference.shape[1] != X.shape[1]:
        raise ValueError(f"{name} has {reference.shape[1]} features; X has {X.shape[1]}.")
    return X, reference


def as_table(data, name):
    data = np.asarray(data.toarray() if hasattr(data, "toarray") else data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D table (samples, features); got "
                         f"shape {data.shape}.")
    return data


def _summarize(background, summarize, rng):
    if summarize is None or summarize >= len(background):
        return background, np.ones(len(background))
    if not isinstance(summarize, Integral) or summarize < 1:
        raise ValueError(f"summarize must be a positive int or None; got {summarize!r}.")
    kmeans = KMeans(int(summarize), n_init=1, random_state=rng.randint(2**31)).fit(background)
    return kmeans.cluster_centers_, np.bincount(kmeans.labels_, minlength=summarize)


def explained_output(estimator, X, target, columns=None):
    """A function giving the explained outputs of rows, each row's output column, the
    targets as the result gives them, and the output's name. ``columns``: the
    column names of a frame X was, given back to the model with every call."""

    def frame(rows):
        if columns is None:
            return rows
        import pandas as pd

        return pd.DataFrame(rows, columns=columns)

    if is_classifier(estimator):
        def predicted():
            labels = estimator.predict(frame(X))
            if np.ndim(labels) > 1:
                raise ValueError("a multilabel classifier needs target: the label to "
                                 f"explain (one of {estimator.classes_.tolist()}).")
            return labels

        columns_of_rows, labels = class_targets(estimator.classes_, target, len(X),
                                                predicted)
        return (lambda rows: estimator.predict_proba(frame(rows)), columns_of_rows, labels,
                "probabilities")

    def predict(rows):
        out = np.asarray(estimator.predict(frame(rows)), dtype=np.float64)
        return out.reshape(len(rows), -1)

    indices, targets = output_targets(predict(X[:1]).shape[1], target, len(X))
    return predict, indices, targets, "outputs"


def _shapley_kernel(n_features, size):
    return (n_features - 1) / (math.comb(n_features, size) * size * (n_features - size))


def _coalitions(n_features, n_samples, rng):
    """Coalitions (k, M) of 0/1 (neither empty nor full) and their regression weights."""
    M = n_features
    if M < 2:
        return np.zeros((0, M)), np.zeros(0)
    if n_samples == "auto":
        exact = M <= EXACT_MAX_FEATURES
        n_samples = 2 * M + 2048
    else:
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int or 'auto'; got {n_samples!r}.")
        exact = n_samples >= 2 ** M - 2
    if exact:
        rows = [z for z in itertools.product((0.0, 1.0), repeat=M) if 0 < sum(z) < M]
        masks = np.array(rows)
        sizes = masks.sum(axis=1).astype(int)
        return masks, np.array([_shapley_kernel(M, s) for s in sizes])
    return _sampled_coalitions(M, int(n_samples), rng)


def _sampled_coalitions(M, n_samples, rng):
    """Sizes drawn in proportion to the kernel's total weight per size, each coalition
    with its complement; every coalition weighs the same (the kernel is in the draw)."""
    sizes = np.arange(1, M)
    size_weight = np.array([(M - 1) / (s * (M - s)) for s in sizes])
    pairs = max(1, n_samples // 2)
    drawn = rng.choice(sizes, size=pairs, p=size_weight / size_weight.sum())
    masks = np.zeros((2 * pairs, M))
    for i, size in enumerate(drawn):
        on = rng.choice(M, size=size, replace=False)
        masks[2 * i, on] = 1.0
        masks[2 * i + 1] = 1.0 - masks[2 * i]
    return masks, np.ones(len(masks))


def _coalition_values(predict, x, background, weights, coalitions, batch_rows):
    """Mean output over the background of x with each coalition's features kept: (k, outputs)."""
    n_background = len(background)
    per_batch = max(1, batch_rows // n_background)
    values = []
    for begin in range(0, len(coalitions), per_batch):
        masks = coalitions[begin:begin + per_batch]
        hybrid = np.where(masks[:, None, :] > 0, x, background[None])  # (k, b, M)
        out = predict(hybrid.reshape(-1, x.shape[0]))
        out = out.reshape(len(masks), n_background, -1)
        values.append(np.einsum("b,kbo->ko", weights / weights.sum(), out))
    return np.concatenate(values)


def _constrained_regression(masks, kernel, y, total):
    """phi minimising sum kernel * (y - masks @ phi)^2 subject to sum(phi) = total."""
    M = masks.shape[1]
    if M == 1:
        return np.array([total])
    # phi_M = total - sum(phi_<M): regress y - z_M total on z_j - z_M
    design = masks[:, :-1] - masks[:, -1:]
    response = y - masks[:, -1] * total
    root = np.sqrt(kernel)[:, None]
    phi, *_ = np.linalg.lstsq(design * root, response * root[:, 0], rcond=None)
    return np.append(phi, total - phi.sum())
