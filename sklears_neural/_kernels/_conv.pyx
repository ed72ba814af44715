"""Convolutions (1-D, 2-D, 3-D), transposed convolutions, im2col/col2im (CPU).

Same names, signatures and semantics as ``sklears_neural._xp._conv`` (the
argument checks both share are in ``sklears_neural._specs._conv``), plus a
keyword-only ``n_threads``.

Every rank is run as a 3-D convolution (missing leading spatial dimensions
have size 1), one sample at a time, through one of three paths:

* GEMM: im2col of sample n into a reused (C_in * prod(K), L) buffer, then one
  GEMM per group writing straight into y[n] (C_out x L is already NC*spatial
  order: no transpose). Backward recomputes the columns, accumulates
  ``gW += gY[n] @ cols^T`` and scatters ``W^T @ gY[n]`` back with col2im.
* 1x1, stride 1, no padding: sample n already *is* its column matrix; no
  im2col and no col2im.
* direct: when every group has one input channel and at most
  ``DIRECT_MAX_PER_GROUP`` output channels (depthwise convs), where a GEMM
  would have an inner size of prod(K) (e.g. 9) and im2col would copy the
  input 9 times. Each input channel is copied into a zero-padded plane
  (whose border is zeroed once per call); with unit strides the whole
  output of one tap is then a single contiguous run of the padded volume
  (the junk columns between rows are computed and dropped), so the loops
  are long and vectorise. Unit strides run plane by plane in memory order,
  all taps in one register-blocked pass (float32: C loops, AVX2+FMA or
  baseline); the input gradient is the same correlation with flipped taps
  (a gather, not a scatter) written straight into gx, the weight gradient a
  dot product per tap (all taps in one pass over gy) and the bias gradient
  a sum of each gy plane while it is in cache. Strided direct convs keep
  per-tap loops, channel by channel.

A transposed convolution is the input gradient of the convolution with the
same weight, so its forward is the GEMM/col2im (or direct scatter) half of
the conv backward, and its backward is a conv forward plus a weight
gradient: the same loops, seen from the other side.

Measured on the 2-core development machine (AMD EPYC, OpenBLAS SkylakeX
kernels, one thread; the machine was shared, so +-20 %), batch 64,
float32, forward + input/weight/bias gradients, 3x3 kernels, padding 1, in
ms: ours / torch 2.13 CPU / the numpy ``_xp`` reference.

* 1x28x28 -> 32 channels (GEMM path):    1.7 /  7.5 /  2.6
* 32x14x14 -> 64 channels (GEMM path):  20.8 / 14.6 / 32-45
* depthwise 64x14x14 (direct path):      1.4-1.9 / 2.5-3.9 / 45-70
  (5.7-6.5 before the one-pass C loops; 2.6 with the baseline build)

Path choice, measured on the same shapes: for one input channel per group
the direct loops beat im2col + GEMM up to 2 output channels per group
(depthwise 16x14x14: 1.0 vs 2.7 ms) and lose from 4 on (1 -> 8 channels
at 28x28: 1.3 vs 0.7 ms), hence ``DIRECT_MAX_PER_GROUP``. On the depthwise
case (perf, forward + backward): one C pass over all taps and planes in
memory order instead of channel-major (the work is bound by memory: the
channel-major walk jumped C planes at a time past the prefetcher), short
row copies without memcpy calls (a third of the time), gx written instead
of pre-filled and added to, and the bias gradient taken from gy while it
is in cache took it from 6 ms to 1.4-1.9. ``n_threads`` is accepted but
the kernels run serially:
a prange over the channels of the direct path showed no gain with 2
threads here, and the GEMM paths leave threads to BLAS (never an OpenMP
pool around BLAS calls; DESIGN.md, "Threads").
"""

import numpy as np

from libc.string cimport memcpy, memset

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._blas cimport gemm_rowmajor
from sklears_neural._kernels._cpu cimport use_avx2
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

