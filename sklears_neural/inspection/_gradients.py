"""Gradient attributions: saliency, input x gradient, integrated gradients and
SmoothGrad (with SmoothGrad² and VarGrad).

Each takes a fitted estimator of this library, or a Pipeline ending in one
(``ExplainedModel`` says what is differentiated), and X in the form the
estimator predicts on; each returns an ``Attribution`` shaped like X.
Inputs are explained in batches, one engine pass per batch, without
gradients of the network's parameters.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from sklears_neural.inspection._explained import ExplainedModel
from sklears_neural.inspection._integration import integration_rule
from sklears_neural.inspection._result import Attribution

__all__ = ["input_x_gradient", "integrated_gradients", "saliency", "smoothgrad"]

SMOOTHGRAD_VARIANTS = ("smoothgrad", "smoothgrad_sq", "vargrad")
# Path or noise points per engine pass by default.
POINTS_PER_PASS = 4096


def saliency(estimator, X, target=None, *, output="logits", abs=True, batch_size=256):
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    outputs, grads = model.outputs_and_gradients(Z, indices,
                                                 _positive_int(batch_size, "batch_size"))
    values = _elementwise(np.abs, grads) if abs else grads
    return _result(values, "saliency", model, targets, outputs)


def input_x_gradient(estimator, X, target=None, *, output="logits", batch_size=256):
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    outputs, grads = model.outputs_and_gradients(Z, indices,
                                                 _positive_int(batch_size, "batch_size"))
    return _result(_elementwise(np.multiply, Z, grads), "input_x_gradient", model, targets,
                   outputs)


def integrated_gradients(estimator, X, target=None, *, baseline=None, n_steps=50,
                         method="gausslegendre", output="logits", batch_size=None):
    n_steps = _positive_int(n_steps, "n_steps")
    if method == "piecewise_linear":
        return _piecewise_integrated_gradients(estimator, X, target, baseline, n_steps,
                                               output, batch_size)
    alphas, weights = integration_rule(method, n_steps)
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    B = _baseline(baseline, Z)
    points = _points_per_pass(batch_size)
    rows_per_pass = max(1, points // n_steps)
    difference = _elementwise(np.subtract, Z, B)
    chunks = []
    for begin in range(0, len(Z), rows_per_pass):
        rows = slice(begin, begin + rows_per_pass)
        b, d = B[rows], difference[rows]
        path = _stack([_elementwise(lambda bi, di, a=a: bi + a * di, b, d) for a in alphas])
        _, grads = model.outputs_and_gradients(path, np.tile(indices[rows], n_steps),
                                               max(points, n_steps))
        chunks.append(_weighted_path_sum(grads, weights, len(d), d))
    values = _stack(chunks)
    outputs, _ = model.outputs_and_gradients(Z, indices)
    baseline_outputs, _ = model.outputs_and_gradients(B, indices)
    delta = _row_sums(values) - (outputs - baseline_outputs)
    return _result(values, "integrated_gradients", model, targets, outputs, delta=delta,
                   baseline_outputs=baseline_outputs)


def _piecewise_integrated_gradients(estimator, X, target, baseline, n_steps, output,
                                    batch_size):
    """Integrated gradients on the exact pieces of a piecewise-linear network's path: the
    gradient at each piece's midpoint, weighted by its length (``_piecewise``)."""
    from sklears_neural.inspection._piecewise import path_pieces

    if output != "logits":
        raise ValueError("method='piecewise_linear' is exact on the raw outputs only (a "
                         "softmax is not piecewise linear); use output='logits' or another "
                         "method.")
    points = _points_per_pass(batch_size)
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    if isinstance(Z, list) or np.ndim(Z) != 2:
        raise ValueError("method='piecewise_linear' takes rows of features (an MLP's input).")
    B = _baseline(baseline, Z)

    def network_rows(values):
        rows = model.network_input(values)
        return np.asarray(getattr(rows, "to_numpy", lambda: rows)(), dtype=np.float64)

    pieces = path_pieces(model.net.module_, network_rows(B), network_rows(Z), n_steps)
    difference = Z - B
    row_of = np.repeat(np.arange(len(Z)), [len(p) - 1 for p in pieces])
    midpoints = np.concatenate([(p[:-1] + p[1:]) / 2 for p in pieces])
    lengths = np.concatenate([np.diff(p) for p in pieces])
    path = B[row_of] + midpoints[:, None] * difference[row_of]
    _, grads = model.outputs_and_gradients(path, indices[row_of], points)
    values = np.zeros_like(difference)
    np.add.at(values, row_of, grads * lengths[:, None])
    values *= difference
    outputs, _ = model.outputs_and_gradients(Z, indices)
    baseline_outputs, _ = model.outputs_and_gradients(B, indices)
    delta = values.sum(axis=1) - (outputs - baseline_outputs)
    return _result(values, "integrated_gradients", model, targets, outputs, delta=delta,
                   baseline_outputs=baseline_outputs)


