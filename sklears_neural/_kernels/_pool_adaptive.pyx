"""Adaptive average and max pooling (CPU kernels), PyTorch's bins.

Same names, signatures and results as ``sklears_neural._xp._pool``, plus a
keyword-only ``n_threads``; the argument checks are in
``sklears_neural._specs._pool``. Input planes as in ``_pool_common``; the
bins of each axis are one precomputed table of starts and ends
(``_bin_table``). Bin sums are accumulated in double; global pooling (all-
ones output size) is one sum per plane. The gradient of the adaptive max
pool is ``_pool.max_pool_backward`` (same indices).
"""

from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stdint cimport int64_t

import numpy as np

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads
from sklears_neural._kernels._pool_common cimport Geom, _geom, _takes

from sklears_neural._kernels._pool_common import (
    PARALLEL_MIN_SIZE,
    _empty_planes,
    _nonempty,
    _planes,
    _zero_planes,
)
from sklears_neural._kernels._blas import products_on_own_gemm
from sklears_neural._specs._arrays import FLOAT32, as_array, float_dtype
from sklears_neural._specs._pool import (
    adaptive_bins,
    adaptive_geometry,
    check_grad_shape,
    input_shape_tuple,
)

__all__ = [
    "adaptive_avg_pool_forward",
    "adaptive_avg_pool_backward",
    "adaptive_max_pool_forward",
]


# ---------------------------------------------------------------------------
# nogil parts
# ---------------------------------------------------------------------------

cdef inline double _sum(const floating* x, Py_ssize_t n) noexcept nogil:
    """Sum in double with four accumulators (no serial dependency chain)."""
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        s0 += x[i]
        s1 += x[i + 1]
        s2 += x[i + 2]
        s3 += x[i + 3]
        i += 4
    while i < n:
        s0 += x[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef void _adaptive_avg_plane(const floating* x, floating* y, const Geom* g,
                              const Py_ssize_t* bins) noexcept nogil:
    """``bins``: starts then ends of axis 0, then of axis 1, then of axis 2."""
    cdef const Py_ssize_t* st0 = bins
    cdef const Py_ssize_t* en0 = st0 + g.o[0]
    cdef const Py_ssize_t* st1 = en0 + g.o[0]
    cdef const Py_ssize_t* en1 = st1 + g.o[1]
    cdef const Py_ssize_t* st2 = en1 + g.o[1]
    cdef const Py_ssize_t* en2 = st2 + g.o[2]
    cdef Py_ssize_t a, b, c, i0, i1, out = 0
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2]
    cdef double total
    if g.o[0] == 1 and g.o[1] == 1 and g.o[2] == 1:
        y[0] = <floating> (_sum(x, g.n[0] * n1 * n2) / (g.n[0] * n1 * n2))
        return
    for a in range(g.o[0]):
        for b in range(g.o[1]):
            for c in range(g.o[2]):
                total = 0.0
                for i0 in range(st0[a], en0[a]):
                    for i1 in range(st1[b], en1[b]):
                        total += _sum(x + (i0 * n1 + i1) * n2 + st2[c], en2[c] - st2[c])
                y[out] = <floating> (total / ((en0[a] - st0[a]) * (en1[b] - st1[b])
                                              * (en2[c] - st2[c])))
                out += 1


