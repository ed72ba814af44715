"""Gradient checks (float64) and value checks of every op in nn.functional."""

import numpy as np
import pytest
from scipy.special import expit, log_softmax as np_log_softmax

from sklears_neural._specs import ACTIVATIONS
from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import functional as F


def t64(rng, *shape, grad=True, positive=False):
    data = rng.standard_normal(shape)
    if positive:
        data = np.abs(data) + 0.5
    return Tensor(data, requires_grad=grad)


def away_from_kinks(x, margin=1e-3):
    """Move values off x == 0, where relu-like functions are not differentiable."""
    return np.where(np.abs(x) < margin, margin, x)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(rng, activation, bias):
    x, W = t64(rng, 4, 3), t64(rng, 5, 3)
    b = t64(rng, 5) if bias else None
    inputs = [x, W] + ([b] if bias else [])

    def fn(x, W, b=None):
        return F.linear(x, W, b, activation=activation)

    # keep pre-activations off the kink at 0
    x.data = away_from_kinks(x.data)
    assert gradcheck(fn, inputs, atol=1e-5)


def test_linear_matches_numpy_and_handles_nd_input(rng):
    x, W, b = t64(rng, 2, 3, 4), t64(rng, 5, 4), t64(rng, 5)
    y = F.linear(x, W, b, activation="tanh")
    np.testing.assert_allclose(y.data, np.tanh(x.data @ W.data.T + b.data), rtol=1e-12)
    assert y.shape == (2, 3, 5)
    assert gradcheck(lambda x, W, b: F.linear(x, W, b), [x, W, b])


def test_linear_only_computes_requested_gradients(rng):
    x = t64(rng, 4, 3, grad=False)
    W, b = t64(rng, 2, 3), t64(rng, 2)
    F.linear(x, W, b, "relu").sum().backward()
    assert x.grad is None and W.grad is not None and b.grad is not None


def test_linear_shape_mismatch_names_shapes(rng):
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(2, 5\)"):
        F.linear(t64(rng, 4, 3), t64(rng, 2, 5))


