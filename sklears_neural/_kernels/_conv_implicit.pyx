"""The implicit-GEMM path: stride-1 float32 convolutions on AVX-512 CPUs.

``_conv_gemm`` sends a 1-D or 2-D convolution here (``implicit_ok``) when
its products would run on our AVX-512 GEMM anyway (float32,
``_blas.products_on_own_gemm``) and every stride is 1. Per sample, the
image is copied into zero-padded planes kept per thread, and the products
of ``src/skn_sconv.h`` read it in place through tables of offsets:

* forward: (positions, channels) = the planes' taps @ W^T, no im2col, then
  transposed into the output (bias added on the way);
* input gradient: the same product on the zero-padded output gradient with
  the flipped, transposed weights (a stride-1 convolution's adjoint is a
  stride-1 convolution), no col2im;
* weight gradient: gW^T += the planes' taps @ gY^T, summed over the batch.

The batch is split over the threads, one sample at a time, each thread with
its own planes and weight-gradient accumulator (summed at the end), as on
the other GEMM paths. ``_conv_gemm._takes_implicit`` sends each product
here where ``implicit_ok`` allows (the forward and input-gradient products
from ``MIN_LANES`` channels and ``MIN_TAPS`` taps per group; below that the
im2col product is faster), except for a single sample on several threads,
whose products the GEMM path splits over the threads instead.

Measured (Zen 5, 2 threads, batch 64, 3 x 3, padding 1, float32, ms, the
im2col GEMM path -> this path): 32 x 14 x 14 -> 64 channels forward 1.62 ->
1.04, input gradient 1.67 -> 1.02, weight gradient 1.43 -> 1.05, all three
4.7 -> 3.2 (PyTorch 3.5); 64 x 32 x 32 -> 64 (batch 32) 22.1 -> 16.7
(PyTorch 18.2). An earlier layout of the same products, columns = output
positions in the padded planes' numbering, lost 12 % of its work to the
positions between image rows and to partial tiles: 3.9 ms.
"""

import numpy as np

from cython.parallel cimport prange, threadid
from libc.string cimport memcpy

from sklears_neural._kernels._gemm_avx512 cimport (
    sconv_forward,
    sconv_pack,
    sconv_packed_size,
    sconv_transpose,
    sconv_weight_grad,
    sconv_weight_grad_buffer,
)

from sklears_neural._kernels._blas import aligned_float32, products_on_own_gemm


cdef struct Plan:
    # The products over a source image (C, H, W), copied into zero-padded
    # planes (Hp, Wp) (by ph, pw), with outputs (OH, OW), L = OH * OW of them:
    # per group, n output channels and k taps (channels per group x kernel
    # taps), and ``packed`` floats of packed weights.
    Py_ssize_t C, H, W, ph, pw, Hp, Wp, OH, OW, L, groups, n, k, packed


cdef Plan _plan(Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t ph, Py_ssize_t pw,
                Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t groups, Py_ssize_t n,
                Py_ssize_t taps):
    cdef Plan p
    p.C, p.H, p.W, p.ph, p.pw = C, H, W, ph, pw
    p.Hp, p.Wp = H + 2 * ph, W + 2 * pw
    p.OH, p.OW, p.L = OH, OW, OH * OW
    p.groups, p.n = groups, n
    p.k = C // groups * taps
    p.packed = sconv_packed_size(<int> n, <int> p.k)
    return p


