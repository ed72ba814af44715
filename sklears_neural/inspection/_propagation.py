"""Attributions by rules propagated layer by layer: guided backpropagation,
DeepLIFT (rescale rule) and LRP (epsilon, gamma and alpha1-beta0 rules).

They apply to networks that are a sequence of layers (``module_.layers`` of
``MLPClassifier``/``MLPRegressor`` and ``CNNClassifier``/``CNNRegressor``):
each layer is a step of one kind, and each method has a rule per kind.

* weighted (Linear without its activation, convolutions) and affine
  (batch norm in evaluation, average pooling) steps pass a signal back by
  the layer's own vector-Jacobian product; LRP divides the relevance by the
  step's output (plus epsilon with its sign) first and multiplies by the
  step's input after (the epsilon rule; the gamma and alpha1-beta0 rules
  reweigh a Linear's or convolution's weights first);
* activation steps (a Linear's fused activation, ``Activation``): the
  gradient; guided backpropagation keeps only its positive part (ReLU);
  DeepLIFT multiplies by the secant ``(f(x) - f(x')) / (x - x')`` between
  the input and the reference (the rescale rule); LRP passes relevance
  through unchanged;
* max pooling: the gradient; DeepLIFT splits each window's change of output
  between the input's and the reference's maxima (the rule captum's source
  writes down; captum 0.9 was measured passing the plain gradient there,
  which breaks the sum to the change of output); LRP's epsilon rule;
* shape steps (Flatten, Unflatten) and identities in evaluation (dropout,
  noise) pass everything through.
"""

import copy

import numpy as np

from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.backend import to_numpy
from sklears_neural.cnn._network import Unflatten
from sklears_neural.inspection._explained import explaining
from sklears_neural.inspection._gradients import (
    _COMMON,
    _baseline,
    _positive_int,
    _prepare,
    _result,
)
from sklears_neural.nn import (
    Activation,
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm1d,
    Conv1d,
    Conv2d,
    Dropout,
    Flatten,
    GaussianNoise,
    Identity,
    Linear,
    MaxPool1d,
    MaxPool2d,
    Sequential,
)
from sklears_neural.nn import functional as F

__all__ = ["deeplift", "guided_backprop", "lrp"]

# captum's names: what each does to the weights of Linear and convolution layers
# before the epsilon rule propagates through them
LRP_RULES = {"epsilon": lambda w: w,
             "gamma": lambda w: w + 0.25 * np.maximum(w, 0.0),
             "alpha1_beta0": lambda w: np.maximum(w, 0.0)}


class _Step:
    """One layer of the sequence: its kind and how to apply it."""

    def __init__(self, kind, apply, name=None):
        self.kind, self.apply, self.name = kind, apply, name
        self._reweighted = {}

    def reweighted(self, rule):
        """The layer with its weights changed by an LRP rule (a copy; kept)."""
        if rule == "epsilon" or self.kind != "weighted":
            return self.apply
        if rule not in self._reweighted:
            layer = copy.deepcopy(self.apply)
            layer.weight.data[...] = LRP_RULES[rule](np.asarray(layer.weight.data))
            self._reweighted[rule] = layer
        return self._reweighted[rule]


def _steps(module, method):
    layers = getattr(module, "layers", None)
    if not isinstance(layers, Sequential):
        raise ValueError(f"{method} propagates its rules layer by layer and needs a network "
                         f"that is a sequence of layers (the MLP and CNN estimators'); "
                         f"{type(module).__name__} is not one. Use integrated_gradients or "
                         "saliency.")
    if getattr(module, "residual", False):
        raise ValueError(f"{method} propagates its rules layer by layer; this network has "
                         "residual connections (residual=True), which it does not follow. "
                         "Use integrated_gradients or saliency.")
    steps = []
    for layer in layers:
        if isinstance(layer, Linear):
            pre_activation = copy.copy(layer)
            pre_activation.__dict__["activation"] = "identity"
            steps.append(_Step("weighted", pre_activation))
            if layer.activation != "identity":
                steps.append(_Step("activation", _activation(layer.activation,
                                                             layer.activation_param),
                                   layer.activation))
        elif isinstance(layer, (Conv1d, Conv2d)):
            steps.append(_Step("weighted", layer))
        elif isinstance(layer, (BatchNorm1d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d,
                                AdaptiveAvgPool2d)):
            steps.append(_Step("affine", layer))
        elif isinstance(layer, Activation):
            steps.append(_Step("activation", layer, layer.name))
        elif isinstance(layer, (MaxPool1d, MaxPool2d)):
            steps.append(_Step("maxpool", layer))
        elif isinstance(layer, (Flatten, Unflatten)):
            steps.append(_Step("shape", layer))
        elif not isinstance(layer, (Dropout, GaussianNoise, Identity)):
            raise ValueError(f"{method} has no rule for a {type(layer).__name__} layer; use "
                             "integrated_gradients or saliency.")
    return steps


