"""The direct convolution path (depthwise convs), CPU, nogil.

Taken by ``_conv_gemm._path`` when every group has one input channel and at
most ``DIRECT_MAX_PER_GROUP`` output channels (depthwise convs), where a
GEMM would have an inner size of prod(K) (e.g. 9) and im2col would copy the
input 9 times. Each input channel is copied into a zero-padded plane (whose
border is zeroed once per call); with unit strides the whole output of one
tap is then a single contiguous run of the padded volume (the junk columns
between rows are computed and dropped), so the loops are long and
vectorise. Unit strides run plane by plane in memory order, all taps in one
register-blocked pass; the input gradient is the same correlation with
flipped taps (a gather, not a scatter) written straight into gx, the weight
gradient a dot product per tap (all taps in one pass over gy) and the bias
gradient a sum of each gy plane while it is in cache. Strided direct convs
keep per-tap loops, channel by channel.

The loops over the planes are in ``_loops_conv.pxi``, part of the
``_loops`` / ``_loops_avx2`` pair (built for the baseline and for
AVX2+FMA, picked by ``_cpu.use_avx2()``), together with the float32 C
loops they call (``src/skn_depthwise.h``: one-pass correlation, tap dot
products, row copies, plane sums); this module sets up the padded
geometry and the scratch, and calls them.

Measured on the 2-core development machine (AMD EPYC, one thread; shared,
so +-20 %), batch 64, float32, depthwise 64x14x14, 3x3, padding 1,
forward + input/weight/bias gradients: 1.4-1.9 ms (torch 2.13 CPU 2.5-3.9,
the numpy ``_xp`` reference 45-70); 5.7-6.5 before the one-pass C loops,
2.6 with the baseline build.

Path choice, measured on the same shapes: for one input channel per group
the direct loops beat im2col + GEMM up to 2 output channels per group
(depthwise 16x14x14: 1.0 vs 2.7 ms) and lose from 4 on (1 -> 8 channels
at 28x28: 1.3 vs 0.7 ms), hence ``DIRECT_MAX_PER_GROUP``. On the depthwise
case (perf, forward + backward): one C pass over all taps and planes in
memory order instead of channel-major (the work is bound by memory: the
channel-major walk jumped C planes at a time past the prefetcher), short
row copies without memcpy calls (a third of the time), gx written instead
of pre-filled and added to, and the bias gradient taken from gy while it
is in cache took it from 6 ms to 1.4-1.9. Threads: unit strides split the
batch into one contiguous block per thread (a prange over the channels
showed no gain with 2 threads; blocks of samples keep each thread's walk
in memory order); strided direct convs run on one thread.
"""

from libc.string cimport memset

import numpy as np

from cython.parallel cimport prange

cimport sklears_neural._kernels._loops as base
cimport sklears_neural._kernels._loops_avx2 as avx2
cimport sklears_neural._kernels._loops_avx512 as avx512
from sklears_neural._kernels._conv_geom cimport Geom, Padded, _prod
from sklears_neural._kernels._cpu cimport use_avx2, use_avx512
from sklears_neural._kernels._fused cimport floating


cdef inline Py_ssize_t _tap_offset(const Geom* g, const Padded* q, Py_ssize_t kd,
                                   Py_ssize_t kh, Py_ssize_t kw) noexcept nogil:
    return (kd * g.dd * q.Hp + kh * g.dh) * q.Wp + kw * g.dw


