"""The dense layer ``y = act(x @ W.T + b)`` on an array namespace."""

from sklears_neural._specs import backward_uses_output, check_activation
from sklears_neural._xp._activation import activation_backward, activation_forward

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
