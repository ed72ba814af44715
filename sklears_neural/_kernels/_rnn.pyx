"""Recurrent layers over a whole sequence: vanilla RNN, LSTM, GRU (CPU).

Same names, signatures, semantics and workspace layout as
``sklears_neural._xp._rnn`` (the argument checks both share are in
``sklears_neural._specs._rnn``), plus a keyword-only ``n_threads``.

Forward: the input projection of all T steps is ONE GEMM
(x (T*N, F) @ W_ih^T, written straight into the gate buffer that becomes
the workspace); then per step one recurrent GEMM (h_{t-1} @ W_hh^T, added
into that step's gate rows for the LSTM and the RNN, into a scratch for the
GRU, whose n gate needs W_hn h on its own) and one fused pass that adds the
biases, applies the gate nonlinearities in place and writes the new states
and y[t].

Backward: per step one fused pass turns the incoming gradient (grad y[t] +
the carried grad h) into the gate gradients G[t] (and the carried grad c),
then one GEMM adds G[t] @ W_hh into the carried grad h. The weight
gradients are three GEMMs over the rows of G: grad x = G @ W_ih,
grad W_ih = G^T @ X, grad W_hh = G^T @ H_prev (the previous states are one
contiguous block of the workspace), and the bias gradient a column sum of
G (the GRU has two G's, w.r.t. the input and the recurrent projections,
which differ in the n gate). All three cells run these per chunk of steps
(about 512 rows of G, ``_BWD_CHUNK_ROWS``): G of a chunk is still in cache
for them, and the buffer is about 1 MB instead of T*N*4H floats (6.5 MB
for the LSTM at T=50, N=64, H=128: a fresh buffer that size, freed after
every call, made glibc give the heap back and page-fault it in again on
every call, about 5 ms of a 30 ms forward + backward; measured with perf
and GLIBC_TUNABLES).

The float32 cell passes of the LSTM, the GRU and the tanh RNN are C (see
the ``cdef extern`` block below), built twice (baseline and AVX2+FMA) and
picked by ``_cpu.use_avx2()``. Measured (1 thread, N=64, T=50, F=32,
H=128, forward + backward, AMD EPYC with AVX-512, best of 15-25, load
average ~2): LSTM 38.8 ms before these two changes, 22.8 ms after (AVX2
cells; 28.6 ms with the baseline cells), torch.nn.LSTM 19.9-20.6 ms; GRU
31-35 ms before, 20.3-22.1 ms after (27.7 ms with the baseline cells),
torch.nn.GRU 24.3-27.6 ms; tanh RNN 6.8 ms before, 5.7-5.9 ms after,
torch.nn.RNN 8.3-9.1 ms.

Padded steps (``lengths``): the pass copies the state through and writes
y = 0; backward writes G = 0 for them and leaves the carried gradients of
those rows untouched. The carried grad h of an active row is set to 0 by
the pass before the GEMM adds G @ W_hh into it (beta = 1), so padded rows
keep theirs without a second buffer.

``n_threads`` is accepted but the kernels run serially: every step has
GEMMs, and an OpenMP pool around BLAS calls makes both slower (DESIGN.md,
"Threads"); BLAS's own threads (threadpoolctl) serve the GEMMs.
"""

import numpy as np

from libc.stdint cimport int64_t
from libc.string cimport memcpy, memset

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._blas cimport gemm_rowmajor
from sklears_neural._kernels._math cimport c_sigmoid, c_tanh, skn_expf, skn_tanhf
from sklears_neural._kernels._cpu cimport use_avx2
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

