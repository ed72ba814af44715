"""Losses with their gradients, computed together, on an array namespace.

Every loss returns ``(losses, grad)``, both already multiplied by
``scale * weight[i]`` for row ``i``: ``losses.sum()`` is then the reduced
loss (``scale = 1/n`` for a mean) and ``grad`` is its gradient with respect
to the input. ``weight`` holds one non-negative weight per row (sample
weights), or is None for all ones.
"""

import math

from sklears_neural.backend import get_array_module
from sklears_neural._xp._activation import _sigmoid, log_softmax

__all__ = [
    "softmax_cross_entropy",
    "bce_with_logits",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "poisson_nll_loss",
]


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
    xp = get_array_module(logits)
    n, n_classes = logits.shape
    logp = log_softmax(logits)
    if target.ndim == 1:
        if target.dtype.kind not in "iu":
            raise ValueError(
                "softmax_cross_entropy: a 1-D target holds class indices and must be "
                f"an integer array; got dtype {target.dtype}."
            )
        # Negative indices would silently wrap around: reject them (one sync).
        if bool(((target < 0) | (target >= n_classes)).any()):
            raise ValueError(
                f"softmax_cross_entropy: target holds class indices outside "
                f"[0, {n_classes - 1}] (logits have shape {logits.shape})."
            )
        q = xp.zeros_like(logits)
        q[xp.arange(n), target] = 1
    else:
        q = target.astype(logits.dtype, copy=True)
    if label_smoothing:
        q *= 1 - label_smoothing
        q += label_smoothing / n_classes
    losses = -(q * logp).sum(axis=1)
    if target.ndim == 1:
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
    xp = get_array_module(x)
    t = target
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
    xp = get_array_module(x)
    d = x - target
    row = _row_scale(xp, x, weight, scale)
    return d * d * row, 2 * d * row


def l1_loss(x, target, weight=None, scale=1.0):
    """Absolute error ``|x - t|`` elementwise (gradient 0 where x == t)."""
    xp = get_array_module(x)
    d = x - target
    row = _row_scale(xp, x, weight, scale)
    return xp.abs(d) * row, xp.sign(d) * row


def huber_loss(x, target, weight=None, scale=1.0, delta=1.0):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond."""
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
    xp = get_array_module(x)
    t = target
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
