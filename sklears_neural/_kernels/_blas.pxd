from sklears_neural._kernels._fused cimport floating


cdef void gemm_rowmajor(bint trans_a, bint trans_b, int m, int n, int k,
                        floating alpha, const floating* a, int lda,
                        const floating* b, int ldb, floating beta,
                        floating* c, int ldc) noexcept nogil


# An op(b) that many products share (an RNN's recurrent weights, one product
# per step), packed once for our AVX-512 GEMM: ``pack_shared_b`` returns a
# 64-byte aligned float32 array holding it, or None where those products
# would not run on our GEMM (float64, no AVX-512, or fewer than
# AVX512_MIN_COLUMNS columns); ``gemm_rowmajor_shared_b`` is
# ``gemm_rowmajor`` reading op(b) from that packing when ``bpre`` is not NULL
# (one thread, as inside a batch-parallel loop).
cdef object pack_shared_b(object dtype, bint trans_b, int k, int n, const float* b, int ldb)

cdef void gemm_rowmajor_shared_b(bint trans_a, bint trans_b, int m, int n, int k,
                                 floating alpha, const floating* a, int lda,
                                 const floating* b, int ldb, const float* bpre,
                                 floating beta, floating* c, int ldc) noexcept nogil