cdef void _adaptive_avg_back_plane(const floating* gy, floating* gx, const Geom* g,
                                   const Py_ssize_t* bins) noexcept nogil:
    """gx (zeroed) += gy / bin size over every bin."""
    cdef const Py_ssize_t* st0 = bins
    cdef const Py_ssize_t* en0 = st0 + g.o[0]
    cdef const Py_ssize_t* st1 = en0 + g.o[0]
    cdef const Py_ssize_t* en1 = st1 + g.o[1]
    cdef const Py_ssize_t* st2 = en1 + g.o[1]
    cdef const Py_ssize_t* en2 = st2 + g.o[2]
    cdef Py_ssize_t a, b, c, i0, i1, i2, base, out = 0
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2], total = g.n[0] * n1 * n2
    cdef floating v
    if g.o[0] == 1 and g.o[1] == 1 and g.o[2] == 1:
        v = <floating> (gy[0] / <double> total)
        for i0 in range(total):
            gx[i0] = v
        return
    for a in range(g.o[0]):
        for b in range(g.o[1]):
            for c in range(g.o[2]):
                v = <floating> (gy[out] / <double> ((en0[a] - st0[a]) * (en1[b] - st1[b])
                                                    * (en2[c] - st2[c])))
                for i0 in range(st0[a], en0[a]):
                    for i1 in range(st1[b], en1[b]):
                        base = (i0 * n1 + i1) * n2
                        for i2 in range(st2[c], en2[c]):
                            gx[base + i2] += v
                out += 1


cdef void _adaptive_max_plane(const floating* x, floating* y, int64_t* ind, const Geom* g,
                              const Py_ssize_t* bins) noexcept nogil:
    cdef const Py_ssize_t* st0 = bins
    cdef const Py_ssize_t* en0 = st0 + g.o[0]
    cdef const Py_ssize_t* st1 = en0 + g.o[0]
    cdef const Py_ssize_t* en1 = st1 + g.o[1]
    cdef const Py_ssize_t* st2 = en1 + g.o[1]
    cdef const Py_ssize_t* en2 = st2 + g.o[2]
    cdef Py_ssize_t a, b, c, i0, i1, i2, base, out = 0
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2]
    cdef floating v, best
    cdef int64_t bi
    cdef bint t
    for a in range(g.o[0]):
        for b in range(g.o[1]):
            for c in range(g.o[2]):
                best = -INFINITY
                bi = (st0[a] * n1 + st1[b]) * n2 + st2[c]
                for i0 in range(st0[a], en0[a]):
                    for i1 in range(st1[b], en1[b]):
                        base = (i0 * n1 + i1) * n2
                        for i2 in range(st2[c], en2[c]):
                            v = x[base + i2]
                            t = _takes(v, best)
                            best = v if t else best
                            bi = base + i2 if t else bi
                y[out] = best
                ind[out] = bi
                out += 1


# --- plane dispatchers: serial, or prange over planes -----------------------

# The two average kernels share one dispatcher.
cdef enum:
    OP_ADAPTIVE_AVG = 0
    OP_ADAPTIVE_AVG_BACK = 1


cdef inline void _table_plane(int op, const floating* a, floating* b, const Geom* g,
                              const Py_ssize_t* table) noexcept nogil:
    if op == OP_ADAPTIVE_AVG:
        _adaptive_avg_plane(a, b, g, table)
    else:
        _adaptive_avg_back_plane(a, b, g, table)


cdef int _table_op(int op, const floating[:, ::1] src, floating[:, ::1] dst, Geom g,
                   const Py_ssize_t[::1] table, int nt) except -1:
    cdef Py_ssize_t i
    with nogil:
        if nt == 1:
            for i in range(src.shape[0]):
                _table_plane(op, &src[i, 0], &dst[i, 0], &g, &table[0])
        else:
            for i in prange(src.shape[0], num_threads=nt, schedule="static"):
                _table_plane(op, &src[i, 0], &dst[i, 0], &g, &table[0])
    return 0


cdef int _adaptive_max(const floating[:, ::1] x, floating[:, ::1] y, int64_t[:, ::1] ind,
                       Geom g, const Py_ssize_t[::1] bins, int nt) except -1:
    cdef Py_ssize_t i
    with nogil:
        if nt == 1:
            for i in range(x.shape[0]):
                _adaptive_max_plane(&x[i, 0], &y[i, 0], &ind[i, 0], &g, &bins[0])
        else:
            for i in prange(x.shape[0], num_threads=nt, schedule="static"):
                _adaptive_max_plane(&x[i, 0], &y[i, 0], &ind[i, 0], &g, &bins[0])
    return 0


