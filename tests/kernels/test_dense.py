"""Dense layer forward/backward against the numpy reference (``_xp``)."""

import itertools

import numpy as np
import pytest

from sklears_neural import _kernels as K
from sklears_neural import _xp as X
from sklears_neural._specs import ACTIVATIONS, backward_uses_output

pytestmark = pytest.mark.usefixtures("isa", "gemm")  # both builds of the loops, both GEMMs


# (n, in_features, out_features): 1 sample, 1 feature, 1 output, general.
SIZES = [(1, 5, 3), (6, 1, 4), (4, 6, 1), (7, 9, 5)]
ACT_CASES = [(name, None) for name in ACTIVATIONS] + [("leaky_relu", 0.3), ("elu", 0.7),
                                                      ("softplus", 3.0)]
ACT_IDS = [f"{a}-{p}" for a, p in ACT_CASES]
NEEDS = list(itertools.product([False, True], repeat=3))
# GEMM sums depend on the BLAS build's order: a wider absolute tolerance.
GEMM_ATOL = 10


def _layer(n, d_in, d_out, dtype, rng, bias=True):
    x = rng.standard_normal((n, d_in)).astype(dtype)
    W = (rng.standard_normal((d_out, d_in)) / np.sqrt(d_in)).astype(dtype)
    b = rng.standard_normal(d_out).astype(dtype) if bias else None
    return x, W, b


@pytest.mark.parametrize("activation,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_forward_matches_reference(activation, param, size, bias, dtype, rng,
                                   assert_close):
    x, W, b = _layer(*size, dtype, rng, bias)
    y_ref, pre_ref = X.dense_forward(x, W, b, activation, param)
    y, pre = K.dense_forward(x, W, b, activation, param)
    assert_close(y, y_ref, atol_scale=GEMM_ATOL)
    if backward_uses_output(activation):
        assert pre is None and pre_ref is None
    else:
        assert_close(pre, pre_ref, atol_scale=GEMM_ATOL)


@pytest.mark.parametrize("x_layout", ["C", "F", "strided"])
@pytest.mark.parametrize("w_layout", ["C", "F", "strided"])
@pytest.mark.parametrize("activation", ["identity", "gelu"])
def test_forward_layouts(x_layout, w_layout, activation, dtype, rng, assert_close,
                         layout_of):
    x, W, b = _layer(5, 6, 4, dtype, rng)
    y_ref, pre_ref = X.dense_forward(x, W, b, activation)
    y, pre = K.dense_forward(layout_of(x, x_layout), layout_of(W, w_layout),
                             layout_of(b, "strided"), activation)
    assert_close(y, y_ref, atol_scale=GEMM_ATOL)
    if pre_ref is not None:
        assert_close(pre, pre_ref, atol_scale=GEMM_ATOL)


@pytest.mark.parametrize("activation,param", ACT_CASES, ids=ACT_IDS)
@pytest.mark.parametrize("size", SIZES, ids=str)
def test_backward_matches_reference(activation, param, size, dtype, rng, assert_close):
    x, W, b = _layer(*size, dtype, rng)
    y, pre = X.dense_forward(x, W, b, activation, param)
    gy = rng.standard_normal(y.shape).astype(dtype)
    expected = X.dense_backward(gy, x, W, y, pre, activation, param)
    got = K.dense_backward(gy, x, W, y, pre, activation, param)
    for name, g, e in zip(["gx", "gW", "gb"], got, expected):
        assert_close(g, e, atol_scale=GEMM_ATOL, err_msg=name)


@pytest.mark.parametrize("need_x,need_W,need_b", NEEDS)
@pytest.mark.parametrize("activation", ["identity", "relu", "silu"])
def test_backward_need_combinations(need_x, need_W, need_b, activation, dtype, rng,
                                    assert_close):
    x, W, b = _layer(5, 3, 4, dtype, rng)
    y, pre = X.dense_forward(x, W, b, activation)
    gy = rng.standard_normal(y.shape).astype(dtype)
    expected = X.dense_backward(gy, x, W, y, pre, activation, None, need_x, need_W, need_b)
    got = K.dense_backward(gy, x, W, y, pre, activation, None,
                           need_x=need_x, need_W=need_W, need_b=need_b)
    for name, g, e, need in zip(["gx", "gW", "gb"], got, expected,
                                [need_x, need_W, need_b]):
        if need:
            assert_close(g, e, atol_scale=GEMM_ATOL, err_msg=name)
        else:
            assert g is None and e is None, name