# The float32 direct-path loops, in C, twice: a baseline build and an
# AVX2+FMA build of the same source (GCC/clang ``target`` attribute; the
# module itself is compiled with the portable flags), chosen at run time by
# ``_cpu.use_avx2()`` as in ``_rnn``. Written with GCC/clang vector types
# (4 floats in the baseline build, 8 in the AVX2 one), with a plain C
# fallback for other compilers. In C so that every constant is a float and
# the pointers are restrict-qualified.
#
# skn_dw_corr_f32: y[i] = (accumulate ? y[i] : bias) + sum over taps t of
#   wt[t] * src[i + off[t]], i < n. All taps in one pass over y, four
#   vectors of outputs held in registers while the taps go by.
# skn_dw_dots_f32: out[t] += sum over i < n of g[i] * src[i + off[t]], for
#   every tap t: taps in groups of up to 9 (one accumulator vector each) in
#   one pass over g, lanes summed in double once per call.
# skn_dw_rows_f32: copies (or adds) short rows without a memcpy call each.
# skn_dw_sum_f32: the sum of a plane (the bias gradient), in double.
cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    #define SKN_CONV_AVX2_TARGET __attribute__((target("avx2,fma")))
    #else
    #define SKN_CONV_AVX2_TARGET
    #endif

    #define SKN_DW_GROUP 9

    #if defined(__GNUC__) || defined(__clang__)
    /* Vectors of SKN_VL floats (SKN_VF; SKN_VFU unaligned): 4 in the baseline
       build, 8 in the AVX2 one (8-float vectors in the baseline build went
       through the stack, 2x slower than the old Cython loops). */
    typedef float skn_v4f __attribute__((vector_size(16)));
    typedef float skn_v4f_u __attribute__((vector_size(16), aligned(4), may_alias));
    typedef int skn_v4i __attribute__((vector_size(16)));
    typedef int skn_v4i_u __attribute__((vector_size(16), aligned(4), may_alias));
    typedef float skn_v8f __attribute__((vector_size(32)));
    typedef float skn_v8f_u __attribute__((vector_size(32), aligned(4), may_alias));
    typedef int skn_v8i __attribute__((vector_size(32)));
    typedef int skn_v8i_u __attribute__((vector_size(32), aligned(4), may_alias));
    #define SKN_LDV(p) (*(const SKN_VFU *)(p))
    #define SKN_STV(p, v) (*(SKN_VFU *)(p) = (v))
    #define SKN_LDVI(p) (*(const SKN_VIU *)(p))
    /* lanes SKN_VL - r .. SKN_VL - 1 of the SKN_VL ints at
       skn_dw_tail_mask + 8 - SKN_VL + r are set */
    static const int skn_dw_tail_mask[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                             -1, -1, -1, -1, -1, -1, -1, -1};

    /* The n % SKN_VL outputs left over (n >= SKN_VL) are one vector ending
       at n that overlaps the last full one; it is computed from the original
       y before the full vectors are stored, with the same operations, so
       the overlapping outputs get the same values either way. */
    #define SKN_DW_CORR_F32_BODY                                              \\
        const Py_ssize_t V = SKN_VL;                                          \\
        Py_ssize_t i = 0;                                                     \\
        Py_ssize_t nv = n - n % V;                                            \\
        int has_tail = nv < n && nv > 0;                                      \\
        SKN_VF vb = (SKN_VF){0} + bias;                                       \\
        SKN_VF tail = vb;                                                     \\
        if (has_tail) {                                                       \\
            if (accumulate) tail = SKN_LDV(y + n - V);                        \\
            for (Py_ssize_t t = 0; t < kk; t++)                               \\
                tail += wt[t] * SKN_LDV(src + off[t] + n - V);                \\
        }                                                                     \\
        for (; i + 4 * V <= nv; i += 4 * V) {                                 \\
            SKN_VF a0, a1, a2, a3;                                            \\
            if (accumulate) {                                                 \\
                a0 = SKN_LDV(y + i); a1 = SKN_LDV(y + i + V);                 \\
                a2 = SKN_LDV(y + i + 2 * V); a3 = SKN_LDV(y + i + 3 * V);     \\
            } else {                                                          \\
                a0 = vb; a1 = vb; a2 = vb; a3 = vb;                           \\
            }                                                                 \\
            for (Py_ssize_t t = 0; t < kk; t++) {                             \\
                const float *p = src + off[t] + i;                            \\
                float wv = wt[t];                                             \\
                a0 += wv * SKN_LDV(p);                                        \\
                a1 += wv * SKN_LDV(p + V);                                    \\
                a2 += wv * SKN_LDV(p + 2 * V);                                \\
                a3 += wv * SKN_LDV(p + 3 * V);                                \\
            }                                                                 \\
            SKN_STV(y + i, a0); SKN_STV(y + i + V, a1);                       \\
            SKN_STV(y + i + 2 * V, a2); SKN_STV(y + i + 3 * V, a3);           \\
        }                                                                     \\
        for (; i < nv; i += V) {                                              \\
            SKN_VF a0 = vb;                                                   \\
            if (accumulate) a0 = SKN_LDV(y + i);                              \\
            for (Py_ssize_t t = 0; t < kk; t++)                               \\
                a0 += wt[t] * SKN_LDV(src + off[t] + i);                      \\
            SKN_STV(y + i, a0);                                               \\
        }                                                                     \\
        if (has_tail) {                                                       \\
            SKN_STV(y + n - V, tail);                                         \\
            i = n;                                                            \\
        }                                                                     \\
        for (; i < n; i++) {                                                  \\
            float s = accumulate ? y[i] : bias;                               \\
            for (Py_ssize_t t = 0; t < kk; t++)                               \\
                s += wt[t] * src[i + off[t]];                                 \\
            y[i] = s;                                                         \\
        }

    /* Taps in groups of up to SKN_DW_GROUP (9, every tap of a 3x3 kernel),
       one accumulator vector each; a group of 4 or fewer runs only the
       first 4 accumulators. Missing taps repeat the group's last one and
       their sums are dropped. The n % SKN_VL values left over (n >= SKN_VL)
       are one vector ending at n with the lanes already summed masked out
       of g. */
    #define SKN_DW_DOTS_GROUP(K)                                              \\
        for (; i < nv; i += V) {                                              \\
            SKN_VF gv = SKN_LDV(g + i);                                       \\
            for (int k = 0; k < (K); k++)                                     \\
                acc[k] += gv * SKN_LDV(p[k] + i);                             \\
        }                                                                     \\
        if (has_tail) {                                                       \\
            for (int k = 0; k < (K); k++)                                     \\
                acc[k] += gt * SKN_LDV(p[k] + n - V);                         \\
        }

    #define SKN_DW_DOTS_F32_BODY                                              \\
        const Py_ssize_t V = SKN_VL;                                          \\
        Py_ssize_t nv = n - n % V;                                            \\
        int has_tail = nv < n && nv > 0;                                      \\
        SKN_VF gt = (SKN_VF){0};                                              \\
        if (has_tail)                                                         \\
            gt = (SKN_VF) ((SKN_VI) SKN_LDV(g + n - V)                        \\
                           & SKN_LDVI(skn_dw_tail_mask + 8 - V + (n - nv)));  \\
        for (Py_ssize_t t0 = 0; t0 < kk; t0 += SKN_DW_GROUP) {                \\
            Py_ssize_t m = kk - t0 < SKN_DW_GROUP ? kk - t0 : SKN_DW_GROUP;   \\
            const float *p[SKN_DW_GROUP];                                     \\
            SKN_VF acc[SKN_DW_GROUP];                                         \\
            float lanes[SKN_DW_GROUP][SKN_VL];                                \\
            for (int k = 0; k < SKN_DW_GROUP; k++) {                          \\
                p[k] = src + off[t0 + (k < m ? k : m - 1)];                   \\
                acc[k] = (SKN_VF){0};                                         \\
            }                                                                 \\
            Py_ssize_t i = 0;                                                 \\
            if (m > 4) {                                                      \\
                SKN_DW_DOTS_GROUP(SKN_DW_GROUP)                               \\
            } else {                                                          \\
                SKN_DW_DOTS_GROUP(4)                                          \\
            }                                                                 \\
            if (has_tail) i = n;                                              \\
            for (int k = 0; k < SKN_DW_GROUP; k++)                            \\
                SKN_STV(lanes[k], acc[k]);                                    \\
            for (Py_ssize_t k = 0; k < m; k++) {                              \\
                double s = 0;                                                 \\
                for (int l = 0; l < SKN_VL; l++)                              \\
                    s += lanes[k][l];                                         \\
                for (Py_ssize_t j = i; j < n; j++)                            \\
                    s += (double) (g[j] * p[k][j]);                           \\
                out[t0 + k] += s;                                             \\
            }                                                                 \\
        }

    /* dst[r * ds + c] = src[r * ss + c] (+= when add), r < rows, c < cols:
       the short rows of the padded planes (memcpy per row cost a third of
       the depthwise forward + backward). Rows of 1 to 4 vectors are two or
       four vectors at offsets min(k V, cols - V), all loaded before any
       store, so overlapping lanes get equal values (and there is no loop
       for GCC to turn back into a memcpy call). */
    #define SKN_DW_ROWS_F32_BODY                                              \\
        const Py_ssize_t V = SKN_VL;                                          \\
        for (Py_ssize_t r = 0; r < rows; r++) {                               \\
            float *d = dst + r * ds;                                          \\
            const float *s = src + r * ss;                                    \\
            if (cols < V) {                                                   \\
                for (Py_ssize_t c = 0; c < cols; c++)                         \\
                    d[c] = add ? d[c] + s[c] : s[c];                          \\
            } else if (cols <= 2 * V) {                                       \\
                Py_ssize_t o1 = cols - V;                                     \\
                SKN_VF v0 = SKN_LDV(s), v1 = SKN_LDV(s + o1);                 \\
                if (add) {                                                    \\
                    v0 += SKN_LDV(d);                                         \\
                    v1 += SKN_LDV(d + o1);                                    \\
                }                                                             \\
                SKN_STV(d, v0); SKN_STV(d + o1, v1);                          \\
            } else if (cols <= 4 * V) {                                       \\
                Py_ssize_t o2 = cols > 3 * V ? 2 * V : cols - V, o3 = cols - V;\\
                SKN_VF v0 = SKN_LDV(s), v1 = SKN_LDV(s + V);                  \\
                SKN_VF v2 = SKN_LDV(s + o2), v3 = SKN_LDV(s + o3);            \\
                if (add) {                                                    \\
                    v0 += SKN_LDV(d); v1 += SKN_LDV(d + V);                   \\
                    v2 += SKN_LDV(d + o2); v3 += SKN_LDV(d + o3);             \\
                }                                                             \\
                SKN_STV(d, v0); SKN_STV(d + V, v1);                           \\
                SKN_STV(d + o2, v2); SKN_STV(d + o3, v3);                     \\
            } else if (add) {                                                 \\
                SKN_VF last = SKN_LDV(s + cols - V) + SKN_LDV(d + cols - V);  \\
                for (Py_ssize_t c = 0; c + V <= cols; c += V)                 \\
                    SKN_STV(d + c, SKN_LDV(s + c) + SKN_LDV(d + c));          \\
                SKN_STV(d + cols - V, last);                                  \\
            } else {                                                          \\
                memcpy(d, s, cols * sizeof(float));                           \\
            }                                                                 \\
        }

    /* sum of a[i], i < n: two vectors per step, lanes and the n % SKN_VL
       left over summed in double */
    #define SKN_DW_SUM_F32_BODY                                               \\
        const Py_ssize_t V = SKN_VL;                                          \\
        SKN_VF s0 = (SKN_VF){0}, s1 = s0;                                     \\
        float lanes[SKN_VL];                                                  \\
        double s = 0;                                                         \\
        Py_ssize_t i = 0;                                                     \\
        for (; i + 2 * V <= n; i += 2 * V) {                                  \\
            s0 += SKN_LDV(a + i);                                             \\
            s1 += SKN_LDV(a + i + V);                                         \\
        }                                                                     \\
        for (; i + V <= n; i += V)                                            \\
            s0 += SKN_LDV(a + i);                                             \\
        SKN_STV(lanes, s0 + s1);                                              \\
        for (int l = 0; l < SKN_VL; l++)                                      \\
            s += lanes[l];                                                    \\
        for (; i < n; i++)                                                    \\
            s += a[i];                                                        \\
        return s;

    #else  /* plain C */

    #define SKN_DW_CORR_F32_BODY                                              \\
        for (Py_ssize_t i = 0; i < n; i++) {                                  \\
            float s = accumulate ? y[i] : bias;                               \\
            for (Py_ssize_t t = 0; t < kk; t++)                               \\
                s += wt[t] * src[i + off[t]];                                 \\
            y[i] = s;                                                         \\
        }

    #define SKN_DW_DOTS_F32_BODY                                              \\
        for (Py_ssize_t t = 0; t < kk; t++) {                                 \\
            float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                          \\
            const float *p = src + off[t];                                    \\
            double s = 0;                                                     \\
            Py_ssize_t i = 0;                                                 \\
            for (; i + 8 <= n; i += 8)                                        \\
                for (int l = 0; l < 8; l++)                                   \\
                    acc[l] += g[i + l] * p[i + l];                            \\
            for (; i < n; i++)                                                \\
                s += (double) (g[i] * p[i]);                                  \\
            for (int l = 0; l < 8; l++)                                       \\
                s += acc[l];                                                  \\
            out[t] += s;                                                      \\
        }

    #define SKN_DW_ROWS_F32_BODY                                              \\
        for (Py_ssize_t r = 0; r < rows; r++)                                 \\
            for (Py_ssize_t c = 0; c < cols; c++)                             \\
                dst[r * ds + c] = add ? dst[r * ds + c] + src[r * ss + c]     \\
                                      : src[r * ss + c];

    #define SKN_DW_SUM_F32_BODY                                               \\
        double s = 0;                                                         \\
        for (Py_ssize_t i = 0; i < n; i++)                                    \\
            s += a[i];                                                        \\
        return s;

    #endif

    #define SKN_DW_CORR_F32_ARGS                                              \\
        float *__restrict y, const float *__restrict src, Py_ssize_t n,       \\
        const float *__restrict wt, const Py_ssize_t *__restrict off,         \\
        Py_ssize_t kk, int accumulate, float bias
    #define SKN_DW_DOTS_F32_ARGS                                              \\
        const float *__restrict g, const float *__restrict src, Py_ssize_t n, \\
        const Py_ssize_t *__restrict off, Py_ssize_t kk,                      \\
        double *__restrict out
    #define SKN_DW_ROWS_F32_ARGS                                              \\
        float *__restrict dst, Py_ssize_t ds, const float *__restrict src,    \\
        Py_ssize_t ss, Py_ssize_t rows, Py_ssize_t cols, int add

    #if defined(__GNUC__) || defined(__clang__)
    #define SKN_VF skn_v4f
    #define SKN_VFU skn_v4f_u
    #define SKN_VI skn_v4i
    #define SKN_VIU skn_v4i_u
    #define SKN_VL 4
    #endif
    static void skn_dw_corr_f32_base(SKN_DW_CORR_F32_ARGS) { SKN_DW_CORR_F32_BODY }
    static void skn_dw_dots_f32_base(SKN_DW_DOTS_F32_ARGS) { SKN_DW_DOTS_F32_BODY }
    static void skn_dw_rows_f32_base(SKN_DW_ROWS_F32_ARGS) { SKN_DW_ROWS_F32_BODY }
    static double skn_dw_sum_f32_base(const float *__restrict a, Py_ssize_t n) { SKN_DW_SUM_F32_BODY }

    #if defined(__GNUC__) || defined(__clang__)
    #undef SKN_VF
    #undef SKN_VFU
    #undef SKN_VI
    #undef SKN_VIU
    #undef SKN_VL
    #define SKN_VF skn_v8f
    #define SKN_VFU skn_v8f_u
    #define SKN_VI skn_v8i
    #define SKN_VIU skn_v8i_u
    #define SKN_VL 8
    #endif
    SKN_CONV_AVX2_TARGET
    static void skn_dw_corr_f32_avx2(SKN_DW_CORR_F32_ARGS) { SKN_DW_CORR_F32_BODY }
    SKN_CONV_AVX2_TARGET
    static void skn_dw_dots_f32_avx2(SKN_DW_DOTS_F32_ARGS) { SKN_DW_DOTS_F32_BODY }
    SKN_CONV_AVX2_TARGET
    static void skn_dw_rows_f32_avx2(SKN_DW_ROWS_F32_ARGS) { SKN_DW_ROWS_F32_BODY }
    SKN_CONV_AVX2_TARGET
    static double skn_dw_sum_f32_avx2(const float *__restrict a, Py_ssize_t n) { SKN_DW_SUM_F32_BODY }
    """
    void skn_dw_corr_f32_base(float* y, const float* src, Py_ssize_t n, const float* wt,
                              const Py_ssize_t* off, Py_ssize_t kk, int accumulate,
                              float bias) nogil
    void skn_dw_corr_f32_avx2(float* y, const float* src, Py_ssize_t n, const float* wt,
                              const Py_ssize_t* off, Py_ssize_t kk, int accumulate,
                              float bias) nogil
    void skn_dw_dots_f32_base(const float* g, const float* src, Py_ssize_t n,
                              const Py_ssize_t* off, Py_ssize_t kk, double* out) nogil
    void skn_dw_rows_f32_base(float* dst, Py_ssize_t ds, const float* src, Py_ssize_t ss,
                              Py_ssize_t rows, Py_ssize_t cols, int add) nogil
    void skn_dw_rows_f32_avx2(float* dst, Py_ssize_t ds, const float* src, Py_ssize_t ss,
                              Py_ssize_t rows, Py_ssize_t cols, int add) nogil
    double skn_dw_sum_f32_base(const float* a, Py_ssize_t n) nogil
    double skn_dw_sum_f32_avx2(const float* a, Py_ssize_t n) nogil
    void skn_dw_dots_f32_avx2(const float* g, const float* src, Py_ssize_t n,
                              const Py_ssize_t* off, Py_ssize_t kk, double* out) nogil

from sklears_neural._kernels._validation import FLOAT32, as_array, c_array, float_dtype
from sklears_neural._specs._conv import (
    check_grad_shape,
    conv_geometry,
    im2col_geometry,
    transpose_geometry,
)

__all__ = [
    "col2im",
    "conv_backward",
    "conv_forward",
    "conv_transpose_backward",
    "conv_transpose_forward",
    "im2col",
]

cdef enum:
    PATH_GEMM = 0      # im2col + one GEMM per group
    PATH_1X1 = 1       # pointwise, stride 1, no padding: the sample is its columns
    PATH_DIRECT = 2    # one input channel per group: shifted rows, no GEMM


cdef struct Geom:
    # The conv's input image (C channels, D x H x W), kernel, output and
    # steps; 1-D and 2-D convs have leading sizes 1, steps 1, padding 0.
    Py_ssize_t C, D, H, W
    Py_ssize_t KD, KH, KW
    Py_ssize_t OD, OH, OW
    Py_ssize_t sd, sh, sw
    Py_ssize_t pd, ph, pw
    Py_ssize_t dd, dh, dw
    Py_ssize_t groups, c_out


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


cdef void _im2col(const floating* x, floating* cols, const Geom* g) noexcept nogil:
    """cols (C * KD*KH*KW, OD*OH*OW) of one image x (C, D, H, W)."""
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t c, kd, kh, kw, od, oh, ow, lo, hi, id_, ih, off, base
    cdef const floating* xc
    cdef floating* o = cols
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


cdef double _sum(const floating* a, Py_ssize_t n) noexcept nogil:
    """Sum in double with 4 independent accumulators."""
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
        i += 4
    while i < n:
        s0 += a[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef struct Padded:
    # One channel of the conv's input, zero-padded: (Dp, Hp, Wp), P values.
    # ``flat``: all strides are 1, so for each tap the whole output is one
    # contiguous run of Lw values of the padded volume (output position
    # (od, oh, ow) sits at (od * Hp + oh) * Wp + ow; the Wp - OW columns in
    # between are junk that is computed and dropped). Otherwise Lw = OW.
    # ``off``: the kk taps' offsets in the padded volume; ``noff`` = -off.
    Py_ssize_t Dp, Hp, Wp, P, Lw, per, kk
    bint flat, padded
    Py_ssize_t* off
    Py_ssize_t* noff


cdef inline void _copy_rows(floating* dst, Py_ssize_t ds, const floating* src,
                            Py_ssize_t ss, Py_ssize_t rows, Py_ssize_t cols,
                            bint add) noexcept nogil:
    """dst[r * ds + c] = src[r * ss + c] (+= when ``add``), r < rows, c < cols;
    the rows do not overlap."""
    cdef Py_ssize_t r, c
    if floating is float:
        if use_avx2():
            skn_dw_rows_f32_avx2(dst, ds, src, ss, rows, cols, add)
        else:
            skn_dw_rows_f32_base(dst, ds, src, ss, rows, cols, add)
    elif add:
        for r in range(rows):
            for c in range(cols):
                dst[r * ds + c] += src[r * ss + c]
    else:
        for r in range(rows):
            memcpy(dst + r * ds, src + r * ss, cols * sizeof(floating))


cdef inline double _plane_sum(const floating* a, Py_ssize_t n) noexcept nogil:
    """sum of a[i], i < n, in double."""
    if floating is float:
        if use_avx2():
            return skn_dw_sum_f32_avx2(a, n)
        else:
            return skn_dw_sum_f32_base(a, n)
    else:
        return _sum(a, n)


cdef void _pad_channel(const floating* x, floating* xp, const Geom* g,
                       const Padded* q) noexcept nogil:
    """The interior of xp = x; its border is zeroed once per call by the
    driver and never written."""
    cdef Py_ssize_t d
    for d in range(g.D):
        _copy_rows(xp + ((d + g.pd) * q.Hp + g.ph) * q.Wp + g.pw, q.Wp,
                   x + d * g.H * g.W, g.W, g.H, g.W, False)


cdef void _unpad_add_channel(const floating* xp, floating* x, const Geom* g,
                             const Padded* q) noexcept nogil:
    cdef Py_ssize_t d
    for d in range(g.D):
        _copy_rows(x + d * g.H * g.W, g.W,
                   xp + ((d + g.pd) * q.Hp + g.ph) * q.Wp + g.pw, q.Wp, g.H, g.W, True)


cdef inline Py_ssize_t _tap_offset(const Geom* g, const Padded* q, Py_ssize_t kd,
                                   Py_ssize_t kh, Py_ssize_t kw) noexcept nogil:
    return (kd * g.dd * q.Hp + kh * g.dh) * q.Wp + kw * g.dw


cdef inline Py_ssize_t _row_offset(const Geom* g, const Padded* q, Py_ssize_t od,
                                   Py_ssize_t oh) noexcept nogil:
    return (od * g.sd * q.Hp + oh * g.sh) * q.Wp


cdef void _correlate(floating* y, const floating* src, Py_ssize_t n,
                     const floating* wk, const Py_ssize_t* off,
                     Py_ssize_t kk) noexcept nogil:
    """y[i] += sum over taps t of wk[t] * src[i + off[t]], i < n (float64;
    float32 goes to ``skn_dw_corr_f32``).

    Four taps per pass over y: one load and store of y[i] for four products,
    instead of one per product."""
    cdef Py_ssize_t t = 0, m, i, j
    cdef floating v0, v1, v2, v3
    cdef const floating* p0
    cdef const floating* p1
    cdef const floating* p2
    cdef const floating* p3
    while t < kk:
        m = kk - t
        if m > 4:
            m = 4
        p0 = src + off[t]
        v0 = wk[t]
        if m == 1:
            for i in range(n):
                y[i] += v0 * p0[i]
        elif m == 2:
            p1 = src + off[t + 1]
            v1 = wk[t + 1]
            for i in range(n):
                y[i] += v0 * p0[i] + v1 * p1[i]
        elif m == 3:
            p1 = src + off[t + 1]
            v1 = wk[t + 1]
            p2 = src + off[t + 2]
            v2 = wk[t + 2]
            for i in range(n):
                y[i] += v0 * p0[i] + v1 * p1[i] + v2 * p2[i]
        else:
            p1 = src + off[t + 1]
            v1 = wk[t + 1]
            p2 = src + off[t + 2]
            v2 = wk[t + 2]
            p3 = src + off[t + 3]
            v3 = wk[t + 3]
            for i in range(n):
                y[i] += v0 * p0[i] + v1 * p1[i] + v2 * p2[i] + v3 * p3[i]
        t += m


cdef inline void _corr(floating* y, const floating* src, Py_ssize_t n,
                       const floating* wk, const Py_ssize_t* off, Py_ssize_t kk,
                       bint accumulate, floating bias) noexcept nogil:
    """y[i] = (y[i] if accumulate else bias) + sum over taps t of
    wk[t] * src[i + off[t]], i < n."""
    cdef Py_ssize_t i
    if floating is float:
        if use_avx2():
            skn_dw_corr_f32_avx2(y, src, n, wk, off, kk, accumulate, bias)
        else:
            skn_dw_corr_f32_base(y, src, n, wk, off, kk, accumulate, bias)
    else:
        if not accumulate:
            for i in range(n):
                y[i] = bias
        _correlate(y, src, n, wk, off, kk)


cdef enum:
    DOT_LANES = 8


cdef inline double _dot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    """sum of a[i] * b[i], i < n, in DOT_LANES independent lanes (a running
    scalar sum would not vectorise without -ffast-math)."""
    cdef floating acc[DOT_LANES]
    cdef Py_ssize_t i = 0, k
    cdef double s = 0
    for k in range(DOT_LANES):
        acc[k] = 0
    while i + DOT_LANES <= n:
        for k in range(DOT_LANES):
            acc[k] += a[i + k] * b[i + k]
        i += DOT_LANES
    while i < n:
        s += a[i] * b[i]
        i += 1
    for k in range(DOT_LANES):
        s += acc[k]
    return s


cdef inline void _tap_dots(const floating* gyw, const floating* src, Py_ssize_t n,
                           const Py_ssize_t* off, Py_ssize_t kk,
                           double* out) noexcept nogil:
    """out[t] += sum over i < n of gyw[i] * src[i + off[t]], for every tap t."""
    cdef Py_ssize_t t
    if floating is float:
        if use_avx2():
            skn_dw_dots_f32_avx2(gyw, src, n, off, kk, out)
        else:
            skn_dw_dots_f32_base(gyw, src, n, off, kk, out)
    else:
        for t in range(kk):
            out[t] += _dot(gyw, src + off[t], n)


cdef void _direct_forward_flat(Py_ssize_t N, const floating* x, const floating* w,
                               const floating* b, floating* y, floating* xpad,
                               floating* yw, const Geom* g, const Padded* q) noexcept nogil:
    """y = conv(x) (+ b) with unit strides: per plane, one pass over all taps
    (``_corr``) into the flat run ``yw``, whose rows are then copied out.
    Planes go in memory order (sample by sample): the hardware prefetcher
    follows that, not the channel-major order that jumped C planes at a
    time (this pass is bound by memory, not arithmetic)."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t n, ci, j, co, od
    cdef const floating* xs
    cdef floating* yo
    for n in range(N):
        for ci in range(g.C):
            xs = x + (n * g.C + ci) * DHW
            if q.padded:
                _pad_channel(xs, xpad, g, q)
                xs = xpad
            for j in range(q.per):
                co = ci * q.per + j
                yo = y + (n * g.c_out + co) * L
                _corr(yw, xs, q.Lw, w + co * q.kk, q.off, q.kk, False,
                      b[co] if b != NULL else 0)
                for od in range(g.OD):
                    _copy_rows(yo + od * g.OH * g.OW, g.OW, yw + od * q.Hp * q.Wp, q.Wp,
                               g.OH, g.OW, False)


