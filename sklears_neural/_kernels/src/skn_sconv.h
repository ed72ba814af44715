/* skn_sconv.h: stride-1 float32 convolutions as implicit GEMMs, for AVX-512 CPUs.

   A stride-1 convolution of an image copied into zero-padded planes
   (C, Hp, Wp) is a GEMM whose operand from the image never needs to be
   copied out (no im2col): output position (oh, ow) and tap (c, kh, kw) meet
   at plane value pos + off with pos = oh * Wp + ow and off = c * Hp * Wp +
   kh * dh * Wp + kw * dw. The micro-kernels here read that operand in place
   through two small tables of offsets, one per row of the tile and one per
   step of the product:

       c[i, j] (+)= bias[j] + sum_p src[row_off[i] + koff[p]] * b[p, j]

   with b packed in panels of SKN_NR columns (``skn_sgemm_pack_b``).

   * forward: rows = the output positions (row_off = their pos), steps = the
     taps (koff = their off), columns = the output channels (b = W^T);
   * input gradient: the same on the zero-padded output gradient with the
     flipped, transposed weights (a stride-1 convolution's adjoint is a
     stride-1 convolution): no col2im;
   * weight gradient, transposed: rows = the taps (row_off = off), steps =
     the output positions (koff = pos), columns = the output channels
     (b = gY^T), accumulated over the batch.

   Only real output positions are rows or steps (none of the Wp - OW
   positions per row between the image rows), and channels are the vector
   lanes, so the forward writes a (positions, channels) tile that the
   caller transposes into (channels, positions) (``skn_sconv_transpose``).

   Tiles are 6 rows by 64 columns (24 accumulators, 4 loads of b and 6
   broadcasts per step), or 6 by 32 for a last block of at most 32
   columns: six row pointers and the step table stay in general registers
   (an 8 x 32 tile with eight row pointers spilled them to vector registers
   and ran a third slower on Zen 5).

   Uses the packing and the 16 x 16 transposes of ``skn_sgemm.h``; compiled
   only where that is (``SKN_SCONV_AVAILABLE``). */

#ifndef SKN_SCONV_H
#define SKN_SCONV_H

#include "skn_sgemm.h"

#if SKN_SGEMM_AVAILABLE

#define SKN_SCONV_AVAILABLE 1
#define SKN_SCONV_ROWS 6

/* The first n of 16 lanes (none for n <= 0, all for n >= 16). */
static inline __mmask16 skn_sconv_mask(int n) {
    return n >= 16 ? (__mmask16) 0xFFFF : n <= 0 ? (__mmask16) 0 : (__mmask16) ((1u << n) - 1);
}

/* One tile: V vectors (2: 32 columns, 4: 64 columns, the last two from the
   panel pstride floats on), mr <= 6 rows (rows past mr repeat row 0 and are
   not stored), nr <= 16 V columns stored. */
