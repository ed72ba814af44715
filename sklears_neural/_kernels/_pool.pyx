"""Max and average pooling (CPU kernels); adaptive pooling is in
``_pool_adaptive``, padding and upsampling in ``_resize``, batch norm in
``_norm``.

Same names, signatures and results as ``sklears_neural._xp._pool``; the
argument checks and shape arithmetic both share are in
``sklears_neural._specs._pool`` (so both reject the same inputs with the
same messages); here every function takes an extra keyword-only
``n_threads`` (None: as ``_openmp_helpers.resolve_n_threads`` says: the
OpenMP pool's threads from ``PARALLEL_MIN_SIZE`` elements on while that pool
owns the cores, e.g. for float32 on AVX-512 CPUs, else one).

Every kernel sees its input as ``(planes, D, H, W)`` (see
``_pool_common``); each plane is one pass, planes run in parallel under
``prange``. The windows' clipped bounds are precomputed per axis
(``_attach_windows``), so there is no integer division per output. The
common non-overlapping 2x2 / stride-2 / unpadded window has its own loop.
"""

import numpy as np

from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stdint cimport int64_t

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads
from sklears_neural._kernels._pool_common cimport Geom, _geom, _takes

from sklears_neural._kernels._pool_common import (  # PARALLEL_MIN_SIZE: _norm's too
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
    check_pool_indices,
    input_shape_tuple,
    pool_geometry,
    pool_indices_error,
)

__all__ = [
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
]


# ---------------------------------------------------------------------------
# nogil parts
# ---------------------------------------------------------------------------

cdef inline void _window(Py_ssize_t i, const Geom* g, int ax, Py_ssize_t* first,
                         Py_ssize_t* count) noexcept nogil:
    """First in-bounds element and element count of window i along axis ax."""
    first[0] = g.win[ax][i]
    count[0] = g.win[ax][g.o[ax] + i]


cdef inline bint _is_2x2(const Geom* g) noexcept nogil:
    """Non-overlapping unpadded 2x2 windows over H, W (any D slices)."""
    return (g.k[0] == 1 and g.s[0] == 1 and g.p[0] == 0 and g.o[0] == g.n[0]
            and g.k[1] == 2 and g.k[2] == 2 and g.s[1] == 2 and g.s[2] == 2
            and g.p[1] == 0 and g.p[2] == 0 and g.dl[1] == 1 and g.dl[2] == 1
            and 2 * g.o[1] <= g.n[1] and 2 * g.o[2] <= g.n[2])


cdef void _max_2x2_row(const floating* r0, const floating* r1, floating* y,
                       int64_t* ind, Py_ssize_t n_out, Py_ssize_t base,
                       Py_ssize_t n2) noexcept nogil:
    """One output row of the 2x2 / stride-2 max pool (r1 = r0 + n2).

    Data-dependent branches mispredict half the time on real activations
    (5x slower), so the winner is found with max instructions and integer
    arithmetic: row 0's pair, row 1's pair, then row 1 only if strictly
    larger -- the first maximum in row-major order, as ``_takes``. Windows
    holding a NaN (rare, so that branch predicts well) take the last NaN.
    """
    cdef Py_ssize_t c
    cdef floating a, b, e, f, m0, m1
    cdef int t0, t1, t
    cdef Py_ssize_t code
    for c in range(n_out):
        a = r0[2 * c]
        b = r0[2 * c + 1]
        e = r1[2 * c]
        f = r1[2 * c + 1]
        if (a != a) | (b != b) | (e != e) | (f != f):
            code = n2 + 1 if f != f else (n2 if e != e else (1 if b != b else 0))
        else:
            t0 = b > a
            m0 = b if b > a else a
            t1 = f > e
            m1 = f if f > e else e
            t = m1 > m0
            code = t0 + t * (n2 + t1 - t0)
        y[c] = r0[2 * c + code]
        ind[c] = base + 2 * c + code


