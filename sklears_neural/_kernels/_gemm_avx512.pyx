"""float32 GEMM with AVX-512 (the C kernel ``src/skn_sgemm.h``), built with -mavx512f -mavx2 -mfma.

Used by ``_blas.gemm_rowmajor`` only on CPUs that have AVX-512F and only
when this module was compiled with it (``_cpu.use_avx512_gemm()``); see
``src/README.md``. Kept to this one wrapper so that nothing else is
compiled for AVX-512 here.
"""


cdef extern from "skn_sgemm.h" nogil:
    const bint SKN_SGEMM_AVAILABLE
    int skn_sgemm_parallel(int n_threads, int trans_a, int trans_b, int m, int n, int k,
                           float alpha, const float* a, int lda, const float* b, int ldb,
                           float beta, float* c, int ldc)


cdef bint sgemm_avx512_compiled() noexcept nogil:
    return SKN_SGEMM_AVAILABLE


cdef int sgemm_avx512(int n_threads, bint trans_a, bint trans_b, int m, int n, int k,
                      float alpha, const float* a, int lda, const float* b, int ldb,
                      float beta, float* c, int ldc) noexcept nogil:
    return skn_sgemm_parallel(n_threads, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                              beta, c, ldc)
