from sklears_neural._kernels._fused cimport floating


cdef void gemm_rowmajor(bint trans_a, bint trans_b, int m, int n, int k,
                        floating alpha, const floating* a, int lda,
                        const floating* b, int ldb, floating beta,
                        floating* c, int ldc) noexcept nogil
