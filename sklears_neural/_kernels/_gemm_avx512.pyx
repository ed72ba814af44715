"""float32 GEMM and implicit-GEMM convolutions with AVX-512 (the C kernels
``src/skn_sgemm.h`` and ``src/skn_sconv.h``), built with -mavx512f -mavx2 -mfma.

Used by ``_blas.gemm_rowmajor`` and ``_conv_implicit`` only on CPUs that
have AVX-512F and only when this module was compiled with it
(``_cpu.use_avx512_gemm()``); see ``src/README.md``. Kept to these
wrappers so that nothing else is compiled for AVX-512 here.
"""


cdef extern from "skn_sgemm.h" nogil:
    const bint SKN_SGEMM_AVAILABLE
    int skn_sgemm_parallel(int n_threads, int trans_a, int trans_b, int m, int n, int k,
                           float alpha, const float* a, int lda, const float* b, int ldb,
                           float beta, float* c, int ldc)
    size_t skn_sgemm_prepacked_size(int k, int n)
    void skn_sgemm_prepack_b(int trans_b, int k, int n, const float* b, int ldb, float* out)
    int skn_sgemm_prepacked(int trans_a, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* bpre, float beta, float* c, int ldc)


cdef bint sgemm_avx512_compiled() noexcept nogil:
    return SKN_SGEMM_AVAILABLE


cdef int sgemm_avx512(int n_threads, bint trans_a, bint trans_b, int m, int n, int k,
                      float alpha, const float* a, int lda, const float* b, int ldb,
                      float beta, float* c, int ldc) noexcept nogil:
    return skn_sgemm_parallel(n_threads, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                              beta, c, ldc)


cdef Py_ssize_t sgemm_prepacked_size(int k, int n) noexcept nogil:
    return <Py_ssize_t> skn_sgemm_prepacked_size(k, n)


cdef void sgemm_prepack_b(bint trans_b, int k, int n, const float* b, int ldb,
                          float* out) noexcept nogil:
    skn_sgemm_prepack_b(trans_b, k, n, b, ldb, out)


cdef int sgemm_prepacked(bint trans_a, int m, int n, int k, float alpha, const float* a,
                         int lda, const float* bpre, float beta, float* c,
                         int ldc) noexcept nogil:
    return skn_sgemm_prepacked(trans_a, m, n, k, alpha, a, lda, bpre, beta, c, ldc)


cdef extern from "skn_sconv.h" nogil:
    size_t skn_sconv_packed_size(int n, int k)
    void skn_sconv_pack(const float* w, int ldw, int n, int k, float* out)
    void skn_sconv_forward(int m, int n, int k, const float* src, const int* pos,
                           const int* off, const float* wp, const float* bias, float* c,
                           int ldc)
    size_t skn_sconv_weight_grad_buffer(int n, int k)
    void skn_sconv_weight_grad(int m, int n, int k, const float* src, const int* off,
                               const int* pos, const float* gy, int ldg, float* bbuf,
                               float* c, int ldc)
    void skn_sconv_transpose(int m, int n, const float* t, int ldt, float* y, int ldy)


cdef Py_ssize_t sconv_packed_size(int n, int k) noexcept nogil:
    return <Py_ssize_t> skn_sconv_packed_size(n, k)


cdef void sconv_pack(const float* w, int ldw, int n, int k, float* out) noexcept nogil:
    skn_sconv_pack(w, ldw, n, k, out)


cdef void sconv_forward(int m, int n, int k, const float* src, const int* pos,
                        const int* off, const float* wp, const float* bias, float* c,
                        int ldc) noexcept nogil:
    skn_sconv_forward(m, n, k, src, pos, off, wp, bias, c, ldc)


cdef Py_ssize_t sconv_weight_grad_buffer(int n, int k) noexcept nogil:
    return <Py_ssize_t> skn_sconv_weight_grad_buffer(n, k)


cdef void sconv_weight_grad(int m, int n, int k, const float* src, const int* off,
                            const int* pos, const float* gy, int ldg, float* bbuf, float* c,
                            int ldc) noexcept nogil:
    skn_sconv_weight_grad(m, n, k, src, off, pos, gy, ldg, bbuf, c, ldc)


cdef void sconv_transpose(int m, int n, const float* t, int ldt, float* y,
                          int ldy) noexcept nogil:
    skn_sconv_transpose(m, n, t, ldt, y, ldy)
