"""The dense layer ``y = act(x @ W.T + b)`` on an array namespace."""

from sklears_neural._specs import backward_uses_output, check_activation
from sklears_neural._specs._dense import (
    check_dense,
    check_dense_backward,
    dense_backward_operands,
)
from sklears_neural._xp._activation import activation_backward, activation_forward
from sklears_neural._xp._arrays import float_arrays

__all__ = ["dense_backward", "dense_forward"]


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
    kernel = "dense_forward"
    name = check_activation(activation)
    _, (x, W, b) = float_arrays(kernel, ("x", x), ("W", W), ("b", b))
    check_dense(kernel, x, W, b)
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
    kernel = "dense_backward"
    name = check_activation(activation)
    need_x, need_W, need_b = bool(need_x), bool(need_W), bool(need_b)
    v_name, v, x, W = dense_backward_operands(kernel, name, x, W, y, pre, need_x, need_W)
    _, (gy, v, x, W) = float_arrays(kernel, ("gy", gy), (v_name, v), ("x", x), ("W", W))
    check_dense_backward(kernel, gy, v_name, v, x, W)
    if not (need_x or need_W or need_b):
        return None, None, None
    if name == "identity":
        gz = gy
    else:  # v is the activation's output or its input, whichever it reads
        gz = activation_backward(gy, v, v, name, activation_param)
    gx = gz @ W if need_x else None
    # Leading axes of x (..., in_features) are all batch axes, as in the forward.
    gz2 = gz.reshape(-1, gz.shape[-1])
    gW = gz2.T @ x.reshape(-1, x.shape[-1]) if need_W else None
    gb = gz2.sum(axis=0) if need_b else None
    return gx, gW, gb