@pytest.mark.parametrize("fn, reference", [
    (F.relu, lambda x: np.maximum(x, 0)),
    (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (lambda x: F.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    (F.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    (F.gelu, lambda x: x * 0.5 * (1 + __import__("scipy.special").special.erf(x / np.sqrt(2)))),
    (lambda x: F.gelu(x, "tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    (F.silu, lambda x: x * expit(x)),
    (F.mish, lambda x: x * np.tanh(np.logaddexp(0, x))),
    (lambda x: F.softplus(x, beta=2.0), lambda x: np.logaddexp(0, 2 * x) / 2),
    (F.tanh, np.tanh),
    (F.sigmoid, expit),
])
def test_activation_values_and_gradients(rng, fn, reference):
    x = t64(rng, 3, 5)
    x.data = away_from_kinks(x.data * 3)
    np.testing.assert_allclose(fn(x).data, reference(x.data), rtol=1e-10, atol=1e-12)
    assert gradcheck(fn, [x])


def _relu6(x):
    return np.minimum(np.maximum(x, 0), 6)


@pytest.mark.parametrize("fn, reference", [
    (F.celu, lambda x: np.maximum(0, x) + np.minimum(0, np.exp(x) - 1)),
    (lambda x: F.celu(x, alpha=0.6), lambda x: np.maximum(0, x) + np.minimum(0, 0.6 * (np.exp(x / 0.6) - 1))),
    (F.hardswish, lambda x: x * _relu6(x + 3) / 6),
    (F.hardsigmoid, lambda x: _relu6(x + 3) / 6),
    (F.softsign, lambda x: x / (1 + np.abs(x))),
    (F.tanhshrink, lambda x: x - np.tanh(x)),
    (F.logsigmoid, lambda x: np.log(expit(x))),
], ids=["celu", "celu-0.6", "hardswish", "hardsigmoid", "softsign", "tanhshrink",
        "logsigmoid"])
def test_new_activation_values_and_gradients(rng, fn, reference):
    x = t64(rng, 4, 6)
    data = x.data * 3
    for kink in (-3.0, 0.0, 3.0):  # off the kinks of the hard* functions
        data = np.where(np.abs(data - kink) < 1e-3, kink + 1e-3, data)
    x.data = data
    np.testing.assert_allclose(fn(x).data, reference(x.data), rtol=1e-10, atol=1e-12)
    assert gradcheck(fn, [x])


def test_celu_rejects_zero_alpha(rng):
    with pytest.raises(ValueError, match="alpha"):
        F.celu(t64(rng, 2, 2), alpha=0.0)


@pytest.mark.parametrize("shape, n_weight", [((5, 3), 1), ((5, 3), 3), ((2, 3, 4), 3),
                                             ((2, 3, 2, 2), 1), ((7,), 1)])
def test_prelu_values_and_gradients(rng, shape, n_weight):
    x = t64(rng, *shape)
    x.data = away_from_kinks(x.data)
    w = Tensor(rng.uniform(-0.5, 1.0, n_weight), requires_grad=True)
    wb = w.data.reshape((-1,) + (1,) * (len(shape) - 2)) if n_weight > 1 else w.data
    np.testing.assert_allclose(F.prelu(x, w).data, np.where(x.data > 0, x.data, wb * x.data),
                               rtol=1e-15)
    assert gradcheck(F.prelu, [x, w])


def test_prelu_module(rng):
    from sklears_neural import nn

    shared, per_channel = nn.PReLU(), nn.PReLU(3, init=0.1)
    assert shared.weight.shape == (1,) and per_channel.weight.shape == (3,)
    np.testing.assert_array_equal(per_channel.weight.data, np.full(3, 0.1, np.float32))
    assert shared.weight.dtype == np.float32
    x = Tensor(rng.standard_normal((4, 3, 2)).astype(np.float32), requires_grad=True)
    per_channel(x).sum().backward()
    expected = np.where(x.data > 0, 0, x.data).sum(axis=(0, 2))
    np.testing.assert_allclose(per_channel.weight.grad, expected, rtol=1e-5)
    assert [name for name, _ in per_channel.named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)


def test_new_activation_modules(rng):
    from sklears_neural import nn

    x = Tensor(rng.standard_normal((3, 4)))
    pairs = [(nn.CELU(0.5), lambda t: F.celu(t, 0.5)), (nn.Hardswish(), F.hardswish),
             (nn.Hardsigmoid(), F.hardsigmoid), (nn.Softsign(), F.softsign),
             (nn.Tanhshrink(), F.tanhshrink), (nn.LogSigmoid(), F.logsigmoid)]
    for module, fn in pairs:
        np.testing.assert_array_equal(module(x).data, fn(x).data)
    assert "alpha=0.5" in repr(nn.CELU(0.5))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(rng, dim):
    x = t64(rng, 3, 4)
    expected = np_log_softmax(x.data, axis=dim)
    np.testing.assert_allclose(F.log_softmax(x, dim).data, expected, rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x, dim).data, np.exp(expected), rtol=1e-12)
    assert gradcheck(lambda x: F.softmax(x, dim), [x])
    assert gradcheck(lambda x: F.log_softmax(x, dim), [x])
    x3 = t64(rng, 2, 3, 4)
    assert gradcheck(lambda x: F.softmax(x, 1), [x3])


# -- losses --------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_indices(rng, reduction, smoothing, weighted):
    x = t64(rng, 6, 4)
    y = np.array([0, 3, 1, 1, 2, 0])
    sw = rng.uniform(0.5, 2.0, 6) if weighted else None
    loss = F.cross_entropy(x, y, reduction=reduction, label_smoothing=smoothing, sample_weight=sw)
    q = np.full((6, 4), smoothing / 4)
    q[np.arange(6), y] += 1 - smoothing
    per_sample = -(q * np_log_softmax(x.data, axis=1)).sum(axis=1)
    w = np.ones(6) if sw is None else sw
    expected = {"none": per_sample * w, "sum": (per_sample * w).sum(),
                "mean": (per_sample * w).sum() / w.sum()}[reduction]
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)
    assert gradcheck(lambda x: F.cross_entropy(x, y, reduction=reduction,
                                               label_smoothing=smoothing, sample_weight=sw), [x])


def test_cross_entropy_class_weights_follow_pytorch(rng):
    x = t64(rng, 5, 3)
    y = np.array([0, 2, 2, 1, 0])
    cw = np.array([1.0, 2.0, 0.5])
    loss = F.cross_entropy(x, y, weight=cw)
    nll = -np_log_softmax(x.data, axis=1)[np.arange(5), y]
    np.testing.assert_allclose(loss.item(), (cw[y] * nll).sum() / cw[y].sum(), rtol=1e-12)
    assert gradcheck(lambda x: F.cross_entropy(x, y, weight=cw), [x])


def test_cross_entropy_with_probabilities(rng):
    x = t64(rng, 4, 3)
    p = rng.dirichlet(np.ones(3), size=4)
    loss = F.cross_entropy(x, p)
    expected = -(p * np_log_softmax(x.data, axis=1)).sum(axis=1).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    assert gradcheck(lambda x: F.cross_entropy(x, p, label_smoothing=0.1), [x])


def test_cross_entropy_bad_targets(rng):
    x = t64(rng, 3, 4)
    with pytest.raises(ValueError):
        F.cross_entropy(x, np.array([0, 1, 4]))  # class 4 of 4
    with pytest.raises(ValueError, match=r"\(2,\)"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, np.array([0, 1, 2]), reduction="avg")


def test_nll_loss_matches_cross_entropy(rng):
    x = t64(rng, 5, 3)
    y = np.array([0, 2, 1, 1, 0])
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x), y).item(),
                               F.cross_entropy(x, y).item(), rtol=1e-12)
    assert gradcheck(lambda x: F.nll_loss(F.log_softmax(x), y), [x])