cdef void _direct_backward_flat(Py_ssize_t N, const floating* gy, const floating* x,
                                const floating* w, const floating* init, floating* gx,
                                double* gw_acc, double* gb_acc, floating* xpad,
                                floating* gxpad, floating* gyext, const Geom* g,
                                const Padded* q) noexcept nogil:
    """Gradients of ``_direct_forward_flat``, plane by plane in memory order:
    gx = input gradient (+ init[ci] per channel when init; gx is written,
    not pre-filled) when gx, gw_acc[co * kk + t] += weight gradient when
    gw_acc, gb_acc[co] += the sums of gy when gb_acc (while gy is in cache).

    gy is laid out like the padded input, after a margin of M zeros (M = the
    last tap's offset) and with zeros in the junk columns (``gyext``, zeroed
    once per call by the driver; only the valid columns are ever written),
    so the input gradient is a correlation with the flipped taps (a gather,
    ``_corr``) over the interior [j0, j1) of the padded volume, and the
    weight gradient one dot product per tap over gy and the padded input
    (``_tap_dots``), summed in double per plane."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t M = q.off[q.kk - 1]
    cdef Py_ssize_t j0 = (g.pd * q.Hp + g.ph) * q.Wp + g.pw
    cdef Py_ssize_t j1 = ((g.pd + g.D - 1) * q.Hp + g.ph + g.H - 1) * q.Wp + g.pw + g.W
    cdef Py_ssize_t n, ci, j, co, od, d
    cdef const floating* xs = NULL
    cdef floating* gxo = NULL
    cdef floating* gxs = NULL
    cdef floating* gyw = gyext + M
    cdef const floating* gyo
    cdef floating iv
    for n in range(N):
        for ci in range(g.C):
            if gw_acc != NULL:
                xs = x + (n * g.C + ci) * DHW
                if q.padded:
                    _pad_channel(xs, xpad, g, q)
                    xs = xpad
            if gx != NULL:
                gxo = gx + (n * g.C + ci) * DHW
                gxs = gxpad if q.padded else gxo
            iv = init[ci] if init != NULL else 0
            for j in range(q.per):
                co = ci * q.per + j
                gyo = gy + (n * g.c_out + co) * L
                if gb_acc != NULL:
                    gb_acc[co] += _plane_sum(gyo, L)
                for od in range(g.OD):
                    _copy_rows(gyw + od * q.Hp * q.Wp, q.Wp, gyo + od * g.OH * g.OW, g.OW,
                               g.OH, g.OW, False)
                if gx != NULL:
                    # the first output channel writes [j0, j1) (from init),
                    # the second adds
                    _corr(gxs + j0, gyw + j0, j1 - j0, w + co * q.kk, q.noff, q.kk,
                          j > 0, iv)
                if gw_acc != NULL:
                    _tap_dots(gyw, xs, q.Lw, q.off, q.kk, gw_acc + co * q.kk)
            if gx != NULL and q.padded:
                for d in range(g.D):
                    _copy_rows(gxo + d * g.H * g.W, g.W,
                               gxpad + ((d + g.pd) * q.Hp + g.ph) * q.Wp + g.pw, q.Wp,
                               g.H, g.W, False)


cdef void _direct_forward_group(Py_ssize_t ci, Py_ssize_t N, const floating* x,
                                const floating* w, const floating* b, floating* y,
                                floating* xpad, const Geom* g,
                                const Padded* q) noexcept nogil:
    """y[:, ci * per:(ci + 1) * per] = conv of input channel ci (+ b), any
    strides (the unit-stride case is ``_direct_forward_flat``)."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t n, j, co, kd, kh, kw, od, oh, ow, i, t, off
    cdef const floating* xs
    cdef const floating* src
    cdef floating* yo
    cdef floating* yr
    cdef floating wv, bv
    for n in range(N):
        xs = x + (n * g.C + ci) * DHW
        if q.padded:
            _pad_channel(xs, xpad, g, q)
            xs = xpad
        for j in range(q.per):
            co = ci * q.per + j
            yo = y + (n * g.c_out + co) * L
            bv = b[co] if b != NULL else 0
            for i in range(L):
                yo[i] = bv
            t = 0
            for kd in range(g.KD):
                for kh in range(g.KH):
                    for kw in range(g.KW):
                        wv = w[co * q.kk + t]
                        off = q.off[t]
                        t += 1
                        for od in range(g.OD):
                            for oh in range(g.OH):
                                src = xs + _row_offset(g, q, od, oh) + off
                                yr = yo + (od * g.OH + oh) * g.OW
                                for ow in range(g.OW):
                                    yr[ow] += wv * src[ow * g.sw]


