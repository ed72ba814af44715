"""``scaled_dot_product_attention``: softmax(Q Kᵀ · scale + mask) V as one graph node."""

import numpy as np

from sklears_neural._dispatch import kernels_for
from sklears_neural._random import as_generator
from sklears_neural.autograd import Function
from sklears_neural.backend import get_array_module
from sklears_neural.nn.functional._dropout import keep_mask

__all__ = ["scaled_dot_product_attention"]


class _Attention(Function):
    def __init__(self, attn_mask, key_padding_mask, causal, scale, dropout_p=0.0,
                 generator=None):
        self.attn_mask, self.key_padding_mask = attn_mask, key_padding_mask
        self.causal, self.scale = causal, scale
        self.dropout_p, self.generator = dropout_p, generator

    def forward(self, q, k, v):
        out, weights = kernels_for(q).attention_forward(
            q, k, v, attn_mask=self.attn_mask, key_padding_mask=self.key_padding_mask,
            causal=self.causal, scale=self.scale)
        self.weights = weights
        keep = None
        if self.dropout_p:
            # Dropout on the probabilities: out = (P * keep) V, keep = mask / (1 - p).
            keep = keep_mask(weights, self.dropout_p, self.generator)
            xp = get_array_module(weights)
            out = xp.matmul(weights * keep, v)
        if any(self.needs_input_grad):
            self.save_for_backward(q, k, v, weights, keep)
        return out

    def backward(self, gy):
        q, k, v, weights, keep = self.saved
        nq, nk, nv = self.needs_input_grad
        if keep is None:
            return kernels_for(gy).attention_backward(gy, q, k, v, weights, scale=self.scale,
                                                      need_q=nq, need_k=nk, need_v=nv)
        return _dropout_attention_backward(gy, q, k, v, weights, keep, self._scale(q))

    def _scale(self, q):
        return self.scale if self.scale is not None else 1.0 / float(np.sqrt(q.shape[-1]))


def _dropout_attention_backward(gy, q, k, v, weights, keep, scale):
    """Gradients of (softmax(S) * keep) V with S = Q Kᵀ · scale (+ mask)."""
    xp = get_array_module(gy)
    swap = (0, 1, 3, 2)
    gv = xp.matmul((weights * keep).transpose(swap), gy)
    g_probs = xp.matmul(gy, v.transpose(swap)) * keep
    g_scores = weights * (g_probs - (g_probs * weights).sum(axis=-1, keepdims=True))
    g_scores *= weights.dtype.type(scale)
    return xp.matmul(g_scores, k), xp.matmul(g_scores.transpose(swap), q), gv


def _raw(mask):
    return None if mask is None else getattr(mask, "data", mask)


def scaled_dot_product_attention(query, key, value, attn_mask=None, key_padding_mask=None,
                                 is_causal=False, scale=None, return_weights=False,
                                 dropout_p=0.0, generator=None):
    """Multi-head scaled dot-product attention over (B, heads, T, d) tensors.

    Parameters
    ----------
    query : Tensor of shape (B, h, Tq, d)
        The queries.
    key : Tensor of shape (B, h, Tk, d)
        The keys.
    value : Tensor of shape (B, h, Tk, dv)
        The values.
    attn_mask : array, default=None
        Additive float mask, or bool mask where True forbids a position;
        shape (Tq, Tk), (B, 1, Tq, Tk) or (B, h, Tq, Tk). Not differentiated.
    key_padding_mask : bool array of shape (B, Tk), default=None
        True marks padding keys.
    is_causal : bool, default=False
        Query i sees keys j <= i only.
    scale : float, default=None
        The factor of the scores ``query @ key.T``; None means ``1 / sqrt(d)``.
    return_weights : bool, default=False
        Also return the attention probabilities (B, h, Tq, Tk) as an array
        (before dropout).
    dropout_p : float in [0, 1), default=0.0
        Dropout on the attention probabilities (inverted: kept ones are
        scaled by ``1 / (1 - dropout_p)``). Pass 0 outside training.
    generator : numpy.random.Generator, int or None, default=None
        Source of the dropout mask on the CPU (CuPy uses its own generator).

    Returns
    -------
    output : Tensor of shape (B, h, Tq, dv)
        The attention-weighted values. A query whose keys are all masked gets
        output 0.
    weights : ndarray of shape (B, h, Tq, Tk)
        The attention probabilities; only with ``return_weights``.

    Raises
    ------
    ValueError
        If ``query``, ``key`` or ``value`` is not 4-D, or ``dropout_p`` is not in
        [0, 1).
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim != 4:
            raise ValueError(f"scaled_dot_product_attention: {name} must be (B, heads, T, d); "
                             f"got shape {tuple(t.shape)}.")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1); got "
                         f"{dropout_p!r}.")
    op = _Attention(_raw(attn_mask), _raw(key_padding_mask), bool(is_causal), scale,
                    float(dropout_p), as_generator(generator) if dropout_p else None)
    out = op.apply(query, key, value)
    return (out, op.weights) if return_weights else out