cdef void _max_plane(const floating* x, floating* y, int64_t* ind,
                     const Geom* g) noexcept nogil:
    cdef bint nan
    cdef Py_ssize_t t
    cdef Py_ssize_t a, b, c, j0, j1, j2, f0, f1, f2, c0, c1, c2, base, idx, out = 0
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2]
    cdef floating v, best
    cdef int64_t bi
    if _is_2x2(g):
        for a in range(g.o[0]):
            for b in range(g.o[1]):
                base = (a * n1 + 2 * b) * n2
                _max_2x2_row(x + base, x + base + n2, y + out, ind + out, g.o[2], base, n2)
                out += g.o[2]
        return
    for a in range(g.o[0]):
        _window(a, g, 0, &f0, &c0)
        for b in range(g.o[1]):
            _window(b, g, 1, &f1, &c1)
            for c in range(g.o[2]):
                _window(c, g, 2, &f2, &c2)
                best = -INFINITY
                if c0 == 0 or c1 == 0 or c2 == 0:
                    bi = -1  # a window of padding only (possible with dilation)
                else:
                    bi = (f0 * n1 + f1) * n2 + f2
                nan = False
                for j0 in range(c0):
                    for j1 in range(c1):
                        base = ((f0 + j0 * g.dl[0]) * n1 + f1 + j1 * g.dl[1]) * n2 + f2
                        for j2 in range(c2):
                            # Branch-free (see _max_2x2_row): a max
                            # instruction and an integer blend; NaNs below.
                            idx = base + j2 * g.dl[2]
                            v = x[idx]
                            nan |= v != v
                            t = v > best
                            bi += t * (idx - bi)
                            best = v if v > best else best
                if nan:
                    for j0 in range(c0):
                        for j1 in range(c1):
                            base = ((f0 + j0 * g.dl[0]) * n1 + f1 + j1 * g.dl[1]) * n2 + f2
                            for j2 in range(c2):
                                if x[base + j2 * g.dl[2]] != x[base + j2 * g.dl[2]]:
                                    bi = base + j2 * g.dl[2]  # the last NaN
                    best = x[bi]
                y[out] = best
                ind[out] = bi
                out += 1


cdef Py_ssize_t _max_back_plane(const floating* gy, const int64_t* ind, floating* gx,
                                Py_ssize_t n_out, Py_ssize_t plane) noexcept nogil:
    """gx[ind] += gy; returns how many indices were out of range (not -1)."""
    cdef Py_ssize_t j, bad = 0
    cdef int64_t idx
    for j in range(n_out):
        idx = ind[j]
        if 0 <= idx < plane:
            gx[idx] += gy[j]
        elif idx != -1:
            bad += 1
    return bad


cdef inline double _avg_divisor(const Geom* g, Py_ssize_t a, Py_ssize_t b,
                                Py_ssize_t c, Py_ssize_t* first,
                                Py_ssize_t* count) noexcept nogil:
    """Clipped window (first, count per axis) and PyTorch's divisor."""
    cdef Py_ssize_t ax, i, pool = 1, valid = 1
    for ax in range(3):
        i = a if ax == 0 else (b if ax == 1 else c)
        first[ax] = g.win[ax][i]
        count[ax] = g.win[ax][g.o[ax] + i]
        pool *= g.win[ax][2 * g.o[ax] + i]
        valid *= count[ax]
    if g.div != 0:
        return g.div
    return <double> (pool if g.include_pad else valid)


cdef void _avg_plane(const floating* x, floating* y, const Geom* g) noexcept nogil:
    cdef Py_ssize_t a, b, c, j0, j1, j2, base, out = 0
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2]
    cdef Py_ssize_t first[3]
    cdef Py_ssize_t count[3]
    cdef double total, div
    cdef floating fdiv
    if _is_2x2(g):
        fdiv = <floating> (g.div if g.div != 0 else 4.0)
        for a in range(g.o[0]):
            for b in range(g.o[1]):
                base = (a * n1 + 2 * b) * n2
                for c in range(g.o[2]):
                    y[out + c] = (x[base + 2 * c] + x[base + 2 * c + 1]
                                  + x[base + n2 + 2 * c] + x[base + n2 + 2 * c + 1]) / fdiv
                out += g.o[2]
        return
    for a in range(g.o[0]):
        for b in range(g.o[1]):
            for c in range(g.o[2]):
                div = _avg_divisor(g, a, b, c, first, count)
                total = 0.0
                for j0 in range(count[0]):
                    for j1 in range(count[1]):
                        base = ((first[0] + j0) * n1 + first[1] + j1) * n2 + first[2]
                        for j2 in range(count[2]):
                            total += x[base + j2]
                y[out] = <floating> (total / div)
                out += 1


cdef void _avg_back_plane(const floating* gy, floating* gx, const Geom* g) noexcept nogil:
    """gx (zeroed) += gy / divisor over every window."""
    cdef Py_ssize_t a, b, c, j0, j1, j2, base, out = 0
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2]
    cdef Py_ssize_t first[3]
    cdef Py_ssize_t count[3]
    cdef floating v, fdiv
    if _is_2x2(g):
        fdiv = <floating> (g.div if g.div != 0 else 4.0)
        for a in range(g.o[0]):
            for b in range(g.o[1]):
                base = (a * n1 + 2 * b) * n2
                for c in range(g.o[2]):
                    v = gy[out + c] / fdiv
                    gx[base + 2 * c] = v
                    gx[base + 2 * c + 1] = v
                    gx[base + n2 + 2 * c] = v
                    gx[base + n2 + 2 * c + 1] = v
                out += g.o[2]
        return
    for a in range(g.o[0]):
        for b in range(g.o[1]):
            for c in range(g.o[2]):
                v = <floating> (gy[out] / _avg_divisor(g, a, b, c, first, count))
                for j0 in range(count[0]):
                    for j1 in range(count[1]):
                        base = ((first[0] + j0) * n1 + first[1] + j1) * n2 + first[2]
                        for j2 in range(count[2]):
                            gx[base + j2] += v
                out += 1


