"""Activation and softmax kernels against the numpy reference (``_xp``), and
the reference's derivatives against central finite differences."""

import numpy as np
import pytest

from sklears_neural import _kernels as K
from sklears_neural import _xp as X
from sklears_neural._kernels import _activation as cy_activation
from sklears_neural._specs import ACTIVATION_IDS, ACTIVATIONS, backward_uses_output

pytestmark = pytest.mark.usefixtures("isa")  # both builds of the loops


# (activation, param): defaults and non-default parameters.
CASES = [(name, None) for name in ACTIVATIONS] + [
    ("leaky_relu", 0.2),
    ("elu", 0.5),
    ("softplus", 2.0),
    ("softplus", 0.5),
    ("celu", 0.5),
    ("celu", 2.0),
]
CASE_IDS = [f"{name}-{param}" for name, param in CASES]
SHAPES = [(1, 1), (1, 7), (6, 1), (5, 9), (2, 3, 4), (11,)]


def _inputs(shape, dtype, rng):
    """Values over the interesting ranges: both signs, exact zeros, tails."""
    x = rng.standard_normal(shape) * 4
    flat = x.reshape(-1)
    specials = [0.0, -0.0, 30.0, -30.0, 10.5, -12.0, 25.0]
    flat[: min(len(specials), flat.size)] = specials[: flat.size]
    return x.astype(dtype)


def test_c_ids_match_specs():
    assert cy_activation._C_ACTIVATION_IDS == ACTIVATION_IDS


@pytest.mark.parametrize("activation,param", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_forward_matches_reference(activation, param, shape, layout, dtype, rng,
                                   assert_close, layout_of):
    x = _inputs(shape, dtype, rng)
    expected = X.activation_forward(x, activation, param)
    got = K.activation_forward(layout_of(x, layout), activation, param)
    assert_close(got, expected)


@pytest.mark.parametrize("activation,param", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_backward_matches_reference(activation, param, shape, layout, dtype, rng,
                                    assert_close, layout_of):
    x = _inputs(shape, dtype, rng)
    y = X.activation_forward(x, activation, param)
    gy = rng.standard_normal(shape).astype(dtype)
    expected = X.activation_backward(gy, x, y, activation, param)
    # Pass only what the backward is documented to need.
    uses_y = backward_uses_output(activation)
    got = K.activation_backward(layout_of(gy, layout),
                                None if uses_y else layout_of(x, layout),
                                layout_of(y, layout) if uses_y else None,
                                activation, param)
    assert_close(got, expected)


@pytest.mark.parametrize("alias,name", [("logistic", "sigmoid"), (None, "identity"),
                                        ("linear", "identity")])
def test_aliases(alias, name, rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(K.activation_forward(x, alias),
                               X.activation_forward(x, name), rtol=1e-12)


def test_identity_returns_a_copy(rng):
    x = rng.standard_normal((3, 4))
    y = K.activation_forward(x, "identity")
    assert y is not x and not np.shares_memory(x, y)
    g = K.activation_backward(x, None, None, "identity")
    assert g is not x and not np.shares_memory(x, g)
    np.testing.assert_array_equal(g, x)


def test_relu_propagates_nan():
    x = np.array([np.nan, -1.0, 2.0])
    np.testing.assert_array_equal(np.isnan(K.activation_forward(x, "relu")),
                                  np.isnan(X.activation_forward(x, "relu")))


@pytest.mark.parametrize("activation", ["gelu", "silu", "tanh"])
def test_parallel_path_matches_serial(activation, rng):
    n = cy_activation.PARALLEL_MIN_SIZE + 1001  # large enough to go parallel
    x = rng.standard_normal(n)
    gy = rng.standard_normal(n)
    y1 = K.activation_forward(x, activation, n_threads=1)
    y2 = K.activation_forward(x, activation, n_threads=2)
    np.testing.assert_allclose(y1, y2, rtol=1e-14)
    np.testing.assert_allclose(y1, X.activation_forward(x, activation), rtol=1e-12,
                               atol=1e-13)
    g1 = K.activation_backward(gy, x, y1, activation, n_threads=1)
    g2 = K.activation_backward(gy, x, y1, activation, n_threads=2)
    np.testing.assert_allclose(g1, g2, rtol=1e-14)


def test_errors(rng):
    x32 = rng.standard_normal((3, 4)).astype(np.float32)
    x64 = x32.astype(np.float64)
    with pytest.raises(ValueError, match="activation must be one of"):
        K.activation_forward(x32, "swish")
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        K.activation_backward(x32, x64, None, "gelu")
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(4, 3\)"):
        K.activation_backward(x32, x32.T.copy(), None, "gelu")
    with pytest.raises(ValueError, match="needs y"):
        K.activation_backward(x32, x32, None, "relu")
    with pytest.raises(ValueError, match="needs x"):
        K.activation_backward(x32, None, x32, "gelu")
    with pytest.raises(ValueError, match="float32 or float64"):
        K.activation_forward(x32.astype(np.float16), "relu")
    with pytest.raises(ValueError, match="n_threads"):
        K.activation_forward(x32, "relu", n_threads=0)


# -- the reference's derivatives, by central differences (float64) ---------

def _away_from_kinks(activation, param, rng, n=400):
    x = rng.uniform(-6, 6, n)
    kinks = [0.0]
    if activation == "softplus":
        kinks.append(20.0 / (2.0 if param is None else param))
    if activation in ("hardswish", "hardsigmoid"):
        kinks += [-3.0, 3.0]
    for k in kinks:
        x = x[np.abs(x - k) > 1e-3]
    return x


@pytest.mark.parametrize("activation,param", CASES, ids=CASE_IDS)
def test_reference_derivative_by_finite_differences(activation, param, rng):
    x = _away_from_kinks(activation, param, rng)
    h = 1e-6
    numeric = (X.activation_forward(x + h, activation, param)
               - X.activation_forward(x - h, activation, param)) / (2 * h)
    y = X.activation_forward(x, activation, param)
    analytic = X.activation_backward(np.ones_like(x), x, y, activation, param)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn,bwd", [(X.softmax, X.softmax_backward),
                                    (X.log_softmax, X.log_softmax_backward)],
                         ids=["softmax", "log_softmax"])
def test_reference_softmax_backward_by_finite_differences(fn, bwd, rng):
    x = rng.standard_normal((4, 5))
    gy = rng.standard_normal((4, 5))
    analytic = bwd(gy, fn(x))
    h = 1e-6
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        numeric[idx] = ((fn(x + e) - fn(x - e)) * gy).sum() / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


# -- softmax / log-softmax -------------------------------------------------

SOFTMAX_SHAPES = [(1, 1), (1, 6), (7, 1), (5, 8), (2, 3, 4), (9,)]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES, ids=str)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_softmax_matches_reference(name, shape, layout, dtype, rng, assert_close,
                                   layout_of):
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    expected = getattr(X, name)(x)
    got = getattr(K, name)(layout_of(x, layout))
    assert_close(got, expected)
    gy = rng.standard_normal(shape).astype(dtype)
    bwd = name + "_backward"
    expected_g = getattr(X, bwd)(gy, expected)
    got_g = getattr(K, bwd)(layout_of(gy, layout), layout_of(expected, layout))
    assert_close(got_g, expected_g)


