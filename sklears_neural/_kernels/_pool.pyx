"""Pooling, padding and nearest upsampling (CPU kernels); batch norm is in ``_norm``.

Same names, signatures and results as ``sklears_neural._xp._pool``; the
argument checks and shape arithmetic both share are in
``sklears_neural._specs._pool`` (so both reject the same inputs with the
same messages); here every function takes an extra keyword-only
``n_threads`` (None: one thread).

Every spatial kernel sees its input as ``(planes, D, H, W)``: ``planes`` is
N * C, and 1-D/2-D inputs get leading spatial axes of size 1 (kernel 1,
stride 1, no padding), so one loop nest serves all ranks. Each plane is one
single pass; planes are independent, which is what ``prange`` splits.
The common non-overlapping 2x2 / stride-2 / unpadded window has its own loop.
"""

import numpy as np

cimport cython
from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY, sqrt
from libc.stdint cimport int64_t
from libc.string cimport memcpy

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._kernels._validation import FLOAT32, as_array, float_dtype
from sklears_neural._specs._pool import (
    adaptive_bins,
    adaptive_geometry,
    check_grad_shape,
    input_shape_tuple,
    pad_geometry,
    pad_source_index,
    pool_geometry,
    upsample_factors,
)

__all__ = [
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "adaptive_avg_pool_forward",
    "adaptive_avg_pool_backward",
    "adaptive_max_pool_forward",
    "pad_forward",
    "pad_backward",
    "upsample_nearest_forward",
    "upsample_nearest_backward",
]

# Below this many input elements a kernel runs serially even when n_threads
# asks for more (thread wake-up costs more than the loop).
PARALLEL_MIN_SIZE = 1 << 17


ctypedef struct Geom:
    # Spatial geometry padded to 3 axes (D, H, W).
    Py_ssize_t n[3]   # input sizes
    Py_ssize_t o[3]   # output sizes
    Py_ssize_t k[3]   # kernel
    Py_ssize_t s[3]   # stride
    Py_ssize_t p[3]   # padding
    Py_ssize_t dl[3]  # dilation
    double div        # avg pool: divisor_override, or 0
    bint include_pad  # avg pool: count_include_pad
    # Per axis: first in-bounds element, element count and (avg pool) padded
    # size of every window, o[ax] each (``_window_table``): no integer
    # division per output.
    const Py_ssize_t* win[3]


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


cdef inline bint _takes(floating v, floating best) noexcept nogil:
    """Whether v replaces the running maximum: larger, or NaN (the last NaN
    wins, as in PyTorch). Bitwise or, so the caller's selects stay branchless
    (random data defeats the branch predictor)."""
    return (v > best) | (v != v)


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


# Kernels that also take an index table (bins or pad maps) share one dispatcher.
cdef enum:
    OP_ADAPTIVE_AVG = 0
    OP_ADAPTIVE_AVG_BACK = 1
    OP_PAD = 2
    OP_PAD_BACK = 3


cdef inline void _table_plane(int op, const floating* a, floating* b, const Geom* g,
                              const Py_ssize_t* table) noexcept nogil:
    if op == OP_ADAPTIVE_AVG:
        _adaptive_avg_plane(a, b, g, table)
    elif op == OP_ADAPTIVE_AVG_BACK:
        _adaptive_avg_back_plane(a, b, g, table)
    elif op == OP_PAD:
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

cdef Geom _geom(spatial, out, k=None, s=None, p=None, dl=None):
    """The geometry of a 1- to 3-D problem, padded at the front to 3 axes."""
    cdef Geom g
    cdef int i, lead = 3 - len(spatial)
    for i in range(3):
        j = i - lead
        inside = j >= 0
        g.n[i] = spatial[j] if inside else 1
        g.o[i] = out[j] if inside else 1
        g.k[i] = k[j] if inside and k is not None else 1
        g.s[i] = s[j] if inside and s is not None else 1
        g.p[i] = p[j] if inside and p is not None else 0
        g.dl[i] = dl[j] if inside and dl is not None else 1
    g.div = 0.0
    g.include_pad = True
    g.win[0] = g.win[1] = g.win[2] = NULL
    return g


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