ELEMENTWISE = {
    "mse": (lambda x, t, **kw: F.mse_loss(x, t, **kw), lambda d, x, t: d ** 2),
    "l1": (lambda x, t, **kw: F.l1_loss(x, t, **kw), lambda d, x, t: np.abs(d)),
    "huber": (lambda x, t, **kw: F.huber_loss(x, t, delta=0.8, **kw),
              lambda d, x, t: np.where(np.abs(d) <= 0.8, 0.5 * d ** 2, 0.8 * (np.abs(d) - 0.4))),
    "bce": (lambda x, t, **kw: F.binary_cross_entropy_with_logits(x, t, **kw),
            lambda d, x, t: -(t * np.log(expit(x)) + (1 - t) * np.log(1 - expit(x)))),
    "poisson": (lambda x, t, **kw: F.poisson_nll_loss(x, t, **kw), lambda d, x, t: np.exp(x) - t * x),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 2)])
def test_elementwise_losses(rng, name, reduction, shape):
    fn, reference = ELEMENTWISE[name]
    x = t64(rng, *shape)
    if name == "bce":
        t = rng.uniform(0, 1, shape)
    elif name == "poisson":
        t = rng.poisson(2.0, shape).astype(float)
    else:
        t = rng.standard_normal(shape)
    x.data = t + away_from_kinks(x.data - t, 1e-2)  # keep off |d| = 0 and the huber knee
    if name == "huber":
        x.data = np.where(np.abs(np.abs(x.data - t) - 0.8) < 1e-2, x.data + 0.05, x.data)
    sw = rng.uniform(0.5, 2.0, shape[0])
    elementwise = reference(x.data - t, x.data, t)
    w = sw.reshape(-1, *([1] * (len(shape) - 1)))
    expected = {"none": elementwise * w, "sum": (elementwise * w).sum(),
                "mean": (elementwise * w).sum() / (sw.sum() * elementwise[0].size)}[reduction]
    np.testing.assert_allclose(fn(x, t, reduction=reduction, sample_weight=sw).data, expected,
                               rtol=1e-10, atol=1e-12)
    unweighted = {"none": elementwise, "sum": elementwise.sum(), "mean": elementwise.mean()}[reduction]
    np.testing.assert_allclose(fn(x, t, reduction=reduction).data, unweighted, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: fn(x, t, reduction=reduction, sample_weight=sw), [x])