# --- plane dispatchers: serial, or prange over planes -----------------------

cdef int _max_pool(const floating[:, ::1] x, floating[:, ::1] y, int64_t[:, ::1] ind,
                   Geom g, int nt) except -1:
    cdef Py_ssize_t i
    with nogil:
        if nt == 1:
            for i in range(x.shape[0]):
                _max_plane(&x[i, 0], &y[i, 0], &ind[i, 0], &g)
        else:
            for i in prange(x.shape[0], num_threads=nt, schedule="static"):
                _max_plane(&x[i, 0], &y[i, 0], &ind[i, 0], &g)
    return 0


cdef Py_ssize_t _max_pool_back(const floating[:, ::1] gy, const int64_t[:, ::1] ind,
                               floating[:, ::1] gx, int nt) except -1:
    cdef Py_ssize_t i, bad = 0
    with nogil:
        if nt == 1:
            for i in range(gy.shape[0]):
                bad += _max_back_plane(&gy[i, 0], &ind[i, 0], &gx[i, 0], gy.shape[1],
                                       gx.shape[1])
        else:
            for i in prange(gy.shape[0], num_threads=nt, schedule="static"):
                bad += _max_back_plane(&gy[i, 0], &ind[i, 0], &gx[i, 0], gy.shape[1],
                                       gx.shape[1])
    return bad


cdef int _avg_pool(const floating[:, ::1] x, floating[:, ::1] y, Geom g, int nt) except -1:
    cdef Py_ssize_t i
    with nogil:
        if nt == 1:
            for i in range(x.shape[0]):
                _avg_plane(&x[i, 0], &y[i, 0], &g)
        else:
            for i in prange(x.shape[0], num_threads=nt, schedule="static"):
                _avg_plane(&x[i, 0], &y[i, 0], &g)
    return 0


cdef int _avg_pool_back(const floating[:, ::1] gy, floating[:, ::1] gx, Geom g,
                        int nt) except -1:
    cdef Py_ssize_t i
    with nogil:
        if nt == 1:
            for i in range(gy.shape[0]):
                _avg_back_plane(&gy[i, 0], &gx[i, 0], &g)
        else:
            for i in prange(gy.shape[0], num_threads=nt, schedule="static"):
                _avg_back_plane(&gy[i, 0], &gx[i, 0], &g)
    return 0


# ---------------------------------------------------------------------------
# Python side
# ---------------------------------------------------------------------------

