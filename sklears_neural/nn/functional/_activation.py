"""Activation ops (elementwise and softmax), one node each."""

import warnings

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

    def __init__(self, name, activation_param=None):
        self.name = check_activation(name)
        self.activation_param = activation_param

    def forward(self, x):
        y = kernels_for(x).activation_forward(x, self.name, self.activation_param)
        if any(self.needs_input_grad):
            from_output = backward_uses_output(self.name)
            self.save_for_backward(None if from_output else x, y if from_output else None)
        return y

    def backward(self, gy):
        x, y = self.saved
        return kernels_for(gy).activation_backward(gy, x, y, self.name,
                                                   self.activation_param)


def activation(input, name, activation_param=None, *, param="deprecated"):
    """Apply the activation called ``name`` elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    name : str
        One of ``"identity"``, ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"selu"``,
        ``"gelu"``, ``"gelu_tanh"``, ``"silu"``, ``"mish"``, ``"softplus"``, ``"tanh"``,
        ``"sigmoid"``, ``"celu"``, ``"hardswish"``, ``"hardsigmoid"``, ``"softsign"``,
        ``"tanhshrink"``, ``"logsigmoid"``, or scikit-learn's ``"logistic"``
        (sigmoid) and ``"linear"`` or None (identity).
    activation_param : float, default=None
        The activation's parameter: ``negative_slope`` of leaky_relu (default 0.01),
        ``alpha`` of elu and celu (1.0), ``beta`` of softplus (1.0); the others
        ignore it. The same name as in ``linear`` and ``nn.Linear``.
    param : float, keyword-only
        Deprecated name of ``activation_param``; it will be removed in the next
        release.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.

    Raises
    ------
    ValueError
        If ``name`` is not an activation.
    """
    if param != "deprecated":
        warnings.warn("activation(param=...) is deprecated and will be removed in the next "
                      "release; use activation_param=... (the name nn.Linear and linear use).",
                      FutureWarning, stacklevel=2)
        if activation_param is None:
            activation_param = param
    return Activation(name, activation_param).apply(input)


def relu(input):
    """Apply the rectified linear unit, ``max(x, 0)``, elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("relu").apply(input)


def leaky_relu(input, negative_slope=0.01):
    """Apply ``x`` for ``x > 0``, ``negative_slope * x`` otherwise, elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    negative_slope : float, default=0.01
        The slope for negative inputs.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("leaky_relu", negative_slope).apply(input)


def elu(input, alpha=1.0):
    """Apply ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise, elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    alpha : float, default=1.0
        The value the output tends to, negated, as ``x`` goes to minus infinity.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("elu", alpha).apply(input)


def selu(input):
    """Apply ``scale * elu(x, alpha)`` with the self-normalising constants, elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("selu").apply(input)


def gelu(input, approximate="none"):
    """Apply GELU, ``x * Phi(x)``, elementwise; ``approximate="tanh"`` uses the tanh approximation.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    approximate : {"none", "tanh"}, default="none"
        ``"none"`` computes the normal CDF ``Phi`` exactly (with erf), ``"tanh"``
        with PyTorch's tanh approximation.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.

    Raises
    ------
    ValueError
        If ``approximate`` is neither.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh'; got {approximate!r}.")
    return Activation("gelu" if approximate == "none" else "gelu_tanh").apply(input)


def silu(input):
    """Apply ``x * sigmoid(x)`` (SiLU, swish), elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("silu").apply(input)


def mish(input):
    """Apply Mish, ``x * tanh(softplus(x))``, elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("mish").apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    """Apply ``log(1 + exp(beta * x)) / beta`` elementwise, linear where ``beta * x > threshold``.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    beta : float, default=1.0
        The sharpness of the curve.
    threshold : float, default=20.0
        Above ``beta * x > threshold`` the output is ``x``; only 20 is supported.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.

    Raises
    ------
    ValueError
        If ``threshold`` is not 20.
    """
    if threshold != 20.0:
        raise ValueError(f"softplus: only threshold=20 is supported; got {threshold!r}.")
    return Activation("softplus", beta).apply(input)


def tanh(input):
    """Apply the hyperbolic tangent elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("tanh").apply(input)


def sigmoid(input):
    """Apply the logistic sigmoid, ``1 / (1 + exp(-x))``, elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("sigmoid").apply(input)


def celu(input, alpha=1.0):
    """Apply ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    alpha : float, default=1.0
        The scale of the negative part; not 0.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.

    Raises
    ------
    ValueError
        If ``alpha`` is 0.
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x).")
    return Activation("celu", alpha).apply(input)


def hardswish(input):
    """Apply ``x * relu6(x + 3) / 6`` elementwise (PyTorch's derivative at x = -3 and 3).

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("hardswish").apply(input)


def hardsigmoid(input):
    """Apply ``relu6(x + 3) / 6`` elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("hardsigmoid").apply(input)


def softsign(input):
    """Apply ``x / (1 + |x|)`` elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("softsign").apply(input)


def tanhshrink(input):
    """Apply ``x - tanh(x)`` elementwise.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
    return Activation("tanhshrink").apply(input)


def logsigmoid(input):
    """Apply ``log(sigmoid(x))`` elementwise, computed without overflow.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
    """
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

    Parameters
    ----------
    input : Tensor or array-like
        The input; channels on axis 1.
    weight : Tensor or array-like of shape (1,) or (input.shape[1],)
        The learnable slopes for negative inputs.

    Returns
    -------
    Tensor
        The activations, of the shape of ``input``.
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
    """Apply the softmax, ``exp(x) / sum(exp(x))``, along ``dim``.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    dim : int, default=-1
        The axis whose entries sum to one.

    Returns
    -------
    Tensor
        The probabilities, of the shape of ``input``.

    Raises
    ------
    ValueError
        If ``dim`` is out of range.
    """
    return Softmax(dim).apply(input)


def log_softmax(input, dim=-1):
    """Apply ``log(softmax(x))`` along ``dim``, computed stably.

    Parameters
    ----------
    input : Tensor or array-like
        The input, of any shape.
    dim : int, default=-1
        The axis to normalise over.

    Returns
    -------
    Tensor
        The log-probabilities, of the shape of ``input``.

    Raises
    ------
    ValueError
        If ``dim`` is out of range.
    """
    return LogSoftmax(dim).apply(input)
