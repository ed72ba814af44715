"""Row-major GEMM: our AVX-512 float32 kernel, or ``scipy.linalg.cython_blas``.

Every product of the kernels goes through ``gemm_rowmajor``. float32 runs
on our AVX-512 GEMM (``src/skn_sgemm.h``) when the CPU has AVX-512F (and
the build has the GEMM) and the product has at least ``AVX512_MIN_COLUMNS``
columns or is large enough to run on several threads: the BLAS that numpy
and scipy ship runs its AVX2 kernels on many AVX-512 CPUs (all AMD ones),
at half the float32 rate of a core with 512-bit FMA units. Narrow products
on one thread fill too few of its 32-column panels and go to the BLAS, and
so does float64 (sgemm / dgemm).

BLAS is column-major. A row-major matrix is the column-major storage of its
transpose, so ``C = op(A) @ op(B)`` in row-major is computed as
``C.T = op(B).T @ op(A).T`` in column-major: swap the operands (and their
flags and leading dimensions), never copy.

Threads of our GEMM: the OpenMP pool's (``omp_get_max_threads()``, which
the estimators' thread limits and ``backend.threads`` set) for products of
at least ``GEMM_PARALLEL_MIN_WORK`` multiply-adds, unless the call is
already inside an OpenMP region (a batch-parallel kernel's worker: one
thread there). The large products of a float32 loop then run in the OpenMP
pool; what still reaches the BLAS is small (narrow products on one thread)
or outside the kernels (numpy's matmul in autograd and attention).
Estimators give the cores to the OpenMP pool in that case
(``_dispatch.products_pool``), holding the BLAS to one thread. Measured at
2 threads with no limits set (the engine used directly): Dense
784-256-128-10 step 0.72 -> 0.50 ms, LSTM step 14.7 -> 9.2 ms, Transformer
encoder layer 21.2 -> 15.4 ms, the last with numpy's matmul (the BLAS's
pool) in its attention: no fight between the pools was measurable there.
"""

from libc.string cimport memset
from scipy.linalg.cython_blas cimport dgemm, sgemm

from sklears_neural._kernels._cpu cimport use_avx512_gemm
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._gemm_avx512 cimport (
    sgemm_avx512,
    sgemm_prepack_b,
    sgemm_prepacked,
    sgemm_prepacked_size,
)
from sklears_neural._kernels._openmp_helpers cimport skn_omp_get_max_threads, skn_omp_in_parallel

import numpy as np

# Products narrower than this go to the BLAS when they run on one thread
# (measured on a Zen 5 core: 10 columns ran at 50 GFLOP/s on ours, 70 on
# OpenBLAS's AVX2 kernels). A variable so that tests can send every product
# to our GEMM (``_set_min_columns``).
cdef int AVX512_MIN_COLUMNS = 24


def _set_min_columns(int columns):
    """Test hook: the narrowest product our GEMM takes on one thread; returns the previous."""
    global AVX512_MIN_COLUMNS
    previous = AVX512_MIN_COLUMNS
    AVX512_MIN_COLUMNS = columns
    return previous
# Below this many multiply-adds a second thread gains little (Zen 5, 2 threads,
# products in a loop: 2**17 1.00x, 2**18 1.31x, 2**19 1.46x, 2**20 1.56x).
DEF GEMM_PARALLEL_MIN_WORK = 1 << 19
# The same for Python callers (``_rnn`` decides with it whether a step's
# product would be split over the threads).
PRODUCT_PARALLEL_MIN_WORK = GEMM_PARALLEL_MIN_WORK

def products_on_own_gemm(dtype):
    """Whether products of ``dtype`` run on our AVX-512 GEMM (in the OpenMP pool).

    Parameters
    ----------
    dtype : numpy dtype or type

    Returns
    -------
    bool
    """
    return np.dtype(dtype) == np.float32 and use_avx512_gemm()


cdef int _gemm_threads(int m, int n, int k) noexcept nogil:
    if <double> m * n * k < GEMM_PARALLEL_MIN_WORK or skn_omp_in_parallel():
        return 1
    cdef int n_threads = skn_omp_get_max_threads()
    return n_threads if n_threads > 1 else 1


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
    cdef int i, j, n_threads
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
        if use_avx512_gemm():
            n_threads = _gemm_threads(m, n, k)
            # a narrow product on several of our threads still beats one BLAS
            # thread (the BLAS is held to one where the engine owns the cores)
            if (n >= AVX512_MIN_COLUMNS or n_threads > 1) and sgemm_avx512(
                    n_threads, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                    ldc):
                return
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*> b, &ldb, <float*> a, &lda,
              &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*> b, &ldb, <double*> a, &lda,
              &beta, c, &ldc)


