/* skn_sgemm.h: float32 GEMM for AVX-512 CPUs, row-major.

   c[m, n] = alpha * op(a)[m, k] @ op(b)[k, n] + beta * c

   Why our own: the BLAS that numpy and scipy ship (OpenBLAS) runs its AVX2
   kernels on many AVX-512 CPUs (AMD Zen 4/5, or wherever
   OPENBLAS_CORETYPE pins it), while a CPU with full 512-bit FMA units
   (Zen 5, Intel server cores) does twice the float32 work per cycle with
   AVX-512. Measured on a Zen 5 core: OpenBLAS 105-135 GFLOP/s on the
   engine's shapes, this kernel about twice that.

   The layout is the usual one of high-performance GEMMs (Goto and van de
   Geijn; BLIS): op(b) is copied in panels of SKN_NR = 32 columns
   (two vectors) and KC rows, op(a) in panels of SKN_MR = 8 rows, and a
   micro-kernel keeps an 8 x 32 block of c in 16 vector registers while it
   runs over the KC products, loading two vectors of b and broadcasting one
   value of a per row at each step. Edges are padded with zeros in the
   packed panels and written back with masked stores, so every shape
   (any m, n, k >= 1, any strides) goes through the same code.

   The packing buffers are per thread (freed when the thread ends) and grow
   to the largest problem seen (at most KC x NC + MC x KC floats, 0.6 MB),
   so a call allocates nothing once warm. ``skn_sgemm_parallel`` splits the
   product over OpenMP threads by blocks of columns (or of rows, whichever
   has more blocks), each thread with its own buffers.

   Compiled only where the compiler targets AVX-512F (the ``_gemm_avx512``
   module, built with -mavx512f -mavx2 -mfma) on a system with pthreads;
   elsewhere ``SKN_SGEMM_AVAILABLE`` is 0 and ``skn_sgemm_parallel`` returns
   0, and the caller uses the BLAS. The caller checks the CPU (``skn_cpu.h``)
   before calling. */

#ifndef SKN_SGEMM_H
#define SKN_SGEMM_H

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__) && (defined(__unix__) || defined(__APPLE__))
#include <immintrin.h>
#include <pthread.h>

#define SKN_SGEMM_AVAILABLE 1

#define SKN_MR 8
#define SKN_NR 32
#define SKN_KC 256
#define SKN_MC 96    /* a multiple of SKN_MR; MC x KC floats stay in L2 */
#define SKN_NC 512   /* a multiple of SKN_NR; KC x NC floats stay in L2 */
/* Up to this many columns a packed value of op(a) would serve only two
   vectors of products: op(a) is read in place instead (Zen 5: 3200 x 512
   times 512 x 32, 145 -> 254 GFLOP/s). */
#define SKN_DIRECT_A_MAX_COLUMNS 64

typedef struct {
    float *a;
    float *b;
    size_t a_cap;
    size_t b_cap;
} skn_sgemm_buffers;

/* Each thread's buffers hang on a pthread key whose destructor frees them
   when the thread ends: OpenMP runtimes end and start worker threads as
   the team size changes between regions, and a __thread pointer would leak
   their buffers every time. */
static pthread_key_t skn_sgemm_key;
static pthread_once_t skn_sgemm_key_once = PTHREAD_ONCE_INIT;
static int skn_sgemm_key_ok = 0;

static void skn_sgemm_free_buffers(void *p) {
    skn_sgemm_buffers *buf = (skn_sgemm_buffers *) p;
    free(buf->a);
    free(buf->b);
    free(buf);
}

static void skn_sgemm_make_key(void) {
    skn_sgemm_key_ok = pthread_key_create(&skn_sgemm_key, skn_sgemm_free_buffers) == 0;
}

/* This thread's buffers (created empty on first use); NULL when out of memory. */
static skn_sgemm_buffers *skn_sgemm_thread_buffers(void) {
    pthread_once(&skn_sgemm_key_once, skn_sgemm_make_key);
    if (!skn_sgemm_key_ok) return NULL;
    skn_sgemm_buffers *buf = (skn_sgemm_buffers *) pthread_getspecific(skn_sgemm_key);
    if (buf == NULL) {
        buf = (skn_sgemm_buffers *) calloc(1, sizeof(skn_sgemm_buffers));
        if (buf == NULL) return NULL;
        if (pthread_setspecific(skn_sgemm_key, buf) != 0) {
            free(buf);
            return NULL;
        }
    }
    return buf;
}

