"""The pieces of a straight path on which a ReLU network is linear.

Along ``baseline + alpha * (x - baseline)`` an MLP whose activations are ReLU,
leaky ReLU or the identity (batch normalisation in evaluation included) is
piecewise linear in ``alpha``: its gradient is constant between the points
where some unit's pre-activation crosses 0. Walking the layers with the
breakpoints found so far (the layer's input is affine on each piece, so each
pre-activation is too, and its zero crossings are exact), every kink of the
path is found. Integrated gradients taken at each piece's midpoint, weighted
by its length, are then the exact path integral: the completeness error is
rounding only, whatever the network's kinks.
"""

import numpy as np

from sklears_neural._specs import default_param
from sklears_neural.backend import to_numpy
from sklears_neural.mlp._network import MLPNetwork
from sklears_neural.nn import BatchNorm1d, Dropout, GaussianNoise, Linear
from sklears_neural.nn.layers.activation import Activation, Identity

__all__ = ["path_pieces"]

_PIECEWISE = frozenset({"identity", "relu", "leaky_relu"})


def _fail(reason):
    raise ValueError(f"method='piecewise_linear' integrates exactly the networks that are "
                     f"piecewise linear along the path (MLPs with ReLU, leaky ReLU or no "
                     f"activation, on the logits); {reason}. Use method='gausslegendre'.")


def _activate(name, param, values):
    if name == "identity":
        return values
    if name == "relu":
        return np.maximum(values, 0.0)
    slope = float(default_param("leaky_relu") if param is None else param)
    return np.where(values >= 0, values, slope * values)


def _host(array):
    return np.asarray(to_numpy(array), dtype=np.float64)


def _at(alphas, values, points):
    """``values`` (affine between consecutive ``alphas``) at ``points``; a point that is
    one of ``alphas`` gets its stored value exactly."""
    k = np.clip(np.searchsorted(alphas, points, side="right") - 1, 0, len(alphas) - 2)
    span = alphas[k + 1] - alphas[k]
    w = np.where(span > 0, (points - alphas[k]) / np.where(span > 0, span, 1.0), 0.0)
    out = values[k] + w[:, None] * (values[k + 1] - values[k])
    exact = np.searchsorted(alphas, points)
    hit = (exact < len(alphas)) & (alphas[np.minimum(exact, len(alphas) - 1)] == points)
    out[hit] = values[exact[hit]]
    return out


def _split(alphas, values):
    """Breakpoints where a column of ``values`` (affine between consecutive
    breakpoints) changes sign, added; ``values`` at all of them."""
    a, b = values[:-1], values[1:]
    rows, cols = np.nonzero((a * b) < 0)
    if not len(rows):
        return alphas, values
    t = a[rows, cols] / (a[rows, cols] - b[rows, cols])
    new = alphas[rows] + t * (alphas[rows + 1] - alphas[rows])
    merged = np.unique(np.concatenate([alphas, new]))
    return merged, _at(alphas, values, merged)


def _step(layer):
    """One layer of the walk: ("linear", W, b, activation, param), ("affine", scale,
    shift), ("activation", name, param) or None (an identity in evaluation)."""
    if isinstance(layer, Linear):
        name = layer.activation or "identity"
        if name not in _PIECEWISE:
            _fail(f"it has a {name} activation")
        return ("linear", _host(layer.weight.data),
                None if layer.bias is None else _host(layer.bias.data), name,
                layer.activation_param)
    if isinstance(layer, BatchNorm1d):
        scale = _host(layer.weight.data) / np.sqrt(_host(layer.running_var) + layer.eps)
        return ("affine", scale, _host(layer.bias.data) - scale * _host(layer.running_mean))
    if isinstance(layer, Activation):
        if layer.name not in _PIECEWISE:
            _fail(f"it has a {layer.name} activation")
        return ("activation", layer.name, getattr(layer, "activation_param", None))
    if isinstance(layer, (Dropout, GaussianNoise, Identity)):
        return None
    _fail(f"it has a {type(layer).__name__} layer")


def _apply(step, alphas, h):
    """One step of the walk at every breakpoint (new ones where a ReLU bends)."""
    if step is None:
        return alphas, h
    if step[0] == "linear":
        _, weight, bias, name, param = step
        h = h @ weight.T + (0.0 if bias is None else bias)
        if name == "identity":
            return alphas, h
        alphas, h = _split(alphas, h)
        return alphas, _activate(name, param, h)
    if step[0] == "affine":
        return alphas, h * step[1] + step[2]
    alphas, h = _split(alphas, h)
    return alphas, _activate(step[1], step[2], h)


def path_pieces(module, start, end, max_pieces):
    """The breakpoints in [0, 1] of a piecewise-linear MLP along each row's path.

    Parameters
    ----------
    module : MLPNetwork
        The network.
    start, end : ndarray of shape (n, n_features)
        Each row's baseline and input, as the network reads them.
    max_pieces : int
        The most pieces a row may have.

    Returns
    -------
    list of ndarray
        Per row, the sorted breakpoints, 0 and 1 included.

    Raises
    ------
    ValueError
        If the network is not piecewise linear, or a row's path has more
        than ``max_pieces`` pieces.
    """
    if not isinstance(module, MLPNetwork):
        _fail(f"this network is a {type(module).__name__}")
    layers = list(module.layers)
    blocks = (module.__dict__.get("_blocks") if module.__dict__.get("residual", False)
              else None) or [(0, len(layers), False)]
    program = [([_step(layer) for layer in layers[start:end]], skip)
               for start, end, skip in blocks]
    pieces = []
    for u0, u1 in zip(np.asarray(start, np.float64), np.asarray(end, np.float64)):
        alphas, h = np.array([0.0, 1.0]), np.stack([u0, u1])
        for steps, skip in program:
            block_alphas, block_input = alphas, h
            for step in steps:
                alphas, h = _apply(step, alphas, h)
            if skip:  # the block's input, at the breakpoints found inside it, added back
                h = h + _at(block_alphas, block_input, alphas)
        if len(alphas) - 1 > max_pieces:
            raise ValueError(f"method='piecewise_linear': a path crosses {len(alphas) - 2} "
                             f"kinks of the network, more than n_steps={max_pieces} pieces "
                             f"allow; raise n_steps to {len(alphas) - 1} or more.")
        pieces.append(alphas)
    return pieces
