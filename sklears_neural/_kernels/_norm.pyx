"""Batch normalisation over (N, C, *spatial) (CPU kernels).

Same names, signatures and results as ``sklears_neural._xp._norm``; the
argument checks both share are in ``sklears_neural._specs._pool``. Every
function takes an extra keyword-only ``n_threads`` (None: as
``_openmp_helpers.resolve_n_threads`` says: the OpenMP pool's threads from
``PARALLEL_MIN_SIZE`` elements on while that pool owns the cores, e.g. for
float32 on AVX-512 CPUs, else one).

Batch norm sees ``(N, C, M)`` (M = product of the spatial axes, 1 for 2-D
input) and makes two passes each way: statistics (or gradient sums), then the
output. Sums are accumulated in double; the forward statistics are shifted
by the channel's first value, so a large mean does not cancel away the
variance.
"""

import numpy as np

cimport cython
from cython.parallel cimport prange

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._kernels._pool import PARALLEL_MIN_SIZE
from sklears_neural._kernels._blas import products_on_own_gemm
from sklears_neural._specs._arrays import FLOAT32, as_array, float_dtype
from sklears_neural._specs._pool import batch_norm_channels

__all__ = ["batch_norm_backward", "batch_norm_forward", "batch_norm_inference"]

# Below PARALLEL_MIN_SIZE input elements a kernel runs serially (the pooling
# kernels' measured threshold: thread wake-up costs more than the loop).


# --- batch norm on (N, C, M) -------------------------------------------------

cdef void _bn_stats_channel(const floating[:, :, ::1] x, Py_ssize_t c, double* mean,
                            double* var) noexcept nogil:
    """Mean and biased variance of channel c, shifted by its first value."""
    cdef Py_ssize_t n, i, m = x.shape[2]
    cdef double shift = x[0, c, 0], s1 = 0.0, s2 = 0.0, cnt = x.shape[0] * m
    cdef double a0, a1, b0, b1, v0, v1
    cdef const floating* row
    for n in range(x.shape[0]):
        row = &x[n, c, 0]
        a0 = a1 = b0 = b1 = 0.0
        i = 0
        while i + 2 <= m:
            v0 = row[i] - shift
            v1 = row[i + 1] - shift
            a0 += v0
            a1 += v1
            b0 += v0 * v0
            b1 += v1 * v1
            i += 2
        if i < m:
            v0 = row[i] - shift
            a0 += v0
            b0 += v0 * v0
        s1 += a0 + a1
        s2 += b0 + b1
    mean[0] = shift + s1 / cnt
    var[0] = (s2 - s1 * (s1 / cnt)) / cnt
    if var[0] < 0.0:
        var[0] = 0.0


cdef int _bn_stats(const floating[:, :, ::1] x, double[::1] mean, double[::1] var,
                   int nt) except -1:
    cdef Py_ssize_t c, nc = x.shape[1]
    if x.shape[2] == 1:
        return _bn_stats_rows(x, mean, var)
    with nogil:
        if nt == 1:
            for c in range(nc):
                _bn_stats_channel(x, c, &mean[c], &var[c])
        else:
            for c in prange(nc, num_threads=nt, schedule="static"):
                _bn_stats_channel(x, c, &mean[c], &var[c])
    return 0


cdef int _bn_stats_rows(const floating[:, :, ::1] x, double[::1] mean,
                        double[::1] var) except -1:
    """Statistics of an (N, C) input: rows outer, channels inner."""
    cdef Py_ssize_t n, c, nc = x.shape[1], nn = x.shape[0]
    cdef double[::1] s1 = np.zeros(nc)
    cdef double[::1] s2 = np.zeros(nc)
    cdef double[::1] shift = np.empty(nc)
    cdef double v
    cdef const floating* row
    with nogil:
        for c in range(nc):
            shift[c] = x[0, c, 0]
        for n in range(nn):
            row = &x[n, 0, 0]
            for c in range(nc):
                v = row[c] - shift[c]
                s1[c] += v
                s2[c] += v * v
        for c in range(nc):
            mean[c] = shift[c] + s1[c] / nn
            var[c] = (s2[c] - s1[c] * (s1[c] / nn)) / nn
            if var[c] < 0.0:
                var[c] = 0.0
    return 0