/* Grow *buf to at least n floats (64-byte aligned); 0 on failure. */
static int skn_sgemm_reserve(float **buf, size_t *cap, size_t n) {
    void *p = NULL;
    if (*cap >= n) return 1;
    free(*buf);
    *buf = NULL;
    *cap = 0;
    if (posix_memalign(&p, 64, ((n * sizeof(float) + 63) / 64) * 64) != 0) return 0;
    *buf = (float *) p;
    *cap = n;
    return 1;
}

/* dst[i * ldd + j] = src[j * lds + i] for a 16 x 16 block: unpacks of
   pairs of floats, then of pairs of doubles, then two rounds of 128-bit
   lane shuffles. */
static inline void skn_transpose16(const float *src, size_t lds, float *dst, size_t ldd) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * lds);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#define SKN_PD(op, a, b) _mm512_castpd_ps(op(_mm512_castps_pd(a), _mm512_castps_pd(b)))
    for (int i = 0; i < 16; i += 4) {
        r[i] = SKN_PD(_mm512_unpacklo_pd, t[i], t[i + 2]);
        r[i + 1] = SKN_PD(_mm512_unpackhi_pd, t[i], t[i + 2]);
        r[i + 2] = SKN_PD(_mm512_unpacklo_pd, t[i + 1], t[i + 3]);
        r[i + 3] = SKN_PD(_mm512_unpackhi_pd, t[i + 1], t[i + 3]);
    }
#undef SKN_PD
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) {
        _mm512_storeu_ps(dst + i * ldd, _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88));
        _mm512_storeu_ps(dst + (i + 8) * ldd, _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd));
    }
}

/* op(a)[i0:i0+mc, p0:p0+kc] into panels of SKN_MR rows: panel r holds, for
   each p, the SKN_MR values of rows i0 + r*SKN_MR ... (zeros past mc). */
static void skn_sgemm_pack_a(int trans_a, const float *a, int lda, int i0, int mc,
                             int p0, int kc, float *restrict out) {
    for (int r = 0; r < mc; r += SKN_MR) {
        int rows = mc - r < SKN_MR ? mc - r : SKN_MR;
        float *panel = out + (size_t) r * kc;
        if (trans_a) {
            /* a stored (k, m): row p holds op(a)[:, p], contiguous in i; one
               masked 8-float copy per p */
            __mmask16 m = (__mmask16) ((1u << rows) - 1);
            for (int p = 0; p < kc; p++) {
                const float *src = a + (size_t) (p0 + p) * lda + i0 + r;
                _mm256_storeu_ps(panel + (size_t) p * SKN_MR,
                                 _mm512_castps512_ps256(_mm512_maskz_loadu_ps(m, src)));
            }
        } else {
            const float *src = a + (size_t) (i0 + r) * lda + p0;
            int p = 0;
            if (rows == SKN_MR && r + 2 * SKN_MR <= mc) {
                /* two full panels at once: 16 rows x 16 values transposed in
                   registers, each transposed row split between the panels
                   (Zen 5: the packing of an LSTM step's h, 32 x 128, took
                   ~5 % of its forward as one value at a time) */
                float t[16 * 16] __attribute__((aligned(64)));
                float *next = panel + (size_t) SKN_MR * kc;
                for (; p + 16 <= kc; p += 16) {
                    skn_transpose16(src + p, (size_t) lda, t, 16);
                    for (int q = 0; q < 16; q++) {
                        _mm256_storeu_ps(panel + (size_t) (p + q) * SKN_MR,
                                         _mm256_load_ps(t + 16 * q));
                        _mm256_storeu_ps(next + (size_t) (p + q) * SKN_MR,
                                         _mm256_load_ps(t + 16 * q + 8));
                    }
                }
                for (int i = 0; i < SKN_MR; i++)
                    for (int pp = p; pp < kc; pp++) {
                        panel[(size_t) pp * SKN_MR + i] = src[(size_t) i * lda + pp];
                        next[(size_t) pp * SKN_MR + i] = src[(size_t) (i + SKN_MR) * lda + pp];
                    }
                r += SKN_MR;  /* the loop's step skips the second panel */
                continue;
            }
            for (int i = 0; i < rows; i++)
                for (int pp = 0; pp < kc; pp++)
                    panel[(size_t) pp * SKN_MR + i] = src[(size_t) i * lda + pp];
            for (int i = rows; i < SKN_MR; i++)
                for (int pp = 0; pp < kc; pp++) panel[(size_t) pp * SKN_MR + i] = 0.0f;
        }
    }
}

