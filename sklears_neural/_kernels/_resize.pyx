"""Padding (reflect, replicate, circular; constant) and nearest upsampling
(CPU kernels), with their gradients.

Same names, signatures and results as ``sklears_neural._xp._pool``, plus a
keyword-only ``n_threads``; the argument checks are in
``sklears_neural._specs._pool``. Constant padding is two contiguous numpy
passes (fill, then copy). The other modes gather each output plane through
per-axis source maps (``_pad_table``; the unpadded middle of each row is a
straight copy), and their gradients scatter-add back through the same maps.
Upsampling builds each output row once and copies it for the other rows of
its block; its gradient sums each block (in double). Input planes as in
``_pool_common``.
"""

from cython.parallel cimport prange, threadid
from libc.string cimport memcpy

import numpy as np

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads
from sklears_neural._kernels._pool_common cimport Geom, _geom

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
    check_grad_shape,
    pad_geometry,
    pad_source_index,
    upsample_factors,
)

__all__ = [
    "pad_forward",
    "pad_backward",
    "upsample_nearest_forward",
    "upsample_nearest_backward",
]


# ---------------------------------------------------------------------------
# nogil parts
# ---------------------------------------------------------------------------

cdef void _pad_plane(const floating* x, floating* y, const Geom* g,
                     const Py_ssize_t* maps) noexcept nogil:
    """Gather through per-axis source maps (``maps``: axis 0, 1, 2 maps of
    the output sizes); the unpadded middle of each row is a straight copy.
    ``g.p[2]`` is the row's left pad."""
    cdef const Py_ssize_t* m0 = maps
    cdef const Py_ssize_t* m1 = m0 + g.o[0]
    cdef const Py_ssize_t* m2 = m1 + g.o[1]
    cdef Py_ssize_t a, b, j, left = g.p[2], n2 = g.n[2], o2 = g.o[2]
    cdef const floating* src
    cdef floating* dst
    for a in range(g.o[0]):
        for b in range(g.o[1]):
            src = x + (m0[a] * g.n[1] + m1[b]) * n2
            dst = y + (a * g.o[1] + b) * o2
            for j in range(left):
                dst[j] = src[m2[j]]
            for j in range(n2):
                dst[left + j] = src[j]
            for j in range(left + n2, o2):
                dst[j] = src[m2[j]]


cdef void _pad_back_plane(const floating* gy, floating* gx, const Geom* g,
                          const Py_ssize_t* maps) noexcept nogil:
    """gx (zeroed) += gy scattered through the source maps of ``_pad_plane``."""
    cdef const Py_ssize_t* m0 = maps
    cdef const Py_ssize_t* m1 = m0 + g.o[0]
    cdef const Py_ssize_t* m2 = m1 + g.o[1]
    cdef Py_ssize_t a, b, j, left = g.p[2], n2 = g.n[2], o2 = g.o[2]
    cdef const floating* src
    cdef floating* dst
    for a in range(g.o[0]):
        for b in range(g.o[1]):
            src = gy + (a * g.o[1] + b) * o2
            dst = gx + (m0[a] * g.n[1] + m1[b]) * n2
            for j in range(left):
                dst[m2[j]] += src[j]
            for j in range(n2):
                dst[j] += src[left + j]
            for j in range(left + n2, o2):
                dst[m2[j]] += src[j]


cdef void _upsample_plane(const floating* x, floating* y, const Geom* g) noexcept nogil:
    """Nearest upsampling by the factors ``g.k``: each output row is built
    once, then copied for the other rows of its block."""
    cdef Py_ssize_t a, b, j, r, ra, o2 = g.o[2], f2 = g.k[2]
    cdef const floating* src
    cdef floating* dst
    cdef floating v
    for a in range(g.n[0]):
        for b in range(g.n[1]):
            src = x + (a * g.n[1] + b) * g.n[2]
            dst = y + (a * g.k[0] * g.o[1] + b * g.k[1]) * o2
            if f2 == 2:
                for j in range(g.n[2]):
                    dst[2 * j] = src[j]
                    dst[2 * j + 1] = src[j]
            else:
                for j in range(g.n[2]):
                    v = src[j]
                    for r in range(f2):
                        dst[j * f2 + r] = v
            for r in range(1, g.k[1]):
                memcpy(dst + r * o2, dst, o2 * sizeof(floating))
        for ra in range(1, g.k[0]):
            memcpy(y + (a * g.k[0] + ra) * g.o[1] * o2, y + a * g.k[0] * g.o[1] * o2,
                   g.o[1] * o2 * sizeof(floating))


