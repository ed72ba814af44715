/* skn_rnn_cells.h: the float32 cell passes of the LSTM, the GRU and the tanh
   RNN, one row (one sample of one step) per call.

   Called by ``_rnn_steps.pyx`` through the three ``_loops`` builds that
   include this header (see README.md here), so each is built for the
   baseline, AVX2+FMA and AVX-512. In C so that every constant is a float:
   Cython writes ``1 - x`` as ``1.0 - x``, which promotes a float32 loop to
   double (cvtps2pd/addpd/cvtpd2ps at half the vector width); that, in
   ``c_sigmoid`` too, made the forward cell pass cost twice the step GEMMs
   (measured with perf). The polynomial exp/tanh of ``skn_math.h`` inline
   into both builds. The row pointers are ``__restrict``: they never
   overlap, and without it GCC has to check that at run time, needs more
   checks than it allows (its vect-max-version-for-alias-checks) and leaves
   the loop scalar (5x slower forward, measured). float64 keeps the generic
   Cython loops of ``_rnn_steps`` (its exp/tanh are libm calls, scalar
   either way), and so does the relu RNN (no constants to promote). */

#ifndef SKN_RNN_CELLS_H
#define SKN_RNN_CELLS_H

#include <math.h>

#include "skn_math.h"

/* 1 / (1 + exp(-x)) with exp of a non-positive number only, in float. */
SKN_INLINE float skn_rnn_sigmoidf(float x) {
    float e = skn_expf(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    float neg = e * r;
    return x >= 0.0f ? r : neg;
}

/* LSTM: a (4H,) pre-activations (without the bias b) -> activations
   (i, f, g, o) in place; new c, h and y. */
static void skn_lstm_cell_f32(float *__restrict a, const float *__restrict b,
                              const float *__restrict cp, float *__restrict cn,
                              float *__restrict hn, float *__restrict y, Py_ssize_t H) {
    for (Py_ssize_t j = 0; j < H; j++) {
        float i = skn_rnn_sigmoidf(a[j] + b[j]);
        float f = skn_rnn_sigmoidf(a[H + j] + b[H + j]);
        float g = skn_tanhf(a[2 * H + j] + b[2 * H + j]);
        float o = skn_rnn_sigmoidf(a[3 * H + j] + b[3 * H + j]);
        float c = f * cp[j] + i * g;
        float h = o * skn_tanhf(c);
        a[j] = i;
        a[H + j] = f;
        a[2 * H + j] = g;
        a[3 * H + j] = o;
        cn[j] = c;
        hn[j] = h;
        y[j] = h;
    }
}

/* LSTM, backward: gate gradients of one row from the stored activations;
   dc <- dc_t * f, dh <- 0 (the step GEMM adds G[t] @ W_hh into it). */
static void skn_lstm_cell_bwd_f32(const float *__restrict a, const float *__restrict cp,
                                  const float *__restrict cn, const float *__restrict gy,
                                  float *__restrict dh, float *__restrict dc,
                                  float *__restrict g_out, Py_ssize_t H) {
    for (Py_ssize_t j = 0; j < H; j++) {
        float i = a[j];
        float f = a[H + j];
        float g = a[2 * H + j];
        float o = a[3 * H + j];
        float tc = skn_tanhf(cn[j]);
        float d_h = dh[j] + gy[j];
        float d_c = dc[j] + d_h * o * (1.0f - tc * tc);
        g_out[j] = d_c * g * i * (1.0f - i);
        g_out[H + j] = d_c * cp[j] * f * (1.0f - f);
        g_out[2 * H + j] = d_c * i * (1.0f - g * g);
        g_out[3 * H + j] = d_h * tc * o * (1.0f - o);
        dc[j] = d_c * f;
        dh[j] = 0.0f;
    }
}

/* GRU: a (3H,) input projections and gh (3H,) recurrent projections ->
   (r, z, n) in place in a; ghn = W_hn h + b_hn, new h and y. */
static void skn_gru_cell_f32(float *__restrict a, const float *__restrict gh,
                             const float *__restrict bi, const float *__restrict bh,
                             const float *__restrict hp, float *__restrict ghn,
                             float *__restrict hn, float *__restrict y, Py_ssize_t H) {
    for (Py_ssize_t j = 0; j < H; j++) {
        float r = skn_rnn_sigmoidf(a[j] + bi[j] + gh[j] + bh[j]);
        float z = skn_rnn_sigmoidf(a[H + j] + bi[H + j] + gh[H + j] + bh[H + j]);
        float q = gh[2 * H + j] + bh[2 * H + j];
        float nn = skn_tanhf(a[2 * H + j] + bi[2 * H + j] + r * q);
        float h = (1.0f - z) * nn + z * hp[j];
        a[j] = r;
        a[H + j] = z;
        a[2 * H + j] = nn;
        ghn[j] = q;
        hn[j] = h;
        y[j] = h;
    }
}

/* GRU, backward: gate gradients of one row, gi w.r.t. the input
   projections, gh w.r.t. the recurrent ones (they differ in the n gate
   only); dh <- dh_t * z (the step GEMM adds gh @ W_hh into it). */
static void skn_gru_cell_bwd_f32(const float *__restrict a, const float *__restrict ghn,
                                 const float *__restrict hp, const float *__restrict gy,
                                 float *__restrict dh, float *__restrict gi,
                                 float *__restrict gh, Py_ssize_t H) {
    for (Py_ssize_t j = 0; j < H; j++) {
        float r = a[j];
        float z = a[H + j];
        float nn = a[2 * H + j];
        float d_h = dh[j] + gy[j];
        float dn = d_h * (1.0f - z) * (1.0f - nn * nn);
        float dz = d_h * (hp[j] - nn) * z * (1.0f - z);
        float dr = dn * ghn[j] * r * (1.0f - r);
        gi[j] = dr;
        gi[H + j] = dz;
        gi[2 * H + j] = dn;
        gh[j] = dr;
        gh[H + j] = dz;
        gh[2 * H + j] = dn * r;
        dh[j] = d_h * z;
    }
}

/* Elman RNN, tanh: a (H,) pre-activations -> new h and y. */
static void skn_rnn_tanh_f32(const float *__restrict a, const float *__restrict b,
                             float *__restrict hn, float *__restrict y, Py_ssize_t H) {
    for (Py_ssize_t j = 0; j < H; j++) {
        float h = skn_tanhf(a[j] + b[j]);
        hn[j] = h;
        y[j] = h;
    }
}

/* Elman RNN, tanh, backward: g = (dh + gy) (1 - h^2) from the new h,
   dh <- 0 (the step GEMM adds). */
static void skn_rnn_tanh_bwd_f32(const float *__restrict h, const float *__restrict gy,
                                 float *__restrict dh, float *__restrict g, Py_ssize_t H) {
    for (Py_ssize_t j = 0; j < H; j++) {
        float d = dh[j] + gy[j];
        g[j] = d * (1.0f - h[j] * h[j]);
        dh[j] = 0.0f;
    }
}

#endif  /* SKN_RNN_CELLS_H */