def _prod(shape):
    n = 1
    for v in shape:
        n *= v
    return n


def _planes(a, dtype):
    """``a`` (N, C, *S) as a C-contiguous (N * C, prod(S)) array."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a.reshape(a.shape[0] * a.shape[1], _prod(a.shape[2:]))


def _empty_planes(shape, dtype):
    return np.empty((shape[0] * shape[1], _prod(shape[2:])), dtype=dtype)


def _zero_planes(shape, dtype):
    return np.zeros((shape[0] * shape[1], _prod(shape[2:])), dtype=dtype)


def _nonempty(*arrays):
    return all(a.size for a in arrays)


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
        OpenMP threads over the N * C planes (None: one).

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
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE)
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
    if indices.shape != grad_y.shape or grad_y.shape[:2] != shape[:2]:
        raise ValueError(
            f"{kernel}: grad_y {grad_y.shape} and indices {indices.shape} must have the "
            f"same shape, with input_shape's {shape[:2]} leading axes."
        )
    if indices.dtype.kind not in "iu":
        raise ValueError(f"{kernel}: indices must be integers; got dtype {indices.dtype}.")
    gy = _planes(grad_y, dtype)
    ind = _planes(indices, np.int64)
    gx = _zero_planes(shape, dtype)
    nt = resolve_n_threads(n_threads, gx.size, PARALLEL_MIN_SIZE)
    bad = 0
    if _nonempty(gy, gx):
        if dtype == FLOAT32:
            bad = _max_pool_back[float](gy, ind, gx, nt)
        else:
            bad = _max_pool_back[double](gy, ind, gx, nt)
    if bad:
        raise ValueError(f"{kernel}: {bad} indices are outside the input planes of shape "
                         f"{shape[2:]} (valid: 0 to {gx.shape[1] - 1}, or -1).")
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
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE)
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
    nt = resolve_n_threads(n_threads, gx.size, PARALLEL_MIN_SIZE)
    if _nonempty(gy, gx):
        if dtype == FLOAT32:
            _avg_pool_back[float](gy, gx, g, nt)
        else:
            _avg_pool_back[double](gy, gx, g, nt)
    return gx.reshape(shape)


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
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE)
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
    nt = resolve_n_threads(n_threads, gx.size, PARALLEL_MIN_SIZE)
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
    nt = resolve_n_threads(n_threads, x.size, PARALLEL_MIN_SIZE)
    if _nonempty(x2, y):
        table = _bin_table(x.shape[2:], out)
        if dtype == FLOAT32:
            _adaptive_max[float](x2, y, ind, _geom(x.shape[2:], out), table, nt)
        else:
            _adaptive_max[double](x2, y, ind, _geom(x.shape[2:], out), table, nt)
    return y.reshape(shape), ind.reshape(shape)


# --- padding and upsampling --------------------------------------------------

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
    nt = resolve_n_threads(n_threads, y.size, PARALLEL_MIN_SIZE)
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
    nt = resolve_n_threads(n_threads, gy.size, PARALLEL_MIN_SIZE)
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
    nt = resolve_n_threads(n_threads, y.size, PARALLEL_MIN_SIZE)
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
    nt = resolve_n_threads(n_threads, gy.size, PARALLEL_MIN_SIZE)
    rows = np.empty((max(nt, 1), max(spatial[len(spatial) - 1], 1)))
    if _nonempty(gy, gx):
        if dtype == FLOAT32:
            _upsample_back[float](gy, gx, _geom(spatial, out, f), rows, nt)
        else:
            _upsample_back[double](gy, gx, _geom(spatial, out, f), rows, nt)
    return gx.reshape(shape)
