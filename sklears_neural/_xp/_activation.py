"""Activations forward and backward on an array namespace (numpy or cupy)."""

import math

from sklears_neural._specs import (
    SELU_ALPHA,
    SELU_SCALE,
    SOFTPLUS_THRESHOLD,
    backward_uses_output,
    check_activation,
    default_param,
)
from sklears_neural.backend import get_array_module

__all__ = [
    "activation_forward",
    "activation_backward",
    "softmax",
    "log_softmax",
    "softmax_backward",
    "log_softmax_backward",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _erf(xp, x):
    if xp.__name__ == "numpy":
        from scipy.special import erf

        return erf(x).astype(x.dtype, copy=False)
    import cupyx.scipy.special

    return cupyx.scipy.special.erf(x)


def _sigmoid(xp, x):
    # exp of a non-positive number only: no overflow warnings.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _softplus(xp, x, beta):
    bx = beta * x
    soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
    return xp.where(bx > SOFTPLUS_THRESHOLD, x, soft).astype(x.dtype, copy=False)


def activation_forward(x, activation, param=None):
    """Return ``activation(x)`` elementwise.

    Parameters
    ----------
    x : array
        Any shape, float32 or float64.
    activation : str
        A name from ``sklears_neural._specs.ACTIVATIONS``.
    param : float, optional
        negative_slope for leaky_relu, alpha for elu, beta for softplus.
    """
    xp = get_array_module(x)
    name = check_activation(activation)
    a = default_param(name, param)
    if name == "identity":
        return x.copy()
    if name == "relu":
        return xp.maximum(x, 0)
    if name == "leaky_relu":
        return xp.where(x > 0, x, a * x)
    if name == "elu":
        return xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0)))
    if name == "selu":
        return SELU_SCALE * xp.where(x > 0, x, SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))
    if name == "gelu":
        return 0.5 * x * (1 + _erf(xp, x * _INV_SQRT_2))
    if name == "gelu_tanh":
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    if name == "silu":
        return x * _sigmoid(xp, x)
    if name == "mish":
        return x * xp.tanh(_softplus(xp, x, 1.0))
    if name == "softplus":
        return _softplus(xp, x, a)
    if name == "tanh":
        return xp.tanh(x)
    return _sigmoid(xp, x)  # sigmoid


def activation_backward(gy, x, y, activation, param=None):
    """Return ``gy * activation'(x)``.

    Parameters
    ----------
    gy : array
        Gradient with respect to the activation's output.
    x : array or None
        The activation's input; may be None when
        ``backward_uses_output(activation)`` is true.
    y : array or None
        The activation's output; may be None when the backward uses the input.
    activation : str
    param : float, optional
    """
    xp = get_array_module(gy)
    name = check_activation(activation)
    a = default_param(name, param)
    if backward_uses_output(name):
        if name == "identity":
            return gy.copy()
        if name == "relu":
            return xp.where(y > 0, gy, 0).astype(gy.dtype, copy=False)
        if name == "tanh":
            return gy * (1 - y * y)
        return gy * y * (1 - y)  # sigmoid
    if name == "leaky_relu":
        return xp.where(x > 0, gy, a * gy)
    if name == "elu":
        return xp.where(x > 0, gy, gy * a * xp.exp(xp.minimum(x, 0)))
    if name == "selu":
        neg = SELU_SCALE * SELU_ALPHA * xp.exp(xp.minimum(x, 0))
        return xp.where(x > 0, SELU_SCALE * gy, gy * neg)
    if name == "gelu":
        cdf = 0.5 * (1 + _erf(xp, x * _INV_SQRT_2))
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
        return gy * (cdf + x * pdf)
    if name == "gelu_tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = xp.tanh(inner)
        dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)
    if name == "silu":
        s = _sigmoid(xp, x)
        return gy * s * (1 + x * (1 - s))
    if name == "mish":
        sp = _softplus(xp, x, 1.0)
        t = xp.tanh(sp)
        return gy * (t + x * (1 - t * t) * _sigmoid(xp, x))
    # softplus
    bx = a * x
    return xp.where(bx > SOFTPLUS_THRESHOLD, gy, gy * _sigmoid(xp, bx))


def softmax(x):
    """Softmax over the last axis of a 2-D array."""
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """Log-softmax over the last axis of a 2-D array."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_backward(gy, y):
    """Gradient of softmax given its output ``y``."""
    return y * (gy - (gy * y).sum(axis=-1, keepdims=True))


def log_softmax_backward(gy, y):
    """Gradient of log-softmax given its output ``y`` (log-probabilities)."""
    xp = get_array_module(gy)
    return gy - xp.exp(y) * gy.sum(axis=-1, keepdims=True)
