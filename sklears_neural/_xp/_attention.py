"""Multi-head scaled dot-product attention on an array namespace.

Layout is (B, h, T, d): batch, heads, sequence positions, features per head.
For each batch element and head::

    S = scale * Q @ K.T + attn_mask        (Tq, Tk)
    P = softmax(S) over the keys, with masked keys excluded
    out = P @ V                            (Tq, dv)

Masks (PyTorch's ``nn.MultiheadAttention`` conventions):

* ``attn_mask`` -- a float mask is *added* to the scaled scores (``-inf``
  excludes a key); a bool mask excludes the keys where it is True. Shapes
  (Tq, Tk), or 4-D (B or 1, h or 1, Tq, Tk), broadcast over the others.
* ``key_padding_mask`` -- bool (B, Tk), True marks a padding key to ignore.
* ``causal=True`` -- query i only sees keys j <= i (top-left aligned, as
  PyTorch's ``is_causal``; with Tq != Tk that is ``tril`` of a (Tq, Tk)
  matrix of ones).

A query whose keys are all excluded gets weights 0 and output 0 (not the
NaN of a 0/0 softmax), and so gradient 0.

Written once with ``xp = get_array_module(q)``: with numpy it is the readable
reference that ``sklears_neural._kernels._attention`` is tested against, with
CuPy it is the GPU path (cuBLAS batched GEMMs through ``xp.matmul``). The
argument checks (``check_attention``, ``check_attention_backward``) are
shared with the Cython kernels so both raise the same ``ValueError``
messages.
"""

from sklears_neural._specs._attention import (  # noqa: F401  (shared checks, re-exported)
    check_attention,
    check_attention_backward,
)
from sklears_neural._xp._arrays import float_arrays
from sklears_neural.backend import get_array_module

__all__ = ["attention_backward", "attention_forward"]


def _blocked(xp, q, k, attn_mask, mask_kind, key_padding_mask, causal):
    """Bool array broadcastable to (B, h, Tq, Tk), True where a key is
    excluded; None when nothing is."""
    blocked = None

    def union(a, b):
        return b if a is None else a | b

    if mask_kind == "bool":
        blocked = attn_mask
    if key_padding_mask is not None:
        blocked = union(blocked, key_padding_mask[:, None, None, :])
    if causal:
        Tq, Tk = q.shape[2], k.shape[2]
        above = xp.arange(Tk)[None, :] > xp.arange(Tq)[:, None]
        blocked = union(blocked, above)
    return blocked


def _masked_softmax(xp, s):
    """Softmax over the last axis where excluded entries are -inf; a row
    with every entry -inf gives zeros."""
    m = s.max(axis=-1, keepdims=True)
    # A fully excluded row has max -inf: shift by 0 instead (exp(-inf) = 0).
    m = xp.where(xp.isfinite(m), m, 0)
    e = xp.exp(s - m)
    total = e.sum(axis=-1, keepdims=True)
    return e / xp.where(total > 0, total, 1)


def attention_forward(q, k, v, attn_mask=None, key_padding_mask=None, causal=False,
                      scale=None):
    """Multi-head scaled dot-product attention.

    Parameters
    ----------
    q : array of shape (B, h, Tq, d)
    k : array of shape (B, h, Tk, d)
    v : array of shape (B, h, Tk, dv)
        One dtype, float32 or float64.
    attn_mask : array or None
        Float (q's dtype): added to the scaled scores (``-inf`` excludes a
        key). Bool: True excludes the key. Shape (Tq, Tk) or
        (B or 1, h or 1, Tq, Tk).
    key_padding_mask : bool array of shape (B, Tk) or None
        True marks a padding key, excluded for every query.
    causal : bool
        Exclude keys j > i for query i (top-left aligned).
    scale : float or None
        Multiplies ``Q @ K.T``; default ``1 / sqrt(d)``.

    Returns
    -------
    out : array of shape (B, h, Tq, dv)
    weights : array of shape (B, h, Tq, Tk)
        The attention probabilities (what ``attention_backward`` needs).
        A query whose keys are all excluded gets weights 0 and output 0.
    """
    kernel = "attention_forward"
    _, (q, k, v) = float_arrays(kernel, ("q", q), ("k", k), ("v", v))
    xp = get_array_module(q)
    if attn_mask is not None:
        attn_mask = xp.asarray(attn_mask)
    if key_padding_mask is not None:
        key_padding_mask = xp.asarray(key_padding_mask)
    _, scale, mask_kind = check_attention(kernel, q, k, v, attn_mask,
                                          key_padding_mask, scale)
    s = xp.matmul(q, k.swapaxes(-1, -2)) * scale
    if mask_kind == "float":
        s = s + attn_mask
    blocked = _blocked(xp, q, k, attn_mask, mask_kind, key_padding_mask, causal)
    if blocked is not None:
        s = xp.where(blocked, -xp.inf, s)
    if s.shape[-1] == 0:
        weights = s
    else:
        weights = _masked_softmax(xp, s)
    out = xp.matmul(weights, v)
    return xp.ascontiguousarray(out), xp.ascontiguousarray(weights)


def attention_backward(grad_out, q, k, v, weights, scale=None, need_q=True, need_k=True,
                       need_v=True):
    """Backward of ``attention_forward``.

    Excluded keys have weight 0, so the masks are not needed here: their
    entries get no gradient.

    Parameters
    ----------
    grad_out : array of shape (B, h, Tq, dv)
    q, k, v : the forward inputs
    weights : array of shape (B, h, Tq, Tk)
        The forward's ``weights``.
    scale : float or None
        As in the forward.
    need_q, need_k, need_v : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    grad_q, grad_k, grad_v : arrays or None
        Shapes of q, k and v.
    """
    kernel = "attention_backward"
    _, (q, k, v, grad_out, weights) = float_arrays(
        kernel, ("q", q), ("k", k), ("v", v), ("grad_out", grad_out), ("weights", weights))
    xp = get_array_module(grad_out)
    _, scale = check_attention_backward(kernel, grad_out, q, k, v, weights, scale)
    gq = gk = gv = None
    if need_v:
        gv = xp.matmul(weights.swapaxes(-1, -2), grad_out)
    if need_q or need_k:
        gp = xp.matmul(grad_out, v.swapaxes(-1, -2))
        # softmax backward, times the scale of the scores
        gs = weights * (gp - (gp * weights).sum(axis=-1, keepdims=True)) * scale
        if need_q:
            gq = xp.matmul(gs, k)
        if need_k:
            gk = xp.matmul(gs.swapaxes(-1, -2), q)
    return gq, gk, gv