# The float32 cell passes (LSTM, GRU, tanh RNN), written in C, twice: a
# baseline build and an AVX2+FMA build of the same source (GCC/clang
# ``target`` attribute; the module itself is compiled with the portable
# flags), chosen at run time by ``_cpu.use_avx2()`` like the
# ``_loops``/``_loops_avx2`` pair. In C so that every constant is a float:
# Cython writes ``1 - x`` as ``1.0 - x``, which promotes the float32 loop to
# double (cvtps2pd/addpd/cvtpd2ps at half the vector width); that, in
# ``c_sigmoid`` too, made the forward cell pass cost twice the step GEMMs
# (measured with perf). The polynomial exp/tanh (``skn_expf``/``skn_tanhf``
# from ``_math``) inline into both builds. The row pointers are
# ``__restrict``: they never overlap, and without it GCC has to check that
# at run time, needs more checks than it allows (its
# vect-max-version-for-alias-checks) and leaves the loop scalar (5x slower
# forward, measured). float64 keeps the generic Cython loops (its exp/tanh
# are libm calls, scalar either way), and so does the relu RNN (no
# constants to promote).
cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    #define SKN_RNN_AVX2_TARGET __attribute__((target("avx2,fma")))
    #else
    #define SKN_RNN_AVX2_TARGET
    #endif

    /* 1 / (1 + exp(-x)) with exp of a non-positive number only, in float. */
    SKN_INLINE float skn_rnn_sigmoidf(float x) {
        float e = skn_expf(-fabsf(x));
        float r = 1.0f / (1.0f + e);
        float neg = e * r;
        return x >= 0.0f ? r : neg;
    }

    /* a (4H,) pre-activations -> activations (i, f, g, o) in place; new c,
       h and y. */
    #define SKN_LSTM_CELL_F32_BODY                                            \
        for (Py_ssize_t j = 0; j < H; j++) {                                  \
            float i = skn_rnn_sigmoidf(a[j] + b[j]);                          \
            float f = skn_rnn_sigmoidf(a[H + j] + b[H + j]);                  \
            float g = skn_tanhf(a[2 * H + j] + b[2 * H + j]);                 \
            float o = skn_rnn_sigmoidf(a[3 * H + j] + b[3 * H + j]);          \
            float c = f * cp[j] + i * g;                                      \
            float h = o * skn_tanhf(c);                                       \
            a[j] = i;                                                         \
            a[H + j] = f;                                                     \
            a[2 * H + j] = g;                                                 \
            a[3 * H + j] = o;                                                 \
            cn[j] = c;                                                        \
            hn[j] = h;                                                        \
            y[j] = h;                                                         \
        }

    /* Gate gradients of one row from the stored activations; dc <- dc_t * f,
       dh <- 0 (the step GEMM adds G[t] @ W_hh into it). */
    #define SKN_LSTM_CELL_BWD_F32_BODY                                        \
        for (Py_ssize_t j = 0; j < H; j++) {                                  \
            float i = a[j];                                                   \
            float f = a[H + j];                                               \
            float g = a[2 * H + j];                                           \
            float o = a[3 * H + j];                                           \
            float tc = skn_tanhf(cn[j]);                                      \
            float d_h = dh[j] + gy[j];                                        \
            float d_c = dc[j] + d_h * o * (1.0f - tc * tc);                   \
            g_out[j] = d_c * g * i * (1.0f - i);                              \
            g_out[H + j] = d_c * cp[j] * f * (1.0f - f);                      \
            g_out[2 * H + j] = d_c * i * (1.0f - g * g);                      \
            g_out[3 * H + j] = d_h * tc * o * (1.0f - o);                     \
            dc[j] = d_c * f;                                                  \
            dh[j] = 0.0f;                                                     \
        }

    #define SKN_LSTM_CELL_F32_ARGS                                            \
        float *__restrict a, const float *__restrict b,                       \
        const float *__restrict cp, float *__restrict cn,                     \
        float *__restrict hn, float *__restrict y, Py_ssize_t H
    #define SKN_LSTM_CELL_BWD_F32_ARGS                                        \
        const float *__restrict a, const float *__restrict cp,                \
        const float *__restrict cn, const float *__restrict gy,               \
        float *__restrict dh, float *__restrict dc,                           \
        float *__restrict g_out, Py_ssize_t H

    static void skn_lstm_cell_f32_base(SKN_LSTM_CELL_F32_ARGS) { SKN_LSTM_CELL_F32_BODY }
    SKN_RNN_AVX2_TARGET
    static void skn_lstm_cell_f32_avx2(SKN_LSTM_CELL_F32_ARGS) { SKN_LSTM_CELL_F32_BODY }
    static void skn_lstm_cell_bwd_f32_base(SKN_LSTM_CELL_BWD_F32_ARGS) { SKN_LSTM_CELL_BWD_F32_BODY }
    SKN_RNN_AVX2_TARGET
    static void skn_lstm_cell_bwd_f32_avx2(SKN_LSTM_CELL_BWD_F32_ARGS) { SKN_LSTM_CELL_BWD_F32_BODY }

    /* GRU: a (3H,) input projections and gh (3H,) recurrent projections ->
       (r, z, n) in place in a; ghn = W_hn h + b_hn, new h and y. */
    #define SKN_GRU_CELL_F32_BODY                                             \
        for (Py_ssize_t j = 0; j < H; j++) {                                  \
            float r = skn_rnn_sigmoidf(a[j] + bi[j] + gh[j] + bh[j]);         \
            float z = skn_rnn_sigmoidf(a[H + j] + bi[H + j] + gh[H + j]       \
                                       + bh[H + j]);                          \
            float q = gh[2 * H + j] + bh[2 * H + j];                          \
            float nn = skn_tanhf(a[2 * H + j] + bi[2 * H + j] + r * q);       \
            float h = (1.0f - z) * nn + z * hp[j];                            \
            a[j] = r;                                                         \
            a[H + j] = z;                                                     \
            a[2 * H + j] = nn;                                                \
            ghn[j] = q;                                                       \
            hn[j] = h;                                                        \
            y[j] = h;                                                         \
        }

    /* Gate gradients of one row: gi w.r.t. the input projections, gh w.r.t.
       the recurrent ones (they differ in the n gate only); dh <- dh_t * z
       (the step GEMM adds gh @ W_hh into it). */
    #define SKN_GRU_CELL_BWD_F32_BODY                                         \
        for (Py_ssize_t j = 0; j < H; j++) {                                  \
            float r = a[j];                                                   \
            float z = a[H + j];                                               \
            float nn = a[2 * H + j];                                          \
            float d_h = dh[j] + gy[j];                                        \
            float dn = d_h * (1.0f - z) * (1.0f - nn * nn);                   \
            float dz = d_h * (hp[j] - nn) * z * (1.0f - z);                   \
            float dr = dn * ghn[j] * r * (1.0f - r);                          \
            gi[j] = dr;                                                       \
            gi[H + j] = dz;                                                   \
            gi[2 * H + j] = dn;                                               \
            gh[j] = dr;                                                       \
            gh[H + j] = dz;                                                   \
            gh[2 * H + j] = dn * r;                                           \
            dh[j] = d_h * z;                                                  \
        }

    #define SKN_GRU_CELL_F32_ARGS                                             \
        float *__restrict a, const float *__restrict gh,                      \
        const float *__restrict bi, const float *__restrict bh,               \
        const float *__restrict hp, float *__restrict ghn,                    \
        float *__restrict hn, float *__restrict y, Py_ssize_t H
    #define SKN_GRU_CELL_BWD_F32_ARGS                                         \
        const float *__restrict a, const float *__restrict ghn,               \
        const float *__restrict hp, const float *__restrict gy,               \
        float *__restrict dh, float *__restrict gi, float *__restrict gh,     \
        Py_ssize_t H

    static void skn_gru_cell_f32_base(SKN_GRU_CELL_F32_ARGS) { SKN_GRU_CELL_F32_BODY }
    SKN_RNN_AVX2_TARGET
    static void skn_gru_cell_f32_avx2(SKN_GRU_CELL_F32_ARGS) { SKN_GRU_CELL_F32_BODY }
    static void skn_gru_cell_bwd_f32_base(SKN_GRU_CELL_BWD_F32_ARGS) { SKN_GRU_CELL_BWD_F32_BODY }
    SKN_RNN_AVX2_TARGET
    static void skn_gru_cell_bwd_f32_avx2(SKN_GRU_CELL_BWD_F32_ARGS) { SKN_GRU_CELL_BWD_F32_BODY }

    /* Elman RNN, tanh: a (H,) pre-activations -> new h and y; backward:
       g = (dh + gy) (1 - h^2) from the new h, dh <- 0 (the GEMM adds). */
    #define SKN_RNN_TANH_F32_BODY                                             \
        for (Py_ssize_t j = 0; j < H; j++) {                                  \
            float h = skn_tanhf(a[j] + b[j]);                                 \
            hn[j] = h;                                                        \
            y[j] = h;                                                         \
        }
    #define SKN_RNN_TANH_BWD_F32_BODY                                         \
        for (Py_ssize_t j = 0; j < H; j++) {                                  \
            float d = dh[j] + gy[j];                                          \
            g[j] = d * (1.0f - h[j] * h[j]);                                  \
            dh[j] = 0.0f;                                                     \
        }
    #define SKN_RNN_TANH_F32_ARGS                                             \
        const float *__restrict a, const float *__restrict b,                 \
        float *__restrict hn, float *__restrict y, Py_ssize_t H
    #define SKN_RNN_TANH_BWD_F32_ARGS                                         \
        const float *__restrict h, const float *__restrict gy,                \
        float *__restrict dh, float *__restrict g, Py_ssize_t H

    static void skn_rnn_tanh_f32_base(SKN_RNN_TANH_F32_ARGS) { SKN_RNN_TANH_F32_BODY }
    SKN_RNN_AVX2_TARGET
    static void skn_rnn_tanh_f32_avx2(SKN_RNN_TANH_F32_ARGS) { SKN_RNN_TANH_F32_BODY }
    static void skn_rnn_tanh_bwd_f32_base(SKN_RNN_TANH_BWD_F32_ARGS) { SKN_RNN_TANH_BWD_F32_BODY }
    SKN_RNN_AVX2_TARGET
    static void skn_rnn_tanh_bwd_f32_avx2(SKN_RNN_TANH_BWD_F32_ARGS) { SKN_RNN_TANH_BWD_F32_BODY }
    """
    void skn_lstm_cell_f32_base(float* a, const float* b, const float* cp, float* cn,
                                float* hn, float* y, Py_ssize_t H) nogil
    void skn_lstm_cell_f32_avx2(float* a, const float* b, const float* cp, float* cn,
                                float* hn, float* y, Py_ssize_t H) nogil
    void skn_lstm_cell_bwd_f32_base(const float* a, const float* cp, const float* cn,
                                    const float* gy, float* dh, float* dc, float* g_out,
                                    Py_ssize_t H) nogil
    void skn_lstm_cell_bwd_f32_avx2(const float* a, const float* cp, const float* cn,
                                    const float* gy, float* dh, float* dc, float* g_out,
                                    Py_ssize_t H) nogil
    void skn_gru_cell_f32_base(float* a, const float* gh, const float* bi, const float* bh,
                               const float* hp, float* ghn, float* hn, float* y,
                               Py_ssize_t H) nogil
    void skn_gru_cell_f32_avx2(float* a, const float* gh, const float* bi, const float* bh,
                               const float* hp, float* ghn, float* hn, float* y,
                               Py_ssize_t H) nogil
    void skn_gru_cell_bwd_f32_base(const float* a, const float* ghn, const float* hp,
                                   const float* gy, float* dh, float* gi, float* gh,
                                   Py_ssize_t H) nogil
    void skn_gru_cell_bwd_f32_avx2(const float* a, const float* ghn, const float* hp,
                                   const float* gy, float* dh, float* gi, float* gh,
                                   Py_ssize_t H) nogil
    void skn_rnn_tanh_f32_base(const float* a, const float* b, float* hn, float* y,
                               Py_ssize_t H) nogil
    void skn_rnn_tanh_f32_avx2(const float* a, const float* b, float* hn, float* y,
                               Py_ssize_t H) nogil
    void skn_rnn_tanh_bwd_f32_base(const float* h, const float* gy, float* dh, float* g,
                                   Py_ssize_t H) nogil
    void skn_rnn_tanh_bwd_f32_avx2(const float* h, const float* gy, float* dh, float* g,
                                   Py_ssize_t H) nogil

from sklears_neural._kernels._validation import FLOAT32, as_array, c_array
from sklears_neural._specs._rnn import (
    check_nonlinearity,
    rnn_arguments,
    rnn_grad_arguments,
    workspace_shapes,
)

__all__ = [
    "gru_backward",
    "gru_forward",
    "lstm_backward",
    "lstm_forward",
    "rnn_backward",
    "rnn_forward",
]


cdef struct Seq:
    Py_ssize_t T, N, F, H
    bint reverse
    const int64_t* lens     # NULL: every sequence has length T


# ---------------------------------------------------------------------------
# Step bookkeeping (shared by the three cells)
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t _fwd_t(const Seq* s, Py_ssize_t k) noexcept nogil:
    """The time index of the forward's k-th step."""
    return s.T - 1 - k if s.reverse else k