cdef void _bn_affine_channel(const floating[:, :, ::1] x, floating[:, :, ::1] y,
                             Py_ssize_t c, double mean, double scale,
                             double shift) noexcept nogil:
    """y = (x - mean) * scale + shift over channel c, in double."""
    cdef Py_ssize_t n, i, m = x.shape[2]
    cdef const floating* src
    cdef floating* dst
    for n in range(x.shape[0]):
        src = &x[n, c, 0]
        dst = &y[n, c, 0]
        for i in range(m):
            dst[i] = <floating> ((src[i] - mean) * scale + shift)


cdef int _bn_affine(const floating[:, :, ::1] x, floating[:, :, ::1] y,
                    const double[::1] mean, const double[::1] scale,
                    const double[::1] shift, int nt) except -1:
    cdef Py_ssize_t n, c, nc = x.shape[1]
    cdef const floating* src
    cdef floating* dst
    with nogil:
        if x.shape[2] == 1:
            for n in range(x.shape[0]):
                src = &x[n, 0, 0]
                dst = &y[n, 0, 0]
                for c in range(nc):
                    dst[c] = <floating> ((src[c] - mean[c]) * scale[c] + shift[c])
        elif nt == 1:
            for c in range(nc):
                _bn_affine_channel(x, y, c, mean[c], scale[c], shift[c])
        else:
            for c in prange(nc, num_threads=nt, schedule="static"):
                _bn_affine_channel(x, y, c, mean[c], scale[c], shift[c])
    return 0


cdef void _bn_grad_sums_channel(const floating[:, :, ::1] gy, const floating[:, :, ::1] x,
                                Py_ssize_t c, double mean, double* sum_gy,
                                double* sum_gy_xc) noexcept nogil:
    """sum(gy) and sum(gy * (x - mean)) over channel c."""
    cdef Py_ssize_t n, i, m = x.shape[2]
    cdef double a0, a1, b0, b1, s1 = 0.0, s2 = 0.0
    cdef const floating* g
    cdef const floating* v
    for n in range(x.shape[0]):
        g = &gy[n, c, 0]
        v = &x[n, c, 0]
        a0 = a1 = b0 = b1 = 0.0
        i = 0
        while i + 2 <= m:
            a0 += g[i]
            a1 += g[i + 1]
            b0 += g[i] * (v[i] - mean)
            b1 += g[i + 1] * (v[i + 1] - mean)
            i += 2
        if i < m:
            a0 += g[i]
            b0 += g[i] * (v[i] - mean)
        s1 += a0 + a1
        s2 += b0 + b1
    sum_gy[0] = s1
    sum_gy_xc[0] = s2


cdef int _bn_grad_sums(const floating[:, :, ::1] gy, const floating[:, :, ::1] x,
                       const double[::1] mean, double[::1] sum_gy, double[::1] sum_gy_xc,
                       int nt) except -1:
    cdef Py_ssize_t n, c, nc = x.shape[1]
    cdef const floating* g
    cdef const floating* src
    with nogil:
        if x.shape[2] == 1:
            for n in range(x.shape[0]):
                g = &gy[n, 0, 0]
                src = &x[n, 0, 0]
                for c in range(nc):
                    sum_gy[c] += g[c]
                    sum_gy_xc[c] += g[c] * (src[c] - mean[c])
        elif nt == 1:
            for c in range(nc):
                _bn_grad_sums_channel(gy, x, c, mean[c], &sum_gy[c], &sum_gy_xc[c])
        else:
            for c in prange(nc, num_threads=nt, schedule="static"):
                _bn_grad_sums_channel(gy, x, c, mean[c], &sum_gy[c], &sum_gy_xc[c])
    return 0


cdef void _bn_grad_input_channel(const floating[:, :, ::1] gy, const floating[:, :, ::1] x,
                                 floating[:, :, ::1] gx, Py_ssize_t c, double mean,
                                 double a, double b, double k) noexcept nogil:
    """gx = a * gy + b * (x - mean) + k over channel c."""
    cdef Py_ssize_t n, i, m = x.shape[2]
    cdef const floating* g
    cdef const floating* v
    cdef floating* dst
    for n in range(x.shape[0]):
        g = &gy[n, c, 0]
        v = &x[n, c, 0]
        dst = &gx[n, c, 0]
        for i in range(m):
            dst[i] = <floating> (a * g[i] + b * (v[i] - mean) + k)