def _activation(name, param):
    return lambda x: F.activation(x, name, param)


def _vjp(apply, x, grad):
    """The vector-Jacobian product of ``apply`` at ``x`` with ``grad``."""
    inp = Tensor(x, requires_grad=True)
    out = apply(inp)
    out.backward(np.asarray(grad, dtype=out.dtype))
    return to_numpy(inp.grad)


def _forward(steps, x):
    """Each step's input, and the network's output, for input rows ``x``."""
    inputs = []
    with no_grad():
        out = Tensor(x)
        for step in steps:
            inputs.append(out.data)
            out = step.apply(out)
    return inputs, out.data


def _seed(model, raw, indices):
    """The explained output, and its gradient with respect to the raw outputs (where
    the backward pass starts)."""
    leaf = Tensor(raw, requires_grad=True)
    selected = model._selected(leaf, indices)
    selected.sum().backward()
    return to_numpy(selected.data), to_numpy(leaf.grad)


def _propagate(method, model, Z, indices, batch_size, reference=None, rule="epsilon",
               epsilon=1e-9):
    """The modified gradient at the network's input, in X's form, and the outputs."""
    net = model.net
    if net.device_ != "cpu":
        raise ValueError(f"{method} runs on models on the CPU; this one is on "
                         f"{net.device_!r}: explain a copy with device='cpu', or use "
                         "integrated_gradients or saliency, which run on the GPU.")
    steps = _steps(net.module_, method)
    first_rule = next((i for i, step in enumerate(steps) if step.kind != "shape"), 0)
    features, to_input = net._gradient_input(model.network_input(Z))
    ref_features = (None if reference is None else
                    net._gradient_input(model.network_input(reference))[0])
    grads = np.zeros(features.shape, dtype=np.float64)
    outputs = np.empty(len(features))
    with explaining(net.module_):
        for begin in range(0, len(features), batch_size):
            rows = slice(begin, begin + batch_size)
            inputs, raw = _forward(steps, features[rows])
            ref_inputs = (None if ref_features is None else
                          _forward(steps, ref_features[rows])[0])
            outputs[rows], seed = _seed(model, raw, indices[rows])
            signal = seed if method != "lrp" else seed * to_numpy(raw)
            for i in range(len(steps) - 1, -1, -1):
                signal = _backward_step(method, steps[i], to_numpy(inputs[i]), signal,
                                        None if ref_inputs is None else
                                        to_numpy(ref_inputs[i]), epsilon, rule,
                                        first=i == first_rule)
            grads[rows] = signal
    grads = to_input(grads)
    return outputs, grads * model.scale if model._folds() else grads


def _backward_step(method, step, x, signal, x_ref, epsilon, rule, first):
    """Pass ``signal`` (a gradient, multipliers or relevance) back through one step."""
    if step.kind == "shape":
        return _vjp(step.apply, x, signal)
    if method == "lrp":
        if step.kind == "activation":
            return signal
        layer = step.reweighted(rule)
        with no_grad():
            z = to_numpy(layer(Tensor(x)).data)
        share = signal / (z + epsilon * np.where(z >= 0, 1.0, -1.0))
        backward = _vjp(layer, x, share)
        # the input's relevance is x * backward; the first step leaves the product
        # to the caller, so that the chain rule through Pipeline scalers can come first
        return backward if first else x * backward
    if method == "deeplift" and step.kind == "maxpool":
        return _deeplift_maxpool(step.apply, x, x_ref, signal)
    if step.kind != "activation":
        return _vjp(step.apply, x, signal)
    if method == "guided_backprop":
        if step.name != "relu":
            raise ValueError(f"guided_backprop is defined for ReLU networks; this one has "
                             f"a {step.name!r} activation.")
        return np.maximum(signal, 0.0) * (x > 0)
    # DeepLIFT's rescale rule: the secant between the input and the reference
    with no_grad():
        rise = to_numpy(step.apply(Tensor(x)).data) - to_numpy(step.apply(Tensor(x_ref)).data)
    run = x - x_ref
    tangent = _vjp(step.apply, x, signal)
    flat = np.abs(run) < 1e-10
    return np.where(flat, tangent, signal * rise / np.where(flat, 1.0, run))