/* op(b)[p0:p0+kc, j0:j0+nc] into panels of SKN_NR columns: panel q holds,
   for each p, the SKN_NR values of columns j0 + q*SKN_NR ... (zeros past
   nc). */
static void skn_sgemm_pack_b(int trans_b, const float *b, int ldb, int p0, int kc,
                             int j0, int nc, float *restrict out) {
    for (int q = 0; q < nc; q += SKN_NR) {
        int cols = nc - q < SKN_NR ? nc - q : SKN_NR;
        float *panel = out + (size_t) q * kc;
        if (!trans_b) {
            __mmask16 m0 = cols >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << cols) - 1);
            __mmask16 m1 = cols > 16 ? (__mmask16) ((1u << (cols - 16)) - 1) : 0;
            for (int p = 0; p < kc; p++) {
                const float *src = b + (size_t) (p0 + p) * ldb + j0 + q;
                float *dst = panel + (size_t) p * SKN_NR;
                _mm512_store_ps(dst, _mm512_maskz_loadu_ps(m0, src));
                _mm512_store_ps(dst + 16, _mm512_maskz_loadu_ps(m1, src + 16));
            }
        } else {
            /* b stored (n, k): row j holds op(b)[:, j], contiguous in p. A
               full panel goes by 16 x 16 blocks transposed in registers
               (Zen 5: a 64 x 128 by 128 x 512 product 53 -> 38 us against
               one value at a time); the rest one value at a time. */
            const float *src = b + (size_t) (j0 + q) * ldb + p0;
            int p = 0;
            if (cols == SKN_NR)
                for (; p + 16 <= kc; p += 16) {
                    skn_transpose16(src + p, ldb, panel + (size_t) p * SKN_NR, SKN_NR);
                    skn_transpose16(src + (size_t) 16 * ldb + p, ldb,
                                    panel + (size_t) p * SKN_NR + 16, SKN_NR);
                }
            for (int j = 0; j < cols; j++)
                for (int pp = p; pp < kc; pp++)
                    panel[(size_t) pp * SKN_NR + j] = src[(size_t) j * ldb + pp];
            for (int j = cols; j < SKN_NR; j++)
                for (int pp = 0; pp < kc; pp++) panel[(size_t) pp * SKN_NR + j] = 0.0f;
        }
    }
}

#define SKN_UKR_ROW_DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
#define SKN_UKR_ROW_FMA(i) { \
        __m512 av = _mm512_set1_ps(ap[i]); \
        c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0); \
        c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1); }
#define SKN_UKR_ROW_STORE(i) if (i < mr) { \
        float *ci = c + (size_t) (i) * ldc; \
        __m512 r0 = _mm512_mul_ps(valpha, c##i##0), r1 = _mm512_mul_ps(valpha, c##i##1); \
        if (beta_zero) { \
            _mm512_mask_storeu_ps(ci, m0, r0); _mm512_mask_storeu_ps(ci + 16, m1, r1); \
        } else { \
            r0 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m0, ci), r0); \
            r1 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m1, ci + 16), r1); \
            _mm512_mask_storeu_ps(ci, m0, r0); _mm512_mask_storeu_ps(ci + 16, m1, r1); \
        } }

/* The tile's write-back: rows below mr, the first nr columns (masked). */
#define SKN_UKR_STORE_TILE { \
        __mmask16 m0 = nr >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << nr) - 1); \
        __mmask16 m1 = nr > 16 ? (__mmask16) ((1u << (nr - 16)) - 1) : 0; \
        __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta); \
        int beta_zero = beta == 0.0f; \
        SKN_UKR_ROW_STORE(0) SKN_UKR_ROW_STORE(1) SKN_UKR_ROW_STORE(2) SKN_UKR_ROW_STORE(3) \
        SKN_UKR_ROW_STORE(4) SKN_UKR_ROW_STORE(5) SKN_UKR_ROW_STORE(6) SKN_UKR_ROW_STORE(7) }

/* c[0:mr, 0:nr] = alpha * (ap panel @ bp panel) + beta * c, over kc steps;
   mr <= SKN_MR, nr <= SKN_NR; beta == 0 never reads c. */