cdef inline Py_ssize_t _prev(const Seq* s, Py_ssize_t t) noexcept nogil:
    """Index into hs of the state before step t (see the _xp module)."""
    return t + 1 if s.reverse else t


cdef inline Py_ssize_t _next(const Seq* s, Py_ssize_t t) noexcept nogil:
    return t if s.reverse else t + 1


cdef inline bint _active(const Seq* s, Py_ssize_t t, Py_ssize_t n) noexcept nogil:
    return s.lens == NULL or t < s.lens[n]


cdef void _carry_state(const floating* prev, floating* nxt, floating* y,
                       Py_ssize_t H) noexcept nogil:
    """A padded step: the state goes through unchanged, the output is 0."""
    memcpy(nxt, prev, H * sizeof(floating))
    memset(y, 0, H * sizeof(floating))


cdef void _col_sums(const floating* a, Py_ssize_t rows, Py_ssize_t cols,
                    double* acc) noexcept nogil:
    """acc[j] += sum over rows of a[r, j] (a is (rows, cols) C-contiguous)."""
    cdef Py_ssize_t r, j
    cdef const floating* row
    for r in range(rows):
        row = a + r * cols
        for j in range(cols):
            acc[j] += row[j]


cdef void _chunk_grads(const floating* gi, const floating* gh, Py_ssize_t rows,
                       Py_ssize_t G, Py_ssize_t F, Py_ssize_t H, const floating* w_ih,
                       const floating* x, const floating* hprev, floating* gx, floating* gwi,
                       floating* gwh, double* gbi, double* gbh, floating beta) noexcept nogil:
    """One chunk's share of grad x, grad W_ih, grad W_hh and the bias sums.

    ``gi``/``gh``: the chunk's (rows, G) gate gradients on the input and the
    recurrent side (one buffer for LSTM and RNN, whose two biases get the
    same gradient: ``gbh`` is then NULL). ``x``, ``hprev`` and ``gx`` point at
    the chunk's first row; ``gx``/``gwi`` may be NULL (not wanted). ``beta``
    is 0 for the first chunk, which overwrites the weight gradients.
    """
    if gx != NULL:
        gemm_rowmajor(False, False, <int> rows, <int> F, <int> G, <floating> 1,
                      gi, <int> G, w_ih, <int> F, <floating> 0, gx, <int> F)
    if gwi != NULL:
        gemm_rowmajor(True, False, <int> G, <int> F, <int> rows, <floating> 1,
                      gi, <int> G, x, <int> F, beta, gwi, <int> F)
        gemm_rowmajor(True, False, <int> G, <int> H, <int> rows, <floating> 1,
                      gh, <int> G, hprev, <int> H, beta, gwh, <int> H)
        _col_sums(gi, rows, G, gbi)
        if gbh != NULL:
            _col_sums(gh, rows, G, gbh)


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------

cdef inline void _lstm_cell_any(floating* a, const floating* b, const floating* cp,
                            floating* cn, floating* hn, floating* y,
                            Py_ssize_t H) noexcept nogil:
    """a (4H,) pre-activations -> activations in place; new c, h and y."""
    cdef Py_ssize_t j
    cdef floating i, f, g, o, c, h
    for j in range(H):
        i = c_sigmoid(a[j] + b[j])
        f = c_sigmoid(a[H + j] + b[H + j])
        g = c_tanh(a[2 * H + j] + b[2 * H + j])
        o = c_sigmoid(a[3 * H + j] + b[3 * H + j])
        c = f * cp[j] + i * g
        h = o * c_tanh(c)
        a[j] = i
        a[H + j] = f
        a[2 * H + j] = g
        a[3 * H + j] = o
        cn[j] = c
        hn[j] = h
        y[j] = h


