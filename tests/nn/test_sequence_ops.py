"""Sequence building blocks that need no recurrent kernel: cat, stack, embedding,
positional encodings and attention pooling."""

import math

import numpy as np
import pytest

from sklears_neural import nn
from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import functional as F


def t(shape, seed=0, requires_grad=True):
    return Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=requires_grad)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cat_values_and_gradcheck(dim):
    parts = [t((2, 3, 4), 0), t((2, 3, 4), 1), t((2, 3, 4), 2)]
    out = F.cat(parts, dim=dim)
    np.testing.assert_array_equal(out.data, np.concatenate([p.data for p in parts], axis=dim))
    assert gradcheck(lambda *xs: F.cat(xs, dim=dim), parts)


def test_cat_uneven_sizes_and_errors():
    a, b = t((2, 1, 3), 0), t((2, 4, 3), 1)
    assert F.cat([a, b], dim=1).shape == (2, 5, 3)
    assert gradcheck(lambda x, y: F.cat([x, y], dim=1), [a, b])
    with pytest.raises(ValueError, match="differ outside dim=0"):
        F.cat([a, b], dim=0)
    with pytest.raises(ValueError, match="non-empty"):
        F.cat([], dim=0)


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_stack_values_and_gradcheck(dim):
    parts = [t((3, 2), 0), t((3, 2), 1)]
    np.testing.assert_array_equal(F.stack(parts, dim=dim).data,
                                  np.stack([p.data for p in parts], axis=dim))
    assert gradcheck(lambda *xs: F.stack(xs, dim=dim), parts)
    with pytest.raises(ValueError, match="one shape"):
        F.stack([parts[0], t((2, 3))])


def test_embedding_lookup_gradient_and_padding():
    weight = t((5, 3))
    idx = np.array([[0, 2, 2], [4, 1, 0]])
    out = F.embedding(idx, weight)
    np.testing.assert_array_equal(out.data, weight.data[idx])
    assert gradcheck(lambda w: F.embedding(idx, w), [weight])
    # repeated indices accumulate; the padding row gets nothing
    weight.grad = None
    out = F.embedding(idx, weight, padding_idx=2)
    out.sum().backward()
    expected = np.zeros((5, 3))
    for i in idx.ravel():
        expected[i] += 1
    expected[2] = 0
    np.testing.assert_array_equal(weight.grad, expected)
    with pytest.raises(ValueError, match="indices must be in \\[0, 5\\)"):
        F.embedding(np.array([5]), weight)
    with pytest.raises(ValueError, match="integers"):
        F.embedding(np.array([0.5]), weight)


def test_embedding_layer_padding_row_starts_at_zero():
    layer = nn.Embedding(10, 4, padding_idx=-1, generator=0)
    assert layer.padding_idx == 9 and not layer.weight.data[9].any()
    assert layer(np.array([[1, 9]])).shape == (1, 2, 4)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


def test_sinusoidal_encoding_matches_the_formula():
    d, steps = 6, 7
    layer = nn.SinusoidalPositionalEncoding(d, max_len=20, dtype="float64")
    x = Tensor(np.zeros((2, steps, d)))
    out = layer(x).data
    for pos in range(steps):
        for i in range(0, d, 2):
            angle = pos / 10000 ** (i / d)
            assert out[1, pos, i] == pytest.approx(math.sin(angle))
            assert out[1, pos, i + 1] == pytest.approx(math.cos(angle))
    time_major = nn.SinusoidalPositionalEncoding(d, max_len=20, batch_first=False,
                                                 dtype="float64")
    np.testing.assert_allclose(time_major(Tensor(np.zeros((steps, 2, d)))).data[:, 0],
                               out[0])
    with pytest.raises(ValueError, match="exceed max_len=20"):
        layer(Tensor(np.zeros((1, 21, d))))


def test_learned_encoding_is_a_parameter_with_gradient():
    layer = nn.LearnedPositionalEncoding(4, max_len=8, dtype="float64", generator=0)
    assert [name for name, _ in layer.named_parameters()] == ["pe"]
    x = t((2, 5, 4))
    assert gradcheck(lambda x, pe: x + pe[:5][None], [x, layer.pe])
    layer.pe.grad = None
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.pe.grad[:5], np.full((5, 4), 2.0))
    assert not layer.pe.grad[5:].any()


def test_attention_pooling_is_a_weighted_mean_that_skips_padding():
    pool = nn.AttentionPooling(3, dtype="float64", generator=0)
    x = t((2, 4, 3))
    mask = np.array([[False, False, True, True], [False, False, False, False]])
    out = pool(x, padding_mask=mask).data
    scores = x.data @ pool.score.weight.data[0] + pool.score.bias.data[0]
    for n in range(2):
        valid = ~mask[n]
        w = np.exp(scores[n][valid] - scores[n][valid].max())
        w /= w.sum()
        np.testing.assert_allclose(out[n], w @ x.data[n][valid], rtol=1e-12)
    assert gradcheck(lambda x, w, b: _pool_with(pool, w, b)(x, mask),
                     [x, pool.score.weight, pool.score.bias])


def _pool_with(pool, weight, bias):
    pool.score.weight, pool.score.bias = weight, bias
    return pool