static void skn_sgemm_micro(int kc, const float *restrict ap, const float *restrict bp,
                            float *c, int ldc, int mr, int nr, float alpha, float beta) {
    SKN_UKR_ROW_DECL(0) SKN_UKR_ROW_DECL(1) SKN_UKR_ROW_DECL(2) SKN_UKR_ROW_DECL(3)
    SKN_UKR_ROW_DECL(4) SKN_UKR_ROW_DECL(5) SKN_UKR_ROW_DECL(6) SKN_UKR_ROW_DECL(7)

    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
        SKN_UKR_ROW_FMA(0) SKN_UKR_ROW_FMA(1) SKN_UKR_ROW_FMA(2) SKN_UKR_ROW_FMA(3)
        SKN_UKR_ROW_FMA(4) SKN_UKR_ROW_FMA(5) SKN_UKR_ROW_FMA(6) SKN_UKR_ROW_FMA(7)

        ap += SKN_MR;
        bp += SKN_NR;
    }
    SKN_UKR_STORE_TILE

}

/* The same as skn_sgemm_micro for a full SKN_MR-row tile of op(a) read
   where it lies: value (i, p) at a[i * rsa + p * csa]. For narrow products,
   where each packed value of a would serve too few columns to pay for the
   copy. */
#define SKN_UKR_ROW_FMA_DIRECT(i) { \
        __m512 av = _mm512_set1_ps(r##i[off]); \
        c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0); \
        c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1); }

static void skn_sgemm_micro_direct(int kc, const float *a, size_t rsa, size_t csa,
                                   const float *restrict bp, float *c, int ldc, int nr,
                                   float alpha, float beta) {
    const int mr = SKN_MR;
    const float *r0 = a, *r1 = a + rsa, *r2 = a + 2 * rsa, *r3 = a + 3 * rsa;
    const float *r4 = a + 4 * rsa, *r5 = a + 5 * rsa, *r6 = a + 6 * rsa, *r7 = a + 7 * rsa;
    SKN_UKR_ROW_DECL(0) SKN_UKR_ROW_DECL(1) SKN_UKR_ROW_DECL(2) SKN_UKR_ROW_DECL(3)
    SKN_UKR_ROW_DECL(4) SKN_UKR_ROW_DECL(5) SKN_UKR_ROW_DECL(6) SKN_UKR_ROW_DECL(7)
    size_t off = 0;
    for (int p = 0; p < kc; p++, off += csa) {
        __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
        SKN_UKR_ROW_FMA_DIRECT(0) SKN_UKR_ROW_FMA_DIRECT(1) SKN_UKR_ROW_FMA_DIRECT(2)
        SKN_UKR_ROW_FMA_DIRECT(3) SKN_UKR_ROW_FMA_DIRECT(4) SKN_UKR_ROW_FMA_DIRECT(5)
        SKN_UKR_ROW_FMA_DIRECT(6) SKN_UKR_ROW_FMA_DIRECT(7)
        bp += SKN_NR;
    }
    SKN_UKR_STORE_TILE
}

/* Make this thread's packing buffers big enough for an m x n x k product;
   0 when they cannot be allocated. */
static int skn_sgemm_reserve_for(int m, int n, int k) {
    skn_sgemm_buffers *buf = skn_sgemm_thread_buffers();
    if (buf == NULL) return 0;
    int kc_max = k < SKN_KC ? k : SKN_KC;
    int nc_max = n < SKN_NC ? n : SKN_NC;
    int mc_max = m < SKN_MC ? m : SKN_MC;
    size_t b_need = (size_t) kc_max * ((nc_max + SKN_NR - 1) / SKN_NR) * SKN_NR;
    size_t a_need = (size_t) kc_max * ((mc_max + SKN_MR - 1) / SKN_MR) * SKN_MR;
    return skn_sgemm_reserve(&buf->b, &buf->b_cap, b_need)
        && skn_sgemm_reserve(&buf->a, &buf->a_cap, a_need);
}

/* Floats of op(b) (k x n) packed whole by skn_sgemm_prepack_b. */
static size_t skn_sgemm_prepacked_size(int k, int n) {
    return (size_t) k * (size_t) ((n + SKN_NR - 1) / SKN_NR) * SKN_NR;
}