def test_bce_pos_weight_and_poisson_variants(rng):
    x = t64(rng, 4, 3)
    t = (rng.uniform(size=(4, 3)) > 0.5).astype(float)
    pw = np.array([1.0, 3.0, 0.5])
    loss = F.binary_cross_entropy_with_logits(x, t, pos_weight=pw)
    expected = -(pw * t * np.log(expit(x.data)) + (1 - t) * np.log(1 - expit(x.data))).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    assert gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw), [x])

    rate = t64(rng, 4, 3, positive=True)
    counts = rng.poisson(3.0, (4, 3)).astype(float)
    loss = F.poisson_nll_loss(rate, counts, log_input=False, full=True)
    stirling = np.where(counts > 1, counts * np.log(np.maximum(counts, 1)) - counts
                        + 0.5 * np.log(2 * np.pi * np.maximum(counts, 1)), 0)
    expected = (rate.data - counts * np.log(rate.data + 1e-8) + stirling).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    assert gradcheck(lambda r: F.poisson_nll_loss(r, counts, log_input=False, full=True), [rate])


def test_loss_target_shape_mismatch(rng):
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        F.mse_loss(t64(rng, 3, 1), np.zeros(3))


# -- dropout and normalisation ---------------------------------------------------

def test_dropout_mask_scale_and_gradient(rng):
    x = t64(rng, 200, 50)
    y = F.dropout(x, 0.3, training=True, generator=0)
    kept = y.data != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.data[kept], x.data[kept] / 0.7, rtol=1e-12)
    assert F.dropout(x, 0.3, training=False) is x
    small = t64(rng, 3, 4)
    assert gradcheck(lambda x: F.dropout(x, 0.4, generator=np.random.default_rng(1)), [small])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        F.dropout(x, 1.0)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_training(rng, shape):
    x, gamma, beta = t64(rng, *shape), t64(rng, 3), t64(rng, 3)
    running_mean, running_var = np.zeros(3), np.ones(3)
    y = F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=0.1)
    axes = (0,) + tuple(range(2, len(shape)))
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    mu, var = x.data.mean(axis=axes), x.data.var(axis=axes)
    expected = (x.data - mu.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5)
    expected = expected * gamma.data.reshape(bshape) + beta.data.reshape(bshape)
    np.testing.assert_allclose(y.data, expected, rtol=1e-10)
    n = x.size // 3
    np.testing.assert_allclose(running_mean, 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.9 + 0.1 * var * n / (n - 1), rtol=1e-12)
    assert gradcheck(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
                     [x, gamma, beta])


def test_batch_norm_eval(rng):
    x, gamma, beta = t64(rng, 5, 3), t64(rng, 3), t64(rng, 3)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    y = F.batch_norm(x, rm, rv, gamma, beta, training=False)
    np.testing.assert_allclose(y.data, (x.data - rm) / np.sqrt(rv + 1e-5) * gamma.data + beta.data,
                               rtol=1e-12)
    assert gradcheck(lambda x, g, b: F.batch_norm(x, rm, rv, g, b), [x, gamma, beta])


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((3, 1), (1,))])
def test_layer_norm(rng, shape, normalized):
    x, gamma, beta = t64(rng, *shape), t64(rng, *normalized), t64(rng, *normalized)
    axes = tuple(range(len(shape) - len(normalized), len(shape)))
    mu = x.data.mean(axis=axes, keepdims=True)
    var = x.data.var(axis=axes, keepdims=True)
    expected = (x.data - mu) / np.sqrt(var + 1e-5) * gamma.data + beta.data
    np.testing.assert_allclose(F.layer_norm(x, normalized, gamma, beta).data, expected, rtol=1e-10)
    if normalized != (1,):
        assert gradcheck(lambda x, g, b: F.layer_norm(x, normalized, g, b), [x, gamma, beta])
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, (7,))


def test_float32_stays_float32_through_ops(rng):
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    W = Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(F.linear(x, W, activation="gelu"), np.array([0, 1, 1, 0]))
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32
    with pytest.raises(ValueError, match="float32 and float64"):
        F.linear(x, Tensor(rng.standard_normal((2, 3))))


def test_activation_param_is_the_one_name_and_param_is_deprecated():
    import warnings

    from sklears_neural.nn import functional as F

    x = np.linspace(-2, 2, 7)
    expected = np.where(x > 0, x, 0.2 * x)
    np.testing.assert_allclose(F.activation(x, "leaky_relu", activation_param=0.2).data,
                               expected)
    with pytest.warns(FutureWarning, match="use activation_param"):
        old = F.activation(x, "leaky_relu", param=0.2)
    np.testing.assert_allclose(old.data, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.activation(x, "leaky_relu", 0.2)  # positional: no warning
