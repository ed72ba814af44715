"""Attention layers: ``MultiheadAttention``, Transformer encoders, positional encodings,
attention pooling."""

import copy
import math

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural._specs import check_activation
from sklears_neural.nn import functional as F
from sklears_neural.nn import init
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array
from sklears_neural.nn.layers.dense import Linear
from sklears_neural.nn.layers.dropout import Dropout
from sklears_neural.nn.layers.norm import LayerNorm

__all__ = ["AttentionPooling", "LearnedPositionalEncoding", "MultiheadAttention",
           "SinusoidalPositionalEncoding", "TransformerEncoder", "TransformerEncoderLayer"]


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters and shapes (``torch.nn.MultiheadAttention``).

    Parameters
    ----------
    embed_dim : int
        E, the number of features of the inputs and the output.
    num_heads : int
        The number of heads; must divide ``embed_dim``.
    dropout : float in [0, 1), default=0.0
        Dropout on the attention probabilities, in training.
    bias : bool, default=True
        Whether the input and output projections have biases.
    batch_first : bool, default=False
        Inputs and output are (N, T, E) instead of (T, N, E).
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial projections (Xavier-uniform, zero biases, as PyTorch)
        and draws the dropout masks.

    Attributes
    ----------
    in_proj_weight : Parameter of shape (3 * embed_dim, embed_dim)
        The query, key and value projections, stacked.
    in_proj_bias : Parameter of shape (3 * embed_dim,) or None
        Their biases.
    out_proj : Linear
        The output projection.

    Raises
    ------
    ValueError
        If ``num_heads`` does not divide ``embed_dim`` or ``dropout`` is not in
        [0, 1).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False, *,
                 dtype=None, device="cpu", generator=None):
        super().__init__()
        if num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: num_heads={num_heads} must divide "
                             f"embed_dim={embed_dim}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1); got {dropout!r}.")
        rng = as_generator(generator)
        self.embed_dim, self.num_heads, self.batch_first = embed_dim, num_heads, batch_first
        self.dropout, self.generator = float(dropout), rng
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = Parameter(empty_parameter_array((3 * embed_dim, embed_dim), dtype,
                                                              device))
        init.xavier_uniform_(self.in_proj_weight, generator=rng)
        if bias:
            self.in_proj_bias = Parameter(empty_parameter_array((3 * embed_dim,), dtype, device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, device=device,
                               generator=rng)
        if bias:
            self.out_proj.bias.data[...] = 0

    def _heads(self, x, part):
        """Project (N, T, E) with one third of in_proj and split into (N, h, T, d)."""
        E = self.embed_dim
        weight = self.in_proj_weight[part * E:(part + 1) * E]
        bias = None if self.in_proj_bias is None else self.in_proj_bias[part * E:(part + 1) * E]
        n, t = x.shape[0], x.shape[1]
        return F.linear(x, weight, bias).reshape(n, t, self.num_heads, self.head_dim) \
            .transpose((0, 2, 1, 3))

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``.

        Parameters
        ----------
        query : Tensor of shape (Tq, N, E)
            The queries; (N, Tq, E) if ``batch_first``.
        key : Tensor of shape (Tk, N, E)
            The keys; (N, Tk, E) if ``batch_first``.
        value : Tensor of shape (Tk, N, E)
            The values; (N, Tk, E) if ``batch_first``.
        key_padding_mask : bool array of shape (N, Tk), default=None
            True marks padding keys, which get no attention.
        need_weights : bool, default=True
            Also return the attention probabilities.
        attn_mask : array, default=None
            Additive float mask, or bool mask where True forbids a position; shape
            (Tq, Tk), (N, 1, Tq, Tk) or (N, h, Tq, Tk).
        average_attn_weights : bool, default=True
            Average the returned probabilities over the heads.
        is_causal : bool, default=False
            Query i sees keys j <= i only.

        Returns
        -------
        output : Tensor of shape (Tq, N, E)
            The attended values, projected; (N, Tq, E) if ``batch_first``.
        weights : ndarray of shape (N, Tq, Tk) or (N, h, Tq, Tk), or None
            The attention probabilities (per head without
            ``average_attn_weights``); None without ``need_weights``.

        Raises
        ------
        ValueError
            If an input is not 3-D with ``embed_dim`` features.
        """
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[2] != self.embed_dim:
                raise ValueError(f"MultiheadAttention: {name} must be (T, N, {self.embed_dim})"
                                 f" or batch-first; got {tuple(t.shape)}.")
        if not self.batch_first:
            query, key, value = (t.transpose((1, 0, 2)) for t in (query, key, value))
        n, tq = query.shape[0], query.shape[1]
        q, k, v = self._heads(query, 0), self._heads(key, 1), self._heads(value, 2)
        out, weights = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
            is_causal=is_causal, return_weights=True,
            dropout_p=self.dropout if self.training else 0.0, generator=self.generator)
        out = self.out_proj(out.transpose((0, 2, 1, 3)).reshape(n, tq, self.embed_dim))
        if not self.batch_first:
            out = out.transpose((1, 0, 2))
        if not need_weights:
            return out, None
        return out, weights.mean(axis=1) if average_attn_weights else weights

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``embed_dim``, ``num_heads`` and, when set, ``dropout``.
        """
        text = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        return text + (f", dropout={self.dropout}" if self.dropout else "")


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block with residuals, as ``torch.nn.TransformerEncoderLayer``.

    Post-norm (``norm_first=False``): ``x = norm1(x + drop(attn(x)))``,
    ``x = norm2(x + drop(ffn(x)))``; pre-norm applies the norms first.

    Parameters
    ----------
    d_model : int
        The number of features of the input and the output.
    nhead : int
        The number of attention heads; must divide ``d_model``.
    dim_feedforward : int, default=2048
        The width of the feed-forward block.
    dropout : float, default=0.1
        On the attention probabilities, the attention and feed-forward branches
        and inside the FFN, as PyTorch.
    activation : {"relu", "gelu"} or any fused activation name, default="relu"
        The activation of the feed-forward block.
    layer_norm_eps : float, default=1e-5
        The ``eps`` of both layer norms.
    batch_first : bool, default=False
        Input and output are (N, T, d_model) instead of (T, N, d_model).
    norm_first : bool, default=False
        Pre-norm instead of post-norm.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights and draws the dropout masks.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, *, dtype=None,
                 device="cpu", generator=None):
        super().__init__()
        rng = as_generator(generator)
        kw = dict(dtype=dtype, device=device)
        self.batch_first, self.norm_first = batch_first, norm_first
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True,
                                            generator=rng, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, activation=check_activation(activation),
                              generator=rng, **kw)
        self.linear2 = Linear(dim_feedforward, d_model, generator=rng, **kw)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, **kw)
        self.dropout = Dropout(dropout, generator=rng)
        self.dropout1 = Dropout(dropout, generator=rng)
        self.dropout2 = Dropout(dropout, generator=rng)

    def _attend(self, x, mask, padding, causal):
        out, _ = self.self_attn(x, x, x, key_padding_mask=padding, need_weights=False,
                                attn_mask=mask, is_causal=causal)
        return self.dropout1(out)

    def _feed_forward(self, x):
        return self.dropout2(self.linear2(self.dropout(self.linear1(x))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Apply the layer to a batch of sequences.

        Parameters
        ----------
        src : Tensor of shape (T, N, d_model)
            The sequences; (N, T, d_model) if ``batch_first``.
        src_mask : array, default=None
            The attention mask (see ``MultiheadAttention.forward``'s ``attn_mask``).
        src_key_padding_mask : bool array of shape (N, T), default=None
            True marks padding steps, which get no attention.
        is_causal : bool, default=False
            Step i attends to steps j <= i only.

        Returns
        -------
        Tensor
            The encoded sequences, of the shape of ``src``.
        """
        x = src if self.batch_first else src.transpose((1, 0, 2))
        if self.norm_first:
            x = x + self._attend(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._feed_forward(self.norm2(x))
        else:
            x = self.norm1(x + self._attend(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._feed_forward(x))
        return x if self.batch_first else x.transpose((1, 0, 2))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of an encoder layer, as ``torch.nn.TransformerEncoder``.

    Parameters
    ----------
    encoder_layer : TransformerEncoderLayer
        Deep-copied ``num_layers`` times (copies start equal, as in PyTorch).
    num_layers : int
        The number of layers.
    norm : Module, default=None
        Applied to the output (e.g. a LayerNorm after pre-norm layers).
    """

    def __init__(self, encoder_layer, num_layers, norm=None):
        super().__init__()
        self.num_layers = num_layers
        for i in range(num_layers):
            setattr(self, f"layer{i}", copy.deepcopy(encoder_layer))
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=False):
        """Apply the layers in turn, then ``norm``.

        Parameters
        ----------
        src : Tensor of shape (T, N, d_model)
            The sequences; (N, T, d_model) if the layers are ``batch_first``.
        mask : array, default=None
            The attention mask of every layer.
        src_key_padding_mask : bool array of shape (N, T), default=None
            True marks padding steps, which get no attention.
        is_causal : bool, default=False
            Step i attends to steps j <= i only.

        Returns
        -------
        Tensor
            The encoded sequences, of the shape of ``src``.
        """
        x = src
        for i in range(self.num_layers):
            x = getattr(self, f"layer{i}")(x, src_mask=mask,
                                           src_key_padding_mask=src_key_padding_mask,
                                           is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class SinusoidalPositionalEncoding(Module):
    """Add the fixed sine/cosine position codes of "Attention Is All You Need".

    ``pe[t, 2i] = sin(t / 10000^(2i/d))``, ``pe[t, 2i+1] = cos(...)``.

    Parameters
    ----------
    d_model : int
        The number of features of the input.
    max_len : int, default=5000
        The longest sequence encoded.
    batch_first : bool, default=True
        Input (N, T, d) when True, (T, N, d) otherwise.
    dtype : {"float32", "float64"}, default=None
        The dtype of the codes; None means float32.
    device : str, default="cpu"
        The device of the codes.
    """

    def __init__(self, d_model, max_len=5000, batch_first=True, *, dtype=None, device="cpu"):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        position = np.arange(max_len)[:, None]
        rate = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(position * rate)
        pe[:, 1::2] = np.cos(position * rate[:d_model // 2])
        self.register_buffer("pe", empty_parameter_array((max_len, d_model), dtype, device) + pe)

    def forward(self, x):
        """Add the code of each position to the input.

        Parameters
        ----------
        x : Tensor of shape (N, T, d_model)
            The sequences; (T, N, d_model) when not ``batch_first``.

        Returns
        -------
        Tensor
            ``x`` plus the positional codes, of its shape.

        Raises
        ------
        ValueError
            If the sequences are longer than ``max_len``.
        """
        steps = x.shape[1] if self.batch_first else x.shape[0]
        if steps > self.max_len:
            raise ValueError(f"{type(self).__name__}: sequences of {steps} steps exceed "
                             f"max_len={self.max_len}.")
        pe = self.pe[:steps]
        return x + (pe[None] if self.batch_first else pe[:, None])

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``d_model=..., max_len=...``.
        """
        return f"d_model={self.d_model}, max_len={self.max_len}"


class LearnedPositionalEncoding(SinusoidalPositionalEncoding):
    """Add a learned vector per position (BERT's positional embeddings).

    The table starts at N(0, 0.02²) and is a parameter.

    Parameters
    ----------
    d_model : int
        The number of features of the input.
    max_len : int, default=512
        The longest sequence encoded.
    batch_first : bool, default=True
        Input (N, T, d) when True, (T, N, d) otherwise.
    dtype : {"float32", "float64"}, default=None
        The dtype of the table; None means float32.
    device : str, default="cpu"
        The device of the table.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial table.

    Attributes
    ----------
    pe : Parameter of shape (max_len, d_model)
        The table of positional vectors.
    """

    def __init__(self, d_model, max_len=512, batch_first=True, *, dtype=None, device="cpu",
                 generator=None):
        Module.__init__(self)
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.pe = Parameter(empty_parameter_array((max_len, d_model), dtype, device))
        init.normal_(self.pe, std=0.02, generator=as_generator(generator))


class AttentionPooling(Module):
    """Pool (N, T, d) to (N, d) with learned attention over time steps.

    ``a = softmax_t(x_t · w + b)`` (padding steps excluded), output
    ``sum_t a_t x_t``.

    Parameters
    ----------
    d_model : int
        The number of features of each step.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial scoring weights.

    Attributes
    ----------
    score : Linear
        The scoring layer, ``d_model -> 1``.
    """

    def __init__(self, d_model, *, dtype=None, device="cpu", generator=None):
        super().__init__()
        self.score = Linear(d_model, 1, dtype=dtype, device=device, generator=generator)

    def forward(self, x, padding_mask=None):
        """Pool each sequence into one vector.

        Parameters
        ----------
        x : Tensor of shape (N, T, d_model)
            The sequences, batch first.
        padding_mask : bool array of shape (N, T), default=None
            True at padding steps, which get no weight.

        Returns
        -------
        Tensor of shape (N, d_model)
            The attention-weighted sum of the steps of each sequence.
        """
        n, t, d = x.shape
        scores = self.score(x).reshape(n, t)
        if padding_mask is not None:
            scores = scores + np.where(np.asarray(padding_mask), -1e30, 0.0).astype(x.dtype)
        weights = F.softmax(scores, dim=-1).reshape(n, 1, t)
        return (weights @ x).reshape(n, d)
