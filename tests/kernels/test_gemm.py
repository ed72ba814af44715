"""The BLAS GEMM wrapper against numpy, for every transpose combination."""

import itertools

import numpy as np
import pytest

from sklears_neural import _kernels as K

M, N, KDIM = 5, 4, 7
TRANS = list(itertools.product([False, True], repeat=2))


def _operands(trans_a, trans_b, dtype, rng, m=M, n=N, k=KDIM):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def _expected(a, b, trans_a, trans_b, alpha, beta, c):
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    product = (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)
    out = alpha * product
    if c is not None and beta != 0.0:
        out = out + beta * c.astype(np.float64)
    return out


@pytest.mark.parametrize("trans_a,trans_b", TRANS)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (1.0, 1.0), (-2.0, 0.5), (0.5, -3.0)])
@pytest.mark.parametrize("c_layout", [None, "C", "F", "strided"])
def test_gemm_matches_numpy(trans_a, trans_b, alpha, beta, c_layout, dtype, rng,
                            assert_close, layout_of):
    a, b = _operands(trans_a, trans_b, dtype, rng)
    c0 = rng.standard_normal((M, N)).astype(dtype)
    c = None if c_layout is None else layout_of(c0, c_layout)
    expected = _expected(a, b, trans_a, trans_b, alpha, beta,
                         None if c is None else c0).astype(dtype)
    got = K.gemm(a, b, trans_a, trans_b, alpha, beta, c)
    if c is not None:
        assert got is c  # updated in place and returned
    assert_close(np.asarray(got), expected, atol_scale=10)


@pytest.mark.parametrize("trans_a,trans_b", TRANS)
@pytest.mark.parametrize("layout", ["F", "strided"])
def test_gemm_operand_layouts(trans_a, trans_b, layout, dtype, rng, assert_close,
                              layout_of):
    a, b = _operands(trans_a, trans_b, dtype, rng)
    expected = _expected(a, b, trans_a, trans_b, 1.0, 0.0, None).astype(dtype)
    got = K.gemm(layout_of(a, layout), layout_of(b, layout), trans_a, trans_b)
    assert_close(got, expected, atol_scale=10)


def test_gemm_beta_zero_ignores_nan_in_c(rng):
    a, b = _operands(False, False, np.float64, rng)
    c = np.full((M, N), np.nan)
    K.gemm(a, b, c=c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-12)


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (1, 6, 3), (6, 1, 3), (4, 5, 1), (0, 3, 2),
                                   (3, 0, 2), (3, 4, 0)])
def test_gemm_small_and_empty(m, n, k, dtype, rng, assert_close):
    a, b = _operands(False, True, dtype, rng, m=m, n=n, k=k)
    c = rng.standard_normal((m, n)).astype(dtype)
    expected = _expected(a, b, False, True, 1.0, 0.5, c).astype(dtype)
    got = K.gemm(a, b, False, True, 1.0, 0.5, c.copy())
    assert_close(got, expected, atol_scale=10)
    assert K.gemm(a, b, False, True).shape == (m, n)


def test_gemm_shape_mismatch_names_both_shapes(rng):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((5, 2))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        K.gemm(a, b)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5, 2\)"):
        K.gemm(a, b, trans_a=True)
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(3, 2\)"):
        K.gemm(a, rng.standard_normal((4, 2)), c=np.zeros((2, 2)))


def test_gemm_mixed_dtypes_raise(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 2))
    with pytest.raises(ValueError, match="float32.*float64"):
        K.gemm(a, b)
    with pytest.raises(ValueError, match="float32.*float64"):
        K.gemm(a, b.astype(np.float32), c=np.zeros((3, 2)))


def test_gemm_read_only_c_raises(rng):
    a = rng.standard_normal((3, 4))
    c = np.zeros((3, 3))
    c.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.gemm(a, a, trans_b=True, c=c)
