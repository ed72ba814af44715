"""The sequence networks: reading rows, masked pooling, gradients through whole models."""

import numpy as np
import pytest

from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import AttentionPooling
from sklears_neural.nn import functional as F
from sklears_neural.rnn import RecurrentNetwork, TransformerNetwork
from sklears_neural.rnn._input import to_rows
from sklears_neural.rnn._network import pool_steps

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
    rows = to_rows(_padded(), LENGTHS, np.float64)
    lengths = Tensor(rows[:, :1])  # read as integers, so not differentiated
    values = Tensor(rows[:, 1:], requires_grad=True)
    assert gradcheck(lambda v: net(F.cat([lengths, v], dim=1)), [values])
    params = list(net.parameters())
    assert gradcheck(lambda *p: net(Tensor(rows)), params)


def test_rows_are_read_back_with_their_lengths():
    reader = RecurrentNetwork(3, 1, hidden_size=2, generator=0).rows
    values = _padded()
    x, lengths = reader(Tensor(to_rows(values, LENGTHS, np.float64)))
    np.testing.assert_array_equal(x.data, values)
    np.testing.assert_array_equal(lengths, LENGTHS)
    _, lengths = reader(Tensor(to_rows(values, np.full(4, 5), np.float64)))
    assert lengths is None  # nothing padded: the kernels skip masking