cdef tuple _tables(const Plan* p, tuple kernel, tuple dilation):
    """(pos, off): where each output position and each tap (c, kh, kw) of a
    group start in the padded planes; a pair meets at pos + off."""
    kh, kw = kernel
    dh, dw = dilation
    pos = (np.arange(p.OH)[:, None] * p.Wp + np.arange(p.OW)[None, :]).ravel()
    taps = (np.arange(kh)[:, None] * dh * p.Wp + np.arange(kw)[None, :] * dw).ravel()
    chans = np.arange(p.C // p.groups) * (p.Hp * p.Wp)
    off = (chans[:, None] + taps[None, :]).ravel()
    return pos.astype(np.intc), off.astype(np.intc)


cdef object _aligned_rows(Py_ssize_t rows, Py_ssize_t size):
    """(rows, size') float32 rows, size' >= size, each starting on 64 bytes."""
    cdef Py_ssize_t width = (size + 15) // 16 * 16
    return aligned_float32(rows * width).reshape(rows, width)


# Whether implicit_ok may say yes; switched by tests and benchmarks (``set_enabled``).
_enabled = True


def set_enabled(bint enabled):
    """Test and benchmark hook: let convolutions take this path or not.

    Parameters
    ----------
    enabled : bool

    Returns
    -------
    bool
        The previous setting.
    """
    global _enabled
    previous = _enabled
    _enabled = enabled
    return previous


def _geometry_2d(d):
    """(spatial, kernel, out, padding, dilation) of ``d`` as 2-D tuples."""
    lift = (1,) if d["d"] == 1 else ()
    return (lift + d["spatial"], lift + d["kernel"], lift + d["out"],
            (0,) * len(lift) + d["padding"], lift + d["dilation"])


# The forward and input-gradient products take this path from this many
# channels (their vector lanes) and taps (their products' length) per group;
# below, the GEMM path's im2col product is faster. Measured (Zen 5, 2
# threads, batch 64, ms, GEMM path / this path): forward 1x28x28 -> 6
# channels, 5x5 (6 lanes, 25 taps) 0.18 / 0.26, 3x32x32 -> 32, 3x3 (27
# taps) 1.08 / 1.68, 6x14x14 -> 16, 5x5 (16 lanes, 150 taps) 0.29 / 0.16,
# 8x28x28 -> 64, 3x3 (72 taps) 1.43 / 1.18; input gradient of 1x28x28 ->
# 32, 3x3 (1 lane) 0.24 / 1.97, of 16x14x14 -> 32 (16 lanes, 288 taps)
# 0.55 / 0.53. The weight gradient (lanes: output channels, length: the
# output positions) was faster on this path in every case measured (6 to
# 64 channels): 1.3-2x.
MIN_LANES = 16
MIN_TAPS = 64


def implicit_ok(d, dtype, product):
    """Whether a product of the convolution with geometry ``d`` takes this path.

    It does for float32 products on our AVX-512 GEMM of a 1-D or 2-D
    convolution with unit strides when: ``product="forward"``, with at
    least ``MIN_LANES`` output and ``MIN_TAPS`` (input channel, tap) pairs
    per group; ``"input"`` (the input gradient), the same with the roles of
    the input and output channels turned, and an adjoint that is a stride-1
    convolution of the output gradient (padding at most the dilated
    kernel's reach, and no input positions that no output reaches);
    ``"weight"``, always.

    Parameters
    ----------
    d : dict
        The geometry (``sklears_neural._specs._conv``).
    dtype : numpy dtype
    product : {"forward", "input", "weight"}

    Returns
    -------
    bool
    """
    if (not _enabled or not products_on_own_gemm(dtype) or d["d"] > 2
            or any(s != 1 for s in d["stride"])):
        return False
    spatial, kernel, out, padding, dilation = _geometry_2d(d)
    cig, cog = d["c_in"] // d["groups"], d["c_out"] // d["groups"]
    taps = kernel[0] * kernel[1]
    # the offset tables are C ints: one sample's padded planes (of the input,
    # or of the output gradient for the adjoint) must be addressable by them
    planes = max(d["c_in"] * (spatial[0] + 2 * padding[0]) * (spatial[1] + 2 * padding[1]),
                 d["c_out"] * (out[0] + 2 * dilation[0] * (kernel[0] - 1))
                 * (out[1] + 2 * dilation[1] * (kernel[1] - 1)))
    if planes >= 2**31:
        return False
    if product == "forward":
        return cog >= MIN_LANES and cig * taps >= MIN_TAPS
    if product == "input":
        for s, k, o, pad, dil in zip(spatial, kernel, out, padding, dilation):
            reach = dil * (k - 1)
            # the adjoint's output: o + 2 * (reach - pad) - reach positions
            if pad > reach or s != o + reach - 2 * pad:
                return False
        return cig >= MIN_LANES and cog * taps >= MIN_TAPS
    return True


cdef void _pad(const float* x, const Plan* p, float* plane) noexcept nogil:
    """The image x (C, H, W) into the middle of the zeroed planes."""
    cdef Py_ssize_t c, h
    cdef Py_ssize_t size = p.Hp * p.Wp
    for c in range(p.C):
        for h in range(p.H):
            memcpy(plane + c * size + (h + p.ph) * p.Wp + p.pw, x + (c * p.H + h) * p.W,
                   p.W * sizeof(float))


cdef void _forward_sample(const float* src, const float* packed, const int* pos,
                          const int* off, const float* init, float* plane, float* t,
                          float* out, const Plan* p) noexcept nogil:
    """out (groups * n, OH, OW) = the products of one sample's image src
    (plus init per output channel when given), through t (L, groups * n)."""
    cdef Py_ssize_t g
    cdef Py_ssize_t ldt = p.groups * p.n
    cdef Py_ssize_t chans = p.C // p.groups
    _pad(src, p, plane)
    for g in range(p.groups):
        sconv_forward(<int> p.L, <int> p.n, <int> p.k, plane + g * chans * p.Hp * p.Wp, pos,
                      off, packed + g * p.packed, init + g * p.n if init != NULL else NULL,
                      t + g * p.n, <int> ldt)
    sconv_transpose(<int> p.L, <int> ldt, t, <int> ldt, out, <int> p.L)


cdef int _forwards(const float[:, ::1] src, const float[:, ::1] packed, const int[::1] pos,
                   const int[::1] off, const float[::1] init, bint has_init,
                   float[:, ::1] out, float[:, ::1] planes, float[:, ::1] ts, const Plan* p,
                   int n_threads) except -1:
    """_forward_sample for every sample, split over n_threads threads."""
    cdef Py_ssize_t n, t
    cdef const float* initp = &init[0] if has_init else NULL
    with nogil:
        if n_threads == 1:
            for n in range(src.shape[0]):
                _forward_sample(&src[n, 0], &packed[0, 0], &pos[0], &off[0], initp,
                                &planes[0, 0], &ts[0, 0], &out[n, 0], p)
        else:
            for n in prange(src.shape[0], num_threads=n_threads, schedule="static"):
                t = threadid()
                _forward_sample(&src[n, 0], &packed[0, 0], &pos[0], &off[0], initp,
                                &planes[t, 0], &ts[t, 0], &out[n, 0], p)
    return 0


cdef void _weight_grad_sample(const float* x, const float* gy, const int* pos,
                              const int* off, float* plane, float* bbuf, float* gwt,
                              const Plan* p) noexcept nogil:
    """gwt (groups, k, n) += one sample's weight gradient, transposed; p is
    the forward's plan."""
    cdef Py_ssize_t g
    cdef Py_ssize_t chans = p.C // p.groups
    _pad(x, p, plane)
    for g in range(p.groups):
        sconv_weight_grad(<int> p.k, <int> p.n, <int> p.L, plane + g * chans * p.Hp * p.Wp,
                          off, pos, gy + g * p.n * p.L, <int> p.L, bbuf,
                          gwt + g * p.k * p.n, <int> p.n)


cdef int _weight_grads(const float[:, ::1] x, const float[:, ::1] gy, const int[::1] pos,
                       const int[::1] off, float[:, ::1] planes, float[:, ::1] bbufs,
                       float[:, ::1] gwts, const Plan* p, int n_threads) except -1:
    """_weight_grad_sample for every sample into gwts[thread]."""
    cdef Py_ssize_t n, t
    with nogil:
        if n_threads == 1:
            for n in range(x.shape[0]):
                _weight_grad_sample(&x[n, 0], &gy[n, 0], &pos[0], &off[0], &planes[0, 0],
                                    &bbufs[0, 0], &gwts[0, 0], p)
        else:
            for n in prange(x.shape[0], num_threads=n_threads, schedule="static"):
                t = threadid()
                _weight_grad_sample(&x[n, 0], &gy[n, 0], &pos[0], &off[0], &planes[t, 0],
                                    &bbufs[t, 0], &gwts[t, 0], p)
    return 0


cdef object _pack(a, const Plan* p):
    """a (groups * n, k) packed group by group for sconv_forward (64-byte aligned)."""
    cdef float[:, ::1] rows = np.ascontiguousarray(a, dtype=np.float32)
    packed = _aligned_rows(1, p.groups * p.packed)
    cdef float[:, ::1] out = packed
    cdef Py_ssize_t g
    for g in range(p.groups):
        sconv_pack(&rows[g * p.n, 0], <int> p.k, <int> p.n, <int> p.k, &out[0, g * p.packed])
    return packed


cdef object _run_forwards(src2, a2, init1, bint has_init, out2, Plan* p, tuple kernel,
                          tuple dilation, int n_threads):
    pos, off = _tables(p, kernel, dilation)
    packed = _pack(a2, p)
    planes = np.zeros((n_threads, p.C * p.Hp * p.Wp), dtype=np.float32)
    ts = np.empty((n_threads, p.L * p.groups * p.n), dtype=np.float32)
    _forwards(src2, packed, pos, off, init1, has_init, out2, planes, ts, p, n_threads)


def implicit_forward(x2, w2, b1, bint has_bias, y2, d, int n_threads):
    """y2 (N, c_out * L) = conv(x2, w2) + b1 on this path; x2 (N, c_in * S)
    and w2 (c_out, c_in / groups * taps) float32, C-contiguous."""
    spatial, kernel, out, padding, dilation = _geometry_2d(d)
    cdef Plan p = _plan(d["c_in"], spatial[0], spatial[1], padding[0], padding[1], out[0],
                        out[1], d["groups"], d["c_out"] // d["groups"],
                        kernel[0] * kernel[1])
    _run_forwards(x2, w2, b1, has_bias, y2, &p, kernel, dilation, n_threads)


def implicit_backward(gy2, x2, w2, gx2, gw2, init1, bint has_init, d, bint need_x,
                      bint need_w, int n_threads):
    """gx2 (from init1 per channel, else 0) when ``need_x`` and gw2 when
    ``need_w``, of the conv with geometry ``d`` on this path
    (``implicit_ok(d, float32, "input")`` must hold for the first,
    ``implicit_ok(d, float32, "weight")`` for the second)."""
    spatial, kernel, out, padding, dilation = _geometry_2d(d)
    groups, c_in, c_out = d["groups"], d["c_in"], d["c_out"]
    cog, cig = c_out // groups, c_in // groups
    taps = kernel[0] * kernel[1]
    cdef Plan p
    if need_x:
        # the adjoint: a stride-1 conv of gy, padded by the dilated kernel's
        # reach minus the padding, with w flipped and transposed per group
        pads = [dil * (k - 1) - pad for k, pad, dil in zip(kernel, padding, dilation)]
        p = _plan(c_out, out[0], out[1], pads[0], pads[1], spatial[0], spatial[1], groups,
                  cig, taps)
        flipped = (w2.reshape(groups, cog, cig, taps)[..., ::-1]
                   .transpose(0, 2, 1, 3).reshape(c_in, cog * taps))
        _run_forwards(gy2, flipped, init1, has_init, gx2, &p, kernel, dilation, n_threads)
    if need_w:
        p = _plan(c_in, spatial[0], spatial[1], padding[0], padding[1], out[0], out[1],
                  groups, cog, taps)
        pos, off = _tables(&p, kernel, dilation)
        planes = np.zeros((n_threads, p.C * p.Hp * p.Wp), dtype=np.float32)
        bbufs = _aligned_rows(n_threads, sconv_weight_grad_buffer(<int> cog, <int> p.L))
        gwts = np.zeros((n_threads, groups * p.k * cog), dtype=np.float32)
        _weight_grads(x2, gy2, pos, off, planes, bbufs, gwts, &p, n_threads)
        gwt = gwts.sum(axis=0) if n_threads > 1 else gwts[0]
        gw2[...] = gwt.reshape(groups, p.k, cog).transpose(0, 2, 1).reshape(c_out, p.k)
