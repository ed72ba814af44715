"""Loss kernels against the numpy reference (``_xp``)."""

import numpy as np
import pytest

from sklears_neural import _kernels as K
from sklears_neural import _xp as X

pytestmark = pytest.mark.usefixtures("isa")  # both builds of the loops

SCE_SHAPES = [(1, 1), (1, 5), (6, 1), (7, 4)]


def _logits(shape, dtype, rng):
    return (rng.standard_normal(shape) * 3).astype(dtype)


def _probs(shape, dtype, rng):
    p = rng.uniform(0.0, 1.0, shape)
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


# -- softmax + cross-entropy ------------------------------------------------

@pytest.mark.parametrize("shape", SCE_SHAPES, ids=str)
@pytest.mark.parametrize("target_kind", ["index", "prob"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_softmax_cross_entropy_matches_reference(shape, target_kind, weighted,
                                                 label_smoothing, layout, dtype, rng,
                                                 assert_close, layout_of):
    n, c = shape
    logits = _logits(shape, dtype, rng)
    if target_kind == "index":
        target = rng.integers(0, c, n)
    else:
        target = _probs(shape, dtype, rng)
    weight = rng.uniform(0.1, 2.0, n).astype(dtype) if weighted else None
    scale = 1.0 / n
    expected = X.softmax_cross_entropy(logits, target, weight, label_smoothing, scale)
    got = K.softmax_cross_entropy(layout_of(logits, layout),
                                  layout_of(target, layout) if target.ndim == 2 else target,
                                  weight, label_smoothing, scale)
    assert_close(got[0], expected[0])
    assert_close(got[1], expected[1])


@pytest.mark.parametrize("target_dtype", [np.int32, np.int64, np.uint8, np.uint64])
def test_softmax_cross_entropy_index_dtypes(target_dtype, rng):
    logits = _logits((5, 3), np.float64, rng)
    target = np.array([0, 2, 1, 1, 0], dtype=target_dtype)
    expected = X.softmax_cross_entropy(logits, target.astype(np.int64))
    got = K.softmax_cross_entropy(logits, target)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-14)


def test_softmax_cross_entropy_unnormalised_target_gradient(rng):
    """grad is the gradient of losses.sum() even when a target row does not
    sum to 1 (checked by central differences, for the kernel and the
    reference)."""
    logits = _logits((3, 4), np.float64, rng)
    target = rng.uniform(0, 2, (3, 4))
    weight = np.array([1.0, 0.5, 2.0])
    h = 1e-6
    for impl in (K, X):
        _, grad = impl.softmax_cross_entropy(logits, target, weight, 0.1, 0.3)
        numeric = np.zeros_like(logits)
        for idx in np.ndindex(logits.shape):
            e = np.zeros_like(logits)
            e[idx] = h
            plus = impl.softmax_cross_entropy(logits + e, target, weight, 0.1, 0.3)[0].sum()
            minus = impl.softmax_cross_entropy(logits - e, target, weight, 0.1, 0.3)[0].sum()
            numeric[idx] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_softmax_cross_entropy_extreme_logits(dtype):
    logits = np.array([[1000.0, -1000.0, 0.0], [-500.0, -500.0, -500.0]], dtype=dtype)
    losses, grad = K.softmax_cross_entropy(logits, np.array([1, 2]))
    np.testing.assert_allclose(losses, [2000.0, np.log(3.0)], rtol=1e-6)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("bad", [3, -1, 100])
def test_softmax_cross_entropy_out_of_range_index(bad, rng):
    logits = _logits((4, 3), np.float64, rng)
    target = np.array([0, 1, bad, 2])
    for twin in (K, X):  # the same message from both
        with pytest.raises(ValueError, match=rf"target\[2\] = {bad}.*\[0, 2\]"):
            twin.softmax_cross_entropy(logits, target)


def test_softmax_cross_entropy_huge_unsigned_index(rng):
    logits = _logits((2, 3), np.float64, rng)
    with pytest.raises(ValueError, match="not a class index"):
        K.softmax_cross_entropy(logits, np.array([0, 2**63 + 5], dtype=np.uint64))


def test_softmax_cross_entropy_errors(rng):
    logits = _logits((4, 3), np.float32, rng)
    with pytest.raises(ValueError, match="integer"):
        K.softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(5,\).*\(4, 3\)"):
        K.softmax_cross_entropy(logits, np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        K.softmax_cross_entropy(logits, np.full((4, 2), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match="float32.*float64"):
        K.softmax_cross_entropy(logits, _probs((4, 3), np.float64, rng))
    with pytest.raises(ValueError, match="float32.*float64"):
        K.softmax_cross_entropy(logits, np.array([0, 1, 2, 0]), np.ones(4))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 3\)"):
        K.softmax_cross_entropy(logits, np.array([0, 1, 2, 0]),
                                np.ones(3, dtype=np.float32))


# -- elementwise losses -----------------------------------------------------

# (kernel name, options, input generator): x may need to be positive.
ELEMENTWISE = [
    ("mse_loss", {}),
    ("l1_loss", {}),
    ("huber_loss", {}),
    ("huber_loss", {"delta": 0.5}),
    ("poisson_nll_loss", {}),
    ("poisson_nll_loss", {"full": True}),
    ("poisson_nll_loss", {"log_input": False}),
    ("poisson_nll_loss", {"log_input": False, "full": True, "eps": 1e-4}),
    ("bce_with_logits", {}),
]
ELEMENTWISE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in opts.items())}"
                   for name, opts in ELEMENTWISE]