/* op(b) (k x n) packed whole, its (column block j0, row block p0) panels at
   out + j0 * k + p0 * (the block's padded width): what skn_sgemm_run would
   pack block by block, for an operand that many products share (an RNN's
   recurrent weights, one product per step). out is 64-byte aligned. */
static void skn_sgemm_prepack_b(int trans_b, int k, int n, const float *b, int ldb,
                                float *out) {
    for (int j0 = 0; j0 < n; j0 += SKN_NC) {
        int nc = n - j0 < SKN_NC ? n - j0 : SKN_NC;
        size_t width = (size_t) ((nc + SKN_NR - 1) / SKN_NR) * SKN_NR;
        for (int p0 = 0; p0 < k; p0 += SKN_KC) {
            int kc = k - p0 < SKN_KC ? k - p0 : SKN_KC;
            skn_sgemm_pack_b(trans_b, b, ldb, p0, kc, j0, nc,
                             out + (size_t) j0 * k + (size_t) p0 * width);
        }
    }
}

/* The whole product on the calling thread, whose buffers
   skn_sgemm_reserve_for(m, n, k) has made big enough; op(b) is read from
   bpre (skn_sgemm_prepack_b of the same k x n) when that is not NULL, else
   packed here. m, n, k >= 1. */
static void skn_sgemm_run(int trans_a, int trans_b, int m, int n, int k, float alpha,
                          const float *a, int lda, const float *b, int ldb, float beta,
                          float *c, int ldc, const float *bpre) {
    skn_sgemm_buffers *buf = skn_sgemm_thread_buffers();  /* reserved: not NULL */
    for (int j0 = 0; j0 < n; j0 += SKN_NC) {
        int nc = n - j0 < SKN_NC ? n - j0 : SKN_NC;
        size_t width = (size_t) ((nc + SKN_NR - 1) / SKN_NR) * SKN_NR;
        for (int p0 = 0; p0 < k; p0 += SKN_KC) {
            int kc = k - p0 < SKN_KC ? k - p0 : SKN_KC;
            float beta_block = p0 == 0 ? beta : 1.0f;
            const float *bblock = buf->b;
            if (bpre != NULL)
                bblock = bpre + (size_t) j0 * k + (size_t) p0 * width;
            else
                skn_sgemm_pack_b(trans_b, b, ldb, p0, kc, j0, nc, buf->b);
            if (nc <= SKN_DIRECT_A_MAX_COLUMNS) {
                /* narrow: full tiles of op(a) read in place, the last partial
                   tile packed */
                size_t rsa = trans_a ? 1 : (size_t) lda, csa = trans_a ? (size_t) lda : 1;
                for (int i = 0; i < m; i += SKN_MR) {
                    int mr = m - i < SKN_MR ? m - i : SKN_MR;
                    if (mr < SKN_MR)
                        skn_sgemm_pack_a(trans_a, a, lda, i, mr, p0, kc, buf->a);
                    for (int q = 0; q < nc; q += SKN_NR) {
                        int nr = nc - q < SKN_NR ? nc - q : SKN_NR;
                        float *ct = c + (size_t) i * ldc + j0 + q;
                        if (mr == SKN_MR)
                            skn_sgemm_micro_direct(kc, a + i * rsa + (size_t) p0 * csa, rsa, csa,
                                                   bblock + (size_t) q * kc, ct, ldc, nr,
                                                   alpha, beta_block);
                        else
                            skn_sgemm_micro(kc, buf->a, bblock + (size_t) q * kc, ct, ldc,
                                            mr, nr, alpha, beta_block);
                    }
                }
                continue;
            }
            for (int i0 = 0; i0 < m; i0 += SKN_MC) {
                int mc = m - i0 < SKN_MC ? m - i0 : SKN_MC;
                skn_sgemm_pack_a(trans_a, a, lda, i0, mc, p0, kc, buf->a);
                for (int q = 0; q < nc; q += SKN_NR) {
                    int nr = nc - q < SKN_NR ? nc - q : SKN_NR;
                    const float *bp = bblock + (size_t) q * kc;
                    for (int r = 0; r < mc; r += SKN_MR) {
                        int mr = mc - r < SKN_MR ? mc - r : SKN_MR;
                        skn_sgemm_micro(kc, buf->a + (size_t) r * kc, bp,
                                        c + (size_t) (i0 + r) * ldc + j0 + q, ldc,
                                        mr, nr, alpha, beta_block);
                    }
                }
            }
        }
    }
}