cdef inline void _lstm_cell(floating* a, const floating* b, const floating* cp,
                            floating* cn, floating* hn, floating* y, Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx2():
            skn_lstm_cell_f32_avx2(a, b, cp, cn, hn, y, H)
        else:
            skn_lstm_cell_f32_base(a, b, cp, cn, hn, y, H)
    else:
        _lstm_cell_any(a, b, cp, cn, hn, y, H)


cdef void _lstm_forward(const Seq* s, const floating* x, const floating* w_ih,
                        const floating* w_hh, const floating* b, floating* gates,
                        floating* hs, floating* cs, floating* y) noexcept nogil:
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H, G = 4 * s.H
    cdef Py_ssize_t k, t, n
    cdef floating* a
    cdef floating* hp
    cdef floating* hn
    cdef floating* cp
    cdef floating* cn
    gemm_rowmajor(False, True, <int> (T * N), <int> G, <int> s.F, <floating> 1,
                  x, <int> s.F, w_ih, <int> s.F, <floating> 0, gates, <int> G)
    for k in range(T):
        t = _fwd_t(s, k)
        a = gates + t * N * G
        hp = hs + _prev(s, t) * NH
        hn = hs + _next(s, t) * NH
        cp = cs + _prev(s, t) * NH
        cn = cs + _next(s, t) * NH
        gemm_rowmajor(False, True, <int> N, <int> G, <int> H, <floating> 1,
                      hp, <int> H, w_hh, <int> H, <floating> 1, a, <int> G)
        for n in range(N):
            if _active(s, t, n):
                _lstm_cell(a + n * G, b, cp + n * H, cn + n * H, hn + n * H,
                           y + (t * N + n) * H, H)
            else:
                _carry_state(hp + n * H, hn + n * H, y + (t * N + n) * H, H)
                memcpy(cn + n * H, cp + n * H, H * sizeof(floating))


cdef inline void _lstm_cell_backward_any(const floating* a, const floating* cp,
                                     const floating* cn, const floating* gy,
                                     floating* dh, floating* dc, floating* g_out,
                                     Py_ssize_t H) noexcept nogil:
    """Gate gradients of one row; dc <- dc_t * f, dh <- 0 (the GEMM adds)."""
    cdef Py_ssize_t j
    cdef floating i, f, g, o, tc, d_h, d_c
    for j in range(H):
        i = a[j]
        f = a[H + j]
        g = a[2 * H + j]
        o = a[3 * H + j]
        tc = c_tanh(cn[j])
        d_h = dh[j] + gy[j]
        d_c = dc[j] + d_h * o * (1 - tc * tc)
        g_out[j] = d_c * g * i * (1 - i)
        g_out[H + j] = d_c * cp[j] * f * (1 - f)
        g_out[2 * H + j] = d_c * i * (1 - g * g)
        g_out[3 * H + j] = d_h * tc * o * (1 - o)
        dc[j] = d_c * f
        dh[j] = 0


cdef inline void _lstm_cell_backward(const floating* a, const floating* cp,
                                     const floating* cn, const floating* gy,
                                     floating* dh, floating* dc, floating* g_out,
                                     Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx2():
            skn_lstm_cell_bwd_f32_avx2(a, cp, cn, gy, dh, dc, g_out, H)
        else:
            skn_lstm_cell_bwd_f32_base(a, cp, cn, gy, dh, dc, g_out, H)
    else:
        _lstm_cell_backward_any(a, cp, cn, gy, dh, dc, g_out, H)


cdef void _lstm_backward(const Seq* s, const floating* gy, const floating* zrow,
                         const floating* w_hh, const floating* gates,
                         const floating* cs, const floating* x, const floating* w_ih,
                         const floating* hprev, Py_ssize_t chunk, floating* Gc,
                         floating* dh, floating* dc, bint need_state, floating* gx,
                         floating* gwi, floating* gwh, double* gb) noexcept nogil:
    """Backward through time in chunks of ``chunk`` steps.

    The gate gradients of a chunk's steps go to ``Gc`` ((chunk * N, G), rows
    in time order); once the chunk is done, its share of the weight
    gradients is three GEMMs over those rows (gx = Gc @ W_ih,
    gwi += Gc^T @ X, gwh += Gc^T @ H_prev) and a column sum (gb), while Gc
    is still in cache. ``hprev`` is the block of previous states (row t:
    the state before step t). gx / gwi (with gwh, gb) NULL: not wanted.
    """
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H, G = 4 * s.H
    cdef Py_ssize_t F = s.F
    cdef Py_ssize_t k, t, n, k_hi, k_lo, t_lo, rows
    cdef const floating* gyr
    cdef floating* grow
    cdef floating beta = 0
    k_hi = T - 1
    while k_hi >= 0:
        k_lo = k_hi - chunk + 1 if k_hi - chunk + 1 > 0 else 0
        t_lo = T - 1 - k_hi if s.reverse else k_lo
        rows = (k_hi - k_lo + 1) * N
        for k in range(k_hi, k_lo - 1, -1):
            t = _fwd_t(s, k)
            grow = Gc + (t - t_lo) * N * G
            for n in range(N):
                if _active(s, t, n):
                    gyr = gy + (t * N + n) * H if gy != NULL else zrow
                    _lstm_cell_backward(gates + (t * N + n) * G,
                                        cs + _prev(s, t) * NH + n * H,
                                        cs + _next(s, t) * NH + n * H, gyr, dh + n * H,
                                        dc + n * H, grow + n * G, H)
                else:
                    memset(grow + n * G, 0, G * sizeof(floating))
            if k > 0 or need_state:
                gemm_rowmajor(False, False, <int> N, <int> H, <int> G, <floating> 1,
                              grow, <int> G, w_hh, <int> H, <floating> 1, dh, <int> H)
        _chunk_grads(Gc, Gc, rows, G, F, H, w_ih, x + t_lo * N * F, hprev + t_lo * NH,
                     gx + t_lo * N * F if gx != NULL else NULL, gwi, gwh, gb, NULL, beta)
        beta = 1
        k_hi = k_lo - 1


# ---------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------

cdef inline void _gru_cell_any(floating* a, const floating* gh, const floating* bi,
                           const floating* bh, const floating* hp, floating* ghn,
                           floating* hn, floating* y, Py_ssize_t H) noexcept nogil:
    """a (3H,) input projections -> (r, z, n) in place; ghn, new h and y."""
    cdef Py_ssize_t j
    cdef floating r, z, q, nn, h
    for j in range(H):
        r = c_sigmoid(a[j] + bi[j] + gh[j] + bh[j])
        z = c_sigmoid(a[H + j] + bi[H + j] + gh[H + j] + bh[H + j])
        q = gh[2 * H + j] + bh[2 * H + j]
        nn = c_tanh(a[2 * H + j] + bi[2 * H + j] + r * q)
        h = (1 - z) * nn + z * hp[j]
        a[j] = r
        a[H + j] = z
        a[2 * H + j] = nn
        ghn[j] = q
        hn[j] = h
        y[j] = h


cdef inline void _gru_cell(floating* a, const floating* gh, const floating* bi,
                           const floating* bh, const floating* hp, floating* ghn,
                           floating* hn, floating* y, Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx2():
            skn_gru_cell_f32_avx2(a, gh, bi, bh, hp, ghn, hn, y, H)
        else:
            skn_gru_cell_f32_base(a, gh, bi, bh, hp, ghn, hn, y, H)
    else:
        _gru_cell_any(a, gh, bi, bh, hp, ghn, hn, y, H)


cdef void _gru_forward(const Seq* s, const floating* x, const floating* w_ih,
                       const floating* w_hh, const floating* bi, const floating* bh,
                       floating* gates, floating* ghn, floating* hs, floating* y,
                       floating* scratch) noexcept nogil:
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H, G = 3 * s.H
    cdef Py_ssize_t k, t, n
    cdef floating* hp
    cdef floating* hn
    gemm_rowmajor(False, True, <int> (T * N), <int> G, <int> s.F, <floating> 1,
                  x, <int> s.F, w_ih, <int> s.F, <floating> 0, gates, <int> G)
    for k in range(T):
        t = _fwd_t(s, k)
        hp = hs + _prev(s, t) * NH
        hn = hs + _next(s, t) * NH
        gemm_rowmajor(False, True, <int> N, <int> G, <int> H, <floating> 1,
                      hp, <int> H, w_hh, <int> H, <floating> 0, scratch, <int> G)
        for n in range(N):
            if _active(s, t, n):
                _gru_cell(gates + (t * N + n) * G, scratch + n * G, bi, bh, hp + n * H,
                          ghn + (t * N + n) * H, hn + n * H, y + (t * N + n) * H, H)
            else:
                _carry_state(hp + n * H, hn + n * H, y + (t * N + n) * H, H)


cdef inline void _gru_cell_backward_any(const floating* a, const floating* ghn,
                                    const floating* hp, const floating* gy,
                                    floating* dh, floating* gi, floating* gh,
                                    Py_ssize_t H) noexcept nogil:
    """Gate gradients of one row; dh <- dh_t * z (the GEMM adds the rest)."""
    cdef Py_ssize_t j
    cdef floating r, z, nn, d_h, dn, dz, dr
    for j in range(H):
        r = a[j]
        z = a[H + j]
        nn = a[2 * H + j]
        d_h = dh[j] + gy[j]
        dn = d_h * (1 - z) * (1 - nn * nn)
        dz = d_h * (hp[j] - nn) * z * (1 - z)
        dr = dn * ghn[j] * r * (1 - r)
        gi[j] = dr
        gi[H + j] = dz
        gi[2 * H + j] = dn
        gh[j] = dr
        gh[H + j] = dz
        gh[2 * H + j] = dn * r
        dh[j] = d_h * z


cdef inline void _gru_cell_backward(const floating* a, const floating* ghn,
                                    const floating* hp, const floating* gy,
                                    floating* dh, floating* gi, floating* gh,
                                    Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx2():
            skn_gru_cell_bwd_f32_avx2(a, ghn, hp, gy, dh, gi, gh, H)
        else:
            skn_gru_cell_bwd_f32_base(a, ghn, hp, gy, dh, gi, gh, H)
    else:
        _gru_cell_backward_any(a, ghn, hp, gy, dh, gi, gh, H)


cdef void _gru_backward(const Seq* s, const floating* gy, const floating* zrow,
                        const floating* w_hh, const floating* gates,
                        const floating* ghn, const floating* x, const floating* w_ih,
                        const floating* hprev, Py_ssize_t chunk, floating* Gi,
                        floating* Gh, floating* dh, bint need_state, floating* gx,
                        floating* gwi, floating* gwh, double* gbi,
                        double* gbh) noexcept nogil:
    """Backward through time in chunks of ``chunk`` steps, as the LSTM's.

    A chunk's gate gradients go to ``Gi`` (w.r.t. the input projections) and
    ``Gh`` (w.r.t. the recurrent ones; they differ in the n gate), both
    ((chunk * N, 3H), rows in time order); then gx = Gi @ W_ih,
    gwi += Gi^T @ X, gwh += Gh^T @ H_prev and the column sums of Gi (gbi) and
    Gh (gbh) over the chunk's rows. gx / gwi (with gwh, gbi, gbh) NULL: not
    wanted.
    """
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H, G = 3 * s.H
    cdef Py_ssize_t F = s.F
    cdef Py_ssize_t k, t, n, row, k_hi, k_lo, t_lo, rows, off
    cdef const floating* gyr
    cdef floating beta = 0
    k_hi = T - 1
    while k_hi >= 0:
        k_lo = k_hi - chunk + 1 if k_hi - chunk + 1 > 0 else 0
        t_lo = T - 1 - k_hi if s.reverse else k_lo
        rows = (k_hi - k_lo + 1) * N
        for k in range(k_hi, k_lo - 1, -1):
            t = _fwd_t(s, k)
            off = (t - t_lo) * N * G
            for n in range(N):
                row = t * N + n
                if _active(s, t, n):
                    gyr = gy + row * H if gy != NULL else zrow
                    _gru_cell_backward(gates + row * G, ghn + row * H,
                                       hprev + row * H, gyr, dh + n * H,
                                       Gi + off + n * G, Gh + off + n * G, H)
                else:
                    memset(Gi + off + n * G, 0, G * sizeof(floating))
                    memset(Gh + off + n * G, 0, G * sizeof(floating))
            if k > 0 or need_state:
                gemm_rowmajor(False, False, <int> N, <int> H, <int> G, <floating> 1,
                              Gh + off, <int> G, w_hh, <int> H, <floating> 1,
                              dh, <int> H)
        _chunk_grads(Gi, Gh, rows, G, F, H, w_ih, x + t_lo * N * F, hprev + t_lo * NH,
                     gx + t_lo * N * F if gx != NULL else NULL, gwi, gwh, gbi, gbh, beta)
        beta = 1
        k_hi = k_lo - 1


# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------

cdef inline void _rnn_cell(const floating* a, const floating* b, floating* hn,
                           floating* y, Py_ssize_t H, bint relu) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating v, h
    if relu:
        for j in range(H):
            v = a[j] + b[j]
            h = v if v > 0 else 0
            hn[j] = h
            y[j] = h
    elif floating is float:
        if use_avx2():
            skn_rnn_tanh_f32_avx2(a, b, hn, y, H)
        else:
            skn_rnn_tanh_f32_base(a, b, hn, y, H)
    else:
        for j in range(H):
            h = c_tanh(a[j] + b[j])
            hn[j] = h
            y[j] = h


cdef void _rnn_forward(const Seq* s, const floating* x, const floating* w_ih,
                       const floating* w_hh, const floating* b, floating* pre,
                       floating* hs, floating* y, bint relu) noexcept nogil:
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H
    cdef Py_ssize_t k, t, n
    cdef floating* a
    cdef floating* hp
    cdef floating* hn
    gemm_rowmajor(False, True, <int> (T * N), <int> H, <int> s.F, <floating> 1,
                  x, <int> s.F, w_ih, <int> s.F, <floating> 0, pre, <int> H)
    for k in range(T):
        t = _fwd_t(s, k)
        a = pre + t * NH
        hp = hs + _prev(s, t) * NH
        hn = hs + _next(s, t) * NH
        gemm_rowmajor(False, True, <int> N, <int> H, <int> H, <floating> 1,
                      hp, <int> H, w_hh, <int> H, <floating> 1, a, <int> H)
        for n in range(N):
            if _active(s, t, n):
                _rnn_cell(a + n * H, b, hn + n * H, y + (t * N + n) * H, H, relu)
            else:
                _carry_state(hp + n * H, hn + n * H, y + (t * N + n) * H, H)


cdef inline void _rnn_cell_backward(const floating* h, const floating* gy,
                                    floating* dh, floating* g, Py_ssize_t H,
                                    bint relu) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating d
    if relu:
        for j in range(H):
            d = dh[j] + gy[j]
            g[j] = d if h[j] > 0 else 0
            dh[j] = 0
    elif floating is float:
        if use_avx2():
            skn_rnn_tanh_bwd_f32_avx2(h, gy, dh, g, H)
        else:
            skn_rnn_tanh_bwd_f32_base(h, gy, dh, g, H)
    else:
        for j in range(H):
            d = dh[j] + gy[j]
            g[j] = d * (1 - h[j] * h[j])
            dh[j] = 0


cdef void _rnn_backward(const Seq* s, const floating* gy, const floating* zrow,
                        const floating* w_hh, const floating* hs, const floating* x,
                        const floating* w_ih, const floating* hprev, Py_ssize_t chunk,
                        floating* Gc, floating* dh, bint need_state, bint relu,
                        floating* gx, floating* gwi, floating* gwh,
                        double* gb) noexcept nogil:
    """Backward through time in chunks of ``chunk`` steps, as the LSTM's
    (``Gc`` is (chunk * N, H))."""
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H
    cdef Py_ssize_t F = s.F
    cdef Py_ssize_t k, t, n, row, k_hi, k_lo, t_lo, rows
    cdef const floating* gyr
    cdef floating* grow
    cdef floating beta = 0
    k_hi = T - 1
    while k_hi >= 0:
        k_lo = k_hi - chunk + 1 if k_hi - chunk + 1 > 0 else 0
        t_lo = T - 1 - k_hi if s.reverse else k_lo
        rows = (k_hi - k_lo + 1) * N
        for k in range(k_hi, k_lo - 1, -1):
            t = _fwd_t(s, k)
            grow = Gc + (t - t_lo) * NH
            for n in range(N):
                row = t * N + n
                if _active(s, t, n):
                    gyr = gy + row * H if gy != NULL else zrow
                    _rnn_cell_backward(hs + _next(s, t) * NH + n * H, gyr, dh + n * H,
                                       grow + n * H, H, relu)
                else:
                    memset(grow + n * H, 0, H * sizeof(floating))
            if k > 0 or need_state:
                gemm_rowmajor(False, False, <int> N, <int> H, <int> H, <floating> 1,
                              grow, <int> H, w_hh, <int> H, <floating> 1, dh, <int> H)
        _chunk_grads(Gc, Gc, rows, H, F, H, w_ih, x + t_lo * N * F, hprev + t_lo * NH,
                     gx + t_lo * N * F if gx != NULL else NULL, gwi, gwh, gb, NULL, beta)
        beta = 1
        k_hi = k_lo - 1


# ---------------------------------------------------------------------------
# Typed entry points (fused over float / double), called with the GIL held
# ---------------------------------------------------------------------------

cdef void _lstm_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                           const floating[::1] w_hh, const floating[::1] b,
                           floating[::1] gates, floating[::1] hs, floating[::1] cs,
                           floating[::1] y):
    with nogil:
        _lstm_forward(s, &x[0], &w_ih[0], &w_hh[0], &b[0], &gates[0], &hs[0],
                      &cs[0], &y[0])


cdef void _lstm_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                            const floating[::1] zrow, const floating[::1] w_hh,
                            const floating[::1] gates, const floating[::1] cs,
                            const floating[::1] x, const floating[::1] w_ih,
                            const floating[::1] hprev, Py_ssize_t chunk,
                            floating[::1] Gc, floating[::1] dh, floating[::1] dc,
                            bint need_state, floating[::1] gx, floating[::1] gwi,
                            floating[::1] gwh, double[::1] gb, bint need_input,
                            bint need_weights):
    with nogil:
        _lstm_backward(s, &gy[0] if has_gy else NULL, &zrow[0], &w_hh[0], &gates[0],
                       &cs[0], &x[0], &w_ih[0], &hprev[0], chunk, &Gc[0], &dh[0],
                       &dc[0], need_state, &gx[0] if need_input else NULL,
                       &gwi[0] if need_weights else NULL,
                       &gwh[0] if need_weights else NULL,
                       &gb[0] if need_weights else NULL)


cdef void _gru_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                          const floating[::1] w_hh, const floating[::1] bi,
                          const floating[::1] bh, floating[::1] gates,
                          floating[::1] ghn, floating[::1] hs, floating[::1] y,
                          floating[::1] scratch):
    with nogil:
        _gru_forward(s, &x[0], &w_ih[0], &w_hh[0], &bi[0], &bh[0], &gates[0],
                     &ghn[0], &hs[0], &y[0], &scratch[0])


cdef void _gru_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                           const floating[::1] zrow, const floating[::1] w_hh,
                           const floating[::1] gates, const floating[::1] ghn,
                           const floating[::1] x, const floating[::1] w_ih,
                           const floating[::1] hprev, Py_ssize_t chunk,
                           floating[::1] Gi, floating[::1] Gh, floating[::1] dh,
                           bint need_state, floating[::1] gx, floating[::1] gwi,
                           floating[::1] gwh, double[::1] gbi, double[::1] gbh,
                           bint need_input, bint need_weights):
    with nogil:
        _gru_backward(s, &gy[0] if has_gy else NULL, &zrow[0], &w_hh[0], &gates[0],
                      &ghn[0], &x[0], &w_ih[0], &hprev[0], chunk, &Gi[0], &Gh[0],
                      &dh[0], need_state, &gx[0] if need_input else NULL,
                      &gwi[0] if need_weights else NULL,
                      &gwh[0] if need_weights else NULL,
                      &gbi[0] if need_weights else NULL,
                      &gbh[0] if need_weights else NULL)


