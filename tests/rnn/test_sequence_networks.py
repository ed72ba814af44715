"""The sequence networks: padded batches with lengths, masked pooling, gradients through
whole models."""

import numpy as np
import pytest

from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import AttentionPooling
from sklears_neural.rnn import RecurrentNetwork, TransformerNetwork
from sklears_neural.rnn._network import pool_steps, valid_lengths

LENGTHS = np.array([5, 2, 4, 1])


def _padded(features=3, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(len(LENGTHS), LENGTHS.max(), features))
    for i, n in enumerate(LENGTHS):
        values[i, n:] = 0.0
    return values


def _pool_reference(out, lengths, pooling):
    """Per-sequence numpy pooling over the valid steps only."""
    rows = []
    for seq, n in zip(out, lengths):
        valid = seq[:n]
        rows.append({"mean": valid.mean(0), "max": valid.max(0), "last": valid[-1]}[pooling])
    return np.array(rows)


@pytest.mark.parametrize("pooling", ["mean", "max", "last"])
def test_masked_pooling_matches_per_sequence_numpy(pooling):
    out = _padded(features=6) - 5.0  # negative values: padding zeros would win a max
    pooled = pool_steps(Tensor(out), LENGTHS, pooling).data
    np.testing.assert_allclose(pooled, _pool_reference(out, LENGTHS, pooling), rtol=1e-12)
    full = np.full(len(LENGTHS), out.shape[1])
    np.testing.assert_allclose(pool_steps(Tensor(out), None, pooling).data,
                               _pool_reference(out, full, pooling), rtol=1e-12)


@pytest.mark.parametrize("pooling", ["mean", "max", "last", "attention"])
def test_masked_pooling_gradients(pooling):
    attention = AttentionPooling(3, generator=0).to(dtype="float64")
    x = Tensor(_padded(), requires_grad=True)
    assert gradcheck(lambda t: pool_steps(t, LENGTHS, pooling, attention), [x])
    if pooling != "last":
        x.grad = None
        pool_steps(x, LENGTHS, pooling, attention).sum().backward()
        for i, n in enumerate(LENGTHS):  # padded steps get no gradient
            assert not x.grad[i, n:].any()


NETWORKS = {
    "lstm_last": lambda: RecurrentNetwork(3, 2, cell="lstm", hidden_size=4, generator=0),
    "gru_bi_2layer_mean": lambda: RecurrentNetwork(3, 2, cell="gru", hidden_size=4,
                                                   num_layers=2, bidirectional=True,
                                                   pooling="mean", generator=0),
    "rnn_bi_last": lambda: RecurrentNetwork(3, 2, cell="rnn", hidden_size=4,
                                            bidirectional=True, generator=0),
    "lstm_attention": lambda: RecurrentNetwork(3, 2, hidden_size=4, pooling="attention",
                                               generator=0),
    "transformer_max": lambda: TransformerNetwork(3, 2, d_model=4, nhead=2, num_layers=2,
                                                  dim_feedforward=8, dropout=0.0,
                                                  pooling="max", generator=0),
    "transformer_learned_last": lambda: TransformerNetwork(
        3, 2, d_model=4, nhead=2, num_layers=1, dim_feedforward=8, dropout=0.0,
        positional_encoding="learned", max_len=8, pooling="last", norm_first=False,
        generator=0),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_gradients_with_padding(name):
    net = NETWORKS[name]().to(dtype="float64")
    values = Tensor(_padded(), requires_grad=True)
    assert gradcheck(lambda v: net(v, LENGTHS), [values])
    params = list(net.parameters())
    assert gradcheck(lambda *p: net(Tensor(_padded()), LENGTHS), params)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_padding_changes_nothing_and_full_lengths_equal_no_lengths(name):
    """Each sequence alone gives the output it has inside a padded batch."""
    net = NETWORKS[name]().to(dtype="float64")
    values = _padded()
    batch = net(Tensor(values), LENGTHS).data
    for i, n in enumerate(LENGTHS):
        alone = net(Tensor(values[i:i + 1, :n])).data
        np.testing.assert_allclose(batch[i:i + 1], alone, rtol=1e-10, atol=1e-12)
    full = np.full(len(LENGTHS), values.shape[1])
    np.testing.assert_array_equal(net(Tensor(values), full).data, net(Tensor(values)).data)


def test_lengths_are_checked_and_full_lengths_mean_no_masking():
    np.testing.assert_array_equal(valid_lengths(LENGTHS, 5), LENGTHS)
    assert valid_lengths(np.full(4, 5), 5) is None  # nothing padded: kernels skip masking
    assert valid_lengths(None, 5) is None
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 5\]"):
        valid_lengths(np.array([6, 1]), 5)
    with pytest.raises(ValueError, match="lengths must lie"):
        valid_lengths(np.array([0, 1]), 5)
    with pytest.raises(ValueError, match="1-D"):
        valid_lengths(np.ones((2, 2)), 5)
