"""Losses with their gradients, computed together, on an array namespace.

Every loss returns ``(losses, grad)``, both already multiplied by
``scale * weight[i]`` for row ``i``: ``losses.sum()`` is then the reduced
loss (``scale = 1/n`` for a mean) and ``grad`` is its gradient with respect
to the input. ``weight`` holds one non-negative weight per row (sample
weights), or is None for all ones.
"""

import math

from sklears_neural._specs._loss import (
    check_cross_entropy,
    check_elementwise_loss,
    class_index_error,
)
from sklears_neural._xp._activation import _sigmoid, log_softmax
from sklears_neural._xp._arrays import float_arrays
from sklears_neural.backend import get_array_module

__all__ = [
    "softmax_cross_entropy",
    "bce_with_logits",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "poisson_nll_loss",
]


def _elementwise_arguments(kernel, x, target, weight, pos_weight=None):
    """The arrays of an elementwise loss in their one float dtype, checked."""
    _, arrays = float_arrays(kernel, ("x", x), ("target", target), ("weight", weight),
                             ("pos_weight", pos_weight))
    check_elementwise_loss(kernel, *arrays)
    return arrays


def _row_scale(xp, x, weight, scale):
    """Per-row factor of shape (n, 1), or a Python float when unweighted."""
    if weight is None:
        return float(scale)
    return (scale * weight).astype(x.dtype, copy=False).reshape(-1, *([1] * (x.ndim - 1)))


def softmax_cross_entropy(logits, target, weight=None, label_smoothing=0.0, scale=1.0):
    """Softmax followed by cross-entropy, in one pass over each row.

    Parameters
    ----------
    logits : array of shape (n, n_classes)
    target : int array of shape (n,) (class indices) or float array of
        shape (n, n_classes) (class probabilities)
    weight : array of shape (n,) or None
    label_smoothing : float in [0, 1]
        The target becomes ``(1 - label_smoothing) * target + label_smoothing / n_classes``.
    scale : float

    Returns
    -------
    losses : array of shape (n,)
    grad : array of shape (n, n_classes)
    """
    kernel = "softmax_cross_entropy"
    xp = get_array_module(logits, target, weight)
    t = xp.asarray(target)
    indices = check_cross_entropy(kernel, xp.asarray(logits), t,
                                  None if weight is None else xp.asarray(weight))
    # class indices are no float argument: only probabilities share the dtype
    _, (logits, q, weight) = float_arrays(
        kernel, ("logits", logits), ("target", None if indices else target), ("weight", weight))
    n, n_classes = logits.shape
    logp = log_softmax(logits)
    if indices:
        # Negative indices would silently wrap around: reject them (one sync).
        outside = (t < 0) | (t >= n_classes)
        if bool(outside.any()):
            i = int(outside.argmax())
            raise class_index_error(kernel, i, int(t[i]), logits.shape)
        q = xp.zeros_like(logits)
        q[xp.arange(n), t] = 1
    else:
        q = q.copy()
    if label_smoothing:
        q *= 1 - label_smoothing
        q += label_smoothing / n_classes
    losses = -(q * logp).sum(axis=1)
    if indices:
        grad = xp.exp(logp) - q  # q sums to 1
    else:
        # d/dx of -sum(q * log_softmax(x)) is softmax(x) * sum(q) - q; the
        # sum is 1 only for normalised targets.
        grad = xp.exp(logp) * q.sum(axis=1, keepdims=True) - q
    row = _row_scale(xp, logits, weight, scale)
    return losses * (row if weight is None else row[:, 0]), grad * row


def bce_with_logits(x, target, weight=None, pos_weight=None, scale=1.0):
    """Binary cross-entropy on logits, elementwise over (n, d).

    ``pos_weight`` (shape (d,)) multiplies the positive term, as in PyTorch.
    """
    x, t, weight, pos_weight = _elementwise_arguments("bce_with_logits", x, target, weight,
                                                      pos_weight)
    xp = get_array_module(x)
    softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # log(1 + e^-x)
    if pos_weight is None:
        losses = (1 - t) * x + softplus_neg
        grad = _sigmoid(xp, x) - t
    else:
        losses = (1 - t) * x + (1 + (pos_weight - 1) * t) * softplus_neg
        grad = _sigmoid(xp, x) * (pos_weight * t + 1 - t) - pos_weight * t
    row = _row_scale(xp, x, weight, scale)
    return losses * row, grad * row


def mse_loss(x, target, weight=None, scale=1.0):
    """Squared error ``(x - t)**2`` elementwise."""
    x, target, weight, _ = _elementwise_arguments("mse_loss", x, target, weight)
    xp = get_array_module(x)
    d = x - target
    row = _row_scale(xp, x, weight, scale)
    return d * d * row, 2 * d * row


def l1_loss(x, target, weight=None, scale=1.0):
    """Absolute error ``|x - t|`` elementwise (gradient 0 where x == t)."""
    x, target, weight, _ = _elementwise_arguments("l1_loss", x, target, weight)
    xp = get_array_module(x)
    d = x - target
    row = _row_scale(xp, x, weight, scale)
    return xp.abs(d) * row, xp.sign(d) * row


def huber_loss(x, target, weight=None, scale=1.0, delta=1.0):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond."""
    x, target, weight, _ = _elementwise_arguments("huber_loss", x, target, weight)
    xp = get_array_module(x)
    d = x - target
    ad = xp.abs(d)
    losses = xp.where(ad <= delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    grad = xp.clip(d, -delta, delta)
    row = _row_scale(xp, x, weight, scale)
    return losses * row, grad * row


def poisson_nll_loss(x, target, weight=None, scale=1.0, log_input=True, full=False, eps=1e-8):
    """Poisson negative log-likelihood, as ``torch.nn.PoissonNLLLoss``.

    With ``log_input`` the input is the log-rate: ``exp(x) - t * x``;
    otherwise it is the rate: ``x - t * log(x + eps)``. ``full`` adds
    Stirling's approximation of ``log(t!)`` where ``t > 1``.
    """
    x, t, weight, _ = _elementwise_arguments("poisson_nll_loss", x, target, weight)
    xp = get_array_module(x)
    if log_input:
        ex = xp.exp(x)
        losses = ex - t * x
        grad = ex - t
    else:
        losses = x - t * xp.log(x + eps)
        grad = 1 - t / (x + eps)
    if full:
        safe_t = xp.where(t > 1, t, 1)
        stirling = safe_t * xp.log(safe_t) - safe_t + 0.5 * xp.log(2 * math.pi * safe_t)
        losses = losses + xp.where(t > 1, stirling, 0)
    row = _row_scale(xp, x, weight, scale)
    return losses * row, grad * row
