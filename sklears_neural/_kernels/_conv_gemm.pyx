"""The GEMM convolution paths, and the drivers that run a convolution (CPU).

``_run_forward`` / ``_run_backward`` run a convolution given its geometry
(a dict of ``sklears_neural._specs._conv``; a transposed convolution is
the same convolution seen from the other side, see ``_conv``). ``_path``
picks one of three paths per call; the loops over the batch are
``_forward`` / ``_backward`` here for the first two, ``_conv_direct`` for
the third:

* GEMM: im2col of sample n into a reused (C_in * prod(K), L) buffer, then one
  GEMM per group writing straight into y[n] (C_out x L is already NC*spatial
  order: no transpose). Backward recomputes the columns, accumulates
  ``gW += gY[n] @ cols^T`` and scatters ``W^T @ gY[n]`` back with col2im.
* 1x1, stride 1, no padding: sample n already *is* its column matrix; no
  im2col and no col2im.
* direct: one input channel and at most ``DIRECT_MAX_PER_GROUP`` output
  channels per group (depthwise convs); see ``_conv_direct``.

On the GEMM path, ``_run_forward`` / ``_run_backward`` hand each product
(forward, input gradient, weight gradient) to ``_conv_implicit`` where that
applies and is the faster (``_takes_implicit``): stride-1 float32 convs on
AVX-512 CPUs.

Measured (batch 64, float32, forward + all gradients, 3x3, padding 1, one
thread, in ms, ours / torch 2.13 CPU / numpy ``_xp``): 1x28x28 -> 32
channels 1.7 / 7.5 / 2.6, 32x14x14 -> 64 channels 20.8 / 14.6 / 32-45 (see
``_conv`` for the conditions). The GEMM and 1x1 drivers split the batch
over the OpenMP pool, one whole sample per iteration, each thread with its
own column buffers and weight-gradient accumulator and the BLAS held to one
thread (``_gemm_threads`` decides how many; ``_conv`` has the measurements).
"""

from contextlib import nullcontext

import numpy as np

from cython.parallel cimport prange, threadid
from libc.string cimport memcpy, memset

from sklears_neural._kernels._blas cimport gemm_rowmajor
from sklears_neural._kernels._conv_direct cimport (
    _direct_backward,
    _direct_forward,
    _direct_scratch_size,
    _tap_offsets,
)
from sklears_neural._kernels._conv_geom cimport (
    PATH_1X1,
    PATH_DIRECT,
    PATH_GEMM,
    Geom,
    _geom_of,
    _prod,
    _sum,
)
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport (
    resolve_batch_threads,
    skn_omp_get_max_threads,
)

from sklears_neural._specs._arrays import FLOAT32, c_array
from sklears_neural._kernels._blas import products_on_own_gemm
from sklears_neural._kernels._conv_implicit import (
    implicit_backward,
    implicit_forward,
    implicit_ok,
)
from sklears_neural._threads import batch_threads, serial_blas

# Below this many multiply-adds per call the GEMM paths stay on one thread
# when n_threads is None. Measured (2 cores, forward + backward, 3x3 convs,
# quiet machine): 2 threads gain 1.05x at 5k MACs (batch 2, 1x8x8 -> 4), 1.18x
# at 37k, 1.46-1.48x at 221k-295k and 1.72-1.84x from 885k on; the threshold
# keeps the small calls serial, where a parallel region next to a BLAS pool
# on other layers would cost more than it gains.
PARALLEL_MIN_WORK = 2**16


# ---------------------------------------------------------------------------
# nogil parts (one sample at a time; arrays are C-contiguous)
# ---------------------------------------------------------------------------