def smoothgrad(estimator, X, target=None, *, n_samples=50, noise_level=0.15,
               variant="smoothgrad", output="logits", random_state=None, batch_size=None):
    if variant not in SMOOTHGRAD_VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, SMOOTHGRAD_VARIANTS))}; "
                         f"got {variant!r}.")
    if not isinstance(noise_level, Real) or noise_level < 0:
        raise ValueError(f"noise_level must be a number >= 0; got {noise_level!r}.")
    n_samples = _positive_int(n_samples, "n_samples")
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    rng = check_random_state(random_state)
    points = _points_per_pass(batch_size)
    rows_per_pass = max(1, points // n_samples)
    chunks = []
    for begin in range(0, len(Z), rows_per_pass):
        z = Z[begin:begin + rows_per_pass]
        series = isinstance(z, list)
        noisy = _stack([_elementwise(
            lambda zi, one=series: zi + rng.normal(size=zi.shape) * noise_level
            * _value_range(zi, one),
            z) for _ in range(n_samples)])
        _, grads = model.outputs_and_gradients(
            noisy, np.tile(indices[begin:begin + len(z)], n_samples), max(points, n_samples))
        chunks.append(_noise_statistic(grads, variant, n_samples, len(z)))
    outputs, _ = model.outputs_and_gradients(Z, indices)
    return _result(_stack(chunks), variant, model, targets, outputs)


# -- helpers -------------------------------------------------------------------------------
def _positive_int(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")
    return int(value)


def _points_per_pass(batch_size):
    return POINTS_PER_PASS if batch_size is None else _positive_int(batch_size, "batch_size")


def as_values(Z):
    """The explained input as float64: an array, or a list of arrays, one per series
    (a list of series stays a list, as the estimators read it: a list of 2-D series
    or of series of different lengths)."""
    if isinstance(Z, (list, tuple)):
        series = [np.asarray(z, dtype=np.float64) for z in Z]
        if any(s.ndim >= 2 for s in series) or len({s.shape for s in series}) > 1:
            return series
        return np.asarray(series)
    return np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=np.float64)


def _prepare(estimator, X, target, output):
    model = ExplainedModel(estimator, output)
    Z = as_values(model.explained_input(X))
    if len(Z) == 0:
        raise ValueError("X has 0 samples.")
    indices, targets = model.target_indices(target, Z)
    return model, Z, indices, targets


def _result(values, method, model, targets, outputs, space_override=None, **extra):
    """The Attribution of a method; ``space_override`` names a layer's space, said
    together with the Pipeline step it follows when there is one."""
    space = model.space
    if space_override is not None:
        space = space_override if space == "input" else f"{space_override} ({space})"
    return Attribution(values, method=method, target=targets, output=model.output,
                       space=space, outputs=outputs, **extra)


def _elementwise(fn, *values):
    """``fn`` over arrays, or over the matching series of lists of arrays."""
    if isinstance(values[0], list):
        return [fn(*parts) for parts in zip(*values)]
    return fn(*values)


def _stack(chunks):
    """Concatenate chunks of rows (arrays, or lists of series)."""
    if isinstance(chunks[0], list):
        return [series for chunk in chunks for series in chunk]
    return np.concatenate(chunks)


def _row_sums(values):
    if isinstance(values, list):
        return np.array([v.sum() for v in values])
    return values.reshape(len(values), -1).sum(axis=1)


def _baseline(baseline, Z):
    if baseline is None or isinstance(baseline, Real):
        fill = 0.0 if baseline is None else float(baseline)
        return _elementwise(lambda z: np.full_like(z, fill), Z)
    if isinstance(Z, list):
        raise ValueError("for a list of series of different lengths, baseline must be a "
                         "number (each series' baseline is that value at every step).")
    b = np.asarray(baseline, dtype=np.float64)
    if b.shape == Z.shape[1:]:
        return np.broadcast_to(b, Z.shape)
    if b.shape == Z.shape:
        return b
    raise ValueError(f"baseline has shape {b.shape}; expected a number, one input of shape "
                     f"{Z.shape[1:]}, or one per input, {Z.shape}.")


def _weighted_path_sum(grads, weights, n_rows, difference):
    """(input - baseline) times the weighted sum of the gradients along each path."""
    if isinstance(grads, list):
        total = [sum(weights[k] * grads[k * n_rows + i] for k in range(len(weights)))
                 for i in range(n_rows)]
        return [d * t for d, t in zip(difference, total)]
    grads = grads.reshape(len(weights), n_rows, *grads.shape[1:])
    return difference * np.tensordot(weights, grads, axes=1)


def _value_range(z, one_series):
    """The largest value minus the smallest: of a series, or of each row of a chunk."""
    if one_series or z.ndim == 1:
        return np.ptp(z)
    return np.ptp(z, axis=tuple(range(1, z.ndim)), keepdims=True)


def _noise_statistic(grads, variant, n_samples, n_rows):
    if isinstance(grads, list):
        per_row = [np.stack([grads[k * n_rows + i] for k in range(n_samples)])
                   for i in range(n_rows)]
        return [_statistic(g, variant) for g in per_row]
    return _statistic(grads.reshape(n_samples, n_rows, *grads.shape[1:]), variant)


def _statistic(samples, variant):
    if variant == "smoothgrad":
        return samples.mean(axis=0)
    if variant == "smoothgrad_sq":
        return (samples ** 2).mean(axis=0)
    return samples.var(axis=0)


# -- docstrings (the parameters every method shares are written once) -----------------------
_COMMON = """
    Parameters
    ----------
    estimator : fitted estimator of sklears_neural, or Pipeline ending in one
        Steps before the network are applied to X; element-wise linear
        scalers right before it (StandardScaler, MinMaxScaler without
        ``clip``, MaxAbsScaler, RobustScaler) are differentiated through, so
        that the attributions are over X's own features. Before any other
        step they are over that step's output (``Attribution.space`` says
        which).
    X : array-like or list of series
        The inputs to explain, in the form the estimator predicts on.
    target : label, index or array-like of shape (n_samples,), optional
        What to explain. Classifiers: a class label (as in ``classes_``) or
        one per row; None explains each row's predicted class. Regressors:
        an output index (None: the only output).
"""
_OUTPUT = """    output : {"logits", "probabilities"}, default="logits"
        For classifiers, differentiate the network's raw outputs (for a
        binary model with one logit z: z for the positive class, -z for the
        negative one) or the class probabilities.
"""
_BATCH = """    batch_size : int, default=256
        Inputs per engine pass.
"""
_RETURNS = """
    Returns
    -------
    Attribution
        ``values`` shaped like X, with the targets and outputs explained.
"""

saliency.__doc__ = """The gradient of the explained output with respect to each input value.
""" + _COMMON + _OUTPUT + """    abs : bool, default=True
        Return the gradient's absolute value (Simonyan et al. 2014; captum's
        default) or the signed gradient.
""" + _BATCH + _RETURNS

input_x_gradient.__doc__ = """Each input value times the output's gradient with respect to it.
""" + _COMMON + _OUTPUT + _BATCH + _RETURNS

integrated_gradients.__doc__ = """Integrated gradients (Sundararajan et al. 2017).

    The gradient integrated along the straight path from a baseline to each
    input, times the input minus the baseline. The attributions of a row sum
    to its output minus the baseline's, up to the integration error that
    ``delta`` reports (for ReLU networks, whose gradient jumps along the
    path, a rule's error shrinks as ``n_steps`` grows; "piecewise_linear"
    has none but rounding).
""" + _COMMON + """    baseline : float or array-like, optional
        The reference input: a number for every value (None: 0), one input
        (X's sample shape), or one per input (X's shape); in the space
        explained (a Pipeline step's output when ``Attribution.space`` says
        so). With a sequence estimator's ``scale="series"``, a constant
        baseline (such as 0) standardises to 0 like any constant series, and
        the attributions of a row then sum to 0, not to its change of
        output: give a baseline that varies along the series.
    n_steps : int, default=50
        Points of the integration rule (for "piecewise_linear", the most
        pieces a path may have).
    method : {"gausslegendre", "riemann_trapezoid", "riemann_left", \
"riemann_right", "riemann_middle", "piecewise_linear"}, default="gausslegendre"
        The integration rule, named as captum names it; or
        "piecewise_linear", the exact integral for an MLP with ReLU, leaky
        ReLU or no activations (batch norm and residual connections
        included, layer norm not), on its raw outputs (logits, or a
        regressor's predictions): each path is cut where a unit's
        pre-activation crosses 0, and the gradient is taken at each piece's
        midpoint, weighted by its length, so ``delta`` is rounding only.
        ``n_steps`` is then the most pieces a path may have: the default
        digits MLP (100 hidden units) needs up to 101, so pass 200; the
        error says how many a path needs.
""" + _OUTPUT + """    batch_size : int, optional
        Path points per engine pass (default: the paths of as many rows as
        make about 4096 points).

    Returns
    -------
    Attribution
        ``values`` shaped like X; ``delta``, the completeness error of each
        row (the sum of its attributions minus ``outputs -
        baseline_outputs``).
"""

smoothgrad.__doc__ = """SmoothGrad (Smilkov et al. 2017), SmoothGrad² and VarGrad.

    The gradient averaged over noisy copies of each input; or the mean of
    its square; or its variance (Adebayo et al. 2018).
""" + _COMMON + """    n_samples : int, default=50
        Noisy copies of each input.
    noise_level : float, default=0.15
        The noise's standard deviation as a share of each input's range
        (its largest value minus its smallest), as in the paper, which
        smooths images, whose values share one scale: every value of an
        input gets noise of the same size, so for features of different
        units explain a model fitted on standardised features.
    variant : {"smoothgrad", "smoothgrad_sq", "vargrad"}, default="smoothgrad"
        Named as captum's NoiseTunnel names them.
""" + _OUTPUT + """    random_state : int, RandomState instance or None, default=None
        Seeds the noise.
    batch_size : int, optional
        Noisy inputs per engine pass (default: about 4096).
""" + _RETURNS
