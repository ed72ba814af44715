"""Activation ops (elementwise and softmax), one node each."""

from sklears_neural._dispatch import kernels_for
from sklears_neural._specs import backward_uses_output, check_activation
from sklears_neural.autograd import Function
from sklears_neural.backend import get_array_module

__all__ = [
    "Activation", "activation", "relu", "leaky_relu", "elu", "selu", "gelu",
    "silu", "mish", "softplus", "tanh", "sigmoid", "celu", "hardswish", "hardsigmoid",
    "softsign", "tanhshrink", "logsigmoid", "PReLU", "prelu", "softmax", "log_softmax",
]


class Activation(Function):
    """An elementwise activation; keeps its output or its input, not both."""

    def __init__(self, name, param=None):
        self.name = check_activation(name)
        self.param = param

    def forward(self, x):
        y = kernels_for(x).activation_forward(x, self.name, self.param)
        if any(self.needs_input_grad):
            from_output = backward_uses_output(self.name)
            self.save_for_backward(None if from_output else x, y if from_output else None)
        return y

    def backward(self, gy):
        x, y = self.saved
        return kernels_for(gy).activation_backward(gy, x, y, self.name, self.param)


def activation(input, name, param=None):
    """Apply the activation called ``name`` (any of ``_specs.ACTIVATIONS``)."""
    return Activation(name, param).apply(input)


def relu(input):
    """max(x, 0)."""
    return Activation("relu").apply(input)


def leaky_relu(input, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    return Activation("leaky_relu", negative_slope).apply(input)


def elu(input, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return Activation("elu", alpha).apply(input)


def selu(input):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return Activation("selu").apply(input)


def gelu(input, approximate="none"):
    """x * Phi(x); ``approximate="tanh"`` uses the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh'; got {approximate!r}.")
    return Activation("gelu" if approximate == "none" else "gelu_tanh").apply(input)


def silu(input):
    """x * sigmoid(x) (swish)."""
    return Activation("silu").apply(input)


def mish(input):
    """x * tanh(softplus(x))."""
    return Activation("mish").apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold (20 only)."""
    if threshold != 20.0:
        raise ValueError(f"softplus: only threshold=20 is supported; got {threshold!r}.")
    return Activation("softplus", beta).apply(input)


def tanh(input):
    """Hyperbolic tangent."""
    return Activation("tanh").apply(input)


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return Activation("sigmoid").apply(input)


def celu(input, alpha=1.0):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x).")
    return Activation("celu", alpha).apply(input)


def hardswish(input):
    """x * relu6(x + 3) / 6 (PyTorch's derivative at x = -3 and 3)."""
    return Activation("hardswish").apply(input)


def hardsigmoid(input):
    """relu6(x + 3) / 6."""
    return Activation("hardsigmoid").apply(input)


def softsign(input):
    """x / (1 + |x|)."""
    return Activation("softsign").apply(input)


def tanhshrink(input):
    """x - tanh(x)."""
    return Activation("tanhshrink").apply(input)


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow."""
    return Activation("logsigmoid").apply(input)


class PReLU(Function):
    """x for x > 0, weight * x otherwise, with a learnable slope ``weight``
    (1 element shared, or one per channel on axis 1)."""

    def forward(self, x, weight):
        y = kernels_for(x).prelu_forward(x, weight)
        if any(self.needs_input_grad):
            self.save_for_backward(x, weight)
        return y

    def backward(self, gy):
        x, weight = self.saved
        need_x, need_weight = self.needs_input_grad
        return kernels_for(gy).prelu_backward(gy, x, weight, need_x, need_weight)


def prelu(input, weight):
    """PReLU: ``input`` where positive, ``weight * input`` elsewhere.

    ``weight`` has 1 element (one slope shared by all) or ``input.shape[1]``
    elements (one slope per channel), as ``torch.nn.functional.prelu``.
    """
    return PReLU().apply(input, weight)


class _SoftmaxBase(Function):
    """Softmax-family op over one axis, computed by the 2-D last-axis kernels."""

    forward_kernel = backward_kernel = ""

    def __init__(self, dim):
        self.dim = dim

    def _to_rows(self, a):
        xp = get_array_module(a)
        moved = xp.moveaxis(a, self.dim, -1)
        self.moved_shape = moved.shape
        return moved.reshape(-1, moved.shape[-1]) if moved.ndim else moved.reshape(1, 1)

    def _from_rows(self, rows):
        xp = get_array_module(rows)
        return xp.moveaxis(rows.reshape(self.moved_shape), -1, self.dim)

    def forward(self, x):
        if not -x.ndim <= self.dim < max(x.ndim, 1):
            raise ValueError(f"softmax: dim {self.dim} is out of range for shape {x.shape}.")
        y = getattr(kernels_for(x), self.forward_kernel)(self._to_rows(x))
        self.save_for_backward(y)
        return self._from_rows(y)

    def backward(self, gy):
        (y,) = self.saved
        g = getattr(kernels_for(gy), self.backward_kernel)(self._to_rows(gy), y)
        return self._from_rows(g)


class Softmax(_SoftmaxBase):
    forward_kernel, backward_kernel = "softmax", "softmax_backward"


class LogSoftmax(_SoftmaxBase):
    forward_kernel, backward_kernel = "log_softmax", "log_softmax_backward"


def softmax(input, dim=-1):
    """exp(x) / sum(exp(x)) along ``dim``."""
    return Softmax(dim).apply(input)


def log_softmax(input, dim=-1):
    """log(softmax(x)) along ``dim``, computed stably."""
    return LogSoftmax(dim).apply(input)