cdef inline void _valid(Py_ssize_t off, Py_ssize_t step, Py_ssize_t size,
                        Py_ssize_t n_out, Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """[lo, hi): the outputs o < n_out with 0 <= o * step + off < size."""
    cdef Py_ssize_t a = 0, b = 0
    if off < 0:
        a = (step - 1 - off) // step
    if size - off > 0:
        b = (size - 1 - off) // step + 1
    if b > n_out:
        b = n_out
    if a > b:
        a = b
    lo[0] = a
    hi[0] = b


cdef void _im2col_same_width(const floating* x, floating* cols,
                             const Geom* g) noexcept nogil:
    """``_im2col`` for one depth slice, unit strides and dilations and OW == W
    (a "same" 2-D or 1-D conv): each (channel, tap) block is one shifted run
    of the image plane, copied at once; then the columns that fell off a row's
    edge (and read a neighbouring row) are zeroed. A 32x14x14 -> 64 conv's
    im2col took 13 % of its forward + backward as row-by-row copies."""
    cdef Py_ssize_t W = g.W, HW = g.H * g.W, L = g.OH * g.W
    cdef Py_ssize_t c, kh, kw, shift_h, shift_w, shift, oh_lo, oh_hi, start, stop, a, b
    cdef Py_ssize_t oh, ow
    cdef const floating* xc
    cdef floating* o = cols
    for c in range(g.C):
        xc = x + c * HW
        for kh in range(g.KH):
            shift_h = kh - g.ph
            _valid(shift_h, 1, g.H, g.OH, &oh_lo, &oh_hi)
            start = oh_lo * W
            stop = oh_hi * W
            for kw in range(g.KW):
                shift_w = kw - g.pw
                shift = shift_h * W + shift_w  # output position p reads plane index p + shift
                memset(o, 0, start * sizeof(floating))
                memset(o + stop, 0, (L - stop) * sizeof(floating))
                a = start if start + shift >= 0 else -shift
                b = stop if stop + shift <= HW else HW - shift
                if b > a:
                    memcpy(o + a, xc + a + shift, (b - a) * sizeof(floating))
                for ow in range(start, a if a < stop else stop):
                    o[ow] = 0
                for ow in range(b if b > start else start, stop):
                    o[ow] = 0
                for oh in range(oh_lo, oh_hi):
                    for ow in range(-shift_w):  # columns left of the image
                        o[oh * W + ow] = 0
                    for ow in range(W - shift_w, W):  # columns right of it
                        o[oh * W + ow] = 0
                o += L


cdef void _im2col(const floating* x, floating* cols, const Geom* g) noexcept nogil:
    """cols (C * KD*KH*KW, OD*OH*OW) of one image x (C, D, H, W)."""
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t c, kd, kh, kw, od, oh, ow, lo, hi, id_, ih, off, base
    cdef const floating* xc
    cdef floating* o = cols
    if (g.D == 1 and g.KD == 1 and g.OD == 1 and g.pd == 0 and g.sh == 1 and g.sw == 1
            and g.dh == 1 and g.dw == 1 and g.OW == g.W and g.pw < g.W
            and g.KW - 1 - g.pw < g.W):
        _im2col_same_width(x, cols, g)
        return
    for c in range(g.C):
        xc = x + c * DHW
        for kd in range(g.KD):
            for kh in range(g.KH):
                for kw in range(g.KW):
                    off = kw * g.dw - g.pw
                    _valid(off, g.sw, g.W, g.OW, &lo, &hi)
                    for od in range(g.OD):
                        id_ = od * g.sd + kd * g.dd - g.pd
                        for oh in range(g.OH):
                            ih = oh * g.sh + kh * g.dh - g.ph
                            if id_ < 0 or id_ >= g.D or ih < 0 or ih >= g.H:
                                memset(o, 0, g.OW * sizeof(floating))
                            else:
                                base = (id_ * g.H + ih) * g.W + off
                                for ow in range(lo):
                                    o[ow] = 0
                                if g.sw == 1:
                                    for ow in range(lo, hi):
                                        o[ow] = xc[base + ow]
                                else:
                                    for ow in range(lo, hi):
                                        o[ow] = xc[base + ow * g.sw]
                                for ow in range(hi, g.OW):
                                    o[ow] = 0
                            o += g.OW


cdef void _col2im(const floating* cols, floating* x, const Geom* g) noexcept nogil:
    """x (C, D, H, W) += the columns scattered back (the adjoint of _im2col)."""
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t c, kd, kh, kw, od, oh, ow, lo, hi, id_, ih, off, base
    cdef floating* xc
    cdef const floating* o = cols
    for c in range(g.C):
        xc = x + c * DHW
        for kd in range(g.KD):
            for kh in range(g.KH):
                for kw in range(g.KW):
                    off = kw * g.dw - g.pw
                    _valid(off, g.sw, g.W, g.OW, &lo, &hi)
                    for od in range(g.OD):
                        id_ = od * g.sd + kd * g.dd - g.pd
                        for oh in range(g.OH):
                            ih = oh * g.sh + kh * g.dh - g.ph
                            if not (id_ < 0 or id_ >= g.D or ih < 0 or ih >= g.H):
                                base = (id_ * g.H + ih) * g.W + off
                                if g.sw == 1:
                                    for ow in range(lo, hi):
                                        xc[base + ow] += o[ow]
                                else:
                                    for ow in range(lo, hi):
                                        xc[base + ow * g.sw] += o[ow]
                            o += g.OW


cdef void _fill_channels(floating* y, const floating* b, Py_ssize_t channels,
                         Py_ssize_t size) noexcept nogil:
    """y (channels, size) = b[c] in row c (zeros when b is NULL)."""
    cdef Py_ssize_t c, i
    cdef floating v
    if b == NULL:
        memset(y, 0, channels * size * sizeof(floating))
        return
    for c in range(channels):
        v = b[c]
        for i in range(size):
            y[c * size + i] = v


# ---------------------------------------------------------------------------
# Drivers over the batch
# ---------------------------------------------------------------------------

cdef void _forward_sample(const floating* xn, const floating* w, const floating* b,
                          floating* yn, floating* cols, const Geom* g,
                          int path) noexcept nogil:
    """y[n] = conv(x[n]) (+ b) for one sample; ``cols`` is this thread's buffer."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef int cog = <int> (g.c_out // g.groups)
    cdef int ck = <int> (g.C // g.groups * g.KD * g.KH * g.KW)
    cdef Py_ssize_t grp
    cdef const floating* colsp = xn
    if b != NULL:
        _fill_channels(yn, b, g.c_out, L)
    if path != PATH_1X1:
        _im2col(xn, cols, g)
        colsp = cols
    for grp in range(g.groups):
        gemm_rowmajor(False, False, cog, <int> L, ck, 1, w + grp * cog * ck, ck,
                      colsp + grp * ck * L, <int> L, 1 if b != NULL else 0,
                      yn + grp * cog * L, <int> L)


cdef int _forward(const floating[:, ::1] x, const floating[:, ::1] w,
                  const floating[::1] b, bint has_bias, floating[:, ::1] y,
                  floating[::1] cols, const Geom* g, int path, int n_threads) except -1:
    """y[n] = conv(x[n]) (+ b) for every sample n, the samples split over
    ``n_threads`` threads (static schedule), each with its slice of ``cols``."""
    cdef Py_ssize_t N = x.shape[0]
    cdef Py_ssize_t per = cols.shape[0] // n_threads
    cdef Py_ssize_t n
    cdef const floating* bp = &b[0] if has_bias else NULL
    with nogil:
        if n_threads == 1:
            for n in range(N):
                _forward_sample(&x[n, 0], &w[0, 0], bp, &y[n, 0], &cols[0], g, path)
        else:
            for n in prange(N, num_threads=n_threads, schedule="static"):
                _forward_sample(&x[n, 0], &w[0, 0], bp, &y[n, 0], &cols[threadid() * per],
                                g, path)
    return 0


cdef void _backward_sample(const floating* gyn, const floating* xn, const floating* w,
                           floating* gxn, floating* gw, const floating* init,
                           floating* cols, floating* gcols, const Geom* g,
                           int path) noexcept nogil:
    """One sample's share: gx[n] (from ``init`` per channel, else 0) when ``gxn``
    is set, and gw += its weight gradient when ``gw`` is set (``gw`` and the
    buffers belong to the calling thread)."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef int cog = <int> (g.c_out // g.groups)
    cdef int ck = <int> (g.C // g.groups * g.KD * g.KH * g.KW)
    cdef Py_ssize_t grp
    cdef const floating* colsp = xn
    cdef floating* tgt
    if gxn != NULL:
        _fill_channels(gxn, init, g.C, DHW)
    if gw != NULL:
        if path != PATH_1X1:
            _im2col(xn, cols, g)
            colsp = cols
        for grp in range(g.groups):
            gemm_rowmajor(False, True, cog, ck, <int> L, 1, gyn + grp * cog * L,
                          <int> L, colsp + grp * ck * L, <int> L, 1,
                          gw + grp * cog * ck, ck)
    if gxn != NULL:
        tgt = gxn if path == PATH_1X1 else gcols
        for grp in range(g.groups):
            gemm_rowmajor(True, False, ck, <int> L, cog, 1, w + grp * cog * ck, ck,
                          gyn + grp * cog * L, <int> L,
                          1 if path == PATH_1X1 else 0, tgt + grp * ck * L, <int> L)
        if path != PATH_1X1:
            _col2im(gcols, gxn, g)


cdef int _backward(const floating[:, ::1] gy, const floating[:, ::1] x,
                   const floating[:, ::1] w, floating[:, ::1] gx, floating[:, :, ::1] gw,
                   const floating[::1] gx_init, bint has_init, floating[::1] cols,
                   floating[::1] gcols, const Geom* g, int path, bint need_x,
                   bint need_w, int n_threads) except -1:
    """gx[n] = input gradient (starting from gx_init per channel, else 0) for
    every sample, and gw[t] += the weight gradient of the samples thread t ran
    (the caller sums the per-thread slices); x is read only for gw, w only
    for gx."""
    cdef Py_ssize_t N = gy.shape[0]
    cdef Py_ssize_t per = cols.shape[0] // n_threads
    cdef Py_ssize_t gper = gcols.shape[0] // n_threads
    cdef Py_ssize_t n, t
    cdef const floating* init = &gx_init[0] if has_init else NULL
    with nogil:
        if n_threads == 1:
            for n in range(N):
                _backward_sample(&gy[n, 0], &x[n, 0] if need_w else NULL, &w[0, 0],
                                 &gx[n, 0] if need_x else NULL,
                                 &gw[0, 0, 0] if need_w else NULL, init, &cols[0],
                                 &gcols[0], g, path)
        else:
            for n in prange(N, num_threads=n_threads, schedule="static"):
                t = threadid()
                _backward_sample(&gy[n, 0], &x[n, 0] if need_w else NULL, &w[0, 0],
                                 &gx[n, 0] if need_x else NULL,
                                 &gw[t, 0, 0] if need_w else NULL, init, &cols[t * per],
                                 &gcols[t * gper], g, path)
    return 0


cdef int _channel_sums(const floating[:, ::1] a, Py_ssize_t channels,
                       double[::1] out) except -1:
    """out[c] += sum of a[n, c * size:(c + 1) * size] over n."""
    cdef Py_ssize_t n, c
    cdef Py_ssize_t size = a.shape[1] // channels
    with nogil:
        for n in range(a.shape[0]):
            for c in range(channels):
                out[c] += _sum(&a[n, c * size], size)
    return 0


cdef int _im2col_batch(const floating[:, ::1] x, floating[:, ::1] cols,
                       const Geom* g) except -1:
    cdef Py_ssize_t n
    with nogil:
        for n in range(x.shape[0]):
            _im2col(&x[n, 0], &cols[n, 0], g)
    return 0


cdef int _col2im_batch(const floating[:, ::1] cols, floating[:, ::1] x,
                       const Geom* g) except -1:
    cdef Py_ssize_t n
    with nogil:
        for n in range(x.shape[0]):
            memset(&x[n, 0], 0, x.shape[1] * sizeof(floating))
            _col2im(&cols[n, 0], &x[n, 0], g)
    return 0


# ---------------------------------------------------------------------------
# Path choice and the drivers over the paths (called with the GIL)
# ---------------------------------------------------------------------------

# The direct path computes each output channel on its own; from 4 output
# channels per input channel (e.g. a 1-channel image into 32 channels) one
# GEMM over the shared im2col columns is faster (measured, batch 64, 3x3).
DIRECT_MAX_PER_GROUP = 2


def _path(dict d):
    """PATH_DIRECT when each group has one input channel, PATH_1X1 for a
    pointwise conv that reads every input position once, else PATH_GEMM."""
    if d["c_in"] == d["groups"] and d["c_out"] <= DIRECT_MAX_PER_GROUP * d["groups"]:
        return PATH_DIRECT
    # (spatial == out excludes transposed convs whose output_padding adds
    # positions that no input reaches.)
    if (all(k == 1 for k in d["kernel"]) and all(s == 1 for s in d["stride"])
            and not any(d["padding"]) and d["spatial"] == d["out"]):
        return PATH_1X1
    return PATH_GEMM


def _takes_implicit(d, dtype, product, int n_threads):
    """Whether a GEMM-path conv's ``product`` ("forward", "input" or
    "weight") runs on ``_conv_implicit`` instead, with ``n_threads`` over its
    batch: where that path applies, unless a single sample on several cores
    would leave all but one idle (the GEMM path splits that sample's
    products over the threads instead)."""
    return (implicit_ok(d, dtype, product)
            and (d["n"] > 1 or n_threads > 1 or skn_omp_get_max_threads() == 1))


cdef object _rows(a, dtype):
    """``a`` (N, ...) as a C-contiguous (N, prod(...)) array of ``dtype``."""
    a = c_array(a, dtype)
    return a.reshape(a.shape[0], -1)


def _gemm_threads(d, n_threads, dtype):
    """Threads for the GEMM/1x1 paths on geometry ``d``, by the batch policy."""
    work = (d["n"] * d["c_out"] * (d["c_in"] // d["groups"]) * _prod(d["kernel"])
            * _prod(d["out"]))
    return batch_threads(n_threads,
                         resolve_batch_threads(n_threads, d["n"], work, PARALLEL_MIN_WORK),
                         own_products=products_on_own_gemm(dtype))


def _direct_threads(d, n_threads, dtype):
    """Threads for the direct path: unit strides split the batch, strided ones
    run on one thread. The path calls no BLAS: where the products around it
    run on our GEMM too (float32 on AVX-512), it takes its threads whichever
    pool owns the cores."""
    if not all(st == 1 for st in d["stride"]):
        return resolve_batch_threads(n_threads, 1, 0, 1)  # checks n_threads
    work = d["n"] * d["c_out"] * _prod(d["kernel"]) * _prod(d["out"])
    return batch_threads(n_threads,
                         resolve_batch_threads(n_threads, d["n"], work, PARALLEL_MIN_WORK),
                         own_products=products_on_own_gemm(dtype))


cdef object _run_forward(x, w, b, d, dtype, n_threads=None):
    """y (N, c_out, *out) = conv(x, w) + b on a conv geometry ``d``."""
    cdef Geom g = _geom_of(d)
    path = _path(d)
    n = d["n"]
    y = np.empty((n, d["c_out"]) + d["out"], dtype=dtype)
    x2 = _rows(x, dtype)
    w2 = _rows(w, dtype)
    has_bias = b is not None
    b1 = c_array(b, dtype) if has_bias else np.zeros(1, dtype=dtype)
    if path == PATH_DIRECT:
        nt = _direct_threads(d, n_threads, dtype)
        scratch = np.empty(_direct_scratch_size(d) * nt, dtype=dtype)
        offsets = _tap_offsets(d)
        if dtype == FLOAT32:
            _direct_forward[float](x2, w2, b1, has_bias, y.reshape(n, -1), scratch,
                                    offsets, &g, nt)
        else:
            _direct_forward[double](x2, w2, b1, has_bias, y.reshape(n, -1), scratch,
                                    offsets, &g, nt)
        return y
    nt = _gemm_threads(d, n_threads, dtype)
    if path == PATH_GEMM and _takes_implicit(d, dtype, "forward", nt):
        implicit_forward(x2, w2, b1, has_bias, y.reshape(n, -1), d, nt)
        return y
    cols_size = (d["c_in"] * _prod(d["kernel"]) * _prod(d["out"])
                 if path == PATH_GEMM else 1)
    cols = np.empty(cols_size * nt, dtype=dtype)
    with serial_blas() if nt > 1 else nullcontext():
        if dtype == FLOAT32:
            _forward[float](x2, w2, b1, has_bias, y.reshape(n, -1), cols, &g, path, nt)
        else:
            _forward[double](x2, w2, b1, has_bias, y.reshape(n, -1), cols, &g, path, nt)
    return y


cdef object _run_backward(gy, x, w, init, d, dtype, bint need_x, bint need_w,
                          bint need_b=False, n_threads=None):
    """(gx, gw, gb) of the conv with geometry ``d``; gx starts from ``init``
    per channel (a bias, for transposed convs) instead of zeros when given.
    gb (the sums of gy per channel) is computed on the way only by the
    unit-stride direct path, when ``need_b``; it is None otherwise."""
    cdef Geom g = _geom_of(d)
    path = _path(d)
    n = d["n"]
    c_in, c_out, groups = d["c_in"], d["c_out"], d["groups"]
    gy2 = _rows(gy, dtype)
    w_shape = (c_out, c_in // groups) + d["kernel"]
    gx = np.empty((n, c_in) + d["spatial"], dtype=dtype) if need_x else None
    gw = np.zeros(w_shape, dtype=dtype) if need_w else None
    x2 = _rows(x, dtype) if need_w else np.zeros((1, 1), dtype=dtype)
    w2 = _rows(w, dtype) if need_x else np.zeros((1, 1), dtype=dtype)
    gx2 = gx.reshape(n, -1) if need_x else np.zeros((1, 1), dtype=dtype)
    gw2 = gw.reshape(c_out, -1) if need_w else np.zeros((1, 1), dtype=dtype)
    has_init = init is not None
    init1 = c_array(init, dtype) if has_init else np.zeros(1, dtype=dtype)
    if path == PATH_DIRECT:
        flat = all(s == 1 for s in d["stride"])
        need_b = need_b and flat
        if need_x and not flat:
            if has_init:
                gx[...] = init1.reshape((-1,) + (1,) * d["d"])
            else:
                gx.fill(0)
        nt = _direct_threads(d, n_threads, dtype)
        # one row of weight- and bias-gradient accumulators per thread
        gw_acc = np.zeros((nt, c_out * _prod(d["kernel"]) if need_w and flat else 1))
        gb_acc = np.zeros((nt, c_out if need_b else 1))
        scratch = np.empty(_direct_scratch_size(d) * nt, dtype=dtype)
        offsets = _tap_offsets(d)
        if dtype == FLOAT32:
            _direct_backward[float](gy2, x2, w2, init1, has_init, gx2, gw2, gw_acc, gb_acc,
                                    need_x, need_w, need_b, scratch, offsets, &g, nt)
        else:
            _direct_backward[double](gy2, x2, w2, init1, has_init, gx2, gw2, gw_acc, gb_acc,
                                     need_x, need_w, need_b, scratch, offsets, &g, nt)
        return gx, gw, gb_acc.sum(axis=0).astype(dtype) if need_b else None
    nt = _gemm_threads(d, n_threads, dtype)
    if path == PATH_GEMM:
        implicit_x = need_x and _takes_implicit(d, dtype, "input", nt)
        implicit_w = need_w and _takes_implicit(d, dtype, "weight", nt)
        if implicit_x or implicit_w:
            implicit_backward(gy2, x2, w2, gx2, gw2, init1, has_init, d, implicit_x,
                              implicit_w, nt)
            need_x = need_x and not implicit_x
            need_w = need_w and not implicit_w
            if not (need_x or need_w):
                return gx, gw, None
    col_rows = c_in * _prod(d["kernel"])
    L = _prod(d["out"])
    if path == PATH_1X1:
        cols_size, gcols_size = 1, 1
    else:
        cols_size = col_rows * L if need_w else 1
        gcols_size = col_rows * L if need_x else 1
    cols = np.empty(cols_size * nt, dtype=dtype)
    gcols = np.empty(gcols_size * nt, dtype=dtype)
    # One weight-gradient accumulator per thread, summed at the end (the first is
    # gw itself, so one thread adds nothing).
    gw3 = gw2[None] if nt == 1 else np.zeros((nt,) + gw2.shape, dtype=dtype)
    with serial_blas() if nt > 1 else nullcontext():
        if dtype == FLOAT32:
            _backward[float](gy2, x2, w2, gx2, gw3, init1, has_init, cols, gcols, &g,
                             path, need_x, need_w, nt)
        else:
            _backward[double](gy2, x2, w2, gx2, gw3, init1, has_init, cols, gcols, &g,
                              path, need_x, need_w, nt)
    if nt > 1 and need_w:
        np.sum(gw3, axis=0, out=gw2)
    return gx, gw, None


cdef object _bias_grad(gy, channels, dtype):
    """The bias gradient: the sums of ``gy`` (N, channels, ...) per channel."""
    acc = np.zeros(channels, dtype=np.float64)
    gy2 = _rows(gy, dtype)
    if gy2.shape[1]:
        if dtype == FLOAT32:
            _channel_sums[float](gy2, channels, acc)
        else:
            _channel_sums[double](gy2, channels, acc)
    return acc.astype(dtype)