cdef int _bn_grad_input(const floating[:, :, ::1] gy, const floating[:, :, ::1] x,
                        floating[:, :, ::1] gx, const double[::1] mean, const double[::1] a,
                        const double[::1] b, const double[::1] k, int nt) except -1:
    cdef Py_ssize_t n, c, nc = x.shape[1]
    cdef const floating* g
    cdef const floating* src
    cdef floating* dst
    with nogil:
        if x.shape[2] == 1:
            for n in range(x.shape[0]):
                g = &gy[n, 0, 0]
                src = &x[n, 0, 0]
                dst = &gx[n, 0, 0]
                for c in range(nc):
                    dst[c] = <floating> (a[c] * g[c] + b[c] * (src[c] - mean[c]) + k[c])
        elif nt == 1:
            for c in range(nc):
                _bn_grad_input_channel(gy, x, gx, c, mean[c], a[c], b[c], k[c])
        else:
            for c in prange(nc, num_threads=nt, schedule="static"):
                _bn_grad_input_channel(gy, x, gx, c, mean[c], a[c], b[c], k[c])
    return 0


# ---------------------------------------------------------------------------
# Python side
# ---------------------------------------------------------------------------

def _prod(shape):
    n = 1
    for v in shape:
        n *= v
    return n


def _channels_3d(a, dtype):
    """``a`` (N, C, *S) as a C-contiguous (N, C, prod(S)) array."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a.reshape(a.shape[0], a.shape[1], _prod(a.shape[2:]))


def _per_channel(a, c, fill):
    """A (C,) float64 array: ``a`` converted, or ``fill`` when ``a`` is None."""
    if a is None:
        return np.full(c, fill, dtype=np.float64)
    return np.ascontiguousarray(a, dtype=np.float64)


def batch_norm_forward(x, gamma, beta, eps, *, n_threads=None):
    """Training-mode batch norm: per-channel statistics over all axes but 1.

    Parameters
    ----------
    x : array-like of shape (N, C) or (N, C, *spatial)
    gamma, beta : array-like of shape (C,) or None
    eps : float
    n_threads : int, optional
        OpenMP threads over channels (None: see the module docstring).

    Returns
    -------
    y : ndarray of x's shape and dtype
        ``(x - mean) * invstd * gamma + beta`` (computed in double).
    mean, invstd : ndarrays of shape (C,), x's dtype
        Batch mean and ``1 / sqrt(biased variance + eps)``, accumulated in
        double with a per-channel shift (accurate for large means).
    """
    kernel = "batch_norm_forward"
    dtype = float_dtype(kernel, ("x", x), ("gamma", gamma), ("beta", beta))
    x = as_array(x)
    gamma = None if gamma is None else as_array(gamma)
    beta = None if beta is None else as_array(beta)
    c, count = batch_norm_channels(kernel, x, gamma, beta)
    if count <= 1:
        raise ValueError(f"{kernel}: training needs more than one value per channel; "
                         f"got x of shape {x.shape}.")
    x3 = _channels_3d(x, dtype)
    mean = np.empty(c)
    var = np.empty(c)
    y = np.empty(x3.shape, dtype=dtype)
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if dtype == FLOAT32:
        _bn_stats[float](x3, mean, var, nt)
    else:
        _bn_stats[double](x3, mean, var, nt)
    invstd = 1.0 / np.sqrt(var + float(eps))
    scale = invstd * _per_channel(gamma, c, 1.0)
    shift = _per_channel(beta, c, 0.0)
    if dtype == FLOAT32:
        _bn_affine[float](x3, y, mean, scale, shift, nt)
    else:
        _bn_affine[double](x3, y, mean, scale, shift, nt)
    return y.reshape(x.shape), mean.astype(dtype), invstd.astype(dtype)


def batch_norm_backward(grad_y, x, gamma, mean, invstd, need_input=True, need_gamma=True,
                        need_beta=True, *, n_threads=None):
    """Gradients of ``batch_norm_forward``, in two passes.

    Parameters
    ----------
    grad_y, x : array-like of the same shape (N, C, ...)
    gamma : array-like of shape (C,) or None
    mean, invstd : array-like of shape (C,), from the forward
    need_input, need_gamma, need_beta : bool
        Which gradients to compute; the others are returned as None.
    n_threads : int, optional

    Returns
    -------
    grad_x, grad_gamma, grad_beta : ndarrays or None
        ``grad_x = gamma * invstd * (gy - mean(gy) - xhat * mean(gy * xhat))``,
        ``grad_gamma = sum(gy * xhat)``, ``grad_beta = sum(gy)``; sums in
        double.
    """
    kernel = "batch_norm_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y), ("x", x), ("gamma", gamma))
    grad_y = as_array(grad_y)
    x = as_array(x)
    gamma = None if gamma is None else as_array(gamma)
    mean = as_array(mean)
    invstd = as_array(invstd)
    c, count = batch_norm_channels(kernel, x, gamma, None, ("mean", mean),
                                   ("invstd", invstd))
    if grad_y.shape != x.shape:
        raise ValueError(f"{kernel}: grad_y has shape {grad_y.shape} but x has shape "
                         f"{x.shape}; they must be equal.")
    if not (need_input or need_gamma or need_beta):
        return None, None, None
    gy3 = _channels_3d(grad_y, dtype)
    x3 = _channels_3d(x, dtype)
    mean64 = np.ascontiguousarray(mean, dtype=np.float64)
    inv64 = np.ascontiguousarray(invstd, dtype=np.float64)
    sum_gy = np.zeros(c)
    sum_gy_xc = np.zeros(c)
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if count:
        if dtype == FLOAT32:
            _bn_grad_sums[float](gy3, x3, mean64, sum_gy, sum_gy_xc, nt)
        else:
            _bn_grad_sums[double](gy3, x3, mean64, sum_gy, sum_gy_xc, nt)
    sum_gy_xhat = sum_gy_xc * inv64
    grad_x = None
    if need_input:
        a = inv64 * _per_channel(gamma, c, 1.0)
        n = max(count, 1)
        b = -a * inv64 * sum_gy_xhat / n
        k = -a * sum_gy / n
        grad_x = np.empty(x3.shape, dtype=dtype)
        if count:
            if dtype == FLOAT32:
                _bn_grad_input[float](gy3, x3, grad_x, mean64, a, b, k, nt)
            else:
                _bn_grad_input[double](gy3, x3, grad_x, mean64, a, b, k, nt)
        grad_x = grad_x.reshape(x.shape)
    grad_gamma = sum_gy_xhat.astype(dtype) if need_gamma else None
    grad_beta = sum_gy.astype(dtype) if need_beta else None
    return grad_x, grad_gamma, grad_beta


def batch_norm_inference(x, gamma, beta, running_mean, running_var, eps, *,
                         n_threads=None):
    """Eval-mode batch norm with running statistics, in one pass.

    Parameters
    ----------
    x : array-like of shape (N, C) or (N, C, *spatial)
    gamma, beta : array-like of shape (C,) or None
    running_mean, running_var : array-like of shape (C,)
    eps : float
    n_threads : int, optional

    Returns
    -------
    y : ndarray of x's shape and dtype
    """
    kernel = "batch_norm_inference"
    dtype = float_dtype(kernel, ("x", x), ("gamma", gamma), ("beta", beta))
    x = as_array(x)
    gamma = None if gamma is None else as_array(gamma)
    beta = None if beta is None else as_array(beta)
    running_mean = as_array(running_mean)
    running_var = as_array(running_var)
    c, count = batch_norm_channels(kernel, x, gamma, beta, ("running_mean", running_mean),
                                   ("running_var", running_var))
    x3 = _channels_3d(x, dtype)
    y = np.empty(x3.shape, dtype=dtype)
    scale = _per_channel(gamma, c, 1.0) / np.sqrt(
        np.asarray(running_var, dtype=np.float64) + float(eps))
    mean = np.ascontiguousarray(running_mean, dtype=np.float64)
    shift = _per_channel(beta, c, 0.0)
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if count:
        if dtype == FLOAT32:
            _bn_affine[float](x3, y, mean, scale, shift, nt)
        else:
            _bn_affine[double](x3, y, mean, scale, shift, nt)
    return y.reshape(x.shape)