cdef void _rnn_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                          const floating[::1] w_hh, const floating[::1] b,
                          floating[::1] pre, floating[::1] hs, floating[::1] y,
                          bint relu):
    with nogil:
        _rnn_forward(s, &x[0], &w_ih[0], &w_hh[0], &b[0], &pre[0], &hs[0], &y[0], relu)


cdef void _rnn_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                           const floating[::1] zrow, const floating[::1] w_hh,
                           const floating[::1] hs, const floating[::1] x,
                           const floating[::1] w_ih, const floating[::1] hprev,
                           Py_ssize_t chunk, floating[::1] Gc, floating[::1] dh,
                           bint need_state, bint relu, floating[::1] gx,
                           floating[::1] gwi, floating[::1] gwh, double[::1] gb,
                           bint need_input, bint need_weights):
    with nogil:
        _rnn_backward(s, &gy[0] if has_gy else NULL, &zrow[0], &w_hh[0], &hs[0], &x[0],
                      &w_ih[0], &hprev[0], chunk, &Gc[0], &dh[0], need_state, relu,
                      &gx[0] if need_input else NULL,
                      &gwi[0] if need_weights else NULL,
                      &gwh[0] if need_weights else NULL,
                      &gb[0] if need_weights else NULL)


# ---------------------------------------------------------------------------
# Python helpers
# ---------------------------------------------------------------------------