def _deeplift_maxpool(pool, x, x_ref, signal):
    """Multipliers through a max pooling: each window's change of output, split
    between the input's and the reference's maxima by the larger of the two
    pooled values, divided by the change of input there."""
    with no_grad():
        y, y_ref = (to_numpy(pool(Tensor(v)).data) for v in (x, x_ref))
    top = np.maximum(y, y_ref)
    spread = _vjp(pool, x, signal * (top - y_ref)) + _vjp(pool, x_ref, signal * (y - top))
    run = x - x_ref
    flat = np.abs(run) < 1e-10
    return np.where(flat, _vjp(pool, x, signal), spread / np.where(flat, 1.0, run))


def guided_backprop(estimator, X, target=None, *, output="logits", batch_size=256):
    model, Z, indices, targets = _prepare(estimator, X, target, output)
    outputs, grads = _propagate("guided_backprop", model, Z, indices,
                                _positive_int(batch_size, "batch_size"))
    return _result(grads, "guided_backprop", model, targets, outputs)


def deeplift(estimator, X, target=None, *, baseline=None, batch_size=256):
    model, Z, indices, targets = _prepare(estimator, X, target, "logits")
    if isinstance(Z, list):
        raise ValueError("deeplift takes equal-length inputs (an array).")
    B = np.ascontiguousarray(_baseline(baseline, Z))
    outputs, multipliers = _propagate("deeplift", model, Z, indices,
                                      _positive_int(batch_size, "batch_size"), reference=B)
    baseline_outputs = model.outputs_and_gradients(B, indices)[0]
    values = (Z - B) * multipliers
    delta = values.reshape(len(values), -1).sum(axis=1) - (outputs - baseline_outputs)
    return _result(values, "deeplift", model, targets, outputs, delta=delta,
                   baseline_outputs=baseline_outputs)


def lrp(estimator, X, target=None, *, rule="epsilon", epsilon=1e-9, batch_size=256):
    if rule not in LRP_RULES:
        raise ValueError(f"rule must be one of {', '.join(map(repr, LRP_RULES))}; got "
                         f"{rule!r}.")
    model, Z, indices, targets = _prepare(estimator, X, target, "logits")
    outputs, backward = _propagate("lrp", model, Z, indices,
                                   _positive_int(batch_size, "batch_size"), rule=rule,
                                   epsilon=epsilon)
    return _result(Z * backward, "lrp", model, targets, outputs)


guided_backprop.__doc__ = """Guided backpropagation (Springenberg et al. 2015).

    The gradient of the explained output with respect to each input value,
    with only the positive part of the gradient passed back through every
    ReLU (captum's GuidedBackprop). For networks that are a sequence of
    layers (the MLP and CNN estimators).
""" + _COMMON + """    output : {"logits", "probabilities"}, default="logits"
        As for ``saliency``.
    batch_size : int, default=256
        Inputs per engine pass.

    Returns
    -------
    Attribution
        ``values`` shaped like X.
"""

deeplift.__doc__ = """DeepLIFT with the rescale rule (Shrikumar et al. 2017).

    Each input's difference from a baseline times the multipliers passed
    back from the network's raw output: through linear layers as gradients,
    through each activation as the secant ``(f(x) - f(x')) / (x - x')``
    between the input's and the baseline's values. For networks that are a
    sequence of layers (the MLP and CNN estimators); max pooling splits each
    window's change between the input's and the baseline's maxima. The
    attributions of a row sum to its output minus the
    baseline's (``delta`` reports the difference, zero up to rounding).
""" + _COMMON + """    baseline : float or array-like, optional
        The reference input (None: 0), as for ``integrated_gradients``.
    batch_size : int, default=256
        Inputs per engine pass.

    Returns
    -------
    Attribution
        ``values`` shaped like X, ``delta`` and ``baseline_outputs``.
"""

lrp.__doc__ = """Layer-wise relevance propagation (Bach et al. 2015).

    The explained raw output is the relevance at the top; every layer with
    weights, batch norm and pooling passes it back in proportion to each
    input's share of its output, ``x_j w_jk / (z_k + epsilon sign(z_k))``
    (captum's EpsilonRule), or by a rule that reweighs the layer's weights
    first; activations pass it through. For networks that
    are a sequence of layers (the MLP and CNN estimators).
""" + _COMMON + """    rule : {"epsilon", "gamma", "alpha1_beta0"}, default="epsilon"
        The rule of the Linear and convolution layers, as captum names them:
        the epsilon rule with the layer's weights; with ``w + 0.25 w+``
        (gamma: more weight to positive contributions); or with ``w+`` only
        (alpha = 1, beta = 0: only positive relevance, the deep Taylor
        rule for ReLU networks). Batch norm and pooling keep the epsilon
        rule.
    epsilon : float, default=1e-9
        Stabilises the division by each output (captum's default).
    batch_size : int, default=256
        Inputs per engine pass.

    Returns
    -------
    Attribution
        ``values`` shaped like X: the relevance of each input value.
"""