def aligned_float32(size):
    """An uninitialised float32 array of ``size`` values starting on 64 bytes
    (what the AVX-512 kernels' aligned loads of packed operands need).

    Parameters
    ----------
    size : int

    Returns
    -------
    ndarray of shape (size,)
    """
    raw = np.empty(size + 16, dtype=np.float32)
    start = (-raw.ctypes.data % 64) // 4
    return raw[start:start + size]


cdef object pack_shared_b(object dtype, bint trans_b, int k, int n, const float* b, int ldb):
    if not products_on_own_gemm(dtype) or n < AVX512_MIN_COLUMNS or k <= 0:
        return None
    packed = aligned_float32(sgemm_prepacked_size(k, n))
    cdef float[::1] out = packed
    with nogil:
        sgemm_prepack_b(trans_b, k, n, b, ldb, &out[0])
    return packed


cdef void gemm_rowmajor_shared_b(bint trans_a, bint trans_b, int m, int n, int k,
                                 floating alpha, const floating* a, int lda,
                                 const floating* b, int ldb, const float* bpre,
                                 floating beta, floating* c, int ldc) noexcept nogil:
    """``gemm_rowmajor``, with op(b) read from ``bpre`` (``pack_shared_b`` of
    the same operand) when it is not NULL."""
    if floating is float:
        if bpre != NULL and m > 0 and n > 0 and k > 0 and sgemm_prepacked(
                trans_a, m, n, k, alpha, a, lda, bpre, beta, c, ldc):
            return
    gemm_rowmajor(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


def _gemm(floating[:, :] a, floating[:, :] b, floating[:, :] c, bint trans_a,
          bint trans_b, double alpha, double beta, int n_threads=0, bint shared_b=False):
    """Test hook: ``c = alpha * op(a) @ op(b) + beta * c`` in place.

    The rows of ``a``, ``b`` and ``c`` may be strided (only the last axis
    must be contiguous): the row strides become the leading dimensions.
    ``n_threads=0`` runs the product as every kernel does
    (``gemm_rowmajor``); ``n_threads >= 1`` calls the AVX-512 GEMM itself on
    that many threads (float32 only) and returns False where it cannot run.
    ``shared_b`` packs op(b) first (``pack_shared_b``) and runs
    ``gemm_rowmajor_shared_b`` on it; False where it is not packed.
    """
    cdef float[::1] shared
    cdef int m = <int> (a.shape[1] if trans_a else a.shape[0])
    cdef int k = <int> (a.shape[0] if trans_a else a.shape[1])
    cdef int n = <int> (b.shape[0] if trans_b else b.shape[1])
    if (b.shape[1] if trans_b else b.shape[0]) != k or c.shape[0] != m or c.shape[1] != n:
        raise ValueError("a, b and c do not have matching shapes")
    for name, view in (("a", a), ("b", b), ("c", c)):
        if view.shape[1] > 1 and view.strides[1] != sizeof(floating):
            raise ValueError(f"the rows of {name} must be contiguous")
    cdef int lda = <int> (a.strides[0] // sizeof(floating)) if a.shape[0] > 1 else max(1, a.shape[1])
    cdef int ldb = <int> (b.strides[0] // sizeof(floating)) if b.shape[0] > 1 else max(1, b.shape[1])
    cdef int ldc = <int> (c.strides[0] // sizeof(floating)) if c.shape[0] > 1 else max(1, n)
    cdef const floating* ap = &a[0, 0] if a.shape[0] * a.shape[1] else NULL
    cdef const floating* bp = &b[0, 0] if b.shape[0] * b.shape[1] else NULL
    cdef floating* cp = &c[0, 0] if m * n else NULL
    cdef int done
    if shared_b:
        packed = (pack_shared_b(np.float32, trans_b, k, n, <const float*> bp, ldb)
                  if floating is float and m * n * k else None)
        if packed is None:
            return False
        shared = packed
        with nogil:
            gemm_rowmajor_shared_b(trans_a, trans_b, m, n, k, <floating> alpha, ap, lda, bp,
                                   ldb, &shared[0], <floating> beta, cp, ldc)
        return True
    if n_threads == 0:
        with nogil:
            gemm_rowmajor(trans_a, trans_b, m, n, k, <floating> alpha, ap, lda, bp, ldb,
                          <floating> beta, cp, ldc)
        return True
    if sizeof(floating) != sizeof(float) or not use_avx512_gemm() or m == 0 or n == 0 or k == 0:
        return False
    with nogil:
        done = sgemm_avx512(n_threads, trans_a, trans_b, m, n, k, <float> alpha,
                            <const float*> ap, lda, <const float*> bp, ldb, <float> beta,
                            <float*> cp, ldc)
    return bool(done)