cdef object _attach_windows(Geom* g):
    """Fill ``g.win`` from the geometry; returns the table, which must stay
    alive while ``g`` is used."""
    tables = []
    for ax in range(3):
        start = np.arange(g.o[ax]) * g.s[ax] - g.p[ax]
        dl = g.dl[ax]
        first = np.where(start < 0, start + (-start + dl - 1) // dl * dl, start)
        last = np.minimum(start + (g.k[ax] - 1) * dl, g.n[ax] - 1)
        count = np.where(last >= first, (last - first) // dl + 1, 0)
        pool = np.minimum(start + g.k[ax], g.n[ax] + g.p[ax]) - start
        tables += [first, count, pool]
    table = np.ascontiguousarray(np.concatenate(tables), dtype=np.intp)
    cdef Py_ssize_t[::1] view = table
    cdef Py_ssize_t off = 0
    for ax in range(3):
        g.win[ax] = &view[off]
        off += 3 * g.o[ax]
    return table


def max_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode, *,
                     n_threads=None):
    """Max pooling over the spatial axes of ``x`` (N, C, *spatial).

    Parameters
    ----------
    x : array-like of shape (N, C, L), (N, C, H, W) or (N, C, D, H, W)
    kernel_size, stride, padding, dilation : tuple of d ints
        ``stride=None`` means ``kernel_size``. Padding counts as ``-inf``
        and may be at most half the dilated kernel.
    ceil_mode : bool
    n_threads : int, optional
        OpenMP threads over the N * C planes (None: see the module docstring).

    Returns
    -------
    y : ndarray of shape (N, C, *out), x's dtype
    indices : int64 ndarray of shape (N, C, *out)
        Flat index of each maximum within its (n, c) input plane; NaN wins
        (the last one), ties keep the first; -1 for a window of padding only.
    """
    kernel = "max_pool_forward"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    k, s, p, dl, out = pool_geometry(kernel, x.shape, kernel_size, stride, padding,
                                     dilation, ceil_mode)
    shape = x.shape[:2] + out
    x2 = _planes(x, dtype)
    y = _empty_planes(shape, dtype)
    ind = _empty_planes(shape, np.int64)
    cdef Geom g = _geom(x.shape[2:], out, k, s, p, dl)
    table = _attach_windows(&g)
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(x2, y):
        if dtype == FLOAT32:
            _max_pool[float](x2, y, ind, g, nt)
        else:
            _max_pool[double](x2, y, ind, g, nt)
    return y.reshape(shape), ind.reshape(shape)


def max_pool_backward(grad_y, indices, input_shape, *, n_threads=None):
    """Gradient of a max pool: ``grad_y`` scatter-added through ``indices``.

    Parameters
    ----------
    grad_y : array-like of shape (N, C, *out)
    indices : int array-like of shape (N, C, *out)
        From ``max_pool_forward`` or ``adaptive_max_pool_forward``; -1
        entries contribute nothing.
    input_shape : tuple (N, C, *spatial)
    n_threads : int, optional

    Returns
    -------
    grad_x : ndarray of shape ``input_shape``, grad_y's dtype
    """
    kernel = "max_pool_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y))
    grad_y = as_array(grad_y)
    indices = as_array(indices)
    shape = input_shape_tuple(kernel, input_shape)
    check_pool_indices(kernel, grad_y, indices, shape)
    gy = _planes(grad_y, dtype)
    ind = _planes(indices, np.int64)
    gx = _zero_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, gx.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    bad = 0
    if _nonempty(gy, gx):
        if dtype == FLOAT32:
            bad = _max_pool_back[float](gy, ind, gx, nt)
        else:
            bad = _max_pool_back[double](gy, ind, gx, nt)
    if bad:
        raise pool_indices_error(kernel, bad, shape)
    return gx.reshape(shape)


def avg_pool_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override=None, *, n_threads=None):
    """Average pooling over the spatial axes of ``x`` (N, C, *spatial).

    Parameters
    ----------
    x : array-like of shape (N, C, *spatial), 1 to 3 spatial axes
    kernel_size, stride, padding : tuple of d ints
        Zero padding, at most half the kernel; ``stride=None`` means
        ``kernel_size``.
    ceil_mode, count_include_pad : bool
    divisor_override : int, optional
    n_threads : int, optional

    Returns
    -------
    y : ndarray of shape (N, C, *out)
    """
    kernel = "avg_pool_forward"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{kernel}: divisor_override must be non-zero; got 0.")
    k, s, p, _, out = pool_geometry(kernel, x.shape, kernel_size, stride, padding, 1,
                                    ceil_mode, dilated=False)
    shape = x.shape[:2] + out
    x2 = _planes(x, dtype)
    y = _empty_planes(shape, dtype)
    cdef Geom g = _geom(x.shape[2:], out, k, s, p)
    g.div = 0.0 if divisor_override is None else float(divisor_override)
    g.include_pad = bool(count_include_pad)
    table = _attach_windows(&g)
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(x2, y):
        if dtype == FLOAT32:
            _avg_pool[float](x2, y, g, nt)
        else:
            _avg_pool[double](x2, y, g, nt)
    return y.reshape(shape)


def avg_pool_backward(grad_y, input_shape, kernel_size, stride, padding, ceil_mode,
                      count_include_pad, divisor_override=None, *, n_threads=None):
    """Gradient of ``avg_pool_forward`` with respect to its input.

    Parameters
    ----------
    grad_y : array-like of shape (N, C, *out)
    input_shape : tuple (N, C, *spatial)
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override :
        as in the forward.
    n_threads : int, optional

    Returns
    -------
    grad_x : ndarray of shape ``input_shape``
    """
    kernel = "avg_pool_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y))
    grad_y = as_array(grad_y)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{kernel}: divisor_override must be non-zero; got 0.")
    shape = input_shape_tuple(kernel, input_shape)
    k, s, p, _, out = pool_geometry(kernel, shape, kernel_size, stride, padding, 1,
                                    ceil_mode, dilated=False)
    check_grad_shape(kernel, grad_y, shape[:2] + out, f"input_shape {shape}")
    gy = _planes(grad_y, dtype)
    cdef Geom g = _geom(shape[2:], out, k, s, p)
    g.div = 0.0 if divisor_override is None else float(divisor_override)
    g.include_pad = bool(count_include_pad)
    table = _attach_windows(&g)
    # The 2x2 loop writes every input element it covers; others stay zero.
    gx = _zero_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, gx.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if _nonempty(gy, gx):
        if dtype == FLOAT32:
            _avg_pool_back[float](gy, gx, g, nt)
        else:
            _avg_pool_back[double](gy, gx, g, nt)
    return gx.reshape(shape)