def test_softmax_is_stable_and_normalised(dtype):
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    p = K.softmax(x)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[1], 1.0 / 3.0, rtol=1e-6)
    lp = K.log_softmax(x)
    np.testing.assert_allclose(lp[0], [0.0, -1000.0, -2000.0], rtol=1e-6)


def test_softmax_errors(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        K.softmax_backward(x, rng.standard_normal((3, 5)))
    with pytest.raises(ValueError, match="float"):
        K.log_softmax_backward(x, x.astype(np.float32))


SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 0.3, -0.3, 3.0, -3.0, 19.9, 20.1,
           -20.0, 44.0, -44.0, 88.0, -88.0, 100.0, -100.0, 1e30, -1e30,
           np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("activation,param", CASES, ids=CASE_IDS)
def test_special_values(activation, param, dtype):
    """Extremes, infinities and NaN: the float32 polynomial math must agree
    with the reference there too (including NaN where the reference is NaN)."""
    x = np.array(SPECIAL, dtype=dtype)
    with np.errstate(all="ignore"):
        expected = X.activation_forward(x, activation, param)
        y = X.activation_forward(x, activation, param)
        expected_g = X.activation_backward(np.ones_like(x), x, y, activation, param)
    got = K.activation_forward(x, activation, param)
    got_g = K.activation_backward(np.ones_like(x), x, y, activation, param)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    np.testing.assert_allclose(got, expected, equal_nan=True, **tol)
    np.testing.assert_allclose(got_g, expected_g, equal_nan=True, **tol)


@pytest.mark.parametrize("activation", ["elu", "selu", "gelu", "gelu_tanh", "silu", "mish",
                                        "softplus", "tanh", "sigmoid", "celu", "hardswish",
                                        "hardsigmoid", "softsign", "tanhshrink",
                                        "logsigmoid"])
def test_float32_accuracy_on_a_dense_grid(activation):
    """Over [-30, 30] the float32 kernel is about as close to the exact
    (float64) value as numpy's float32 reference is."""
    x = np.linspace(-30, 30, 60001).astype(np.float32)
    x64 = x.astype(np.float64)
    exact = X.activation_forward(x64, activation)
    scale = np.maximum(np.abs(exact), 1.0)
    err_kernel = np.max(np.abs(K.activation_forward(x, activation) - exact) / scale)
    err_ref = np.max(np.abs(X.activation_forward(x, activation) - exact) / scale)
    assert err_kernel <= max(2 * err_ref, 3e-7), (err_kernel, err_ref)


# -- the newer activations: reference values from their textbook formulas --

def _np_relu6(x):
    return np.minimum(np.maximum(x, 0), 6)


FORMULAS = {
    "celu": lambda x, a: np.maximum(0, x) + np.minimum(0, a * (np.exp(x / a) - 1)),
    "hardswish": lambda x, a: x * _np_relu6(x + 3) / 6,
    "hardsigmoid": lambda x, a: _np_relu6(x + 3) / 6,
    "softsign": lambda x, a: x / (1 + np.abs(x)),
    "tanhshrink": lambda x, a: x - np.tanh(x),
    "logsigmoid": lambda x, a: -np.logaddexp(0, -x),
}


@pytest.mark.parametrize("activation,param", [(n, None) for n in FORMULAS] + [("celu", 0.3)])
def test_reference_matches_formula(activation, param, rng):
    x = np.concatenate([rng.uniform(-8, 8, 300), [-3.0, 3.0, 0.0, -40.0, 40.0]])
    a = 1.0 if param is None else param
    np.testing.assert_allclose(X.activation_forward(x, activation, param),
                               FORMULAS[activation](x, a), rtol=1e-12, atol=1e-14)


def test_logsigmoid_is_stable_far_out(dtype):
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype)
    for kernels in (K, X):
        y = kernels.activation_forward(x, "logsigmoid")
        assert np.all(np.isfinite(y))
        np.testing.assert_allclose(y[:2], x[:2], rtol=1e-6)
        assert np.all(y[2:] <= 0) and np.all(y[2:] > -1e-30)
        g = kernels.activation_backward(np.ones_like(x), x, y, "logsigmoid")
        np.testing.assert_allclose(g, [1, 1, 0, 0], atol=1e-30)


