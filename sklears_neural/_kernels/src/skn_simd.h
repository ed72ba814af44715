/* skn_simd.h: the vocabulary every C kernel of sklears-neural shares.

   The C kernels (``skn_*.h`` here) are written once, with no per-function
   ``target`` attributes: the ``_loops`` / ``_loops_avx2`` / ``_loops_avx512``
   Cython modules include them, and setup.py compiles the first with the
   portable baseline flags, the second with ``-mavx2 -mfma`` and the third
   with ``-mavx512f`` too. The vector width is therefore a compile-time
   property of the module, read here from the compiler's own macros
   (``__AVX2__``); which module runs is chosen at import by ``_cpu``. See
   README.md in this folder.

   Vectors are GCC/clang vector extensions (``vector_size``), whose
   arithmetic GCC lowers to the build's instructions (SSE2 or AVX2+FMA,
   fused multiply-adds included: ``a += w * b`` contracts). Other compilers
   get ``SKN_HAVE_VECTORS`` undefined and the kernels' plain C loops. */

#ifndef SKN_SIMD_H
#define SKN_SIMD_H

#include <Python.h>   /* Py_ssize_t; Cython modules include it first anyway */
#include <string.h>

/* Forced inlining: a module holds many specialised loops, and GCC's
   unit-growth limit would otherwise leave some of these calls out of line,
   which keeps the loop around them from vectorising. SKN_NOINLINE: the
   opposite, for a long loop that runs better as a function of its own. */
#if defined(__GNUC__) || defined(__clang__)
#define SKN_INLINE static inline __attribute__((always_inline))
#define SKN_NOINLINE __attribute__((noinline))
#else
#define SKN_INLINE static inline
#define SKN_NOINLINE
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SKN_HAVE_VECTORS 1

/* SKN_VL floats per vector: 8 where the module is compiled for AVX2 (the
   ``_loops_avx2`` build, or any build with -march=native on such a CPU), 4
   otherwise. 8-float vectors without AVX go through the stack (measured 2x
   slower than scalar Cython loops), hence the two widths. */
#if defined(__AVX2__)
#define SKN_VL 8
#else
#define SKN_VL 4
#endif

typedef float skn_vf __attribute__((vector_size(4 * SKN_VL)));
typedef int skn_vi __attribute__((vector_size(4 * SKN_VL)));
/* the same, for unaligned loads and stores through any float pointer */
typedef float skn_vf_u __attribute__((vector_size(4 * SKN_VL), aligned(4), may_alias));
typedef int skn_vi_u __attribute__((vector_size(4 * SKN_VL), aligned(4), may_alias));

#define SKN_LDV(p) (*(const skn_vf_u *)(p))
#define SKN_STV(p, v) (*(skn_vf_u *)(p) = (v))
#define SKN_LDVI(p) (*(const skn_vi_u *)(p))

/* SKN_TAIL_MASK(r), 0 <= r <= SKN_VL: SKN_VL ints whose last r lanes are
   all ones (the others 0), to keep only the last r lanes of a vector that
   ends at the end of an array. */
static const int skn_tail_mask[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                      -1, -1, -1, -1, -1, -1, -1, -1};
#define SKN_TAIL_MASK(r) SKN_LDVI(skn_tail_mask + 8 - SKN_VL + (r))

#endif  /* GCC or clang */

#endif  /* SKN_SIMD_H */