#define SKN_SCONV_TILE(V)                                                              \
    const float *r[SKN_SCONV_ROWS];                                                    \
    __m512 acc[SKN_SCONV_ROWS][V];                                                     \
    for (int i = 0; i < SKN_SCONV_ROWS; i++) r[i] = src + row_off[i < mr ? i : 0];     \
    for (int j = 0; j < V; j++) {                                                      \
        __m512 init = bias != NULL ? _mm512_maskz_loadu_ps(skn_sconv_mask(nr - 16 * j), \
                                                           bias + 16 * j)              \
                                   : _mm512_setzero_ps();                              \
        for (int i = 0; i < SKN_SCONV_ROWS; i++) acc[i][j] = init;                     \
    }                                                                                  \
    const float *bq = bp + pstride;                                                    \
    for (int p = 0; p < kc; p++) {                                                     \
        __m512 b[V];                                                                   \
        b[0] = _mm512_load_ps(bp);                                                     \
        b[1] = _mm512_load_ps(bp + 16);                                                \
        if (V == 4) {                                                                  \
            b[V == 4 ? 2 : 0] = _mm512_load_ps(bq);                                    \
            b[V == 4 ? 3 : 1] = _mm512_load_ps(bq + 16);                               \
        }                                                                              \
        int o = koff[p];                                                               \
        for (int i = 0; i < SKN_SCONV_ROWS; i++) {                                     \
            __m512 av = _mm512_set1_ps(r[i][o]);                                       \
            for (int j = 0; j < V; j++) acc[i][j] = _mm512_fmadd_ps(av, b[j], acc[i][j]); \
        }                                                                              \
        bp += SKN_NR;                                                                  \
        bq += SKN_NR;                                                                  \
    }                                                                                  \
    for (int i = 0; i < SKN_SCONV_ROWS; i++) {                                         \
        if (i >= mr) break;                                                            \
        for (int j = 0; j < V; j++) {                                                  \
            float *cij = c + (size_t) i * ldc + 16 * j;                                \
            __mmask16 m = skn_sconv_mask(nr - 16 * j);                                 \
            __m512 v = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, cij), acc[i][j]) \
                                  : acc[i][j];                                         \
            _mm512_mask_storeu_ps(cij, m, v);                                          \
        }                                                                              \
    }

static __attribute__((noinline)) void skn_sconv_micro_64(
        int kc, const float *src, const int *row_off, int mr, const int *koff,
        const float *restrict bp, size_t pstride, const float *bias, float *c, int ldc,
        int nr, int accumulate) {
    SKN_SCONV_TILE(4)
}

static __attribute__((noinline)) void skn_sconv_micro_32(
        int kc, const float *src, const int *row_off, int mr, const int *koff,
        const float *restrict bp, size_t pstride, const float *bias, float *c, int ldc,
        int nr, int accumulate) {
    (void) pstride;
    SKN_SCONV_TILE(2)
}

#undef SKN_SCONV_TILE

/* Floats of a packed b of k rows and n columns (skn_sconv_pack). */
static size_t skn_sconv_packed_size(int n, int k) {
    return (size_t) ((n + SKN_NR - 1) / SKN_NR) * SKN_NR * (size_t) k;
}

/* b (k, n) = w^T for w (n, k) with rows ldw apart, packed for the
   micro-kernels; out is 64-byte aligned. */
static void skn_sconv_pack(const float *w, int ldw, int n, int k, float *out) {
    skn_sgemm_pack_b(1, w, ldw, 0, k, 0, n, out);
}

/* c[i, j] (+)= bias[j] + sum_p src[row_off[i] + koff[p]] * b[p, j] for i < m,
   j < n, p < k, b packed by skn_sconv_pack (k rows) or as one block of a
   larger b (its panels kstride floats apart); bias may be NULL. */
static void skn_sconv_block(int m, int n, int k, const float *src, const int *row_off,
                            const int *koff, const float *b, size_t kstride,
                            const float *bias, float *c, int ldc, int accumulate) {
    for (int j = 0; j < n; j += 2 * SKN_NR) {
        int nr = n - j < 2 * SKN_NR ? n - j : 2 * SKN_NR;
        const float *bj = b + (size_t) j * kstride / SKN_NR;
        const float *biasj = bias != NULL ? bias + j : NULL;
        for (int i = 0; i < m; i += SKN_SCONV_ROWS) {
            int mr = m - i < SKN_SCONV_ROWS ? m - i : SKN_SCONV_ROWS;
            float *ct = c + (size_t) i * ldc + j;
            if (nr > SKN_NR)
                skn_sconv_micro_64(k, src, row_off + i, mr, koff, bj, kstride, biasj, ct, ldc,
                                   nr, accumulate);
            else
                skn_sconv_micro_32(k, src, row_off + i, mr, koff, bj, kstride, biasj, ct, ldc,
                                   nr, accumulate);
        }
    }
}

/* The forward (and input-gradient) product: c[i, j] = bias[j] +
   sum_p src[pos[i] + off[p]] * w[j, p] for m positions, n channels, k taps;
   wp = w packed by skn_sconv_pack. m, n, k >= 1. */