@pytest.mark.parametrize("activation,expected", [
    # PyTorch 2.x: hardswish' = 0 at -3, 1 at 3; hardsigmoid' = 0 at both ends
    ("hardswish", [0.0, 0.5, 1.0, 0.0, 1.0]),
    ("hardsigmoid", [0.0, 1 / 6, 0.0, 0.0, 0.0]),
])
def test_hard_activation_derivatives_at_the_kinks(activation, expected, dtype):
    x = np.array([-3.0, 0.0, 3.0, -4.0, 4.0], dtype=dtype)
    for kernels in (K, X):
        g = kernels.activation_backward(np.ones_like(x), x, None, activation)
        np.testing.assert_allclose(g, np.array(expected, dtype=dtype), rtol=1e-6)


# -- PReLU ------------------------------------------------------------------

PRELU_CASES = [((5,), 1), ((1, 1), 1), ((4, 3), 1), ((4, 3), 3), ((1, 1), 1),
               ((2, 3, 5), 3), ((2, 4, 3, 2), 4), ((3, 1, 4), 1)]


@pytest.mark.parametrize("shape,n_weight", PRELU_CASES, ids=str)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_prelu_matches_reference(shape, n_weight, layout, dtype, rng, assert_close,
                                 layout_of):
    x = _inputs(shape, dtype, rng)
    w = rng.uniform(-0.5, 1.0, n_weight).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    assert_close(K.prelu_forward(layout_of(x, layout), w), X.prelu_forward(x, w))
    gx, gw = K.prelu_backward(layout_of(gy, layout), layout_of(x, layout), w)
    ex, ew = X.prelu_backward(gy, x, w)
    assert_close(gx, ex)
    assert gw.shape == w.shape
    assert_close(gw, ew, atol_scale=10)
    # only what is asked for
    gx2, none = K.prelu_backward(gy, x, w, need_x=True, need_weight=False)
    none2, gw2 = K.prelu_backward(gy, x, w, need_x=False, need_weight=True)
    assert none is None and none2 is None
    assert_close(gx2, ex)
    assert_close(gw2, ew, atol_scale=10)


def test_prelu_reference_against_formula_and_finite_differences(rng):
    x = rng.standard_normal((3, 4, 2))
    x = np.where(np.abs(x) < 1e-3, 1e-3, x)
    w = rng.uniform(0, 1, 4)
    np.testing.assert_allclose(X.prelu_forward(x, w),
                               np.where(x > 0, x, w[None, :, None] * x), rtol=1e-15)
    gy = rng.standard_normal(x.shape)
    gx, gw = X.prelu_backward(gy, x, w)
    h = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = h
        num = ((X.prelu_forward(x, w + e) - X.prelu_forward(x, w - e)) * gy).sum() / (2 * h)
        np.testing.assert_allclose(gw[i], num, rtol=1e-6, atol=1e-9)
    num_x = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        num_x[idx] = ((X.prelu_forward(x + e, w) - X.prelu_forward(x - e, w)) * gy).sum() / (2 * h)
    np.testing.assert_allclose(gx, num_x, rtol=1e-6, atol=1e-9)


def test_prelu_errors(rng):
    x = rng.standard_normal((4, 3))
    for kernels in (K, X):
        with pytest.raises(ValueError, match="one per channel"):
            kernels.prelu_forward(x, np.ones(2))
        with pytest.raises(ValueError, match="one per channel"):
            kernels.prelu_forward(x[:, 0], np.ones(3))
        with pytest.raises(ValueError, match="1-D"):
            kernels.prelu_forward(x, np.ones((3, 1)))
    with pytest.raises(ValueError, match="float32 and float64"):
        K.prelu_forward(x, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(3, 4\)"):
        K.prelu_backward(x, x.T.copy(), np.ones(1))
