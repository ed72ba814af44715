# The AVX-512 float32 GEMM (``src/skn_sgemm.h``): 1 when done, 0 when it
# could not run (no AVX-512 in this build, or no memory for its buffers; c
# is then untouched and the caller uses the BLAS). m, n, k >= 1.

cdef int sgemm_avx512(int n_threads, bint trans_a, bint trans_b, int m, int n, int k,
                      float alpha, const float* a, int lda, const float* b, int ldb,
                      float beta, float* c, int ldc) noexcept nogil


# Whether this build holds the AVX-512 GEMM (False: the compiler could not
# target AVX-512F, and sgemm_avx512 always returns 0).
cdef bint sgemm_avx512_compiled() noexcept nogil


# op(b) packed once for many products (``skn_sgemm_prepack_b``): the floats
# it takes, the packing (64-byte aligned out), and a one-thread product
# reading it (1 when done; 0 when no packing buffer could be allocated, c
# then untouched).
cdef Py_ssize_t sgemm_prepacked_size(int k, int n) noexcept nogil
cdef void sgemm_prepack_b(bint trans_b, int k, int n, const float* b, int ldb,
                          float* out) noexcept nogil
cdef int sgemm_prepacked(bint trans_a, int m, int n, int k, float alpha, const float* a,
                         int lda, const float* bpre, float beta, float* c,
                         int ldc) noexcept nogil

# The implicit-GEMM convolution products of ``src/skn_sconv.h`` (callable
# only where sgemm_avx512_compiled() is true; see ``_conv_implicit``): the
# size and the packing of w^T for n channels and k taps, the forward /
# input-gradient product c[i, j] = bias[j] + sum_p src[pos[i] + off[p]] *
# w[j, p], the weight-gradient product c[r, j] += sum_q src[off[r] +
# pos[q]] * gy[j, q] and the size of its packing buffer, and the transpose
# of a (positions, channels) tile into (channels, positions) rows.
cdef Py_ssize_t sconv_packed_size(int n, int k) noexcept nogil
cdef void sconv_pack(const float* w, int ldw, int n, int k, float* out) noexcept nogil
cdef void sconv_forward(int m, int n, int k, const float* src, const int* pos,
                        const int* off, const float* wp, const float* bias, float* c,
                        int ldc) noexcept nogil
cdef Py_ssize_t sconv_weight_grad_buffer(int n, int k) noexcept nogil
cdef void sconv_weight_grad(int m, int n, int k, const float* src, const int* off,
                            const int* pos, const float* gy, int ldg, float* bbuf, float* c,
                            int ldc) noexcept nogil
cdef void sconv_transpose(int m, int n, const float* t, int ldt, float* y,
                          int ldy) noexcept nogil