static void skn_sconv_forward(int m, int n, int k, const float *src, const int *pos,
                              const int *off, const float *wp, const float *bias, float *c,
                              int ldc) {
    skn_sconv_block(m, n, k, src, pos, off, wp, (size_t) SKN_NR * k, bias, c, ldc, 0);
}

/* Floats of skn_sconv_weight_grad's packing buffer for n channels, k positions. */
static size_t skn_sconv_weight_grad_buffer(int n, int k) {
    return skn_sconv_packed_size(n, k < SKN_KC ? k : SKN_KC);
}

/* The weight gradient, transposed: c[r, j] += sum_q src[off[r] + pos[q]] *
   gy[j * ldg + q] for m taps, n channels, k positions, in blocks of
   SKN_KC positions packed into bbuf (skn_sconv_weight_grad_buffer floats,
   64-byte aligned). m, n, k >= 1. */
static void skn_sconv_weight_grad(int m, int n, int k, const float *src, const int *off,
                                  const int *pos, const float *gy, int ldg, float *bbuf,
                                  float *c, int ldc) {
    for (int q0 = 0; q0 < k; q0 += SKN_KC) {
        int kc = k - q0 < SKN_KC ? k - q0 : SKN_KC;
        skn_sgemm_pack_b(1, gy, ldg, q0, kc, 0, n, bbuf);
        skn_sconv_block(m, n, kc, src, off, pos + q0, bbuf, (size_t) SKN_NR * kc, NULL, c,
                        ldc, 1);
    }
}

/* y[j * ldy + i] = t[i * ldt + j] for i < m, j < n: a (positions,
   channels) tile into (channels, positions) rows, by 16 x 16 blocks. */
static void skn_sconv_transpose(int m, int n, const float *t, int ldt, float *y, int ldy) {
    int i = 0;
    for (; i + 16 <= m; i += 16) {
        int j = 0;
        for (; j + 16 <= n; j += 16)
            skn_transpose16(t + (size_t) i * ldt + j, ldt, y + (size_t) j * ldy + i, ldy);
        for (; j < n; j++)
            for (int ii = i; ii < i + 16; ii++) y[(size_t) j * ldy + ii] = t[(size_t) ii * ldt + j];
    }
    for (; i < m; i++)
        for (int j = 0; j < n; j++) y[(size_t) j * ldy + i] = t[(size_t) i * ldt + j];
}

#else  /* no AVX-512F: callers check SKN_SCONV_AVAILABLE and never call these */

#define SKN_SCONV_AVAILABLE 0

static size_t skn_sconv_packed_size(int n, int k) { (void) n; (void) k; return 1; }
static void skn_sconv_pack(const float *w, int ldw, int n, int k, float *out) {
    (void) w; (void) ldw; (void) n; (void) k; (void) out;
}
static void skn_sconv_forward(int m, int n, int k, const float *src, const int *pos,
                              const int *off, const float *wp, const float *bias, float *c,
                              int ldc) {
    (void) m; (void) n; (void) k; (void) src; (void) pos; (void) off; (void) wp;
    (void) bias; (void) c; (void) ldc;
}
static size_t skn_sconv_weight_grad_buffer(int n, int k) { (void) n; (void) k; return 1; }
static void skn_sconv_weight_grad(int m, int n, int k, const float *src, const int *off,
                                  const int *pos, const float *gy, int ldg, float *bbuf,
                                  float *c, int ldc) {
    (void) m; (void) n; (void) k; (void) src; (void) off; (void) pos; (void) gy;
    (void) ldg; (void) bbuf; (void) c; (void) ldc;
}
static void skn_sconv_transpose(int m, int n, const float *t, int ldt, float *y, int ldy) {
    (void) m; (void) n; (void) t; (void) ldt; (void) y; (void) ldy;
}

#endif  /* SKN_SGEMM_AVAILABLE */

#endif  /* SKN_SCONV_H */