cdef Padded _padded(const Geom* g, Py_ssize_t[::1] offsets) noexcept:
    """The padded geometry; ``offsets`` (2 * kk values) receives off and noff."""
    cdef Padded q
    cdef Py_ssize_t t
    q.Dp = g.D + 2 * g.pd
    q.Hp = g.H + 2 * g.ph
    q.Wp = g.W + 2 * g.pw
    q.P = q.Dp * q.Hp * q.Wp
    q.per = g.c_out // g.C
    q.kk = g.KD * g.KH * g.KW
    q.padded = g.pd != 0 or g.ph != 0 or g.pw != 0
    q.flat = g.sd == 1 and g.sh == 1 and g.sw == 1
    if q.flat:
        q.Lw = ((g.OD - 1) * q.Hp + g.OH - 1) * q.Wp + g.OW
    else:
        q.Lw = g.OW
    q.off = &offsets[0]
    q.noff = &offsets[q.kk]
    for t in range(q.kk):
        q.off[t] = _tap_offset(g, &q, t // (g.KH * g.KW), (t // g.KW) % g.KH, t % g.KW)
        q.noff[t] = -q.off[t]
    return q


cdef object _tap_offsets(dict d):
    """Room for the taps' offsets in the padded volume (``_padded`` fills it)."""
    return np.empty(2 * _prod(d["kernel"]), dtype=np.intp)


cdef inline void _flat_forward(Py_ssize_t N, const floating* x, const floating* w,
                               const floating* b, floating* y, floating* scratch,
                               const Geom* g, const Padded* q) noexcept nogil:
    """Unit-stride forward of N samples with one thread's scratch."""
    memset(scratch, 0, q.P * sizeof(floating))  # the padded plane's border stays zero
    if use_avx512():
        avx512.direct_forward_flat(N, x, w, b, y, scratch, scratch + q.P, g, q)
    elif use_avx2():
        avx2.direct_forward_flat(N, x, w, b, y, scratch, scratch + q.P, g, q)
    else:
        base.direct_forward_flat(N, x, w, b, y, scratch, scratch + q.P, g, q)


cdef int _direct_forward(const floating[:, ::1] x, const floating[:, ::1] w,
                         const floating[::1] b, bint has_bias, floating[:, ::1] y,
                         floating[::1] scratch, Py_ssize_t[::1] offsets,
                         const Geom* g, int n_threads=1) except -1:
    """y = conv(x) (+ b) when each group has one input channel.

    Unit strides split the batch into ``n_threads`` contiguous blocks, one per
    thread, each with its slice of ``scratch`` (``n_threads`` times
    ``_direct_scratch_size``); strided convs run on one thread.
    """
    cdef Padded q = _padded(g, offsets)
    cdef Py_ssize_t ci, t, n0, n1
    cdef Py_ssize_t N = x.shape[0]
    cdef Py_ssize_t per = scratch.shape[0] // n_threads
    cdef const floating* bp = &b[0] if has_bias else NULL
    with nogil:
        if q.flat and n_threads > 1:
            for t in prange(n_threads, num_threads=n_threads, schedule="static"):
                n0 = N * t // n_threads
                n1 = N * (t + 1) // n_threads
                if n1 > n0:
                    _flat_forward(n1 - n0, &x[n0, 0], &w[0, 0], bp, &y[n0, 0],
                                  &scratch[t * per], g, &q)
        elif q.flat:
            _flat_forward(N, &x[0, 0], &w[0, 0], bp, &y[0, 0], &scratch[0], g, &q)
        else:
            memset(&scratch[0], 0, q.P * sizeof(floating))
            for ci in range(g.C):
                if use_avx512():
                    avx512.direct_forward_group(ci, N, &x[0, 0], &w[0, 0], bp, &y[0, 0],
                                                &scratch[0], g, &q)
                elif use_avx2():
                    avx2.direct_forward_group(ci, N, &x[0, 0], &w[0, 0], bp, &y[0, 0],
                                              &scratch[0], g, &q)
                else:
                    base.direct_forward_group(ci, N, &x[0, 0], &w[0, 0], bp, &y[0, 0],
                                              &scratch[0], g, &q)
    return 0


cdef inline void _flat_backward(Py_ssize_t N, const floating* gy, const floating* xp,
                                const floating* wp, const floating* ip, floating* gxp,
                                double* gwa, double* gba, floating* scratch, const Geom* g,
                                const Padded* q) noexcept nogil:
    """Unit-stride backward of N samples with one thread's scratch and accumulators."""
    # xpad's border and gyext's margin and junk columns stay zero
    memset(scratch, 0, q.P * sizeof(floating))
    memset(scratch + 2 * q.P, 0, 2 * q.P * sizeof(floating))
    if use_avx512():
        avx512.direct_backward_flat(N, gy, xp, wp, ip, gxp, gwa, gba, scratch,
                                    scratch + q.P, scratch + 2 * q.P, g, q)
    elif use_avx2():
        avx2.direct_backward_flat(N, gy, xp, wp, ip, gxp, gwa, gba, scratch,
                                  scratch + q.P, scratch + 2 * q.P, g, q)
    else:
        base.direct_backward_flat(N, gy, xp, wp, ip, gxp, gwa, gba, scratch,
                                  scratch + q.P, scratch + 2 * q.P, g, q)


cdef int _direct_backward(const floating[:, ::1] gy, const floating[:, ::1] x,
                          const floating[:, ::1] w, const floating[::1] init,
                          bint has_init, floating[:, ::1] gx, floating[:, ::1] gw,
                          double[:, ::1] gw_acc, double[:, ::1] gb_acc, bint need_x,
                          bint need_w, bint need_b, floating[::1] scratch,
                          Py_ssize_t[::1] offsets, const Geom* g, int n_threads=1) except -1:
    """Gradients of ``_direct_forward``; gw is zeroed. Unit strides: gx is
    written (from init), the zeroed rows of gw_acc and gb_acc (one per
    thread) receive the weight and bias gradients of the block of samples
    that thread ran (gb_acc only there), and gw gets their sum. Otherwise gx
    is pre-filled and one thread runs."""
    cdef Padded q = _padded(g, offsets)
    cdef Py_ssize_t ci, t, j, n0, n1
    cdef Py_ssize_t N = gy.shape[0]
    cdef Py_ssize_t per = scratch.shape[0] // n_threads
    cdef Py_ssize_t xs = x.shape[1], gys = gy.shape[1], gxs = gx.shape[1]
    cdef const floating* xp = &x[0, 0] if need_w else NULL
    cdef const floating* wp = &w[0, 0] if need_x else NULL
    cdef const floating* ip = &init[0] if has_init else NULL
    cdef floating* gxp = &gx[0, 0] if need_x else NULL
    cdef floating* gwp = &gw[0, 0] if need_w else NULL
    cdef double acc
    cdef Py_ssize_t o1 = q.P, o3 = 4 * q.P
    with nogil:
        if q.flat:
            if n_threads > 1:
                for t in prange(n_threads, num_threads=n_threads, schedule="static"):
                    n0 = N * t // n_threads
                    n1 = N * (t + 1) // n_threads
                    if n1 > n0:
                        _flat_backward(n1 - n0, &gy[0, 0] + n0 * gys,
                                       xp + n0 * xs if need_w else NULL, wp, ip,
                                       gxp + n0 * gxs if need_x else NULL,
                                       &gw_acc[t, 0] if need_w else NULL,
                                       &gb_acc[t, 0] if need_b else NULL,
                                       &scratch[t * per], g, &q)
            else:
                _flat_backward(N, &gy[0, 0], xp, wp, ip, gxp,
                               &gw_acc[0, 0] if need_w else NULL,
                               &gb_acc[0, 0] if need_b else NULL, &scratch[0], g, &q)
            if need_w:
                for j in range(g.c_out * q.kk):
                    acc = 0
                    for t in range(n_threads):
                        acc += gw_acc[t, j]
                    gwp[j] = <floating> acc
        else:
            memset(&scratch[0], 0, q.P * sizeof(floating))
            memset(&scratch[2 * q.P], 0, 2 * q.P * sizeof(floating))
            for ci in range(g.C):
                if use_avx512():
                    avx512.direct_backward_group(ci, N, &gy[0, 0], xp, wp, gxp, gwp,
                                                 &scratch[0], &scratch[o1], &scratch[o3], g, &q)
                elif use_avx2():
                    avx2.direct_backward_group(ci, N, &gy[0, 0], xp, wp, gxp, gwp,
                                               &scratch[0], &scratch[o1], &scratch[o3], g, &q)
                else:
                    base.direct_backward_group(ci, N, &gy[0, 0], xp, wp, gxp, gwp,
                                               &scratch[0], &scratch[o1], &scratch[o3], g, &q)
    return 0


cdef object _direct_scratch_size(dict d):
    """Values of per-thread scratch the direct path needs."""
    spatial = (1,) * (3 - d["d"]) + d["spatial"]
    out = (1,) * (3 - d["d"]) + d["out"]
    padding = (0,) * (3 - d["d"]) + d["padding"]
    dp, hp, wp = (s + 2 * p for s, p in zip(spatial, padding))
    if all(s == 1 for s in d["stride"]):
        lw = ((out[0] - 1) * hp + out[1] - 1) * wp + out[2]
    else:
        lw = out[2]
    per = d["c_out"] // d["c_in"]
    # xpad, gxpad, gy with its margin (< 2 volumes), then the weight-gradient
    # accumulators (Lw values per tap, or one double per tap), rounded up to
    # 8 values (room for the doubles however P falls).
    size = 4 * dp * hp * wp + per * _prod(d["kernel"]) * (lw + 2)
    return (size + 7) // 8 * 8