SHAPES = [(1, 1), (1, 4), (6, 1), (5, 3), (7,), (2, 3, 4)]


def _loss_inputs(name, opts, shape, dtype, rng):
    x = rng.standard_normal(shape) * 2
    if name == "poisson_nll_loss":
        t = rng.poisson(2.0, shape).astype(float)
        if not opts.get("log_input", True):
            x = np.abs(x) + 0.1
    elif name == "bce_with_logits":
        t = rng.uniform(0, 1, shape)
        t.reshape(-1)[::2] = np.round(t.reshape(-1)[::2])
    else:
        t = rng.standard_normal(shape) * 2
        t.reshape(-1)[0] = x.reshape(-1)[0]  # a tie: l1's gradient is 0 there
    return x.astype(dtype), t.astype(dtype)


@pytest.mark.parametrize("name,opts", ELEMENTWISE, ids=ELEMENTWISE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_elementwise_matches_reference(name, opts, shape, weighted, layout, dtype, rng,
                                       assert_close, layout_of):
    x, t = _loss_inputs(name, opts, shape, dtype, rng)
    weight = rng.uniform(0.1, 2.0, shape[0]).astype(dtype) if weighted else None
    expected = getattr(X, name)(x, t, weight, scale=0.25, **opts)
    got = getattr(K, name)(layout_of(x, layout), layout_of(t, layout), weight, scale=0.25,
                           **opts)
    assert_close(got[0], expected[0])
    assert_close(got[1], expected[1])


@pytest.mark.parametrize("pw_shape", ["row", "broadcast_row", "full", "scalar"])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_bce_pos_weight(pw_shape, shape, weighted, dtype, rng, assert_close):
    x, t = _loss_inputs("bce_with_logits", {}, shape, dtype, rng)
    pos_weight = {
        "row": rng.uniform(0.5, 3.0, shape[-1:]),
        "broadcast_row": rng.uniform(0.5, 3.0, (1,) * (len(shape) - 1) + shape[-1:]),
        "full": rng.uniform(0.5, 3.0, shape),
        "scalar": np.array(2.5),
    }[pw_shape].astype(dtype)
    weight = rng.uniform(0.1, 2.0, shape[0]).astype(dtype) if weighted else None
    expected = X.bce_with_logits(x, t, weight, pos_weight, 0.5)
    got = K.bce_with_logits(x, t, weight, pos_weight, 0.5)
    assert_close(got[0], expected[0])
    assert_close(got[1], expected[1])


def test_bce_is_stable_for_large_logits(dtype):
    x = np.array([[80.0, -80.0, 0.0]], dtype=dtype)
    t = np.array([[0.0, 1.0, 1.0]], dtype=dtype)
    losses, grad = K.bce_with_logits(x, t)
    np.testing.assert_allclose(losses, [[80.0, 80.0, np.log(2.0)]], rtol=1e-6)
    np.testing.assert_allclose(grad, [[1.0, -1.0, -0.5]], rtol=1e-6)


@pytest.mark.parametrize("name,opts", ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_reference_gradients_by_finite_differences(name, opts, rng):
    x, t = _loss_inputs(name, opts, (4, 3), np.float64, rng)
    if name in ("l1_loss", "huber_loss"):  # keep away from the kinks
        delta = opts.get("delta", 1.0)
        d = x - t
        d = np.where(np.abs(d) < 0.05, 0.3, d)
        d = np.where(np.abs(np.abs(d) - delta) < 0.05, d * 1.2, d)
        x = t + d
    kwargs = dict(opts)
    weight = rng.uniform(0.5, 1.5, 4)
    if name == "bce_with_logits":
        kwargs["pos_weight"] = rng.uniform(0.5, 2.0, 3)
    fn = getattr(X, name)
    _, grad = fn(x, t, weight, scale=0.7, **kwargs)
    h = 1e-6
    numeric = (fn(x + h, t, weight, scale=0.7, **kwargs)[0]
               - fn(x - h, t, weight, scale=0.7, **kwargs)[0]) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_elementwise_errors(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 1\)"):
        K.mse_loss(x, np.zeros((4, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="float32.*float64"):
        K.l1_loss(x, x.astype(np.float64))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 3\)"):
        K.huber_loss(x, x, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(2,\).*\(4, 3\)"):
        K.bce_with_logits(x, x, None, np.ones(2, dtype=np.float32))
    with pytest.raises(ValueError, match="float32.*float64"):
        K.bce_with_logits(x, x, None, np.ones(3))


def test_python_scalars_take_the_array_dtype(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    t = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    losses, grad = K.bce_with_logits(x, t, None, 2.0, 0.5)
    assert losses.dtype == np.float32 and grad.dtype == np.float32
    expected = X.bce_with_logits(x, t, None, 2.0, 0.5)
    np.testing.assert_allclose(losses, expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, expected[1], rtol=1e-5, atol=1e-6)
    y = K.activation_forward([[0.5, -1.0]], "relu")
    assert y.dtype == np.float64


def test_integer_targets_take_the_input_dtype(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    t = rng.integers(0, 2, (4, 3))
    losses, grad = K.bce_with_logits(x, t)
    assert losses.dtype == np.float32 and grad.dtype == np.float32
    expected = X.bce_with_logits(x, t.astype(np.float32))
    np.testing.assert_allclose(losses, expected[0], rtol=1e-5, atol=1e-6)
