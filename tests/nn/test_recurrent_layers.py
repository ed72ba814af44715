"""RNN/LSTM/GRU layers (stacks, directions, lengths) and attention layers, against
independent references and PyTorch when it is installed."""

import numpy as np
import pytest

from sklears_neural import nn
from sklears_neural.autograd import Tensor, gradcheck

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def tensor(shape, seed, requires_grad=True):
    return Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=requires_grad)


def make(cell, **kwargs):
    return CELLS[cell](3, 4, dtype="float64", generator=0, **kwargs)


def run(layer, x, lengths=None):
    output, state = layer(x, lengths=lengths)
    return output, state[0] if isinstance(state, tuple) else state


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2}, {"bidirectional": True},
                                    {"num_layers": 2, "bidirectional": True, "batch_first": True}])
def test_shapes_and_gradcheck(cell, kwargs):
    layer = make(cell, **kwargs)
    steps, batch = 4, 2
    shape = (batch, steps, 3) if kwargs.get("batch_first") else (steps, batch, 3)
    x = tensor(shape, 1)
    output, h_n = run(layer, x)
    directions = 2 if kwargs.get("bidirectional") else 1
    expected = (batch, steps, 4 * directions) if kwargs.get("batch_first") else \
        (steps, batch, 4 * directions)
    assert output.shape == expected
    assert h_n.shape == (kwargs.get("num_layers", 1) * directions, batch, 4)
    params = list(layer.parameters())
    assert gradcheck(lambda x: run(layer, x)[0], [x])
    assert gradcheck(lambda x: run(layer, x)[1], [x])
    for p in params[:4]:  # the first layer's weights and biases
        assert gradcheck(lambda p: run(layer, x)[0], [p])


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_variable_lengths_equal_running_each_sequence_alone(cell, bidirectional):
    layer = make(cell, bidirectional=bidirectional, num_layers=2)
    x = tensor((5, 3, 3), 2)
    lengths = np.array([5, 2, 3])
    output, h_n = run(layer, x, lengths)
    for n, length in enumerate(lengths):
        alone, h_alone = run(layer, Tensor(x.data[:length, n:n + 1]))
        np.testing.assert_allclose(output.data[:length, n], alone.data[:, 0], rtol=1e-10,
                                   atol=1e-12)
        assert not output.data[length:, n].any()
        np.testing.assert_allclose(h_n.data[:, n], h_alone.data[:, 0], rtol=1e-10, atol=1e-12)
    output.sum().backward()
    for n, length in enumerate(lengths):
        assert not x.grad[length:, n].any()
    assert gradcheck(lambda x: run(layer, x, lengths)[0], [x])


def test_bad_input_and_arguments():
    layer = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="expected input \\(T, N, F\\) with F=3"):
        layer(Tensor(np.zeros((5, 2, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match="lengths must be 2 integers in \\[1, 5\\]"):
        layer(Tensor(np.zeros((5, 2, 3), dtype=np.float32)), lengths=[0, 5])
    with pytest.raises(ValueError, match="initial state must have shape \\(1, 2, 4\\)"):
        layer(Tensor(np.zeros((5, 2, 3), dtype=np.float32)),
              (Tensor(np.zeros((1, 3, 4), dtype=np.float32)),) * 2)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRU(3, 0)


# -- against PyTorch ------------------------------------------------------------------------
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True}])
def test_matches_torch_with_copied_weights(cell, kwargs):
    torch = pytest.importorskip("torch")
    ours = make(cell, **kwargs)
    theirs = getattr(torch.nn, cell.upper())(3, 4, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            getattr(theirs, name).copy_(torch.from_numpy(p.data))
    x = np.random.default_rng(3).normal(size=(6, 2, 3))
    out, h = run(ours, Tensor(x, requires_grad=True))
    xt = torch.from_numpy(x).requires_grad_()
    out_t, h_t = theirs(xt)
    h_t = h_t[0] if isinstance(h_t, tuple) else h_t
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.data, h_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad = np.random.default_rng(4).normal(size=out.shape)
    (out * Tensor(grad)).sum().backward()
    (out_t * torch.from_numpy(grad)).sum().backward()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(theirs, name).grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=name)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_matches_torch(norm_first):
    torch = pytest.importorskip("torch")
    ours = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                      batch_first=True, norm_first=norm_first,
                                      dtype="float64", generator=0)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                              batch_first=True, norm_first=norm_first,
                                              dtype=torch.float64)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            dict(theirs.named_parameters())[name].copy_(torch.from_numpy(p.data))
    x = np.random.default_rng(5).normal(size=(3, 5, 8))
    padding = np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])
    out = ours(Tensor(x), src_key_padding_mask=padding).data
    theirs.eval()  # PyTorch's fast path is off for training; eval with dropout 0 is the same
    expected = theirs(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(padding))
    valid = ~padding
    np.testing.assert_allclose(out[valid], expected.detach().numpy()[valid], rtol=1e-9,
                               atol=1e-10)


def test_multihead_attention_gradcheck_and_shapes():
    mha = nn.MultiheadAttention(6, 3, dtype="float64", generator=0)
    q, k = tensor((4, 2, 6), 0), tensor((5, 2, 6), 1)
    out, weights = mha(q, k, k)
    assert out.shape == (4, 2, 6) and weights.shape == (2, 4, 5)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    assert gradcheck(lambda q, k: mha(q, k, k, need_weights=False)[0], [q, k])
    assert gradcheck(lambda w: mha(q, k, k)[0], [mha.in_proj_weight])
    with pytest.raises(ValueError, match="must divide embed_dim"):
        nn.MultiheadAttention(6, 4)