cdef void _direct_backward_group(Py_ssize_t ci, Py_ssize_t N, const floating* gy,
                                 const floating* x, const floating* w, floating* gx,
                                 floating* gw, floating* xpad, floating* gxpad,
                                 floating* acc, const Geom* g,
                                 const Padded* q) noexcept nogil:
    """gx[:, ci] += input gradient (if gx) and gw[ci * per:(ci + 1) * per] +=
    weight gradient (if gw) of ``_direct_forward_group`` (strided).

    The input gradient is scattered into the padded plane; the weight
    gradient is accumulated elementwise in ``acc`` (per * kk rows of Lw)
    over all samples and reduced once at the end."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t j0 = (g.pd * q.Hp + g.ph) * q.Wp + g.pw
    cdef Py_ssize_t j1 = ((g.pd + g.D - 1) * q.Hp + g.ph + g.H - 1) * q.Wp + g.pw + g.W
    cdef Py_ssize_t n, j, co, kd, kh, kw, od, oh, ow, t, off, r
    cdef const floating* xs = NULL
    cdef floating* gxs = NULL
    cdef const floating* gyo
    cdef const floating* gr
    cdef floating* a
    cdef floating wv
    if gw != NULL:
        memset(acc, 0, q.per * q.kk * q.Lw * sizeof(floating))
    for n in range(N):
        if gw != NULL:
            xs = x + (n * g.C + ci) * DHW
            if q.padded:
                _pad_channel(xs, xpad, g, q)
                xs = xpad
        if gx != NULL:
            gxs = gx + (n * g.C + ci) * DHW
            if q.padded:
                memset(gxpad + j0, 0, (j1 - j0) * sizeof(floating))
                gxs = gxpad
        for j in range(q.per):
            co = ci * q.per + j
            gyo = gy + (n * g.c_out + co) * L
            t = 0
            for kd in range(g.KD):
                for kh in range(g.KH):
                    for kw in range(g.KW):
                        off = q.off[t]
                        a = acc + (j * q.kk + t) * q.Lw
                        wv = w[co * q.kk + t] if gx != NULL else 0
                        t += 1
                        for od in range(g.OD):
                            for oh in range(g.OH):
                                r = _row_offset(g, q, od, oh) + off
                                gr = gyo + (od * g.OH + oh) * g.OW
                                if gw != NULL:
                                    for ow in range(g.OW):
                                        a[ow] += gr[ow] * xs[r + ow * g.sw]
                                if gx != NULL:
                                    for ow in range(g.OW):
                                        gxs[r + ow * g.sw] += wv * gr[ow]
        if gx != NULL and q.padded:
            _unpad_add_channel(gxpad, gx + (n * g.C + ci) * DHW, g, q)
    if gw != NULL:
        for j in range(q.per):
            co = ci * q.per + j
            for t in range(q.kk):
                gw[co * q.kk + t] += <floating> _sum(acc + (j * q.kk + t) * q.Lw, q.Lw)


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


def _tap_offsets(dict d):
    return np.empty(2 * _prod(d["kernel"]), dtype=np.intp)


cdef int _direct_forward(const floating[:, ::1] x, const floating[:, ::1] w,
                         const floating[::1] b, bint has_bias, floating[:, ::1] y,
                         floating[::1] scratch, Py_ssize_t[::1] offsets,
                         const Geom* g) except -1:
    """y = conv(x) (+ b) when each group has one input channel."""
    cdef Padded q = _padded(g, offsets)
    cdef Py_ssize_t ci
    cdef Py_ssize_t N = x.shape[0]
    cdef const floating* bp = &b[0] if has_bias else NULL
    with nogil:
        # the padded plane's border stays zero
        memset(&scratch[0], 0, q.P * sizeof(floating))
        if q.flat:
            _direct_forward_flat(N, &x[0, 0], &w[0, 0], bp, &y[0, 0], &scratch[0],
                                 &scratch[q.P], g, &q)
        else:
            for ci in range(g.C):
                _direct_forward_group(ci, N, &x[0, 0], &w[0, 0], bp, &y[0, 0],
                                      &scratch[0], g, &q)
    return 0


cdef int _direct_backward(const floating[:, ::1] gy, const floating[:, ::1] x,
                          const floating[:, ::1] w, const floating[::1] init,
                          bint has_init, floating[:, ::1] gx, floating[:, ::1] gw,
                          double[::1] gw_acc, double[::1] gb_acc, bint need_x,
                          bint need_w, bint need_b, floating[::1] scratch,
                          Py_ssize_t[::1] offsets, const Geom* g) except -1:
    """Gradients of ``_direct_forward``; gw is zeroed. Unit strides: gx is
    written (from init), gw_acc and gb_acc (zeroed) receive the weight and
    bias gradients (gb_acc only there). Otherwise gx is pre-filled."""
    cdef Padded q = _padded(g, offsets)
    cdef Py_ssize_t ci, t
    cdef Py_ssize_t N = gy.shape[0]
    cdef const floating* xp = &x[0, 0] if need_w else NULL
    cdef const floating* wp = &w[0, 0] if need_x else NULL
    cdef const floating* ip = &init[0] if has_init else NULL
    cdef floating* gxp = &gx[0, 0] if need_x else NULL
    cdef floating* gwp = &gw[0, 0] if need_w else NULL
    cdef double* gwa = &gw_acc[0] if need_w else NULL
    cdef double* gba = &gb_acc[0] if need_b else NULL
    cdef Py_ssize_t o1 = q.P, o2 = 2 * q.P, o3 = 4 * q.P
    with nogil:
        # xpad's border and gyext's margin and junk columns stay zero
        memset(&scratch[0], 0, q.P * sizeof(floating))
        memset(&scratch[o2], 0, 2 * q.P * sizeof(floating))
        if q.flat:
            _direct_backward_flat(N, &gy[0, 0], xp, wp, ip, gxp, gwa, gba, &scratch[0],
                                  &scratch[o1], &scratch[o2], g, &q)
            if need_w:
                for t in range(g.c_out * q.kk):
                    gwp[t] = <floating> gwa[t]
        else:
            for ci in range(g.C):
                _direct_backward_group(ci, N, &gy[0, 0], xp, wp, gxp, gwp, &scratch[0],
                                       &scratch[o1], &scratch[o3], g, &q)
    return 0


def _direct_scratch_size(dict d):
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


# ---------------------------------------------------------------------------
# Drivers over the batch
# ---------------------------------------------------------------------------

cdef int _forward(const floating[:, ::1] x, const floating[:, ::1] w,
                  const floating[::1] b, bint has_bias, floating[:, ::1] y,
                  floating[::1] cols, const Geom* g, int path) except -1:
    """y[n] = conv(x[n]) (+ b) for every sample n."""
    cdef Py_ssize_t N = x.shape[0]
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef int cog = <int> (g.c_out // g.groups)
    cdef int ck = <int> (g.C // g.groups * g.KD * g.KH * g.KW)
    cdef Py_ssize_t n, grp
    cdef const floating* colsp
    cdef const floating* bp = &b[0] if has_bias else NULL
    with nogil:
        for n in range(N):
            if has_bias:
                _fill_channels(&y[n, 0], bp, g.c_out, L)
            if path == PATH_1X1:
                colsp = &x[n, 0]
            else:
                _im2col(&x[n, 0], &cols[0], g)
                colsp = &cols[0]
            for grp in range(g.groups):
                gemm_rowmajor(False, False, cog, <int> L, ck, 1, &w[grp * cog, 0], ck,
                              colsp + grp * ck * L, <int> L, 1 if has_bias else 0,
                              &y[n, grp * cog * L], <int> L)
    return 0


cdef int _backward(const floating[:, ::1] gy, const floating[:, ::1] x,
                   const floating[:, ::1] w, floating[:, ::1] gx, floating[:, ::1] gw,
                   const floating[::1] gx_init, bint has_init, floating[::1] cols,
                   floating[::1] gcols, const Geom* g, int path, bint need_x,
                   bint need_w) except -1:
    """gx[n] = input gradient (starting from gx_init per channel, else 0) and
    gw += weight gradient, over every sample; x is read only for gw, w only
    for gx."""
    cdef Py_ssize_t N = gy.shape[0]
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef int cog = <int> (g.c_out // g.groups)
    cdef int ck = <int> (g.C // g.groups * g.KD * g.KH * g.KW)
    cdef Py_ssize_t n, grp
    cdef const floating* gyn
    cdef const floating* colsp
    cdef floating* tgt
    cdef const floating* init = &gx_init[0] if has_init else NULL
    with nogil:
        for n in range(N):
            gyn = &gy[n, 0]
            if need_x:
                _fill_channels(&gx[n, 0], init, g.C, DHW)
            if need_w:
                if path == PATH_1X1:
                    colsp = &x[n, 0]
                else:
                    _im2col(&x[n, 0], &cols[0], g)
                    colsp = &cols[0]
                for grp in range(g.groups):
                    gemm_rowmajor(False, True, cog, ck, <int> L, 1, gyn + grp * cog * L,
                                  <int> L, colsp + grp * ck * L, <int> L, 1,
                                  &gw[grp * cog, 0], ck)
            if need_x:
                tgt = &gx[n, 0] if path == PATH_1X1 else &gcols[0]
                for grp in range(g.groups):
                    gemm_rowmajor(True, False, ck, <int> L, cog, 1, &w[grp * cog, 0], ck,
                                  gyn + grp * cog * L, <int> L,
                                  1 if path == PATH_1X1 else 0, tgt + grp * ck * L,
                                  <int> L)
                if path != PATH_1X1:
                    _col2im(&gcols[0], &gx[n, 0], g)
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
# Python side
# ---------------------------------------------------------------------------

cdef Geom _make_geom(tuple spatial, tuple kernel, tuple out, tuple stride,
                     tuple padding, tuple dilation, Py_ssize_t channels,
                     Py_ssize_t c_out, Py_ssize_t groups):
    """A Geom with 1-D/2-D geometries lifted to 3-D."""
    cdef Geom g
    cdef int pad = 3 - len(spatial)
    one = (1,) * pad
    spatial = one + spatial
    kernel = one + kernel
    out = one + out
    stride = one + stride
    padding = (0,) * pad + padding
    dilation = one + dilation
    g.C = channels
    g.D, g.H, g.W = spatial
    g.KD, g.KH, g.KW = kernel
    g.OD, g.OH, g.OW = out
    g.sd, g.sh, g.sw = stride
    g.pd, g.ph, g.pw = padding
    g.dd, g.dh, g.dw = dilation
    g.groups = groups
    g.c_out = c_out
    return g


cdef Geom _geom_of(dict d):
    return _make_geom(d["spatial"], d["kernel"], d["out"], d["stride"], d["padding"],
                      d["dilation"], d["c_in"], d["c_out"], d["groups"])


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


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


def _empty(d):
    """True when a dimension is 0: BLAS wants positive sizes, so such calls take
    the short paths below (every product is empty, or sums nothing)."""
    return d["n"] == 0 or d["c_in"] == 0 or d["c_out"] == 0


def _empty_output(shape, bias, dtype):
    """Output of a convolution with no terms to sum: zeros, plus the bias."""
    y = np.zeros(shape, dtype=dtype)
    if bias is not None and y.size:
        y += np.asarray(bias, dtype=dtype).reshape((1, -1) + (1,) * (len(shape) - 2))
    return y


def _empty_grads(grad_y, x, weight, dtype, need_input, need_weight, need_bias):
    """Gradients when a dimension is 0: input and weight gradients sum nothing."""
    gb = None
    if need_bias:  # the bias still gets every output gradient (none when N = 0)
        axes = (0,) + tuple(range(2, grad_y.ndim))
        gb = np.asarray(grad_y, dtype=np.float64).sum(axis=axes).astype(dtype)
    return (np.zeros(x.shape, dtype=dtype) if need_input else None,
            np.zeros(weight.shape, dtype=dtype) if need_weight else None, gb)


def _rows(a, dtype):
    a = c_array(a, dtype)
    return a.reshape(a.shape[0], -1)


cdef object _run_forward(x, w, b, d, dtype):
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
        scratch = np.empty(_direct_scratch_size(d), dtype=dtype)
        offsets = _tap_offsets(d)
        if dtype == FLOAT32:
            _direct_forward[float](x2, w2, b1, has_bias, y.reshape(n, -1), scratch,
                                    offsets, &g)
        else:
            _direct_forward[double](x2, w2, b1, has_bias, y.reshape(n, -1), scratch,
                                    offsets, &g)
        return y
    cols_size = (d["c_in"] * _prod(d["kernel"]) * _prod(d["out"])
                 if path == PATH_GEMM else 1)
    cols = np.empty(cols_size, dtype=dtype)
    if dtype == FLOAT32:
        _forward[float](x2, w2, b1, has_bias, y.reshape(n, -1), cols, &g, path)
    else:
        _forward[double](x2, w2, b1, has_bias, y.reshape(n, -1), cols, &g, path)
    return y


cdef object _run_backward(gy, x, w, init, d, dtype, bint need_x, bint need_w,
                          bint need_b=False):
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
        gw_acc = np.zeros(c_out * _prod(d["kernel"]) if need_w and flat else 1)
        gb_acc = np.zeros(c_out if need_b else 1)
        scratch = np.empty(_direct_scratch_size(d), dtype=dtype)
        offsets = _tap_offsets(d)
        if dtype == FLOAT32:
            _direct_backward[float](gy2, x2, w2, init1, has_init, gx2, gw2, gw_acc, gb_acc,
                                    need_x, need_w, need_b, scratch, offsets, &g)
        else:
            _direct_backward[double](gy2, x2, w2, init1, has_init, gx2, gw2, gw_acc, gb_acc,
                                     need_x, need_w, need_b, scratch, offsets, &g)
        return gx, gw, gb_acc.astype(dtype) if need_b else None
    col_rows = c_in * _prod(d["kernel"])
    L = _prod(d["out"])
    if path == PATH_1X1:
        cols_size, gcols_size = 1, 1
    else:
        cols_size = col_rows * L if need_w else 1
        gcols_size = col_rows * L if need_x else 1
    cols = np.empty(cols_size, dtype=dtype)
    gcols = np.empty(gcols_size, dtype=dtype)
    if dtype == FLOAT32:
        _backward[float](gy2, x2, w2, gx2, gw2, init1, has_init, cols, gcols, &g,
                         path, need_x, need_w)
    else:
        _backward[double](gy2, x2, w2, gx2, gw2, init1, has_init, cols, gcols, &g,
                          path, need_x, need_w)
    return gx, gw, None


def _bias_grad(gy, channels, dtype):
    acc = np.zeros(channels, dtype=np.float64)
    gy2 = _rows(gy, dtype)
    if gy2.shape[1]:
        if dtype == FLOAT32:
            _channel_sums[float](gy2, channels, acc)
        else:
            _channel_sums[double](gy2, channels, acc)
    return acc.astype(dtype)


def _arrays(*arrays):
    return tuple(None if a is None else as_array(a) for a in arrays)


def conv_forward(x, weight, bias, stride, padding, dilation, groups, *, n_threads=None):
    """Forward of a 1-D, 2-D or 3-D convolution (cross-correlation).

    Parameters
    ----------
    x : array-like of shape (N, C_in, *S)
    weight : array-like of shape (C_out, C_in // groups, *K)
    bias : array-like of shape (C_out,) or None
    stride, padding, dilation : int or tuple of d ints
        ``stride >= 1``, symmetric zero ``padding >= 0``, ``dilation >= 1``.
    groups : int
        Divides both C_in and C_out.
    n_threads : None or int, keyword-only
        Accepted for the kernels' common signature; the work runs on one
        thread (BLAS's own threads, as set by threadpoolctl, in the GEMMs).

    Returns
    -------
    y : ndarray of shape (N, C_out, *out)
        ``out = (S + 2 * padding - dilation * (K - 1) - 1) // stride + 1``,
        C-contiguous, dtype of ``x``.
    """
    kernel = "conv_forward"
    dtype = float_dtype(kernel, ("x", x), ("weight", weight), ("bias", bias))
    x, weight, bias = _arrays(x, weight, bias)
    d = conv_geometry(kernel, x.shape, weight.shape, None if bias is None else bias.shape,
                      stride, padding, dilation, groups)
    resolve_n_threads(n_threads, 1, 1)
    if _empty(d):
        return _empty_output((d["n"], d["c_out"]) + d["out"], bias, dtype)
    return _run_forward(x, weight, bias, d, dtype)


def conv_backward(grad_y, x, weight, stride, padding, dilation, groups,
                  need_input=True, need_weight=True, need_bias=True, *, n_threads=None):
    """Backward of ``conv_forward``.

    Parameters
    ----------
    grad_y : array-like of shape (N, C_out, *out)
    x, weight : the forward inputs
    stride, padding, dilation, groups : as in the forward
    need_input, need_weight, need_bias : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``conv_forward``.

    Returns
    -------
    grad_x, grad_weight, grad_bias : ndarrays or None
    """
    kernel = "conv_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y), ("x", x), ("weight", weight))
    grad_y, x, weight = _arrays(grad_y, x, weight)
    d = conv_geometry(kernel, x.shape, weight.shape, None, stride, padding, dilation,
                      groups)
    check_grad_shape(kernel, grad_y, (d["n"], d["c_out"]) + d["out"])
    resolve_n_threads(n_threads, 1, 1)
    need_input, need_weight, need_bias = bool(need_input), bool(need_weight), bool(need_bias)
    if _empty(d):
        return _empty_grads(grad_y, x, weight, dtype, need_input, need_weight, need_bias)
    gx = gw = gb = None
    if need_input or need_weight:
        gx, gw, gb = _run_backward(grad_y, x, weight, None, d, dtype, need_input,
                                   need_weight, need_bias)
    if need_bias and gb is None:
        gb = _bias_grad(grad_y, d["c_out"], dtype)
    return gx, gw, gb


def conv_transpose_forward(x, weight, bias, stride, padding, output_padding,
                           dilation, groups, *, n_threads=None):
    """Forward of a transposed convolution (PyTorch's ``ConvTranspose``).

    Parameters
    ----------
    x : array-like of shape (N, C_in, *S)
    weight : array-like of shape (C_in, C_out // groups, *K)
    bias : array-like of shape (C_out,) or None
    stride, padding, output_padding, dilation : int or tuple of d ints
        ``output_padding`` must be smaller than ``stride`` or ``dilation``.
    groups : int
    n_threads : None or int, keyword-only
        As in ``conv_forward``.

    Returns
    -------
    y : ndarray of shape (N, C_out, *out)
        ``out = (S - 1) * stride - 2 * padding + dilation * (K - 1)
        + output_padding + 1``, C-contiguous.
    """
    kernel = "conv_transpose_forward"
    dtype = float_dtype(kernel, ("x", x), ("weight", weight), ("bias", bias))
    x, weight, bias = _arrays(x, weight, bias)
    d = transpose_geometry(kernel, x.shape, weight.shape,
                           None if bias is None else bias.shape,
                           stride, padding, output_padding, dilation, groups)
    resolve_n_threads(n_threads, 1, 1)
    if _empty(d):
        return _empty_output((d["n"], d["c_in"]) + d["spatial"], bias, dtype)
    y, _, _ = _run_backward(x, None, weight, bias, d, dtype, True, False)
    return y


def conv_transpose_backward(grad_y, x, weight, stride, padding, output_padding,
                            dilation, groups, need_input=True, need_weight=True,
                            need_bias=True, *, n_threads=None):
    """Backward of ``conv_transpose_forward``.

    Parameters
    ----------
    grad_y : array-like of shape (N, C_out, *out)
    x, weight : the forward inputs
    stride, padding, output_padding, dilation, groups : as in the forward
    need_input, need_weight, need_bias : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``conv_forward``.

    Returns
    -------
    grad_x, grad_weight, grad_bias : ndarrays or None
    """
    kernel = "conv_transpose_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y), ("x", x), ("weight", weight))
    grad_y, x, weight = _arrays(grad_y, x, weight)
    d = transpose_geometry(kernel, x.shape, weight.shape, None, stride, padding,
                           output_padding, dilation, groups)
    check_grad_shape(kernel, grad_y, (d["n"], d["c_in"]) + d["spatial"])
    resolve_n_threads(n_threads, 1, 1)
    need_input, need_weight, need_bias = bool(need_input), bool(need_weight), bool(need_bias)
    if _empty(d):
        return _empty_grads(grad_y, x, weight, dtype, need_input, need_weight, need_bias)
    gx = gw = gb = None
    if need_input:
        gx = _run_forward(grad_y, weight, None, d, dtype)
    if need_weight:
        # The underlying conv maps grad_y's space to x's: its weight gradient
        # pairs "its input" grad_y with "its output gradient" x.
        _, gw, _ = _run_backward(x, grad_y, None, None, d, dtype, False, True)
    if need_bias:
        gb = _bias_grad(grad_y, d["c_in"], dtype)
    return gx, gw, gb


def im2col(x, kernel_size, stride, padding, dilation, *, n_threads=None):
    """Unfold the sliding windows of ``x`` into columns.

    Parameters
    ----------
    x : array-like of shape (N, C, *S)
    kernel_size, stride, padding, dilation : int or tuple of d ints
    n_threads : None or int, keyword-only
        Accepted for the common signature; runs on one thread.

    Returns
    -------
    cols : ndarray of shape (N, C * prod(K), prod(out))
        Rows are ordered channel-major, then kernel offsets (C, k1, k2, ...);
        columns are the output positions in C order. Padding reads zeros.
    """
    kernel = "im2col"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    _, k, out, stride, padding, dilation = im2col_geometry(
        kernel, x.shape, kernel_size, stride, padding, dilation)
    resolve_n_threads(n_threads, 1, 1)
    n, c = x.shape[:2]
    cols = np.empty((n, c * _prod(k), _prod(out)), dtype=dtype)
    if cols.size == 0:
        return cols
    cdef Geom g = _make_geom(tuple(x.shape[2:]), k, out, stride, padding, dilation,
                             c, c, 1)
    x2 = _rows(x, dtype)
    if dtype == FLOAT32:
        _im2col_batch[float](x2, cols.reshape(n, -1), &g)
    else:
        _im2col_batch[double](x2, cols.reshape(n, -1), &g)
    return cols


def col2im(cols, input_shape, kernel_size, stride, padding, dilation, *,
           n_threads=None):
    """Fold columns back into an image, summing overlapping contributions.

    The adjoint of ``im2col``.

    Parameters
    ----------
    cols : array-like of shape (N, C * prod(K), prod(out))
    input_shape : tuple (N, C, *S)
    kernel_size, stride, padding, dilation : int or tuple of d ints
    n_threads : None or int, keyword-only
        Accepted for the common signature; runs on one thread.

    Returns
    -------
    x : ndarray of shape ``input_shape``
    """
    kernel = "col2im"
    dtype = float_dtype(kernel, ("cols", cols))
    cols = as_array(cols)
    input_shape = tuple(int(s) for s in input_shape)
    _, k, out, stride, padding, dilation = im2col_geometry(
        kernel, input_shape, kernel_size, stride, padding, dilation)
    resolve_n_threads(n_threads, 1, 1)
    n, c = input_shape[:2]
    expected = (n, c * _prod(k), _prod(out))
    if tuple(cols.shape) != expected:
        raise ValueError(
            f"{kernel}: cols has shape {tuple(cols.shape)} but input_shape "
            f"{input_shape} with kernel_size {k} needs cols of shape {expected}."
        )
    x = np.zeros(input_shape, dtype=dtype)
    if x.size == 0:
        return x
    cdef Geom g = _make_geom(input_shape[2:], k, out, stride, padding, dilation, c, c, 1)
    cols2 = _rows(cols, dtype)
    if dtype == FLOAT32:
        _col2im_batch[float](cols2, x.reshape(n, -1), &g)
    else:
        _col2im_batch[double](cols2, x.reshape(n, -1), &g)
    return x
