"""Row-major GEMM over ``scipy.linalg.cython_blas`` (sgemm / dgemm).

BLAS is column-major. A row-major matrix is the column-major storage of its
transpose, so ``C = op(A) @ op(B)`` in row-major is computed as
``C.T = op(B).T @ op(A).T`` in column-major: swap the operands (and their
flags and leading dimensions), never copy.
"""

from scipy.linalg.cython_blas cimport dgemm, sgemm

from sklears_neural._kernels._fused cimport floating


cdef void gemm_rowmajor(bint trans_a, bint trans_b, int m, int n, int k,
                        floating alpha, const floating* a, int lda,
                        const floating* b, int ldb, floating beta,
                        floating* c, int ldc) noexcept nogil:
    """``c[m, n] = alpha * op(a)[m, k] @ op(b)[k, n] + beta * c``, row-major.

    ``lda``/``ldb``/``ldc`` are the row lengths of the stored matrices
    (``a`` is stored (k, m) when ``trans_a`` else (m, k)). All of m, n, k
    must be positive: the Python wrapper handles empty products.
    """
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*> b, &ldb, <float*> a, &lda,
              &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*> b, &ldb, <double*> a, &lda,
              &beta, c, &ldc)
