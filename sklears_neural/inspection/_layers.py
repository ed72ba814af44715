"""Layer-level explanations: a layer's activations, Grad-CAM, and integrated
gradients attributed to a layer's output."""

import numpy as np
from scipy import ndimage

from sklears_neural.inspection._explained import ExplainedModel
from sklears_neural.inspection._gradients import (
    _COMMON,
    _OUTPUT,
    _baseline,
    _points_per_pass,
    _positive_int,
    _prepare,
    _result,
    _weighted_path_sum,
    as_values,
)
from sklears_neural.inspection._integration import integration_rule
from sklears_neural.nn import Conv1d, Conv2d, Module

__all__ = ["grad_cam", "layer_activations", "layer_integrated_gradients"]


def find_layer(module, layer):
    """The sub-module ``layer`` names (its dotted name in ``named_modules()``) or is."""
    named = dict(module.named_modules())
    if isinstance(layer, Module):
        if not any(m is layer for m in named.values()):
            raise ValueError(f"{type(layer).__name__} is not a layer of the fitted module_; "
                             "pass one of module_.named_modules() (by name or object).")
        return layer
    if isinstance(layer, str) and layer in named and layer:
        return named[layer]
    names = [name for name in named if name]
    raise ValueError(f"layer {layer!r} is not a layer of the fitted module_; its layers are "
                     f"{names[:12]}{' ...' if len(names) > 12 else ''}.")


def _cam_layer(module):
    """Grad-CAM's default layer: the named architectures' convolution ``blocks``,
    else the last convolution."""
    named = dict(module.named_modules())
    if "blocks" in named:
        return named["blocks"]
    convolutions = [m for m in named.values() if isinstance(m, (Conv1d, Conv2d))]
    if not convolutions:
        raise ValueError(f"grad_cam needs a convolutional network; {type(module).__name__} "
                         "has no convolution layer (use integrated_gradients or saliency).")
    return convolutions[-1]


def layer_activations(estimator, X, layer, *, batch_size=256):
    """The output of one layer of the network for each input, in evaluation mode.

    Parameters
    ----------
    estimator : fitted estimator of sklears_neural, or Pipeline ending in one
        The steps before the network are applied to X first.
    X : array-like or list of series
        The inputs, in the form the estimator predicts on.
    layer : str or Module
        A layer of the fitted ``module_``: its dotted name in
        ``module_.named_modules()`` (e.g. ``"layers.1"``) or the object.
    batch_size : int, default=256
        Inputs per engine pass.

    Returns
    -------
    ndarray of shape (n_samples, ...)
        The layer's output for each input.
    """
    model = ExplainedModel(estimator)
    Z = as_values(model.explained_input(X))
    return model.layer_activations(Z, find_layer(model.net.module_, layer),
                                   _positive_int(batch_size, "batch_size"))


def grad_cam(estimator, X, target=None, *, layer=None, output="logits", relu=True,
             upsample=True, batch_size=256):
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    module = model.net.module_
    chosen = _cam_layer(module) if layer is None else find_layer(module, layer)
    outputs, activations, grads = model.layer_outputs_and_gradients(
        Z, indices, chosen, _positive_int(batch_size, "batch_size"))
    if activations.ndim < 3:
        raise ValueError(f"grad_cam needs a layer with (samples, channels, positions...) "
                         f"output; the layer's output has shape {activations.shape}.")
    spatial = tuple(range(2, activations.ndim))
    channel_weights = grads.mean(axis=spatial, keepdims=True)
    cam = (channel_weights * activations).sum(axis=1)
    if relu:
        cam = np.maximum(cam, 0.0)
    space = "layer output"
    if upsample:
        positions = _input_positions(model, Z)
        if positions is not None and positions != cam.shape[1:]:
            zoom = [1.0] + [p / c for p, c in zip(positions, cam.shape[1:])]
            cam = ndimage.zoom(cam, zoom, order=1, grid_mode=True, mode="nearest")
        space = "input positions" if positions is not None else space
    return _result(cam, "grad_cam", model, targets, outputs, space_override=space)


