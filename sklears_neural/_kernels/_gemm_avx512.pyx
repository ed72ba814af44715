"""float32 GEMM with AVX-512 (the C kernel ``src/skn_sgemm.h``), built with -mavx512f -mfma.

Used by ``_blas.gemm_rowmajor`` only on CPUs that have AVX-512F
(``_cpu.use_avx512()``); see ``src/README.md``. Kept to this one wrapper so
that nothing else is compiled for AVX-512.
"""


cdef extern from "skn_sgemm.h" nogil:
    int skn_sgemm_parallel(int n_threads, int trans_a, int trans_b, int m, int n, int k,
                           float alpha, const float* a, int lda, const float* b, int ldb,
                           float beta, float* c, int ldc)


cdef int sgemm_avx512(int n_threads, bint trans_a, bint trans_b, int m, int n, int k,
                      float alpha, const float* a, int lda, const float* b, int ldb,
                      float beta, float* c, int ldc) noexcept nogil:
    return skn_sgemm_parallel(n_threads, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                              beta, c, ldc)
