/* skn_depthwise.h: the float32 loops of the direct (depthwise) convolution.

   Called by ``_conv_direct.pyx`` through the three ``_loops`` builds that
   include this header (see README.md here): 4-float vectors in the
   baseline build, 8-float ones in the AVX2+FMA and AVX-512 builds, plain C for
   compilers without vector extensions. In C so that every constant is a
   float and the pointers are restrict-qualified.

   skn_dw_corr_f32: y[i] = (accumulate ? y[i] : bias) + sum over taps t of
     wt[t] * src[i + off[t]], i < n. All taps in one pass over y, four
     vectors of outputs held in registers while the taps go by.
   skn_dw_dots_f32: out[t] += sum over i < n of g[i] * src[i + off[t]], for
     every tap t: taps in groups of up to 9 (one accumulator vector each) in
     one pass over g, lanes summed in double once per call.
   skn_dw_rows_f32: copies (or adds) short rows without a memcpy call each.
   skn_dw_sum_f32: the sum of a plane (the bias gradient), in double. */

#ifndef SKN_DEPTHWISE_H
#define SKN_DEPTHWISE_H

#include "skn_simd.h"

/* taps per pass of skn_dw_dots_f32: every tap of a 3x3 kernel */
#define SKN_DW_GROUP 9

#ifdef SKN_HAVE_VECTORS

/* The n % SKN_VL outputs left over (n >= SKN_VL) are one vector ending at n
   that overlaps the last full one; it is computed from the original y
   before the full vectors are stored, with the same operations, so the
   overlapping outputs get the same values either way. Kept out of line:
   inlined into its three callers' plane loops it made the baseline build's
   depthwise forward + backward 3-6 % slower (measured). */
SKN_NOINLINE static void skn_dw_corr_f32(float *__restrict y, const float *__restrict src,
                                         Py_ssize_t n, const float *__restrict wt,
                                         const Py_ssize_t *__restrict off, Py_ssize_t kk,
                                         int accumulate, float bias) {
    const Py_ssize_t V = SKN_VL;
    Py_ssize_t i = 0;
    Py_ssize_t nv = n - n % V;
    int has_tail = nv < n && nv > 0;
    skn_vf vb = (skn_vf){0} + bias;
    skn_vf tail = vb;
    if (has_tail) {
        if (accumulate) tail = SKN_LDV(y + n - V);
        for (Py_ssize_t t = 0; t < kk; t++)
            tail += wt[t] * SKN_LDV(src + off[t] + n - V);
    }
    for (; i + 4 * V <= nv; i += 4 * V) {
        skn_vf a0, a1, a2, a3;
        if (accumulate) {
            a0 = SKN_LDV(y + i); a1 = SKN_LDV(y + i + V);
            a2 = SKN_LDV(y + i + 2 * V); a3 = SKN_LDV(y + i + 3 * V);
        } else {
            a0 = vb; a1 = vb; a2 = vb; a3 = vb;
        }
        for (Py_ssize_t t = 0; t < kk; t++) {
            const float *p = src + off[t] + i;
            float wv = wt[t];
            a0 += wv * SKN_LDV(p);
            a1 += wv * SKN_LDV(p + V);
            a2 += wv * SKN_LDV(p + 2 * V);
            a3 += wv * SKN_LDV(p + 3 * V);
        }
        SKN_STV(y + i, a0); SKN_STV(y + i + V, a1);
        SKN_STV(y + i + 2 * V, a2); SKN_STV(y + i + 3 * V, a3);
    }
    for (; i < nv; i += V) {
        skn_vf a0 = vb;
        if (accumulate) a0 = SKN_LDV(y + i);
        for (Py_ssize_t t = 0; t < kk; t++)
            a0 += wt[t] * SKN_LDV(src + off[t] + i);
        SKN_STV(y + i, a0);
    }
    if (has_tail) {
        SKN_STV(y + n - V, tail);
        i = n;
    }
    for (; i < n; i++) {
        float s = accumulate ? y[i] : bias;
        for (Py_ssize_t t = 0; t < kk; t++)
            s += wt[t] * src[i + off[t]];
        y[i] = s;
    }
}

