"""The fused dense op: ``activation(x @ W.T + b)`` as one graph node."""

from sklears_neural._dispatch import kernels_for
from sklears_neural._specs import check_activation
from sklears_neural.autograd import Function

__all__ = ["Dense", "linear"]


class Dense(Function):
    """``y = activation(x @ W.T + b)``: one GEMM and one fused epilogue."""

    def __init__(self, activation="identity", activation_param=None):
        self.activation = check_activation(activation)
        self.activation_param = activation_param

    def forward(self, x, W, b):
        if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not match weight of shape "
                f"{W.shape} (expected input (n, {W.shape[1] if W.ndim == 2 else '?'}))."
            )
        if b is not None and b.shape != (W.shape[0],):
            raise ValueError(f"linear: bias of shape {b.shape} does not match weight of "
                             f"shape {W.shape}; expected ({W.shape[0]},).")
        y, pre = kernels_for(x).dense_forward(x, W, b, self.activation, self.activation_param)
        if any(self.needs_input_grad):
            self.save_for_backward(x, W, y, pre)
        return y

    def backward(self, gy):
        x, W, y, pre = self.saved
        need_x, need_W, need_b = self.needs_input_grad
        return kernels_for(gy).dense_backward(
            gy, x, W, y, pre, self.activation, self.activation_param,
            need_x=need_x, need_W=need_W, need_b=need_b,
        )


def linear(input, weight, bias=None, activation=None, activation_param=None):
    """Apply ``activation(input @ weight.T + bias)``.

    Parameters
    ----------
    input : Tensor of shape (..., in_features)
        The input; leading dimensions are kept.
    weight : Tensor of shape (out_features, in_features)
        The weights.
    bias : Tensor of shape (out_features,), default=None
        The bias; None for none.
    activation : str, default=None
        Fused activation, a name that ``nn.functional.activation`` takes; none
        by default, as ``torch.nn.functional.linear``.
    activation_param : float, default=None
        The activation's parameter: negative_slope for leaky_relu, alpha for elu
        and celu, beta for softplus.

    Returns
    -------
    Tensor of shape (..., out_features)
        The activations.

    Raises
    ------
    ValueError
        If the shapes of ``input``, ``weight`` and ``bias`` do not match.
    """
    op = Dense(activation, activation_param)
    if input.ndim == 2:
        return op.apply(input, weight, bias)
    leading = input.shape[:-1]
    flat = input.reshape(-1, input.shape[-1]) if input.ndim else input
    return op.apply(flat, weight, bias).reshape(*leading, weight.shape[0])
