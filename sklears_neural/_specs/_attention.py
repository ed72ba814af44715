"""Argument checks of the attention kernels, shared by both twins."""

import math

from sklears_neural._specs._arrays import float_dtype


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
    dtype = float_dtype(kernel, ("q", q), ("k", k), ("v", v))
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
    float_dtype(kernel, ("q", q), ("grad_out", grad_out), ("weights", weights))
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
