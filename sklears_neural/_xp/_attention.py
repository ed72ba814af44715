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

import math

from sklears_neural.backend import get_array_module
from sklears_neural._xp._conv import check_float_dtype

__all__ = ["attention_backward", "attention_forward"]


# ---------------------------------------------------------------------------
# Argument checks (shared with the Cython kernels)
# ---------------------------------------------------------------------------

def _check_4d(kernel, name, a):
    if a.ndim != 4:
        raise ValueError(
            f"{kernel}: {name} must be 4-D (B, h, T, features); got shape "
            f"{tuple(a.shape)}."
        )


def _check_scale(kernel, scale, d):
    if scale is None:
        if d == 0:
            raise ValueError(
                f"{kernel}: q and k have 0 features per head; the default scale "
                "1/sqrt(d) needs d >= 1 (or pass scale explicitly)."
            )
        return 1.0 / math.sqrt(d)
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise ValueError(f"{kernel}: scale must be a real number or None; "
                         f"got {scale!r}.") from None
    if not math.isfinite(scale):
        raise ValueError(f"{kernel}: scale must be finite; got {scale!r}.")
    return scale


def check_attention(kernel, q, k, v, attn_mask, key_padding_mask, scale):
    """Validate the arguments of ``attention_forward``.

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    q, k, v : arrays
        Shapes (B, h, Tq, d), (B, h, Tk, d), (B, h, Tk, dv), one float dtype.
    attn_mask, key_padding_mask : arrays or None
    scale : float or None

    Returns
    -------
    dtype : dtype
        float32 or float64, the dtype of q, k and v.
    scale : float
        ``1 / sqrt(d)`` when ``scale`` is None.
    mask_kind : {None, "float", "bool"}
        The kind of ``attn_mask``.

    Raises
    ------
    ValueError
        For mismatched shapes or dtypes, naming the arguments and shapes.
    """
    dtype = check_float_dtype(kernel, ("q", q), ("k", k), ("v", v))
    for name, a in (("q", q), ("k", k), ("v", v)):
        _check_4d(kernel, name, a)
    B, h, Tq, d = q.shape
    Tk = k.shape[2]
    if k.shape[:2] != (B, h) or v.shape[:2] != (B, h):
        raise ValueError(
            f"{kernel}: q, k and v must share (B, h) = their first two sizes; got "
            f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}."
        )
    if k.shape[3] != d:
        raise ValueError(
            f"{kernel}: q has shape {tuple(q.shape)} and k has shape "
            f"{tuple(k.shape)}; their last sizes (d, features per head) must be "
            "equal."
        )
    if v.shape[2] != Tk:
        raise ValueError(
            f"{kernel}: k has shape {tuple(k.shape)} and v has shape "
            f"{tuple(v.shape)}; they must have the same number of keys (axis 2)."
        )
    mask_kind = None
    if attn_mask is not None:
        mdt = getattr(attn_mask, "dtype", None)
        if mdt is not None and mdt.kind == "b":
            mask_kind = "bool"
        elif mdt == dtype:
            mask_kind = "float"
        else:
            raise ValueError(
                f"{kernel}: attn_mask has dtype {mdt}; it must be bool (True = "
                f"not allowed) or a float mask of q's dtype {dtype} (added to "
                "the scores)."
            )
        ms = tuple(attn_mask.shape)
        ok = (ms == (Tq, Tk)) or (
            len(ms) == 4 and ms[2:] == (Tq, Tk) and ms[0] in (1, B) and ms[1] in (1, h))
        if not ok:
            raise ValueError(
                f"{kernel}: attn_mask has shape {ms} but q {tuple(q.shape)} and k "
                f"{tuple(k.shape)} need (Tq, Tk) = {(Tq, Tk)}, or 4-D "
                f"(B or 1, h or 1, Tq, Tk) = ({B} or 1, {h} or 1, {Tq}, {Tk})."
            )
    if key_padding_mask is not None:
        pdt = getattr(key_padding_mask, "dtype", None)
        if pdt is None or pdt.kind != "b":
            raise ValueError(
                f"{kernel}: key_padding_mask has dtype {pdt}; it must be bool "
                "(True = padding key to ignore)."
            )
        if tuple(key_padding_mask.shape) != (B, Tk):
            raise ValueError(
                f"{kernel}: key_padding_mask has shape "
                f"{tuple(key_padding_mask.shape)} but k has shape {tuple(k.shape)}; "
                f"it must be (B, Tk) = {(B, Tk)}."
            )
    return dtype, _check_scale(kernel, scale, d), mask_kind


def check_attention_backward(kernel, grad_out, q, k, v, weights, scale):
    """Validate the arguments of ``attention_backward``.

    Returns
    -------
    dtype : dtype
    scale : float
    """
    dtype, scale, _ = check_attention(kernel, q, k, v, None, None, scale)
    check_float_dtype(kernel, ("q", q), ("grad_out", grad_out), ("weights", weights))
    B, h, Tq, _ = q.shape
    Tk, dv = v.shape[2:]
    for name, a, want in (("grad_out", grad_out, (B, h, Tq, dv)),
                          ("weights", weights, (B, h, Tq, Tk))):
        if tuple(a.shape) != want:
            raise ValueError(
                f"{kernel}: {name} has shape {tuple(a.shape)} but q "
                f"{tuple(q.shape)} and v {tuple(v.shape)} need {want}."
            )
    return dtype, scale


# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------

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
    xp = get_array_module(q)
    kernel = "attention_forward"
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
    xp = get_array_module(grad_out)
    kernel = "attention_backward"
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
