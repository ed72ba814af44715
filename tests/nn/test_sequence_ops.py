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


# -- dropout on the attention probabilities ---------------------------------------------
def _qkv(seed=0, b=2, h=2, t=5, d=3):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=(b, h, t, d)), requires_grad=True) for _ in range(3)]


def test_attention_dropout_matches_numpy_and_keeps_weights():
    q, k, v = _qkv()
    padding = np.array([[False] * 4 + [True], [False] * 5])
    out, weights = F.scaled_dot_product_attention(q, k, v, key_padding_mask=padding,
                                                  return_weights=True, dropout_p=0.4,
                                                  generator=7)
    scores = q.data @ k.data.transpose(0, 1, 3, 2) / math.sqrt(3)
    scores[0, :, :, 4] = -np.inf
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, probs, rtol=1e-12)  # weights before dropout
    keep = (np.random.default_rng(7).random(probs.shape) < 0.6) / 0.6
    np.testing.assert_allclose(out.data, (probs * keep) @ v.data, rtol=1e-12)
    assert 0 < (keep == 0).mean() < 1


def test_attention_dropout_gradcheck():
    q, k, v = _qkv(seed=1)
    # a fresh generator with one seed per call: the same mask at every evaluation
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, is_causal=True, dropout_p=0.3, generator=np.random.default_rng(3)), [q, k, v])


def test_attention_dropout_argument_checked():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    with pytest.raises(ValueError, match="dropout"):
        nn.MultiheadAttention(6, 3, dropout=-0.1)


def test_multihead_attention_dropout_only_in_training():
    x = Tensor(np.random.default_rng(0).normal(size=(4, 2, 6)))
    plain = nn.MultiheadAttention(6, 3, dtype="float64", generator=0)
    dropped = nn.MultiheadAttention(6, 3, dropout=0.5, dtype="float64", generator=0)
    expected = plain(x, x, x)[0].data
    assert not np.allclose(dropped(x, x, x)[0].data, expected)
    dropped.eval()
    np.testing.assert_allclose(dropped(x, x, x)[0].data, expected, rtol=1e-12)
    layer = nn.TransformerEncoderLayer(6, 3, dim_feedforward=8, dropout=0.2)
    assert layer.self_attn.dropout == 0.2  # as torch: the layer's dropout reaches attention