/* One pass of skn_dw_dots_f32 over g for the K pointers p[0..K-1]. */
#define SKN_DW_DOTS_GROUP(K)                                                  \
    for (; i < nv; i += V) {                                                  \
        skn_vf gv = SKN_LDV(g + i);                                           \
        for (int k = 0; k < (K); k++)                                         \
            acc[k] += gv * SKN_LDV(p[k] + i);                                 \
    }                                                                         \
    if (has_tail) {                                                           \
        for (int k = 0; k < (K); k++)                                         \
            acc[k] += gt * SKN_LDV(p[k] + n - V);                             \
    }

/* Taps in groups of up to SKN_DW_GROUP, one accumulator vector each; a
   group of 4 or fewer runs only the first 4 accumulators. Missing taps
   repeat the group's last one and their sums are dropped. The n % SKN_VL
   values left over (n >= SKN_VL) are one vector ending at n with the lanes
   already summed masked out of g. */
static void skn_dw_dots_f32(const float *__restrict g, const float *__restrict src,
                            Py_ssize_t n, const Py_ssize_t *__restrict off,
                            Py_ssize_t kk, double *__restrict out) {
    const Py_ssize_t V = SKN_VL;
    Py_ssize_t nv = n - n % V;
    int has_tail = nv < n && nv > 0;
    skn_vf gt = (skn_vf){0};
    if (has_tail)
        gt = (skn_vf) ((skn_vi) SKN_LDV(g + n - V) & SKN_TAIL_MASK(n - nv));
    for (Py_ssize_t t0 = 0; t0 < kk; t0 += SKN_DW_GROUP) {
        Py_ssize_t m = kk - t0 < SKN_DW_GROUP ? kk - t0 : SKN_DW_GROUP;
        const float *p[SKN_DW_GROUP];
        skn_vf acc[SKN_DW_GROUP];
        float lanes[SKN_DW_GROUP][SKN_VL];
        for (int k = 0; k < SKN_DW_GROUP; k++) {
            p[k] = src + off[t0 + (k < m ? k : m - 1)];
            acc[k] = (skn_vf){0};
        }
        Py_ssize_t i = 0;
        if (m > 4) {
            SKN_DW_DOTS_GROUP(SKN_DW_GROUP)
        } else {
            SKN_DW_DOTS_GROUP(4)
        }
        if (has_tail) i = n;
        for (int k = 0; k < SKN_DW_GROUP; k++)
            SKN_STV(lanes[k], acc[k]);
        for (Py_ssize_t k = 0; k < m; k++) {
            double s = 0;
            for (int l = 0; l < SKN_VL; l++)
                s += lanes[k][l];
            for (Py_ssize_t j = i; j < n; j++)
                s += (double) (g[j] * p[k][j]);
            out[t0 + k] += s;
        }
    }
}

#undef SKN_DW_DOTS_GROUP

/* dst[r * ds + c] = src[r * ss + c] (+= when add), r < rows, c < cols: the
   short rows of the padded planes (memcpy per row cost a third of the
   depthwise forward + backward). Rows of 1 to 4 vectors are two or four
   vectors at offsets min(k V, cols - V), all loaded before any store, so
   overlapping lanes get equal values (and there is no loop for GCC to turn
   back into a memcpy call). */
