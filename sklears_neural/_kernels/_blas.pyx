"""Row-major GEMM over ``scipy.linalg.cython_blas`` (sgemm / dgemm).

BLAS is column-major. A row-major matrix is the column-major storage of its
transpose, so ``C = op(A) @ op(B)`` in row-major is computed as
``C.T = op(B).T @ op(A).T`` in column-major: swap the operands (and their
flags and leading dimensions), never copy.
"""

from libc.string cimport memset
from scipy.linalg.cython_blas cimport dgemm, sgemm

from sklears_neural._kernels._fused cimport floating


cdef void gemm_rowmajor(bint trans_a, bint trans_b, int m, int n, int k,
                        floating alpha, const floating* a, int lda,
                        const floating* b, int ldb, floating beta,
                        floating* c, int ldc) noexcept nogil:
    """``c[m, n] = alpha * op(a)[m, k] @ op(b)[k, n] + beta * c``, row-major.

    ``lda``/``ldb``/``ldc`` are the row lengths of the stored matrices
    (``a`` is stored (k, m) when ``trans_a`` else (m, k)). Any of m, n, k
    may be 0 (BLAS rejects a leading dimension of 0, so empty products are
    done here): nothing happens when m or n is 0, and k = 0 leaves
    ``beta * c`` (zeros when beta is 0, whatever c held).
    """
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    cdef int i, j
    if m <= 0 or n <= 0:
        return
    if k <= 0:
        for i in range(m):
            if beta == 0:
                memset(c + i * ldc, 0, n * sizeof(floating))
            else:
                for j in range(n):
                    c[i * ldc + j] *= beta
        return
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*> b, &ldb, <float*> a, &lda,
              &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*> b, &ldb, <double*> a, &lda,
              &beta, c, &ldc)