cdef void _upsample_back_plane(const floating* gy, floating* gx, const Geom* g,
                               double* row) noexcept nogil:
    """gx = block sums of gy; ``row`` is scratch of the input row length."""
    cdef Py_ssize_t a, b, j, r, r0, r1, o2 = g.o[2], f2 = g.k[2]
    cdef const floating* src
    cdef floating* dst
    cdef double t
    for a in range(g.n[0]):
        for b in range(g.n[1]):
            for j in range(g.n[2]):
                row[j] = 0.0
            for r0 in range(g.k[0]):
                for r1 in range(g.k[1]):
                    src = gy + ((a * g.k[0] + r0) * g.o[1] + b * g.k[1] + r1) * o2
                    for j in range(g.n[2]):
                        t = 0.0
                        for r in range(f2):
                            t += src[j * f2 + r]
                        row[j] += t
            dst = gx + (a * g.n[1] + b) * g.n[2]
            for j in range(g.n[2]):
                dst[j] = <floating> row[j]


# --- plane dispatchers: serial, or prange over planes -----------------------

# Padding and its gradient share one dispatcher.
cdef enum:
    OP_PAD = 0
    OP_PAD_BACK = 1


cdef inline void _table_plane(int op, const floating* a, floating* b, const Geom* g,
                              const Py_ssize_t* table) noexcept nogil:
    if op == OP_PAD:
        _pad_plane(a, b, g, table)
    else:
        _pad_back_plane(a, b, g, table)


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


cdef int _upsample(const floating[:, ::1] x, floating[:, ::1] y, Geom g, int nt) except -1:
    cdef Py_ssize_t i
    with nogil:
        if nt == 1:
            for i in range(x.shape[0]):
                _upsample_plane(&x[i, 0], &y[i, 0], &g)
        else:
            for i in prange(x.shape[0], num_threads=nt, schedule="static"):
                _upsample_plane(&x[i, 0], &y[i, 0], &g)
    return 0


cdef int _upsample_back(const floating[:, ::1] gy, floating[:, ::1] gx, Geom g,
                        double[:, ::1] rows, int nt) except -1:
    cdef Py_ssize_t i
    cdef int t
    with nogil:
        if nt == 1:
            for i in range(gy.shape[0]):
                _upsample_back_plane(&gy[i, 0], &gx[i, 0], &g, &rows[0, 0])
        else:
            for i in prange(gy.shape[0], num_threads=nt, schedule="static"):
                t = threadid()
                _upsample_back_plane(&gy[i, 0], &gx[i, 0], &g, &rows[t, 0])
    return 0


# ---------------------------------------------------------------------------
# Python side
# ---------------------------------------------------------------------------

def _crop_slices(pairs, shape):
    return tuple(slice(max(0, -b), n - max(0, -a)) for (b, a), n in zip(pairs, shape))


def _place_slices(pairs, out_shape):
    return tuple(slice(max(0, b), n - max(0, a)) for (b, a), n in zip(pairs, out_shape))


def _pad_table(spatial, pairs, mode):
    """Source maps of the 3 (padded) spatial axes, flat; the 3-axis input
    and output sizes; the last axis' left pad."""
    lead = 3 - len(spatial)
    sizes = (1,) * lead + tuple(spatial)
    pairs = [(0, 0)] * lead + list(pairs)
    maps = [pad_source_index(n, b, a, mode) for n, (b, a) in zip(sizes, pairs)]
    out = tuple(len(m) for m in maps)
    return np.concatenate(maps).astype(np.intp), sizes, out, pairs[2][0]


