/* skn_math.h: branch-free float32 elementary functions (exp, expm1,
   log1p on [0, 1], tanh, erfc) that GCC vectorises.

   Scalar libm calls (expf, tanhf, erff, ...) cannot be vectorised, and with
   them the activations were 5-30x slower than numpy's SIMD ufuncs. These
   are plain C arithmetic plus selects, so every loop that calls them
   vectorises at the SIMD width of the module that includes this header
   (SSE2 for ``_loops``, AVX2+FMA for ``_loops_avx2``, the host's with
   SKLEARS_NEURAL_NATIVE=1). They are within a few float32 ulp of the
   correctly rounded result; the tests hold them to 1e-5 relative against
   the numpy reference, and to the reference's own accuracy against float64
   on a dense grid. Declared for Cython in ``_math.pxd``, whose inline
   element functions call them. */

#ifndef SKN_MATH_H
#define SKN_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "skn_simd.h"   /* SKN_INLINE */

SKN_INLINE float skn_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
SKN_INLINE uint32_t skn_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* exp(x), ~1 ulp: Cody-Waite reduction x = n ln2 + r (|r| <= ln2/2),
   Cephes' polynomial for exp(r), and 2^n applied in two halves so that
   results in the denormal range are right. NaN in, NaN out. */
SKN_INLINE float skn_expf(float x) {
    const float magic = 12582912.0f;  /* 1.5 * 2^23: t - magic rounds to int */
    float xc = x > 88.8f ? 88.8f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    int32_t ni = (int32_t) (skn_as_uint(t) - skn_as_uint(magic));
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float y = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r
                  + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r
                + 1.6666665459e-1f) * r + 5.0000001201e-1f) * z + r + 1.0f;
    int32_t n1 = ni / 2;
    int32_t n2 = ni - n1;
    float res = y * skn_as_float((uint32_t) (n1 + 127) << 23)
                  * skn_as_float((uint32_t) (n2 + 127) << 23);
    res = x > 88.72283935546875f ? INFINITY : res;
    res = x < -103.972077f ? 0.0f : res;
    return x != x ? x : res;
}

/* exp(x) - 1 without cancellation: Taylor polynomial for |x| < 1/2
   (truncation < 1e-8 relative), exp(x) - 1 beyond. */
SKN_INLINE float skn_expm1f(float x) {
    float p = 2.48015873015873016e-05f;     /* 1/8! */
    p = p * x + 1.98412698412698413e-04f;   /* 1/7! */
    p = p * x + 1.38888888888888889e-03f;   /* 1/6! */
    p = p * x + 8.33333333333333333e-03f;   /* 1/5! */
    p = p * x + 4.16666666666666667e-02f;   /* 1/4! */
    p = p * x + 1.66666666666666667e-01f;   /* 1/3! */
    p = p * x + 0.5f;
    float small = x + x * x * p;
    float big = skn_expf(x) - 1.0f;
    float ax = x < 0.0f ? -x : x;
    return ax < 0.5f ? small : big;
}

/* log(1 + t) for t in [0, 1]: with s = t / (2 + t) in [0, 1/3],
   log(1 + t) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), all terms
   positive (no cancellation), truncation < 2e-9 relative. */
SKN_INLINE float skn_log1p_unitf(float t) {
    float s = t / (2.0f + t);
    float s2 = s * s;
    float p = 1.0f / 15.0f;
    p = p * s2 + 1.0f / 13.0f;
    p = p * s2 + 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return 2.0f * s * p;
}

/* tanh(x) = expm1(2x) / (expm1(2x) + 2); |x| > 9 rounds to +-1. */
SKN_INLINE float skn_tanhf(float x) {
    float xc = x > 9.0f ? 9.0f : x;
    xc = xc < -9.0f ? -9.0f : xc;
    float e = skn_expm1f(2.0f * xc);
    return e / (e + 2.0f);
}

/* erfc(x) with relative error ~1e-6 everywhere (also in the far tail,
   which 1 - erf(x) cannot give): Numerical Recipes' Chebyshev fit
   erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), fractional error
   < 1.2e-7 in exact arithmetic; erfc(-z) = 2 - erfc(z). */
SKN_INLINE float skn_erfcf(float x) {
    float z = x < 0.0f ? -x : x;
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    float r = t * skn_expf(p - z * z);
    return x < 0.0f ? 2.0f - r : r;
}

#endif  /* SKN_MATH_H */
