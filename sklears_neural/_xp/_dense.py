"""GEMM and the dense layer ``y = act(x @ W.T + b)`` on an array namespace."""

from sklears_neural._specs import backward_uses_output, check_activation
from sklears_neural._xp._activation import activation_backward, activation_forward

__all__ = ["gemm", "dense_forward", "dense_backward"]


def gemm(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None):
    """Return ``alpha * op(a) @ op(b) + beta * c`` for 2-D arrays.

    ``op(m)`` is ``m.T`` when the matching ``trans_*`` flag is set. When ``c``
    is given it is updated in place and returned.
    """
    a = a.T if trans_a else a
    b = b.T if trans_b else b
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"gemm: op(a) has shape {a.shape} and op(b) has shape {b.shape}.")
    product = a @ b
    if alpha != 1.0:
        product *= alpha
    if c is None:
        return product
    if c.shape != product.shape:
        raise ValueError(f"gemm: c has shape {c.shape}, expected {product.shape}.")
    if beta == 0.0:
        c[...] = product
    else:
        c *= beta
        c += product
    return c


def dense_forward(x, W, b, activation="identity", activation_param=None):
    """Forward of a dense layer.

    Parameters
    ----------
    x : array of shape (n, in_features)
    W : array of shape (out_features, in_features)
    b : array of shape (out_features,) or None
    activation : str
    activation_param : float, optional

    Returns
    -------
    y : array of shape (n, out_features)
        ``activation(x @ W.T + b)``.
    pre : array or None
        The pre-activation, kept only when the activation's backward needs it.
    """
    name = check_activation(activation)
    z = x @ W.T
    if b is not None:
        z += b
    if name == "identity":
        return z, None
    y = activation_forward(z, name, activation_param)
    return y, (None if backward_uses_output(name) else z)


def dense_backward(gy, x, W, y, pre, activation="identity", activation_param=None,
                   need_x=True, need_W=True, need_b=True):
    """Backward of a dense layer.

    Parameters
    ----------
    gy : array of shape (n, out_features)
    x, W : the forward inputs
    y, pre : the forward outputs of ``dense_forward``
    activation, activation_param : as in the forward
    need_x, need_W, need_b : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    gx, gW, gb : arrays or None
    """
    name = check_activation(activation)
    if name == "identity":
        gz = gy
    else:
        gz = activation_backward(gy, pre, y, name, activation_param)
    gx = gz @ W if need_x else None
    # Leading axes of x (..., in_features) are all batch axes, as in the forward.
    gz2 = gz.reshape(-1, gz.shape[-1])
    gW = gz2.T @ x.reshape(-1, x.shape[-1]) if need_W else None
    gb = gz2.sum(axis=0) if need_b else None
    return gx, gW, gb