def _input_positions(model, Z):
    """The spatial shape of one input (H, W) or (L,), or None if unknown."""
    shape = getattr(model.net, "input_shape_", None)
    if isinstance(Z, list) or shape is None or not getattr(model.net, "_dims", None):
        return None
    return tuple(shape[1:])


def layer_integrated_gradients(estimator, X, target=None, *, layer, baseline=None,
                               n_steps=50, method="gausslegendre", output="logits",
                               batch_size=None):
    n_steps = _positive_int(n_steps, "n_steps")
    alphas, weights = integration_rule(method, n_steps)
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    chosen = find_layer(model.net.module_, layer)
    B = _baseline(baseline, Z)
    if isinstance(Z, list):
        raise ValueError("layer_integrated_gradients takes equal-length inputs (an array); "
                         "X is a list of series of different lengths.")
    points = _points_per_pass(batch_size)
    outputs, at_input, _ = model.layer_outputs_and_gradients(Z, indices, chosen, points)
    baseline_outputs, at_baseline, _ = model.layer_outputs_and_gradients(B, indices, chosen,
                                                                         points)
    difference = at_input - at_baseline
    rows_per_pass = max(1, points // n_steps)
    chunks = []
    for begin in range(0, len(Z), rows_per_pass):
        rows = slice(begin, begin + rows_per_pass)
        base, diff = at_baseline[rows], difference[rows]
        path = np.concatenate([base + a * diff for a in alphas])
        inputs = np.concatenate([Z[rows]] * n_steps)
        _, _, grads = model.layer_outputs_and_gradients(
            inputs, np.tile(indices[rows], n_steps), chosen, max(points, n_steps),
            replace=lambda path_rows, path=path: path[path_rows])
        chunks.append(_weighted_path_sum(grads, weights, len(diff), diff))
    values = np.concatenate(chunks)
    delta = values.reshape(len(values), -1).sum(axis=1) - (outputs - baseline_outputs)
    return _result(values, "layer_integrated_gradients", model, targets, outputs, delta=delta,
                   baseline_outputs=baseline_outputs, space_override="layer output")


_LAYER = """    layer : str or Module{default}
        A layer of the fitted ``module_``: its dotted name in
        ``module_.named_modules()`` (e.g. ``"layers.5"``) or the object.{extra}
"""

grad_cam.__doc__ = """Grad-CAM (Selvaraju et al. 2017): where a convolutional layer looks.

    The layer's output channels, weighted by the spatial mean of the
    explained output's gradient with respect to each, summed; then a ReLU
    (the paper's) and, with ``upsample``, stretched to the input's positions.
""" + _COMMON + _LAYER.format(default=", optional", extra="""
        Default: the convolution ``blocks`` of CNN1D's named architectures
        (their last feature maps), else the last convolution layer.""") + _OUTPUT + """\
    relu : bool, default=True
        Keep only the positive evidence (captum's ``relu_attributions``).
    upsample : bool, default=True
        Resize the map to the input's positions (bilinear; a CNN's H x W or
        a signal's L) when the layer's differ; else the layer's positions.
    batch_size : int, default=256
        Inputs per engine pass.

    Returns
    -------
    Attribution
        ``values`` of shape (n_samples, \\*positions).
"""

layer_integrated_gradients.__doc__ = """Integrated gradients attributed to a layer's output.

    The layer's output is moved in a straight line from its value at the
    baseline to its value at the input, the rest of the network reading it
    (captum's LayerIntegratedGradients); the attribution of each of the
    layer's outputs is its change times the integrated gradient.
""" + _COMMON + _LAYER.format(default="", extra="") + """    baseline : float or array-like, optional
        The reference input (None: 0), as for ``integrated_gradients``.
    n_steps : int, default=50
        Points of the integration rule.
    method : str, default="gausslegendre"
        The integration rule, as for ``integrated_gradients``.
""" + _OUTPUT + """    batch_size : int, optional
        Path points per engine pass (default: about 4096).

    Returns
    -------
    Attribution
        ``values`` shaped like the layer's output; ``delta``, each row's
        completeness error.
"""