cdef Seq _seq(dict d, lens, bint reverse):
    cdef Seq s
    cdef const int64_t[::1] lv
    s.T = d["T"]
    s.N = d["N"]
    s.F = d["F"]
    s.H = d["H"]
    s.reverse = reverse
    s.lens = NULL
    if lens is not None:
        lv = lens
        s.lens = &lv[0]
    return s


def _flat(a, dtype):
    """``a`` as a flat C-contiguous array of ``dtype`` (a view when it can)."""
    return c_array(a, dtype).reshape(-1)


def _vec_or_zeros(b, n, dtype):
    return np.zeros(n, dtype=dtype) if b is None else _flat(b, dtype)


def _state_or_zeros(a, N, H, dtype):
    return np.zeros((N, H), dtype=dtype) if a is None else c_array(a, dtype).copy()


def _arrays(*arrays):
    return tuple(None if a is None else as_array(a) for a in arrays)


def _grad_buffers(d, G, need_input, need_weights, dtype):
    T, N, F, H = d["T"], d["N"], d["F"], d["H"]
    one = np.zeros(1, dtype=dtype)
    gx = np.empty((T, N, F), dtype=dtype) if need_input else None
    gwi = np.empty((G, F), dtype=dtype) if need_weights else None
    gwh = np.empty((G, H), dtype=dtype) if need_weights else None
    return gx, gwi, gwh, (one if gx is None else gx.reshape(-1),
                          one if gwi is None else gwi.reshape(-1),
                          one if gwh is None else gwh.reshape(-1))


def _prev_block(hs, T, reverse):
    return (hs[1:] if reverse else hs[:T]).reshape(-1)


# Rows of gate gradients per chunk of the LSTM backward (see _lstm_backward).
_BWD_CHUNK_ROWS = 512


