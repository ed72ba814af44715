"""The networks behind the sequence estimators: a recurrent or Transformer encoder,
pooling over time steps, and a linear head."""

import numpy as np

from sklears_neural.backend import get_array_module, to_numpy
from sklears_neural.nn import (
    GRU,
    LSTM,
    RNN,
    AttentionPooling,
    Dropout,
    GaussianNoise,
    LayerNorm,
    LearnedPositionalEncoding,
    Linear,
    Module,
    SinusoidalPositionalEncoding,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from sklears_neural.nn import functional as F

__all__ = ["POOLINGS", "RecurrentNetwork", "TransformerNetwork", "patch_steps", "pool_steps",
           "valid_lengths"]

POOLINGS = ("last", "mean", "max", "attention")


def valid_lengths(lengths, steps):
    """``lengths`` as an int64 numpy array, or None when no sequence is padded.

    With None the recurrent kernels and attention skip masking, so unpadded
    batches pay nothing for it.
    """
    if lengths is None:
        return None
    lengths = np.asarray(to_numpy(lengths), dtype=np.int64)
    if lengths.shape != (lengths.shape[0],):
        raise ValueError(f"lengths must be a 1-D array, one length per sequence; got shape "
                         f"{lengths.shape}.")
    if len(lengths) and (lengths.min() < 1 or lengths.max() > steps):
        raise ValueError(f"lengths must lie in [1, {steps}] (the padded steps of x); got values "
                         f"from {lengths.min()} to {lengths.max()}.")
    return None if (lengths == steps).all() else lengths


def patch_steps(x, lengths, patch_size):
    """Read every ``patch_size`` consecutive steps as one step (a patch).

    (N, T, F) becomes (N, ceil(T / p), p * F): the steps of a patch side by
    side, the last patch zero-padded; a sequence of L valid steps has
    ceil(L / p) patches. A recurrent or attention layer then reads a p
    times shorter sequence of richer steps (PatchTST's tokens, Nie et al.
    2023): on GunPoint's 150 steps, patches of 10 took a Transformer
    encoder from 0.85 to 0.98 test accuracy and an LSTM from 0.49 to 0.95.

    Parameters
    ----------
    x : Tensor of shape (N, T, F)
    lengths : ndarray of int of shape (N,) or None
        Valid steps per sequence; None when none is padded.
    patch_size : int
        Steps per patch; 1 returns the input as it is.

    Returns
    -------
    x : Tensor of shape (N, ceil(T / p), p * F)
    lengths : ndarray of int of shape (N,) or None
    """
    if patch_size == 1:
        return x, lengths
    n, steps, features = x.shape
    tail = -steps % patch_size
    if tail:
        xp = get_array_module(x.data)
        x = F.cat([x, xp.zeros((n, tail, features), dtype=x.dtype)], dim=1)
    x = x.reshape(n, (steps + tail) // patch_size, patch_size * features)
    if lengths is not None:
        lengths = -(-np.asarray(lengths) // patch_size)
    return x, lengths


def padding_mask(lengths, steps):
    """Bool (N, T), True at padded steps; None when nothing is padded."""
    return None if lengths is None else np.arange(steps)[None, :] >= lengths[:, None]


def pool_steps(out, lengths, pooling, attention=None, last=None):
    """Pool (N, T, D) outputs over their valid time steps to (N, D).

    ``last`` is the final state to use for ``pooling="last"`` (a recurrent
    network's h_n); without it the output at each sequence's last valid step
    is taken. ``attention`` is the ``AttentionPooling`` layer for
    ``pooling="attention"``.
    """
    n, steps, width = out.shape
    xp = get_array_module(out.data)
    if pooling == "last":
        if last is not None:
            return last
        ends = np.full(n, steps - 1) if lengths is None else lengths - 1
        return out[xp.arange(n), xp.asarray(ends)]
    mask = padding_mask(lengths, steps)
    if pooling == "attention":
        return attention(out, mask)
    if pooling == "mean":
        if mask is None:
            return out.mean(axis=1)
        valid = xp.asarray((~mask)[:, :, None], dtype=out.dtype)
        return (out * valid).sum(axis=1) / xp.asarray(lengths[:, None], dtype=out.dtype)
    if mask is not None:  # max: padded steps can never be the maximum
        out = out + xp.asarray(np.where(mask, -1e30, 0.0)[:, :, None], dtype=out.dtype)
    return F.adaptive_max_pool1d(out.transpose((0, 2, 1)), 1).reshape(n, width)


class _Head(Module):
    """Optional noise and dropout, then the linear output layer."""

    def __init__(self, width, n_outputs, dropout, activation_noise, generator):
        super().__init__()
        self.noise = (GaussianNoise(activation_noise, generator=generator)
                      if activation_noise > 0 else None)
        self.dropout = Dropout(dropout, generator=generator) if dropout > 0 else None
        self.linear = Linear(width, n_outputs, generator=generator)

    def forward(self, x):
        if self.noise is not None:
            x = self.noise(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.linear(x)


_CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class RecurrentNetwork(Module):
    """A stacked (bidirectional) RNN/LSTM/GRU, pooling over time, a linear head.

    Parameters
    ----------
    n_features : int
        Features per time step.
    n_outputs : int
        The width of the output (logits or predictions).
    cell : {"rnn", "lstm", "gru"}, default="lstm"
        The recurrent layer.
    hidden_size, num_layers : int, default=64, 1
        The width of the hidden state and the number of stacked layers.
    bidirectional : bool, default=False
        Also read each sequence backwards.
    pooling : {"last", "mean", "max", "attention"}, default="last"
        "last" takes the final hidden state of the top layer (both
        directions' when bidirectional: the backward one has read the whole
        sequence); the others pool the top layer's outputs over valid steps.
    dropout : float, default=0.0
        Between recurrent layers and before the head.
    activation_noise : float, default=0.0
        Standard deviation of a ``GaussianNoise`` layer on the pooled features.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        For ``cell="rnn"``.
    patch_size : int, default=1
        Read every ``patch_size`` steps as one (``patch_steps``).
    generator : numpy.random.Generator, default=None
        Seeds the initial weights, the dropout masks and the noise.
    """

    def __init__(self, n_features, n_outputs, *, cell="lstm", hidden_size=64, num_layers=1,
                 bidirectional=False, pooling="last", dropout=0.0, activation_noise=0.0,
                 nonlinearity="tanh", patch_size=1, generator=None):
        super().__init__()
        self.pooling = pooling
        self.n_features = n_features
        self.patch_size = patch_size
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = _CELLS[cell](n_features * patch_size, hidden_size, num_layers,
                                batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0,
                                bidirectional=bidirectional, generator=generator, **extra)
        width = hidden_size * (2 if bidirectional else 1)
        self.attention = (AttentionPooling(width, generator=generator)
                          if pooling == "attention" else None)
        self.head = _Head(width, n_outputs, dropout, activation_noise, generator)

    def forward(self, x, lengths=None):
        """Compute the outputs of a padded batch of sequences.

        Parameters
        ----------
        x : Tensor of shape (N, T, n_features)
            The sequences, zero-padded to T steps.
        lengths : array-like of int of shape (N,), default=None
            The valid steps of each sequence, in [1, T]; None when none is
            padded.

        Returns
        -------
        Tensor of shape (N, n_outputs)
            The outputs (logits for a classifier).

        Raises
        ------
        ValueError
            If ``lengths`` is not one length in [1, T] per sequence.
        """
        lengths = valid_lengths(lengths, x.shape[1])
        x, lengths = patch_steps(x, lengths, self.patch_size)
        lengths = valid_lengths(lengths, x.shape[1])
        out, state = self.rnn(x, lengths=lengths)
        last = None
        if self.pooling == "last":
            h_n = state[0] if isinstance(state, tuple) else state
            last = h_n[-1] if not self.rnn.bidirectional else F.cat([h_n[-2], h_n[-1]], dim=1)
        return self.head(pool_steps(out, lengths, self.pooling, self.attention, last))


class TransformerNetwork(Module):
    """Input projection, positional encoding, Transformer encoder, pooling, linear head.

    Parameters
    ----------
    n_features, n_outputs : int
        Features per time step, and the width of the output.
    d_model, nhead, num_layers, dim_feedforward : int, default=64, 4, 2, 128
        The width of the encoder, its attention heads, its layers and the width
        of their feed-forward blocks.
    dropout : float, default=0.1
        Inside the encoder layers and before the head.
    activation : str, default="gelu"
        Of the feed-forward blocks.
    norm_first : bool, default=True
        Pre-norm layers (a final LayerNorm is added), else post-norm.
    positional_encoding : {"sinusoidal", "learned", None}, default="sinusoidal"
        Fixed sine/cosine codes, a learned vector per position, or none.
    max_len : int, default=5000
        Longest sequence the positional encoding can read.
    pooling : {"last", "mean", "max", "attention"}, default="mean"
        Over the encoder outputs at valid steps.
    activation_noise : float, default=0.0
        Standard deviation of a ``GaussianNoise`` layer on the pooled features.
    patch_size : int, default=1
        Read every ``patch_size`` steps as one (``patch_steps``).
    generator : numpy.random.Generator, default=None
        Seeds the initial weights, the dropout masks and the noise.
    """

    def __init__(self, n_features, n_outputs, *, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=128, dropout=0.1, activation="gelu", norm_first=True,
                 positional_encoding="sinusoidal", max_len=5000, pooling="mean",
                 activation_noise=0.0, patch_size=1, generator=None):
        super().__init__()
        self.pooling = pooling
        self.n_features = n_features
        self.patch_size = patch_size
        self.embed = Linear(n_features * patch_size, d_model, generator=generator)
        if positional_encoding == "sinusoidal":
            self.position = SinusoidalPositionalEncoding(d_model, max_len=max_len)
        elif positional_encoding == "learned":
            self.position = LearnedPositionalEncoding(d_model, max_len=max_len,
                                                      generator=generator)
        else:
            self.position = None
        layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                        batch_first=True, norm_first=norm_first,
                                        generator=generator)
        self.encoder = TransformerEncoder(layer, num_layers,
                                          norm=LayerNorm(d_model) if norm_first else None)
        self.attention = (AttentionPooling(d_model, generator=generator)
                          if pooling == "attention" else None)
        self.head = _Head(d_model, n_outputs, dropout, activation_noise, generator)

    def forward(self, x, lengths=None):
        """Compute the outputs of a padded batch of sequences.

        Parameters
        ----------
        x : Tensor of shape (N, T, n_features)
            The sequences, zero-padded to T steps.
        lengths : array-like of int of shape (N,), default=None
            The valid steps of each sequence, in [1, T]; None when none is
            padded.

        Returns
        -------
        Tensor of shape (N, n_outputs)
            The outputs (logits for a classifier).

        Raises
        ------
        ValueError
            If ``lengths`` is not one length in [1, T] per sequence, or T exceeds
            ``max_len``.
        """
        lengths = valid_lengths(lengths, x.shape[1])
        x, lengths = patch_steps(x, lengths, self.patch_size)
        lengths = valid_lengths(lengths, x.shape[1])
        x = self.embed(x)
        if self.position is not None:
            x = self.position(x)
        x = self.encoder(x, src_key_padding_mask=padding_mask(lengths, x.shape[1]))
        return self.head(pool_steps(x, lengths, self.pooling, self.attention))
