"""Activations forward and backward on an array namespace (numpy or cupy)."""

import math

from sklears_neural._specs import (
    SELU_ALPHA,
    SELU_SCALE,
    SOFTPLUS_THRESHOLD,
    backward_operand,
    backward_uses_output,
    check_activation,
    default_param,
)
from sklears_neural._specs._arrays import check_last_axis, check_same_shape
from sklears_neural._xp._arrays import float_arrays
from sklears_neural.backend import get_array_module

__all__ = [
    "activation_forward",
    "activation_backward",
    "softmax",
    "log_softmax",
    "softmax_backward",
    "log_softmax_backward",
    "prelu_forward",
    "prelu_backward",
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


def activation_forward(x, activation, activation_param=None):
    """Return ``activation(x)`` elementwise.

    Parameters
    ----------
    x : array
        Any shape, float32 or float64.
    activation : str
        A name from ``sklears_neural._specs.ACTIVATIONS``.
    activation_param : float, optional
        negative_slope for leaky_relu, alpha for elu and celu, beta for
        softplus.
    """
    name = check_activation(activation)
    a = default_param(name, activation_param)
    _, (x,) = float_arrays("activation_forward", ("x", x))
    xp = get_array_module(x)
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
    if name == "celu":
        return xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0) / a))
    if name == "hardswish":
        return x * xp.clip(x + 3, 0, 6) / 6
    if name == "hardsigmoid":
        return xp.clip(x + 3, 0, 6) / 6
    if name == "softsign":
        return x / (1 + xp.abs(x))
    if name == "tanhshrink":
        return x - xp.tanh(x)
    if name == "logsigmoid":
        # min(x, 0) - log(1 + exp(-|x|)): exp of a non-positive number only
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
    return _sigmoid(xp, x)  # sigmoid


def activation_backward(gy, x, y, activation, activation_param=None):
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
    activation_param : float, optional
    """
    kernel = "activation_backward"
    name = check_activation(activation)
    a = default_param(name, activation_param)
    if name == "identity":
        _, (gy,) = float_arrays(kernel, ("gy", gy))
        return gy.copy()
    v_name, v = backward_operand(kernel, name, x, y)
    _, (gy, v) = float_arrays(kernel, ("gy", gy), (v_name, v))
    check_same_shape(kernel, "gy", gy, v_name, v)
    xp = get_array_module(gy)
    x = y = v  # the one of them the backward reads
    if backward_uses_output(name):
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
    if name == "celu":
        return xp.where(x > 0, gy, gy * xp.exp(xp.minimum(x, 0) / a))
    if name == "hardswish":
        # PyTorch's (2.x) convention at the kinks: 0 for x <= -3,
        # x / 3 + 1/2 on the open interval (-3, 3), 1 for x >= 3 (and NaN).
        inner = xp.where(x < 3, gy * (x / 3 + 0.5), gy)
        return xp.where(x <= -3, 0, inner).astype(gy.dtype, copy=False)
    if name == "hardsigmoid":
        # 1/6 on the open interval (-3, 3), 0 elsewhere (PyTorch)
        inside = (x > -3) & (x < 3)
        return xp.where(inside, gy / 6, 0).astype(gy.dtype, copy=False)
    if name == "softsign":
        t = 1 / (1 + xp.abs(x))
        return gy * t * t
    if name == "tanhshrink":
        t = xp.tanh(x)
        return gy * (t * t)
    if name == "logsigmoid":
        return gy * _sigmoid(xp, -x)
    # softplus
    bx = a * x
    return xp.where(bx > SOFTPLUS_THRESHOLD, gy, gy * _sigmoid(xp, bx))


def softmax(x):
    """Softmax over the last axis (any leading axes)."""
    _, (x,) = float_arrays("softmax", ("x", x))
    check_last_axis("softmax", "x", x)
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """Log-softmax over the last axis (any leading axes)."""
    _, (x,) = float_arrays("log_softmax", ("x", x))
    check_last_axis("log_softmax", "x", x)
    xp = get_array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax_backward_args(kernel, gy, y):
    _, (gy, y) = float_arrays(kernel, ("gy", gy), ("y", y))
    check_same_shape(kernel, "gy", gy, "y", y)
    check_last_axis(kernel, "gy", gy)
    return gy, y


def softmax_backward(gy, y):
    """Gradient of softmax given its output ``y``."""
    gy, y = _softmax_backward_args("softmax_backward", gy, y)
    return y * (gy - (gy * y).sum(axis=-1, keepdims=True))


def log_softmax_backward(gy, y):
    """Gradient of log-softmax given its output ``y`` (log-probabilities)."""
    gy, y = _softmax_backward_args("log_softmax_backward", gy, y)
    xp = get_array_module(gy)
    return gy - xp.exp(y) * gy.sum(axis=-1, keepdims=True)


def _prelu_weight(x, weight, kernel):
    """``weight`` shaped to broadcast against ``x``: one slope, or one per
    channel on axis 1."""
    if weight.ndim > 1:
        raise ValueError(f"{kernel}: weight must be 0-D or 1-D; got shape {weight.shape}.")
    if weight.size == 1:
        return weight.reshape(())
    if x.ndim < 2 or x.shape[1] != weight.size:
        raise ValueError(
            f"{kernel}: weight has {weight.size} elements but x has shape {x.shape}; "
            "weight needs 1 element (shared) or one per channel (x.shape[1])."
        )
    return weight.reshape((-1,) + (1,) * (x.ndim - 2))


def prelu_forward(x, weight):
    """Return ``x if x > 0 else weight * x`` (PReLU).

    Parameters
    ----------
    x : array
        Any shape, float32 or float64.
    weight : array
        The negative slope(s): 1 element, shared, or ``x.shape[1]`` elements,
        one per channel (axis 1).
    """
    _, (x, weight) = float_arrays("prelu_forward", ("x", x), ("weight", weight))
    w = _prelu_weight(x, weight, "prelu_forward")
    return _where_as(x, x > 0, x, w * x)


def prelu_backward(gy, x, weight, need_x=True, need_weight=True):
    """Gradients of PReLU: ``(gx, gweight)``, None for one not asked for.

    ``gx = gy if x > 0 else weight * gy``; ``gweight`` sums ``x * gy`` over
    the elements with ``x <= 0`` that share a slope (shape of ``weight``).
    """
    kernel = "prelu_backward"
    _, (gy, x, weight) = float_arrays(kernel, ("gy", gy), ("x", x), ("weight", weight))
    check_same_shape(kernel, "gy", gy, "x", x)
    xp = get_array_module(gy)
    w = _prelu_weight(x, weight, kernel)
    gx = gw = None
    if need_x:
        gx = _where_as(gy, x > 0, gy, w * gy)
    if need_weight:
        contrib = xp.where(x > 0, 0, x * gy)
        if weight.size == 1:
            total = contrib.sum()
        else:
            axes = (0,) + tuple(range(2, x.ndim))
            total = contrib.sum(axis=axes)
        gw = xp.asarray(total, dtype=gy.dtype).reshape(weight.shape)
    return gx, gw


def _where_as(like, cond, a, b):
    """``where(cond, a, b)`` in the dtype of ``like``."""
    xp = get_array_module(like)
    return xp.where(cond, a, b).astype(like.dtype, copy=False)