def _chunk_steps(T, N):
    """Steps per chunk: about ``_BWD_CHUNK_ROWS`` rows of gate gradients."""
    return max(1, min(T, _BWD_CHUNK_ROWS // N))


def _grad_y(grad_y, dtype):
    """(flat grad_y or a 1-element dummy, whether it was given)."""
    if grad_y is None:
        return np.zeros(1, dtype=dtype), False
    return _flat(grad_y, dtype), True


def _workspace(workspace, dtype):
    return tuple(c_array(a, dtype) for a in workspace)


# ---------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------

def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, *,
                 n_threads=None):
    """Forward of a one-layer, one-direction LSTM over a whole sequence.

    PyTorch's gates (i, f, g, o) and equations; see
    ``sklears_neural._xp._rnn.lstm_forward``.

    Parameters
    ----------
    x : ndarray of shape (T, N, F)
        Time-major input.
    h0, c0 : ndarrays of shape (N, H) or None
        Initial states (None: zeros).
    w_ih : ndarray of shape (4H, F)
    w_hh : ndarray of shape (4H, H)
    b_ih, b_hh : ndarrays of shape (4H,) or None
    lengths : None or integer ndarray of shape (N,)
        Sequence lengths in [1, T]; steps t >= lengths[n] are padding.
    reverse : bool
        Run from the last (valid) step down to step 0.
    n_threads : None or int, keyword-only
        Accepted for the kernels' common signature; runs serially (BLAS's
        own threads in the GEMMs).

    Returns
    -------
    y : ndarray of shape (T, N, H)
        0 at padded steps.
    h_n, c_n : ndarrays of shape (N, H)
    workspace : tuple of ndarrays
        ``(gates, hs, cs)``, what ``lstm_backward`` needs.
    """
    kernel = "lstm_forward"
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _arrays(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "lstm", x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths)
    resolve_n_threads(n_threads, 1, 1)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev)
    if b_ih is None and b_hh is None:
        b = np.zeros(4 * H, dtype=dtype)
    else:
        b = _vec_or_zeros(b_ih, 4 * H, dtype) + _vec_or_zeros(b_hh, 4 * H, dtype)
    gates = np.empty((T, N, 4 * H), dtype=dtype)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    cs = np.empty((T + 1, N, H), dtype=dtype)
    y = np.empty((T, N, H), dtype=dtype)
    start = T if rev else 0
    hs[start] = _state_or_zeros(h0, N, H, dtype)
    cs[start] = _state_or_zeros(c0, N, H, dtype)
    if dtype == FLOAT32:
        _lstm_forward_mv[float](
            &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh, dtype), b, gates.reshape(-1), hs.reshape(-1), cs.reshape(-1), y.reshape(-1))
    else:
        _lstm_forward_mv[double](
            &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh, dtype), b, gates.reshape(-1), hs.reshape(-1), cs.reshape(-1), y.reshape(-1))
    end = 0 if rev else T
    return y, hs[end].copy(), cs[end].copy(), (gates, hs, cs)


def lstm_backward(grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh, workspace,
                  lengths=None, reverse=False, need_input=True, need_weights=True,
                  need_state=True, *, n_threads=None):
    """Backward-through-time of ``lstm_forward``.

    Parameters
    ----------
    grad_y : ndarray of shape (T, N, H) or None
        Entries at padded steps are ignored; None means zero.
    grad_hn, grad_cn : ndarrays of shape (N, H) or None
    x, h0, c0, w_ih, w_hh : the forward's arguments
        ``h0`` and ``c0`` are only checked (the workspace holds the states).
    workspace : tuple
        Returned by ``lstm_forward`` for the same arguments.
    lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    grad_x : ndarray of shape (T, N, F) or None
    grad_h0, grad_c0 : ndarrays of shape (N, H) or None
    grad_w_ih : ndarray of shape (4H, F) or None
    grad_w_hh : ndarray of shape (4H, H) or None
    grad_b : ndarray of shape (4H,) or None
        The gradient of ``b_ih`` and equally of ``b_hh``.
    """
    kernel = "lstm_backward"
    grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh = _arrays(
        grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh)
    d = rnn_arguments(kernel, "lstm", x, h0, c0, w_ih, w_hh, None, None, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("lstm", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn, grad_cn=grad_cn)
    resolve_n_threads(n_threads, 1, 1)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None, None
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev)
    gates, hs, cs = _workspace(workspace, dtype)
    gy, has_gy = _grad_y(grad_y, dtype)
    dh = _state_or_zeros(grad_hn, N, H, dtype)
    dc = _state_or_zeros(grad_cn, N, H, dtype)
    chunk = _chunk_steps(T, N)
    Gc = np.empty(chunk * N * 4 * H, dtype=dtype)
    zrow = np.zeros(H, dtype=dtype)
    gx, gwi, gwh, flat = _grad_buffers(d, 4 * H, need_input, need_weights, dtype)
    gb = np.zeros(4 * H if need_weights else 1, dtype=np.float64)
    hprev = _prev_block(hs, T, rev)
    if dtype == FLOAT32:
        _lstm_backward_mv[float](
            &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), cs.reshape(-1),
            _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1),
            dc.reshape(-1), bool(need_state), flat[0], flat[1], flat[2], gb,
            bool(need_input), bool(need_weights))
    else:
        _lstm_backward_mv[double](
            &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), cs.reshape(-1),
            _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1),
            dc.reshape(-1), bool(need_state), flat[0], flat[1], flat[2], gb,
            bool(need_input), bool(need_weights))
    gb = gb.astype(dtype) if need_weights else None
    if not need_state:
        dh = dc = None
    return gx, dh, dc, gwi, gwh, gb


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, *,
                n_threads=None):
    """Forward of a one-layer, one-direction GRU over a whole sequence.

    PyTorch's gates (r, z, n) and equations, with b_hn inside
    ``r * (W_hn h + b_hn)``; see ``sklears_neural._xp._rnn.gru_forward``.

    Parameters
    ----------
    x : ndarray of shape (T, N, F)
    h0 : ndarray of shape (N, H) or None
    w_ih : ndarray of shape (3H, F)
    w_hh : ndarray of shape (3H, H)
    b_ih, b_hh : ndarrays of shape (3H,) or None
    lengths, reverse : as in ``lstm_forward``
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    y : ndarray of shape (T, N, H)
    h_n : ndarray of shape (N, H)
    workspace : tuple of ndarrays
        ``(gates, ghn, hs)``, what ``gru_backward`` needs.
    """
    kernel = "gru_forward"
    x, h0, w_ih, w_hh, b_ih, b_hh = _arrays(x, h0, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "gru", x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths)
    resolve_n_threads(n_threads, 1, 1)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev)
    gates = np.empty((T, N, 3 * H), dtype=dtype)
    ghn = np.empty((T, N, H), dtype=dtype)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    y = np.empty((T, N, H), dtype=dtype)
    scratch = np.empty(N * 3 * H, dtype=dtype)
    hs[T if rev else 0] = _state_or_zeros(h0, N, H, dtype)
    if dtype == FLOAT32:
        _gru_forward_mv[float](
            &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh, dtype), _vec_or_zeros(b_ih, 3 * H, dtype), _vec_or_zeros(b_hh, 3 * H, dtype), gates.reshape(-1), ghn.reshape(-1), hs.reshape(-1), y.reshape(-1), scratch)
    else:
        _gru_forward_mv[double](
            &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh, dtype), _vec_or_zeros(b_ih, 3 * H, dtype), _vec_or_zeros(b_hh, 3 * H, dtype), gates.reshape(-1), ghn.reshape(-1), hs.reshape(-1), y.reshape(-1), scratch)
    return y, hs[0 if rev else T].copy(), (gates, ghn, hs)


