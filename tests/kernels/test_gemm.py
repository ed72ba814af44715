"""The kernels' GEMM (``_kernels/_blas.pyx``): our AVX-512 float32 product and its routing.

Every product of the dense, convolution, recurrent and attention kernels goes
through ``gemm_rowmajor``; on a CPU with AVX-512F its float32 products run
on ``src/skn_sgemm.h``. The reference here is numpy's float64 matmul of the
same operands (an independent oracle: no code of ours on that side).
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sklears_neural._kernels import _blas, _cpu

needs_avx512 = pytest.mark.skipif(
    not _cpu.has_avx512_gemm(),
    reason="no AVX-512F on this CPU (or in this build): the AVX-512 GEMM cannot run")

# (m, n, k): one row, one column, k = 1, sizes around the micro-kernel's 8 x 32
# tile and the 96-row, 512-column and 256-deep blocks, and a few large ones.
SHAPES = [(1, 1, 1), (1, 40, 3), (40, 1, 5), (7, 33, 1), (8, 32, 256), (9, 31, 257),
          (13, 65, 300), (97, 513, 20), (100, 24, 600), (3, 1100, 17), (130, 70, 513)]


def _operands(rng, m, n, k, trans_a, trans_b, pad, dtype=np.float32):
    """op(a) (m, k) and op(b) (k, n) stored as the flags say, rows padded by ``pad``
    (strided views), and c (m, n) with padded rows."""
    a_full = rng.standard_normal((k, m + pad) if trans_a else (m, k + pad)).astype(dtype)
    b_full = rng.standard_normal((n, k + pad) if trans_b else (k, n + pad)).astype(dtype)
    c_full = rng.standard_normal((m, n + pad)).astype(dtype)
    a = a_full[:, :m] if trans_a else a_full[:, :k]
    b = b_full[:, :k] if trans_b else b_full[:, :n]
    return a, b, c_full[:, :n], c_full


def _expected(a, b, c, trans_a, trans_b, alpha, beta):
    a64 = a.astype(np.float64).T if trans_a else a.astype(np.float64)
    b64 = b.astype(np.float64).T if trans_b else b.astype(np.float64)
    return alpha * (a64 @ b64) + beta * c.astype(np.float64)


def _check(c, expected, k):
    # float32 sums of k products: rounding grows like sqrt(k) times the terms' size
    scale = max(np.sqrt(max(k, 1)), float(np.abs(expected).max(initial=0)))
    np.testing.assert_allclose(c, expected, rtol=2e-5, atol=2e-6 * scale)


@needs_avx512
@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("n_threads", [1, 2, 5])
def test_avx512_gemm_matches_float64_matmul(m, n, k, trans_a, trans_b, n_threads, rng):
    """Every shape, transpose and thread count (5: more threads than blocks in
    the small shapes), on strided rows, with alpha and beta."""
    a, b, c, c_full = _operands(rng, m, n, k, trans_a, trans_b, pad=3)
    padding_before = c_full[:, n:].copy()
    expected = _expected(a, b, c, trans_a, trans_b, 0.7, -0.4)
    assert _blas._gemm(a, b, c, trans_a, trans_b, 0.7, -0.4, n_threads)
    _check(c, expected, k)
    np.testing.assert_array_equal(c_full[:, n:], padding_before)  # nothing past n written


@needs_avx512
@pytest.mark.parametrize("m,n,k", SHAPES + [(5, 600, 300)])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_shared_b_matches_float64_matmul(m, n, k, trans_a, trans_b, rng):
    """op(b) packed once (``pack_shared_b``, as for an RNN's recurrent weights)
    then read by the product: every shape above, plus more than one block of
    columns and of rows of op(b) (600 > 512 columns, 300 > 256 rows)."""
    previous = _blas._set_min_columns(1)
    try:
        a, b, c, c_full = _operands(rng, m, n, k, trans_a, trans_b, pad=3)
        padding_before = c_full[:, n:].copy()
        expected = _expected(a, b, c, trans_a, trans_b, 0.7, -0.4)
        assert _blas._gemm(a, b, c, trans_a, trans_b, 0.7, -0.4, shared_b=True)
    finally:
        _blas._set_min_columns(previous)
    _check(c, expected, k)
    np.testing.assert_array_equal(c_full[:, n:], padding_before)


def test_shared_b_is_not_packed_where_products_go_to_the_blas(rng):
    a = rng.standard_normal((4, 6))
    assert not _blas._gemm(a, a.T.copy(), np.zeros((4, 4)), False, False, 1.0, 0.0,
                           shared_b=True)  # float64
    a32 = a.astype(np.float32)
    assert not _blas._gemm(a32, a32.T.copy(), np.zeros((4, 4), np.float32), False, False,
                           1.0, 0.0, shared_b=True)  # 4 columns: fewer than the minimum


@needs_avx512
@pytest.mark.parametrize("m,n,k", [(19, 45, 11), (21, 100, 300)])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_avx512_gemm_beta_zero_ignores_what_c_held(m, n, k, n_threads, rng):
    """beta = 0 overwrites c, NaN and inf included (BLAS semantics): on the
    in-place path for op(a) (45 columns) and the packed one with two blocks of
    k (100 columns, k = 300), where beta applies to the first block only."""
    a, b, c, _ = _operands(rng, m, n, k, False, False, pad=0)
    c[...] = np.nan
    c[0, 0] = np.inf
    assert _blas._gemm(a, b, c, False, False, 1.0, 0.0, n_threads)
    _check(c, _expected(a, b, np.zeros_like(c), False, False, 1.0, 0.0), k)


def test_avx512_gemm_declines_float64_and_empty(rng):
    """The direct hook says False where the AVX-512 GEMM does not run (float64,
    empty products, or a CPU without it), leaving c alone."""
    a = rng.standard_normal((4, 5))
    b = rng.standard_normal((5, 40))
    c = np.ones((4, 40))
    assert not _blas._gemm(a, b, c, False, False, 1.0, 0.0, 1)
    np.testing.assert_array_equal(c, 1.0)
    empty = np.zeros((0, 40), dtype=np.float32)
    assert not _blas._gemm(np.zeros((3, 0), np.float32), empty,
                           np.ones((3, 40), np.float32), False, False, 1.0, 0.0, 1)


@pytest.mark.parametrize("m,n,k", SHAPES + [(0, 5, 3), (4, 0, 3), (4, 30, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_gemm_matches_float64_matmul_with_each_gemm(m, n, k, dtype, gemm, rng):
    """``gemm_rowmajor`` as the kernels call it, with each GEMM behind it,
    empty products included (k = 0 leaves beta * c)."""
    a, b, c, _ = _operands(rng, m, n, k, True, False, pad=2, dtype=dtype)
    expected = _expected(a, b, c, True, False, 1.3, 0.5)
    assert _blas._gemm(a, b, c, True, False, 1.3, 0.5)
    _check(c, expected, k)


@needs_avx512
def test_the_two_gemms_agree_on_a_dense_layer(rng):
    """The same dense forward and backward with the AVX-512 GEMM and with the
    BLAS: the routing changes the summation order only."""
    from sklears_neural._kernels import dense_backward, dense_forward

    x = rng.standard_normal((37, 70)).astype(np.float32)
    w = rng.standard_normal((50, 70)).astype(np.float32)
    bias = rng.standard_normal(50).astype(np.float32)
    gy = rng.standard_normal((37, 50)).astype(np.float32)
    results = {}
    for flag in (True, False):
        previous = _cpu.set_use_avx512_gemm(flag)
        try:
            y, pre = dense_forward(x, w, bias, "tanh")
            grads = dense_backward(gy, x, w, y, pre, "tanh")
        finally:
            _cpu.set_use_avx512_gemm(previous)
        results[flag] = (y, *grads)
    for ours, blas in zip(results[True], results[False]):
        np.testing.assert_allclose(ours, blas, rtol=1e-4, atol=1e-4)


def test_gemm_in_use_names_the_cpu_choice():
    expected = "avx512" if _cpu.has_avx512_gemm() else "blas"
    previous = _cpu.set_use_avx512_gemm(True)
    try:
        assert _cpu.gemm_in_use() == expected
        _cpu.set_use_avx512_gemm(False)
        assert _cpu.gemm_in_use() == "blas"
    finally:
        _cpu.set_use_avx512_gemm(previous)


@needs_avx512
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_packing_buffers_do_not_leak_when_the_thread_team_changes():
    """OpenMP ends and starts worker threads as the team size changes between
    regions; each thread's packing buffers must go with it (a thread-local
    pointer alone leaked ~220 KB per call here)."""
    code = textwrap.dedent("""
        import os
        import numpy as np
        from sklears_neural._kernels import _blas

        def rss_mb():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

        rng = np.random.default_rng(0)
        a = rng.standard_normal((96, 256)).astype(np.float32)
        b = rng.standard_normal((256, 512)).astype(np.float32)
        c = np.zeros((96, 512), np.float32)
        for t in (2, 4) * 5:
            _blas._gemm(a, b, c, False, False, 1.0, 0.0, t)
        before = rss_mb()
        for i in range(300):
            assert _blas._gemm(a, b, c, False, False, 1.0, 0.0, 2 + 2 * (i % 2))
        print(rss_mb() - before)
    """)
    env = dict(os.environ, OMP_NUM_THREADS="4")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    assert float(out.strip()) < 16.0
