"""Attention maps of Transformer estimators."""

import numpy as np
import pytest

from sklears_neural import MLPClassifier
from sklears_neural.autograd import Tensor
from sklears_neural.inspection import attention_maps
from sklears_neural.nn import eval_mode
from sklears_neural.rnn import TransformerClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def transformer(rng):
    X = rng.normal(size=(24, 12, 2))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    return TransformerClassifier(d_model=8, nhead=2, num_layers=2, max_iter=3,
                                 random_state=0).fit(X, y), X


def test_maps_are_the_layers_attention_probabilities(transformer):
    model, X = transformer
    maps = attention_maps(model, X[:3])
    assert maps.shape == (3, 2, 12, 12)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, rtol=1e-5)
    heads = attention_maps(model, X[:3], average_heads=False, batch_size=2)
    assert heads.shape == (3, 2, 2, 12, 12)
    np.testing.assert_allclose(heads.mean(axis=2), maps, atol=1e-6)
    # the first layer's map, computed by hand from its attention module
    network = model.module_
    layer = network.encoder.layer0
    with eval_mode():
        tokens = network.embed(Tensor(X[:3].astype(np.float32)))
        if network.position is not None:
            tokens = network.position(tokens)
        x = layer.norm1(tokens) if layer.norm_first else tokens
        _, weights = layer.self_attn(x, x, x, need_weights=True)
    np.testing.assert_allclose(maps[:, 0], np.asarray(weights.data), rtol=1e-5, atol=1e-6)


def test_padded_tokens_get_no_attention(transformer, rng):
    model, _ = transformer
    series = [rng.normal(size=(n, 2)) for n in (5, 9, 7)]
    maps = attention_maps(model, series)
    assert maps.shape == (3, 2, 9, 9)
    assert not maps[0, :, :, 5:].any() and not maps[0, :, 5:, :].any()
    np.testing.assert_allclose(maps[0, :, :5].sum(axis=-1), 1.0, rtol=1e-5)
    alone = attention_maps(model, series[:1])
    np.testing.assert_allclose(maps[0, :, :5, :5], alone[0], atol=1e-6)


def test_a_network_without_attention_is_refused(rng):
    X = rng.normal(size=(20, 3))
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, X[:, 0] > 0)
    with pytest.raises(ValueError, match="attention_maps needs a network with self-attention"):
        attention_maps(model, X)
