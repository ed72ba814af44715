"""``scaled_dot_product_attention``: softmax(Q Kᵀ · scale + mask) V as one graph node."""

from sklears_neural.autograd import Function
from sklears_neural.backend import kernels_for

__all__ = ["scaled_dot_product_attention"]


class _Attention(Function):
    def __init__(self, attn_mask, key_padding_mask, causal, scale):
        self.attn_mask, self.key_padding_mask = attn_mask, key_padding_mask
        self.causal, self.scale = causal, scale

    def forward(self, q, k, v):
        out, weights = kernels_for(q).attention_forward(
            q, k, v, attn_mask=self.attn_mask, key_padding_mask=self.key_padding_mask,
            causal=self.causal, scale=self.scale)
        self.weights = weights
        if any(self.needs_input_grad):
            self.save_for_backward(q, k, v, weights)
        return out

    def backward(self, gy):
        q, k, v, weights = self.saved
        nq, nk, nv = self.needs_input_grad
        return kernels_for(gy).attention_backward(gy, q, k, v, weights, scale=self.scale,
                                                  need_q=nq, need_k=nk, need_v=nv)


def _raw(mask):
    return None if mask is None else getattr(mask, "data", mask)


def scaled_dot_product_attention(query, key, value, attn_mask=None, key_padding_mask=None,
                                 is_causal=False, scale=None, return_weights=False):
    """Multi-head scaled dot-product attention over (B, heads, T, d) tensors.

    Parameters
    ----------
    query : Tensor of shape (B, h, Tq, d)
    key : Tensor of shape (B, h, Tk, d)
    value : Tensor of shape (B, h, Tk, dv)
    attn_mask : array, optional
        Additive float mask, or bool mask where True forbids a position;
        shape (Tq, Tk), (B, 1, Tq, Tk) or (B, h, Tq, Tk). Not differentiated.
    key_padding_mask : bool array of shape (B, Tk), optional
        True marks padding keys.
    is_causal : bool, default=False
        Query i sees keys j <= i only.
    scale : float, optional
        Defaults to ``1 / sqrt(d)``.
    return_weights : bool, default=False
        Also return the attention probabilities (B, h, Tq, Tk) as an array.

    Returns
    -------
    Tensor of shape (B, h, Tq, dv), and the weights with ``return_weights``.
        A query whose keys are all masked gets output 0.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim != 4:
            raise ValueError(f"scaled_dot_product_attention: {name} must be (B, heads, T, d); "
                             f"got shape {tuple(t.shape)}.")
    op = _Attention(_raw(attn_mask), _raw(key_padding_mask), bool(is_causal), scale)
    out = op.apply(query, key, value)
    return (out, op.weights) if return_weights else out