static void skn_dw_rows_f32(float *__restrict dst, Py_ssize_t ds,
                            const float *__restrict src, Py_ssize_t ss,
                            Py_ssize_t rows, Py_ssize_t cols, int add) {
    const Py_ssize_t V = SKN_VL;
    for (Py_ssize_t r = 0; r < rows; r++) {
        float *d = dst + r * ds;
        const float *s = src + r * ss;
        if (cols < V) {
            for (Py_ssize_t c = 0; c < cols; c++)
                d[c] = add ? d[c] + s[c] : s[c];
        } else if (cols <= 2 * V) {
            Py_ssize_t o1 = cols - V;
            skn_vf v0 = SKN_LDV(s), v1 = SKN_LDV(s + o1);
            if (add) {
                v0 += SKN_LDV(d);
                v1 += SKN_LDV(d + o1);
            }
            SKN_STV(d, v0); SKN_STV(d + o1, v1);
        } else if (cols <= 4 * V) {
            Py_ssize_t o2 = cols > 3 * V ? 2 * V : cols - V, o3 = cols - V;
            skn_vf v0 = SKN_LDV(s), v1 = SKN_LDV(s + V);
            skn_vf v2 = SKN_LDV(s + o2), v3 = SKN_LDV(s + o3);
            if (add) {
                v0 += SKN_LDV(d); v1 += SKN_LDV(d + V);
                v2 += SKN_LDV(d + o2); v3 += SKN_LDV(d + o3);
            }
            SKN_STV(d, v0); SKN_STV(d + V, v1);
            SKN_STV(d + o2, v2); SKN_STV(d + o3, v3);
        } else if (add) {
            skn_vf last = SKN_LDV(s + cols - V) + SKN_LDV(d + cols - V);
            for (Py_ssize_t c = 0; c + V <= cols; c += V)
                SKN_STV(d + c, SKN_LDV(s + c) + SKN_LDV(d + c));
            SKN_STV(d + cols - V, last);
        } else {
            memcpy(d, s, cols * sizeof(float));
        }
    }
}

/* sum of a[i], i < n: two vectors per step, lanes and the n % SKN_VL left
   over summed in double */
static double skn_dw_sum_f32(const float *__restrict a, Py_ssize_t n) {
    const Py_ssize_t V = SKN_VL;
    skn_vf s0 = (skn_vf){0}, s1 = s0;
    float lanes[SKN_VL];
    double s = 0;
    Py_ssize_t i = 0;
    for (; i + 2 * V <= n; i += 2 * V) {
        s0 += SKN_LDV(a + i);
        s1 += SKN_LDV(a + i + V);
    }
    for (; i + V <= n; i += V)
        s0 += SKN_LDV(a + i);
    SKN_STV(lanes, s0 + s1);
    for (int l = 0; l < SKN_VL; l++)
        s += lanes[l];
    for (; i < n; i++)
        s += a[i];
    return s;
}

#else  /* plain C */

static void skn_dw_corr_f32(float *__restrict y, const float *__restrict src,
                            Py_ssize_t n, const float *__restrict wt,
                            const Py_ssize_t *__restrict off, Py_ssize_t kk,
                            int accumulate, float bias) {
    for (Py_ssize_t i = 0; i < n; i++) {
        float s = accumulate ? y[i] : bias;
        for (Py_ssize_t t = 0; t < kk; t++)
            s += wt[t] * src[i + off[t]];
        y[i] = s;
    }
}

static void skn_dw_dots_f32(const float *__restrict g, const float *__restrict src,
                            Py_ssize_t n, const Py_ssize_t *__restrict off,
                            Py_ssize_t kk, double *__restrict out) {
    for (Py_ssize_t t = 0; t < kk; t++) {
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        const float *p = src + off[t];
        double s = 0;
        Py_ssize_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (int l = 0; l < 8; l++)
                acc[l] += g[i + l] * p[i + l];
        for (; i < n; i++)
            s += (double) (g[i] * p[i]);
        for (int l = 0; l < 8; l++)
            s += acc[l];
        out[t] += s;
    }
}

static void skn_dw_rows_f32(float *__restrict dst, Py_ssize_t ds,
                            const float *__restrict src, Py_ssize_t ss,
                            Py_ssize_t rows, Py_ssize_t cols, int add) {
    for (Py_ssize_t r = 0; r < rows; r++)
        for (Py_ssize_t c = 0; c < cols; c++)
            dst[r * ds + c] = add ? dst[r * ds + c] + src[r * ss + c] : src[r * ss + c];
}

static double skn_dw_sum_f32(const float *__restrict a, Py_ssize_t n) {
    double s = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        s += a[i];
    return s;
}

#endif  /* SKN_HAVE_VECTORS */

#endif  /* SKN_DEPTHWISE_H */