/* The product on up to n_threads OpenMP threads (1: the calling thread).
   m, n, k >= 1. Returns 0, with c untouched, when a packing buffer cannot
   be allocated; else 1. */
static int skn_sgemm_parallel(int n_threads, int trans_a, int trans_b, int m, int n, int k,
                              float alpha, const float *a, int lda, const float *b, int ldb,
                              float beta, float *c, int ldc) {
    int col_blocks = (n + SKN_NR - 1) / SKN_NR, row_blocks = (m + SKN_MR - 1) / SKN_MR;
    int split_cols = col_blocks >= row_blocks;
    int blocks = split_cols ? col_blocks : row_blocks;
    if (n_threads > blocks) n_threads = blocks;
    if (n_threads <= 1) {
        if (!skn_sgemm_reserve_for(m, n, k)) return 0;
        skn_sgemm_run(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL);
        return 1;
    }
    int ok = 1;
#ifdef _OPENMP
    #pragma omp parallel num_threads(n_threads)
#endif
    {
#ifdef _OPENMP
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
        int t = 0, nt = 1;
#endif
        int lo = (int) ((long) blocks * t / nt), hi = (int) ((long) blocks * (t + 1) / nt);
        int step = split_cols ? SKN_NR : SKN_MR, extent = split_cols ? n : m;
        int first = lo * step, last = hi * step < extent ? hi * step : extent;
        int part = last - first;
        int reserved = part <= 0 || (split_cols ? skn_sgemm_reserve_for(m, part, k)
                                                : skn_sgemm_reserve_for(part, n, k));
        if (!reserved) {
#ifdef _OPENMP
            #pragma omp atomic write
#endif
            ok = 0;
        }
#ifdef _OPENMP
        #pragma omp barrier
        #pragma omp flush
#endif
        if (ok && part > 0) {
            if (split_cols)
                skn_sgemm_run(trans_a, trans_b, m, part, k, alpha, a, lda,
                              trans_b ? b + (size_t) first * ldb : b + first, ldb,
                              beta, c + first, ldc, NULL);
            else
                skn_sgemm_run(trans_a, trans_b, part, n, k, alpha,
                              trans_a ? a + first : a + (size_t) first * lda, lda,
                              b, ldb, beta, c + (size_t) first * ldc, ldc, NULL);
        }
    }
    return ok;
}

/* c = alpha * op(a) @ (op(b) prepacked in bpre) + beta * c on the calling
   thread. Returns 0, with c untouched, when a packing buffer cannot be
   allocated; else 1. m, n, k >= 1. */
static int skn_sgemm_prepacked(int trans_a, int m, int n, int k, float alpha, const float *a,
                               int lda, const float *bpre, float beta, float *c, int ldc) {
    if (!skn_sgemm_reserve_for(m, n, k)) return 0;
    skn_sgemm_run(trans_a, 0, m, n, k, alpha, a, lda, NULL, 0, beta, c, ldc, bpre);
    return 1;
}

#else  /* no AVX-512F from this compiler (or no pthreads): the caller uses the BLAS */

#define SKN_SGEMM_AVAILABLE 0

static int skn_sgemm_parallel(int n_threads, int trans_a, int trans_b, int m, int n, int k,
                              float alpha, const float *a, int lda, const float *b, int ldb,
                              float beta, float *c, int ldc) {
    (void) n_threads; (void) trans_a; (void) trans_b; (void) m; (void) n; (void) k;
    (void) alpha; (void) a; (void) lda; (void) b; (void) ldb; (void) beta; (void) c;
    (void) ldc;
    return 0;
}

static size_t skn_sgemm_prepacked_size(int k, int n) { (void) k; (void) n; return 1; }
static void skn_sgemm_prepack_b(int trans_b, int k, int n, const float *b, int ldb,
                                float *out) {
    (void) trans_b; (void) k; (void) n; (void) b; (void) ldb; (void) out;
}
static int skn_sgemm_prepacked(int trans_a, int m, int n, int k, float alpha, const float *a,
                               int lda, const float *bpre, float beta, float *c, int ldc) {
    (void) trans_a; (void) m; (void) n; (void) k; (void) alpha; (void) a; (void) lda;
    (void) bpre; (void) beta; (void) c; (void) ldc;
    return 0;
}

#endif  /* __AVX512F__ and pthreads */

#endif  /* SKN_SGEMM_H */
