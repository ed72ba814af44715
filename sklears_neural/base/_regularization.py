"""Weight penalties added to the loss: L2 (``alpha``), L1 (``l1``), or both."""

import functools

import numpy as np
import scipy.linalg.blas

from sklears_neural.backend import get_array_module

__all__ = ["weight_penalty"]


@functools.lru_cache(maxsize=None)
def _axpy(dtype):
    # Looking the routine up costs more than applying it to a small matrix.
    return scipy.linalg.blas.get_blas_funcs("axpy", dtype=dtype)


def _add_scaled(y, a, x):
    """``y += a * x`` in place: BLAS axpy for numpy arrays, array code otherwise."""
    if type(y) is np.ndarray and y.flags.c_contiguous and x.flags.c_contiguous:
        _axpy(y.dtype)(x.reshape(-1), y.reshape(-1), a=a)
    else:
        y += a * x


def weight_penalty(weights, alpha, l1, sample_weight_sum, l2_gradient=True):
    """Add the penalty's gradient to each weight's ``.grad``; return its value.

    The value is a 0-d array on the weights' device (or the float 0.0 when
    both penalties are off), so that no step waits for a GPU to read it.

    The penalty is ``(alpha / 2 * ||W||_2^2 + l1 * ||W||_1) / sum(sample_weight)``
    summed over ``weights``, scikit-learn's scaling of ``alpha`` (both set:
    the elastic net). The L1 subgradient at 0 is 0.

    Parameters
    ----------
    weights : list of Parameter
    alpha, l1 : float >= 0
    sample_weight_sum : float
        The batch size, or the sum of the batch's sample weights.
    l2_gradient : bool, default=True
        Add the L2 term's gradient; False when the optimizer adds it in its
        step (see ``_l2_fold``).
    """
    if not (alpha or l1):
        return 0.0
    total = 0.0
    for W in weights:
        data = W.data
        if alpha:
            flat = data.reshape(-1)
            total = total + (0.5 * alpha) * (flat @ flat)
            if l2_gradient and W.grad is not None:
                _add_scaled(W.grad, alpha / sample_weight_sum, data)
        if l1:
            total = total + l1 * abs(data).sum()
            if W.grad is not None:
                _add_scaled(W.grad, l1 / sample_weight_sum, get_array_module(data).sign(data))
    return total / sample_weight_sum
