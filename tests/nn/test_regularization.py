"""GroupNorm, AlphaDropout, Gaussian noise, gradient clipping, max-norm, spectral norm."""

import numpy as np
import pytest

from sklears_neural import nn
from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import functional as F
from sklears_neural.nn.utils import clip_grad_norm_, clip_grad_value_, max_norm_


def t64(rng, *shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("shape, groups", [((4, 6), 3), ((2, 6, 5), 2), ((1, 4, 3, 3), 1),
                                           ((3, 4, 2), 4)])
def test_group_norm_matches_numpy_and_gradients(rng, shape, groups):
    x, w, b = t64(rng, *shape), t64(rng, shape[1]), t64(rng, shape[1])
    n, c = shape[:2]
    g = x.data.reshape(n, groups, -1)
    expected = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5))
    pshape = (1, c) + (1,) * (len(shape) - 2)
    expected = expected.reshape(shape) * w.data.reshape(pshape) + b.data.reshape(pshape)
    np.testing.assert_allclose(F.group_norm(x, groups, w, b).data, expected, rtol=1e-10, atol=1e-12)
    if np.prod(shape[1:]) // groups > 1:
        assert gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), [x, w, b])
    with pytest.raises(ValueError, match="must divide"):
        nn.GroupNorm(5, shape[1] * 2 + 1)


def test_alpha_dropout_keeps_selu_statistics(rng):
    x = Tensor(rng.standard_normal(200_000))
    y = F.alpha_dropout(x, 0.2, training=True, generator=0).data
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    assert F.alpha_dropout(x, 0.2, training=False) is x
    small = t64(rng, 3, 4)
    assert gradcheck(lambda x: F.alpha_dropout(x, 0.3, True, np.random.default_rng(1)), [small])
    layer = nn.AlphaDropout(0.2, generator=0).eval()
    assert layer(x) is x


def test_gaussian_noise(rng):
    x = Tensor(np.zeros(100_000))
    y = F.gaussian_noise(x, 0.5, training=True, generator=0).data
    assert abs(y.std() - 0.5) < 0.01 and abs(y.mean()) < 0.01
    small = t64(rng, 5)
    assert gradcheck(lambda x: F.gaussian_noise(x, 0.3, True, np.random.default_rng(2)), [small])
    layer = nn.GaussianNoise(std=0.4, decay=0.5, generator=0)
    layer.step()
    layer.step()
    assert layer.std == pytest.approx(0.1)
    assert layer.eval()(x) is x
    with pytest.raises(ValueError, match="decay"):
        nn.GaussianNoise(decay=0.0)


def _params_with_grads(rng):
    params = [nn.Parameter(rng.standard_normal(s)) for s in ((3, 4), (4,))]
    for p in params:
        p.grad = rng.standard_normal(p.shape) * 10
    return params


def test_clip_grad_norm_and_value(rng):
    params = _params_with_grads(rng)
    before = [p.grad.copy() for p in params]
    total = np.sqrt(sum((g ** 2).sum() for g in before))
    assert clip_grad_norm_(params, 1.0) == pytest.approx(total)
    after = np.sqrt(sum((p.grad ** 2).sum() for p in params))
    assert after == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(params[0].grad / before[0], params[1].grad[0] / before[1][0])
    clip_grad_value_(params, 0.1)
    assert max(np.abs(p.grad).max() for p in params) <= 0.1
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_(params, 0)


def test_max_norm_bounds_each_unit(rng):
    w = nn.Parameter(rng.standard_normal((5, 8)) * np.array([[0.01], [3], [0.2], [5], [1]]))
    small = w.data[[0, 2]].copy()
    max_norm_(w, 1.0)
    norms = np.linalg.norm(w.data, axis=1)
    assert norms.max() <= 1.0 + 1e-12
    np.testing.assert_array_equal(w.data[[0, 2]], small)  # rows already inside are untouched


def test_spectral_norm_normalises_the_largest_singular_value(rng):
    layer = nn.Linear(6, 4, generator=0, dtype="float64")
    layer.weight.data = rng.standard_normal((4, 6))
    wrapped = nn.SpectralNorm(layer, n_power_iterations=50, generator=1)
    x = Tensor(rng.standard_normal((3, 6)))
    wrapped(x)
    W = wrapped.normalized_weight().data
    assert np.linalg.svd(W, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-6)
    assert [name for name, _ in wrapped.named_parameters()] == ["weight_orig", "module.bias"]
    wrapped.eval()  # u, v fixed: a deterministic function of the weights
    assert gradcheck(lambda w, b: wrapped(x), [wrapped.weight_orig, layer.bias])
    with pytest.raises(ValueError, match="no parameter"):
        nn.SpectralNorm(nn.ReLU())


def test_gradient_clipping_callback_uses_the_same_rule(rng):
    from sklears_neural.base import GradientClipping

    params = _params_with_grads(rng)
    GradientClipping(max_norm=0.5).on_backward_end(None, params)
    assert np.sqrt(sum((p.grad ** 2).sum() for p in params)) == pytest.approx(0.5, rel=1e-5)


def test_spectral_norm_lives_with_the_layers_and_the_old_name_warns():
    from sklears_neural.nn import utils

    assert type(utils.spectral_norm(nn.Linear(3, 2, generator=0))) is nn.SpectralNorm
    with pytest.warns(FutureWarning, match="moved to nn.SpectralNorm"):
        assert utils.SpectralNorm is nn.SpectralNorm
    with pytest.raises(AttributeError):
        utils.NoSuchThing  # noqa: B018