# ---------------------------------------------------------------------------
# Python side
# ---------------------------------------------------------------------------

def _bin_table(spatial, out):
    """Starts and ends of the adaptive bins of the 3 (padded) axes, flat."""
    lead = 3 - len(spatial)
    table = []
    for n, o in zip((1,) * lead + tuple(spatial), (1,) * lead + tuple(out)):
        starts, ends = adaptive_bins(n, o)
        table += starts + ends
    return np.asarray(table, dtype=np.intp)


def adaptive_avg_pool_forward(x, output_size, *, n_threads=None):
    """Adaptive average pooling to ``output_size`` (PyTorch's bins).

    Parameters
    ----------
    x : array-like of shape (N, C, *spatial)
    output_size : tuple of d ints (``None`` entries keep the input size)
    n_threads : int, optional

    Returns
    -------
    y : ndarray of shape (N, C, *output_size)
        Bin sums are accumulated in double; all-ones ``output_size`` (global
        pooling) is one sum per plane.
    """
    kernel = "adaptive_avg_pool_forward"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    out = adaptive_geometry(kernel, x.shape, output_size)
    shape = x.shape[:2] + out
    x2 = _planes(x, dtype)
    y = _empty_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(x2, y):
        table = _bin_table(x.shape[2:], out)
        if dtype == FLOAT32:
            _table_op[float](OP_ADAPTIVE_AVG, x2, y, _geom(x.shape[2:], out), table, nt)
        else:
            _table_op[double](OP_ADAPTIVE_AVG, x2, y, _geom(x.shape[2:], out), table, nt)
    return y.reshape(shape)


def adaptive_avg_pool_backward(grad_y, input_shape, *, n_threads=None):
    """Gradient of ``adaptive_avg_pool_forward``; the output size is grad_y's.

    Parameters
    ----------
    grad_y : array-like of shape (N, C, *output_size)
    input_shape : tuple (N, C, *spatial)
    n_threads : int, optional

    Returns
    -------
    grad_x : ndarray of shape ``input_shape``
    """
    kernel = "adaptive_avg_pool_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y))
    grad_y = as_array(grad_y)
    shape = input_shape_tuple(kernel, input_shape)
    out = adaptive_geometry(kernel, shape, grad_y.shape[2:])
    check_grad_shape(kernel, grad_y, shape[:2] + out, f"input_shape {shape}")
    gy = _planes(grad_y, dtype)
    gx = _zero_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, gx.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(gy, gx):
        table = _bin_table(shape[2:], out)
        if dtype == FLOAT32:
            _table_op[float](OP_ADAPTIVE_AVG_BACK, gy, gx, _geom(shape[2:], out), table, nt)
        else:
            _table_op[double](OP_ADAPTIVE_AVG_BACK, gy, gx, _geom(shape[2:], out), table, nt)
    return gx.reshape(shape)


def adaptive_max_pool_forward(x, output_size, *, n_threads=None):
    """Adaptive max pooling to ``output_size`` (PyTorch's bins).

    Parameters
    ----------
    x : array-like of shape (N, C, *spatial)
    output_size : tuple of d ints
    n_threads : int, optional

    Returns
    -------
    y, indices : as ``max_pool_forward``; ``max_pool_backward`` is the
        gradient.
    """
    kernel = "adaptive_max_pool_forward"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    out = adaptive_geometry(kernel, x.shape, output_size)
    shape = x.shape[:2] + out
    x2 = _planes(x, dtype)
    y = _empty_planes(shape, dtype)
    ind = _empty_planes(shape, np.int64)
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(x2, y):
        table = _bin_table(x.shape[2:], out)
        if dtype == FLOAT32:
            _adaptive_max[float](x2, y, ind, _geom(x.shape[2:], out), table, nt)
        else:
            _adaptive_max[double](x2, y, ind, _geom(x.shape[2:], out), table, nt)
    return y.reshape(shape), ind.reshape(shape)
