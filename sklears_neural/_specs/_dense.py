"""Argument checks of the dense-layer kernels, shared by both twins."""

from sklears_neural._specs import backward_operand

__all__ = ["check_dense", "check_dense_backward", "dense_backward_operands"]


def check_dense(kernel, x, W, b):
    """Raise unless ``x`` (..., in), ``W`` (out, in) and ``b`` (out,) or None fit."""
    if W.ndim != 2:
        raise ValueError(f"{kernel}: W must be 2-D (out_features, in_features); got shape "
                         f"{tuple(W.shape)}.")
    out_f, in_f = W.shape
    if x.ndim == 0 or x.shape[-1] != in_f:
        raise ValueError(
            f"{kernel}: x has shape {tuple(x.shape)} but W has shape {tuple(W.shape)}; "
            "x.shape[-1] must equal W.shape[1]."
        )
    if b is not None and tuple(b.shape) != (out_f,):
        raise ValueError(
            f"{kernel}: b has shape {tuple(b.shape)} but W has shape {tuple(W.shape)}; "
            f"b must have shape ({out_f},)."
        )


def dense_backward_operands(kernel, name, x, W, y, pre, need_x, need_W):
    """The arrays a dense backward reads: ``(v_name, v, x, W)``.

    ``v`` is what the activation's backward reads (``y`` or ``pre``; None
    for the identity); ``x`` is None unless ``need_W`` and ``W`` None unless
    ``need_x`` (whatever was passed). Raises ValueError for a needed one that
    is None.
    """
    v_name = v = None
    if name != "identity":
        v_name, v = backward_operand(kernel, name, pre, y, x_name="pre",
                                     source="dense_forward")
    if not need_W:
        x = None
    elif x is None:
        raise ValueError(f"{kernel}: need_W=True needs x; got None.")
    if not need_x:
        W = None
    elif W is None:
        raise ValueError(f"{kernel}: need_x=True needs W; got None.")
    return v_name, v, x, W


def check_dense_backward(kernel, gy, v_name, v, x, W):
    """Raise unless the arrays of a dense backward fit ``gy`` (..., out)."""
    if gy.ndim == 0:
        raise ValueError(f"{kernel}: gy must be at least 1-D; got a scalar.")
    gs = tuple(gy.shape)
    out_f = gs[-1]
    if v is not None and tuple(v.shape) != gs:
        raise ValueError(
            f"{kernel}: gy has shape {gs} but {v_name} has shape {tuple(v.shape)}; "
            "they must be equal."
        )
    if W is not None and (W.ndim != 2 or W.shape[0] != out_f):
        raise ValueError(
            f"{kernel}: gy has shape {gs} but W has shape {tuple(W.shape)}; "
            "W must be 2-D with W.shape[0] == gy.shape[-1]."
        )
    if x is not None:
        if x.ndim == 0 or tuple(x.shape[:-1]) != gs[:-1]:
            raise ValueError(
                f"{kernel}: x has shape {tuple(x.shape)} but gy has shape {gs}; "
                "their leading dimensions must be equal."
            )
        if W is not None and x.shape[-1] != W.shape[1]:
            raise ValueError(
                f"{kernel}: x has shape {tuple(x.shape)} but W has shape "
                f"{tuple(W.shape)}; x.shape[-1] must equal W.shape[1]."
            )