@pytest.mark.parametrize("layout", ["F", "strided"])
@pytest.mark.parametrize("activation", ["identity", "tanh", "gelu_tanh"])
def test_backward_layouts(layout, activation, dtype, rng, assert_close, layout_of):
    x, W, b = _layer(6, 5, 3, dtype, rng)
    y, pre = X.dense_forward(x, W, b, activation)
    gy = rng.standard_normal(y.shape).astype(dtype)
    expected = X.dense_backward(gy, x, W, y, pre, activation)
    lay = lambda a: None if a is None else layout_of(a, layout)  # noqa: E731
    got = K.dense_backward(lay(gy), lay(x), lay(W), lay(y), lay(pre), activation)
    for g, e in zip(got, expected):
        assert_close(g, e, atol_scale=GEMM_ATOL)


def test_gradients_do_not_alias_inputs(rng):
    x, W, b = _layer(4, 3, 2, np.float64, rng)
    gy = rng.standard_normal((4, 2))
    gy_copy = gy.copy()
    gx, gW, gb = K.dense_backward(gy, x, W, None, None, "identity")
    np.testing.assert_array_equal(gy, gy_copy)
    for g in (gx, gW, gb):
        assert not np.shares_memory(g, gy)


def test_leading_batch_axes(dtype, rng, assert_close):
    """x of shape (..., in_features): leading axes are batch axes."""
    x = rng.standard_normal((2, 3, 5)).astype(dtype)
    W = rng.standard_normal((4, 5)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    y, pre = K.dense_forward(x, W, b, "gelu")
    y2, pre2 = K.dense_forward(x.reshape(6, 5), W, b, "gelu")
    assert y.shape == (2, 3, 4) and pre.shape == (2, 3, 4)
    assert_close(y.reshape(6, 4), y2)
    y_ref, pre_ref = X.dense_forward(x, W, b, "gelu")
    assert_close(y, y_ref, atol_scale=GEMM_ATOL)
    gy = rng.standard_normal(y.shape).astype(dtype)
    expected = X.dense_backward(gy, x, W, y_ref, pre_ref, "gelu")
    got = K.dense_backward(gy, x, W, y, pre, "gelu")
    assert got[0].shape == x.shape and got[1].shape == W.shape and got[2].shape == (4,)
    for g, e in zip(got, expected):
        assert_close(g, e, atol_scale=GEMM_ATOL)
    flat = K.dense_backward(gy.reshape(6, 4), x.reshape(6, 5), W, None,
                            pre.reshape(6, 4), "gelu")
    assert_close(got[1], flat[1])
    assert_close(got[2], flat[2])


def test_shape_errors_name_both_shapes(rng):
    x, W, b = _layer(4, 3, 2, np.float64, rng)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(3, 2\)"):
        K.dense_forward(x, W.T.copy(), None)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        K.dense_forward(x, W, np.zeros(3))
    gy = rng.standard_normal((4, 2))
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(3, 3\)"):
        K.dense_backward(gy, x, np.zeros((3, 3)), None, None, "identity")
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(4, 2\)"):
        K.dense_backward(gy, np.zeros((5, 3)), W, None, None, "identity")
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        K.dense_backward(gy, x, W, None, np.zeros((4, 3)), "gelu")


def test_dtype_and_missing_input_errors(rng):
    x, W, b = _layer(4, 3, 2, np.float32, rng)
    with pytest.raises(ValueError, match="float32.*float64"):
        K.dense_forward(x, W.astype(np.float64), b)
    with pytest.raises(ValueError, match="float32.*float64"):
        K.dense_forward(x, W, b.astype(np.float64))
    y, pre = K.dense_forward(x, W, b, "gelu")
    gy = np.ones_like(y)
    with pytest.raises(ValueError, match="float32.*float64"):
        K.dense_backward(gy.astype(np.float64), x, W, y, pre, "gelu")
    with pytest.raises(ValueError, match="needs pre"):
        K.dense_backward(gy, x, W, y, None, "gelu")
    with pytest.raises(ValueError, match="needs y"):
        K.dense_backward(gy, x, W, None, pre, "relu")
    # unneeded inputs may be None
    gx, gW, gb = K.dense_backward(gy, None, W, y, pre, "gelu", need_W=False)
    assert gW is None and gx.shape == x.shape