def pad_forward(x, pad, mode="constant", value=0.0, *, n_threads=None):
    """Pad ``x`` as ``torch.nn.functional.pad`` does.

    Parameters
    ----------
    x : array-like
        Any shape for constant mode; (N, C, *spatial) with 1 to 3 spatial
        axes for the other modes.
    pad : tuple of ints
        ``(left, right, top, bottom, front, back)``: pairs for the last
        axes, last axis first. Negative values crop (constant mode only).
    mode : {"constant", "reflect", "replicate", "circular"}
    value : float
    n_threads : int, optional

    Returns
    -------
    y : ndarray, x's dtype
    """
    kernel = "pad_forward"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    mode, pairs, out_shape = pad_geometry(kernel, x.shape, pad, mode)
    if mode == "constant":
        # Two contiguous passes already (fill, then copy): numpy does both.
        y = np.full(out_shape, value, dtype=dtype)
        y[_place_slices(pairs, out_shape)] = x[_crop_slices(pairs, x.shape)]
        return y
    table, sizes, out, left = _pad_table(x.shape[2:], pairs[2:], mode)
    cdef Geom g = _geom(sizes, out)
    g.p[2] = left
    x2 = _planes(x, dtype)
    y = _empty_planes(out_shape, dtype)
    nt = resolve_n_threads(n_threads, y.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(x2, y):
        if dtype == FLOAT32:
            _table_op[float](OP_PAD, x2, y, g, table, nt)
        else:
            _table_op[double](OP_PAD, x2, y, g, table, nt)
    return y.reshape(out_shape)


def pad_backward(grad_y, input_shape, pad, mode="constant", *, n_threads=None):
    """Gradient of ``pad_forward``: reflect/replicate/circular accumulate.

    Parameters
    ----------
    grad_y : array-like of the padded shape
    input_shape : tuple
    pad, mode : as in the forward
    n_threads : int, optional

    Returns
    -------
    grad_x : ndarray of shape ``input_shape``
    """
    kernel = "pad_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y))
    grad_y = as_array(grad_y)
    shape = tuple(int(n) for n in input_shape)
    mode, pairs, out_shape = pad_geometry(kernel, shape, pad, mode)
    check_grad_shape(kernel, grad_y, out_shape, f"pad {tuple(pad)} of input_shape {shape}")
    if mode == "constant":
        gx = np.zeros(shape, dtype=dtype)
        gx[_crop_slices(pairs, shape)] = grad_y[_place_slices(pairs, out_shape)]
        return gx
    table, sizes, out, left = _pad_table(shape[2:], pairs[2:], mode)
    cdef Geom g = _geom(sizes, out)
    g.p[2] = left
    gy = _planes(grad_y, dtype)
    gx = _zero_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, gy.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(gy, gx):
        if dtype == FLOAT32:
            _table_op[float](OP_PAD_BACK, gy, gx, g, table, nt)
        else:
            _table_op[double](OP_PAD_BACK, gy, gx, g, table, nt)
    return gx.reshape(shape)


def upsample_nearest_forward(x, scale_factor, *, n_threads=None):
    """Nearest-neighbour upsampling of the spatial axes by integer factors.

    Parameters
    ----------
    x : array-like of shape (N, C, *spatial)
    scale_factor : tuple of d positive ints
    n_threads : int, optional

    Returns
    -------
    y : ndarray of shape (N, C, *(n * f))
    """
    kernel = "upsample_nearest_forward"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    f = upsample_factors(kernel, x.shape, scale_factor)
    out = tuple(n * fi for n, fi in zip(x.shape[2:], f))
    shape = x.shape[:2] + out
    x2 = _planes(x, dtype)
    y = _empty_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, y.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(x2, y):
        if dtype == FLOAT32:
            _upsample[float](x2, y, _geom(x.shape[2:], out, f), nt)
        else:
            _upsample[double](x2, y, _geom(x.shape[2:], out, f), nt)
    return y.reshape(shape)


def upsample_nearest_backward(grad_y, scale_factor, *, n_threads=None):
    """Gradient of ``upsample_nearest_forward``: sums over each block.

    Parameters
    ----------
    grad_y : array-like of shape (N, C, *(n * f))
    scale_factor : tuple of d positive ints (dividing grad_y's spatial sizes)
    n_threads : int, optional

    Returns
    -------
    grad_x : ndarray of shape (N, C, *spatial)
    """
    kernel = "upsample_nearest_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y))
    grad_y = as_array(grad_y)
    f = upsample_factors(kernel, grad_y.shape, scale_factor)
    out = tuple(grad_y.shape[2:])
    if any(m % fi for m, fi in zip(out, f)):
        raise ValueError(f"{kernel}: grad_y's spatial shape {out} is not a multiple of "
                         f"scale_factor {f}.")
    spatial = tuple(m // fi for m, fi in zip(out, f))
    shape = grad_y.shape[:2] + spatial
    gy = _planes(grad_y, dtype)
    gx = _empty_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, gy.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    rows = np.empty((max(nt, 1), max(spatial[len(spatial) - 1], 1)))
    if _nonempty(gy, gx):
        if dtype == FLOAT32:
            _upsample_back[float](gy, gx, _geom(spatial, out, f), rows, nt)
        else:
            _upsample_back[double](gy, gx, _geom(spatial, out, f), rows, nt)
    return gx.reshape(shape)