def gru_backward(grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh, workspace, lengths=None,
                 reverse=False, need_input=True, need_weights=True, need_state=True, *,
                 n_threads=None):
    """Backward-through-time of ``gru_forward``.

    Parameters
    ----------
    grad_y : ndarray of shape (T, N, H) or None
    grad_hn : ndarray of shape (N, H) or None
    x, h0, w_ih, w_hh, b_hh : the forward's arguments
        ``h0`` and ``b_hh`` are only checked (the workspace holds what
        depends on them).
    workspace : tuple
        Returned by ``gru_forward`` for the same arguments.
    lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    grad_x : ndarray of shape (T, N, F) or None
    grad_h0 : ndarray of shape (N, H) or None
    grad_w_ih : ndarray of shape (3H, F) or None
    grad_w_hh : ndarray of shape (3H, H) or None
    grad_b_ih, grad_b_hh : ndarrays of shape (3H,) or None
    """
    kernel = "gru_backward"
    grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh = _arrays(
        grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh)
    d = rnn_arguments(kernel, "gru", x, h0, None, w_ih, w_hh, None, b_hh, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("gru", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn)
    resolve_n_threads(n_threads, 1, 1)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None, None
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev)
    gates, ghn, hs = _workspace(workspace, dtype)
    gy, has_gy = _grad_y(grad_y, dtype)
    dh = _state_or_zeros(grad_hn, N, H, dtype)
    chunk = _chunk_steps(T, N)
    Gi = np.empty(chunk * N * 3 * H, dtype=dtype)
    Gh = np.empty(chunk * N * 3 * H, dtype=dtype)
    zrow = np.zeros(H, dtype=dtype)
    gx, gwi, gwh, flat = _grad_buffers(d, 3 * H, need_input, need_weights, dtype)
    gbi = np.zeros(3 * H if need_weights else 1, dtype=np.float64)
    gbh = np.zeros(3 * H if need_weights else 1, dtype=np.float64)
    hprev = _prev_block(hs, T, rev)
    if dtype == FLOAT32:
        _gru_backward_mv[float](
            &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), ghn.reshape(-1),
            _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gi, Gh, dh.reshape(-1),
            bool(need_state), flat[0], flat[1], flat[2], gbi, gbh, bool(need_input),
            bool(need_weights))
    else:
        _gru_backward_mv[double](
            &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), ghn.reshape(-1),
            _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gi, Gh, dh.reshape(-1),
            bool(need_state), flat[0], flat[1], flat[2], gbi, gbh, bool(need_input),
            bool(need_weights))
    if need_weights:
        gbi = gbi.astype(dtype)
        gbh = gbh.astype(dtype)
    else:
        gbi = gbh = None
    return gx, (dh if need_state else None), gwi, gwh, gbi, gbh


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", lengths=None,
                reverse=False, *, n_threads=None):
    """Forward of a one-layer, one-direction Elman RNN over a whole sequence.

    ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, ``act`` tanh or relu.

    Parameters
    ----------
    x : ndarray of shape (T, N, F)
    h0 : ndarray of shape (N, H) or None
    w_ih : ndarray of shape (H, F)
    w_hh : ndarray of shape (H, H)
    b_ih, b_hh : ndarrays of shape (H,) or None
    nonlinearity : {"tanh", "relu"}
    lengths, reverse : as in ``lstm_forward``
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    y : ndarray of shape (T, N, H)
    h_n : ndarray of shape (N, H)
    workspace : tuple of ndarrays
        ``(hs,)``, what ``rnn_backward`` needs.
    """
    kernel = "rnn_forward"
    check_nonlinearity(kernel, nonlinearity)
    x, h0, w_ih, w_hh, b_ih, b_hh = _arrays(x, h0, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "rnn", x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths)
    resolve_n_threads(n_threads, 1, 1)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev)
    b = _vec_or_zeros(b_ih, H, dtype) + _vec_or_zeros(b_hh, H, dtype)
    pre = np.empty(T * N * H, dtype=dtype)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    y = np.empty((T, N, H), dtype=dtype)
    hs[T if rev else 0] = _state_or_zeros(h0, N, H, dtype)
    if dtype == FLOAT32:
        _rnn_forward_mv[float](
            &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh, dtype), b, pre, hs.reshape(-1), y.reshape(-1), nonlinearity == "relu")
    else:
        _rnn_forward_mv[double](
            &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh, dtype), b, pre, hs.reshape(-1), y.reshape(-1), nonlinearity == "relu")
    return y, hs[0 if rev else T].copy(), (hs,)


def rnn_backward(grad_y, grad_hn, x, h0, w_ih, w_hh, workspace, nonlinearity="tanh",
                 lengths=None, reverse=False, need_input=True, need_weights=True,
                 need_state=True, *, n_threads=None):
    """Backward-through-time of ``rnn_forward``.

    Parameters
    ----------
    grad_y : ndarray of shape (T, N, H) or None
    grad_hn : ndarray of shape (N, H) or None
    x, h0, w_ih, w_hh : the forward's arguments (``h0`` is only checked)
    workspace : tuple
        Returned by ``rnn_forward`` for the same arguments.
    nonlinearity, lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    grad_x : ndarray of shape (T, N, F) or None
    grad_h0 : ndarray of shape (N, H) or None
    grad_w_ih : ndarray of shape (H, F) or None
    grad_w_hh : ndarray of shape (H, H) or None
    grad_b : ndarray of shape (H,) or None
        The gradient of ``b_ih`` and equally of ``b_hh``.
    """
    kernel = "rnn_backward"
    check_nonlinearity(kernel, nonlinearity)
    grad_y, grad_hn, x, h0, w_ih, w_hh = _arrays(grad_y, grad_hn, x, h0, w_ih, w_hh)
    d = rnn_arguments(kernel, "rnn", x, h0, None, w_ih, w_hh, None, None, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("rnn", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn)
    resolve_n_threads(n_threads, 1, 1)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev)
    (hs,) = _workspace(workspace, dtype)
    gy, has_gy = _grad_y(grad_y, dtype)
    dh = _state_or_zeros(grad_hn, N, H, dtype)
    chunk = _chunk_steps(T, N)
    Gc = np.empty(chunk * N * H, dtype=dtype)
    zrow = np.zeros(H, dtype=dtype)
    gx, gwi, gwh, flat = _grad_buffers(d, H, need_input, need_weights, dtype)
    gb = np.zeros(H if need_weights else 1, dtype=np.float64)
    hprev = _prev_block(hs, T, rev)
    relu = nonlinearity == "relu"
    if dtype == FLOAT32:
        _rnn_backward_mv[float](
            &s, gy, has_gy, zrow, _flat(w_hh, dtype), hs.reshape(-1), _flat(x, dtype),
            _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1), bool(need_state), relu,
            flat[0], flat[1], flat[2], gb, bool(need_input), bool(need_weights))
    else:
        _rnn_backward_mv[double](
            &s, gy, has_gy, zrow, _flat(w_hh, dtype), hs.reshape(-1), _flat(x, dtype),
            _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1), bool(need_state), relu,
            flat[0], flat[1], flat[2], gb, bool(need_input), bool(need_weights))
    gb = gb.astype(dtype) if need_weights else None
    return gx, (dh if need_state else None), gwi, gwh, gb
