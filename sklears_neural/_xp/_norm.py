"""Batch normalisation over (N, C, *spatial) on an array namespace.

The readable reference of ``sklears_neural._kernels._norm`` (numpy) and the
GPU path (CuPy); the argument checks both share are in
``sklears_neural._specs._pool``.
"""

import numpy as np

from sklears_neural._specs._pool import batch_norm_channels
from sklears_neural._xp._arrays import float_arrays
from sklears_neural.backend import get_array_module

__all__ = ["batch_norm_backward", "batch_norm_forward", "batch_norm_inference"]


# ---------------------------------------------------------------------------
# Batch normalisation (training statistics over all axes but 1)
# ---------------------------------------------------------------------------

def _channel_view(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm_forward(x, gamma, beta, eps):
    """Training-mode batch norm: per-channel statistics over all axes but 1.

    Parameters
    ----------
    x : array of shape (N, C) or (N, C, *spatial)
    gamma, beta : arrays of shape (C,) or None
    eps : float

    Returns
    -------
    y : array of x's shape and dtype
        ``(x - mean) * invstd * gamma + beta``.
    mean, invstd : arrays of shape (C,), x's dtype
        The batch mean and ``1 / sqrt(biased variance + eps)``, computed in
        float64 (two passes).
    """
    kernel = "batch_norm_forward"
    _, (x, gamma, beta) = float_arrays(kernel, ("x", x), ("gamma", gamma), ("beta", beta))
    xp = get_array_module(x)
    _, count = batch_norm_channels(kernel, x, gamma, beta)
    if count <= 1:
        raise ValueError(f"{kernel}: training needs more than one value per channel; "
                         f"got x of shape {tuple(x.shape)}.")
    axes = (0,) + tuple(range(2, x.ndim))
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes)
    centered = x64 - _channel_view(mean, x.ndim)
    invstd = 1.0 / xp.sqrt((centered * centered).mean(axis=axes) + eps)
    scale = invstd if gamma is None else invstd * gamma
    y = centered * _channel_view(scale, x.ndim)
    if beta is not None:
        y += _channel_view(beta.astype(np.float64), x.ndim)
    return y.astype(x.dtype), mean.astype(x.dtype), invstd.astype(x.dtype)


def batch_norm_backward(grad_y, x, gamma, mean, invstd, need_input=True, need_gamma=True,
                        need_beta=True):
    """Gradients of ``batch_norm_forward`` (the usual fused formula).

    Parameters
    ----------
    grad_y, x : arrays of the same shape (N, C, ...)
    gamma : array of shape (C,) or None
    mean, invstd : arrays of shape (C,) from the forward
    need_input, need_gamma, need_beta : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    grad_x, grad_gamma, grad_beta : arrays or None
        ``grad_x = gamma * invstd * (gy - mean(gy) - xhat * mean(gy * xhat))``;
        ``grad_gamma = sum(gy * xhat)``; ``grad_beta = sum(gy)``.
    """
    kernel = "batch_norm_backward"
    _, (grad_y, x, gamma) = float_arrays(kernel, ("grad_y", grad_y), ("x", x),
                                         ("gamma", gamma))
    xp = get_array_module(x)
    mean, invstd = xp.asarray(mean), xp.asarray(invstd)
    batch_norm_channels(kernel, x, gamma, None, ("mean", mean), ("invstd", invstd))
    if tuple(grad_y.shape) != tuple(x.shape):
        raise ValueError(f"{kernel}: grad_y has shape {tuple(grad_y.shape)} but x has "
                         f"shape {tuple(x.shape)}; they must be equal.")
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.size // x.shape[1] if x.shape[1] else 1
    inv = _channel_view(invstd.astype(np.float64), x.ndim)
    xhat = (x.astype(np.float64) - _channel_view(mean.astype(np.float64), x.ndim)) * inv
    gy = grad_y.astype(np.float64)
    sum_gy = gy.sum(axis=axes)
    sum_gy_xhat = (gy * xhat).sum(axis=axes)
    grad_x = None
    if need_input:
        scale = inv if gamma is None else inv * _channel_view(gamma.astype(np.float64), x.ndim)
        grad_x = (gy - _channel_view(sum_gy / count, x.ndim)
                  - xhat * _channel_view(sum_gy_xhat / count, x.ndim)) * scale
        grad_x = grad_x.astype(x.dtype)
    grad_gamma = sum_gy_xhat.astype(x.dtype) if need_gamma else None
    grad_beta = sum_gy.astype(x.dtype) if need_beta else None
    return grad_x, grad_gamma, grad_beta


def batch_norm_inference(x, gamma, beta, running_mean, running_var, eps):
    """Eval-mode batch norm with running statistics.

    Parameters
    ----------
    x : array of shape (N, C) or (N, C, *spatial)
    gamma, beta : arrays of shape (C,) or None
    running_mean, running_var : arrays of shape (C,)
    eps : float

    Returns
    -------
    y : array of x's shape and dtype
        ``(x - running_mean) / sqrt(running_var + eps) * gamma + beta``.
    """
    kernel = "batch_norm_inference"
    _, (x, gamma, beta) = float_arrays(kernel, ("x", x), ("gamma", gamma), ("beta", beta))
    xp = get_array_module(x)
    running_mean, running_var = xp.asarray(running_mean), xp.asarray(running_var)
    batch_norm_channels(kernel, x, gamma, beta, ("running_mean", running_mean),
                        ("running_var", running_var))
    scale = 1.0 / xp.sqrt(running_var.astype(np.float64) + eps)
    if gamma is not None:
        scale = scale * gamma
    y = (x - _channel_view(running_mean.astype(np.float64), x.ndim)) \
        * _channel_view(scale, x.ndim)
    if beta is not None:
        y += _channel_view(beta.astype(np.float64), x.ndim)
    return y.astype(x.dtype)
