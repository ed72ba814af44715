# The AVX-512 float32 GEMM (``src/skn_sgemm.h``): 1 when done, 0 when it
# could not run (no AVX-512 in this build, or no memory for its buffers; c
# is then untouched and the caller uses the BLAS). m, n, k >= 1.

cdef int sgemm_avx512(int n_threads, bint trans_a, bint trans_b, int m, int n, int k,
                      float alpha, const float* a, int lda, const float* b, int ldb,
                      float beta, float* c, int ldc) noexcept nogil


# Whether this build holds the AVX-512 GEMM (False: the compiler could not
# target AVX-512F, and sgemm_avx512 always returns 0).
cdef bint sgemm_avx512_compiled() noexcept nogil
