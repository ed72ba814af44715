"""Argument checks of the loss kernels, shared by both twins."""

import numpy as np

from sklears_neural._specs._arrays import check_rows, check_same_shape

__all__ = ["check_cross_entropy", "check_elementwise_loss", "class_index_error"]


def class_index_error(kernel, i, value, logits_shape):
    """The error for ``target[i] = value``, outside ``[0, n_classes)``."""
    return ValueError(
        f"{kernel}: target[{i}] = {value} is not a class index in "
        f"[0, {logits_shape[1] - 1}] (logits have shape {tuple(logits_shape)})."
    )


def check_cross_entropy(kernel, logits, target, weight):
    """Check the arrays of ``softmax_cross_entropy``.

    Returns
    -------
    bool
        True when ``target`` holds class indices (1-D, integers), False when
        it holds probabilities (the shape of ``logits``).
    """
    if logits.ndim != 2:
        raise ValueError(f"{kernel}: logits must be 2-D (n, n_classes); got shape "
                         f"{tuple(logits.shape)}.")
    n, n_classes = logits.shape
    if target.ndim == 1:
        if target.dtype.kind not in "iu":
            raise ValueError(
                f"{kernel}: a 1-D target holds class indices and must be an integer "
                f"array; got dtype {target.dtype}."
            )
        if tuple(target.shape) != (n,):
            raise ValueError(
                f"{kernel}: target has shape {tuple(target.shape)} but logits has shape "
                f"{tuple(logits.shape)}; class indices need shape ({n},)."
            )
    elif target.ndim == 2:
        check_same_shape(kernel, "target", target, "logits", logits)
    else:
        raise ValueError(
            f"{kernel}: target must be class indices of shape ({n},) or "
            f"probabilities of shape {tuple(logits.shape)}; got shape "
            f"{tuple(target.shape)}."
        )
    if n_classes == 0 and n > 0:
        raise ValueError(f"{kernel}: logits has shape {tuple(logits.shape)}; no classes.")
    if weight is not None:
        check_rows(kernel, "weight", weight, n, "logits", logits.shape)
    return target.ndim == 1


def check_elementwise_loss(kernel, x, target, weight, pos_weight):
    """Check the arrays of an elementwise loss (``target`` of x's shape,
    ``weight`` one value per row, ``pos_weight`` broadcasting to x)."""
    check_same_shape(kernel, "x", x, "target", target)
    shape = tuple(x.shape)
    if weight is not None:
        if x.ndim == 0:
            raise ValueError(f"{kernel}: weight holds one value per row, but x is a scalar.")
        check_rows(kernel, "weight", weight, shape[0], "x", shape)
    if pos_weight is not None:
        try:
            full = np.broadcast_shapes(tuple(pos_weight.shape), shape)
        except ValueError:
            full = None
        if full != shape:
            raise ValueError(
                f"{kernel}: pos_weight has shape {tuple(pos_weight.shape)} but x has shape "
                f"{shape}; pos_weight must broadcast to x's shape (e.g. shape "
                f"({shape[-1] if shape else 1},))."
            )
