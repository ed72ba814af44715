"""Activation layers (parameter-free wrappers of the functional ops)."""

from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array

__all__ = ["Identity", "ReLU", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Mish",
           "Softplus", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "CELU", "Hardswish",
           "Hardsigmoid", "Softsign", "Tanhshrink", "LogSigmoid", "PReLU", "Activation"]


class Identity(Module):
    """Return the input unchanged."""

    def forward(self, input):
        return input


class Activation(Module):
    """Any fused activation given by name (``"relu"``, ``"gelu"``, ...).

    Parameters
    ----------
    name : str
        One of ``sklears_neural._specs.ACTIVATIONS``.
    """

    def __init__(self, name):
        from sklears_neural._specs import check_activation

        super().__init__()
        self.name = check_activation(name)

    def forward(self, input):
        return F.activation(input, self.name)

    def extra_repr(self):
        return repr(self.name)


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, input):
        return F.relu(input)


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SELU(Module):
    """Self-normalising ELU."""

    def forward(self, input):
        return F.selu(input)


class GELU(Module):
    """Gaussian error linear unit; ``approximate="tanh"`` for the fast form."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, input):
        return F.silu(input)


class Mish(Module):
    """x * tanh(softplus(x))."""

    def forward(self, input):
        return F.mish(input)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """Logistic sigmoid."""

    def forward(self, input):
        return F.sigmoid(input)


class CELU(Module):
    """max(0, x) + min(0, ``alpha * (exp(x / alpha) - 1)``)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Hardswish(Module):
    """x * relu6(x + 3) / 6."""

    def forward(self, input):
        return F.hardswish(input)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6."""

    def forward(self, input):
        return F.hardsigmoid(input)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, input):
        return F.tanhshrink(input)


class LogSigmoid(Module):
    """log(sigmoid(x))."""

    def forward(self, input):
        return F.logsigmoid(input)


class PReLU(Module):
    """x for x > 0, ``weight * x`` otherwise, with a learnable slope.

    Parameters
    ----------
    num_parameters : int, default=1
        1 (one slope shared by every element) or the number of channels
        (axis 1 of the input), one slope each.
    init : float, default=0.25
        The slopes' initial value.
    dtype : numpy dtype, optional
    device : str, default="cpu"
    """

    def __init__(self, num_parameters=1, init=0.25, *, dtype=None, device="cpu"):
        super().__init__()
        if int(num_parameters) != num_parameters or num_parameters < 1:
            raise ValueError(
                f"PReLU: num_parameters must be a positive integer; got {num_parameters!r}."
            )
        self.num_parameters = int(num_parameters)
        self.init = init
        self.weight = Parameter(
            empty_parameter_array((self.num_parameters,), dtype, device) + init
        )

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Log-softmax along ``dim``."""

    def forward(self, input):
        return F.log_softmax(input, self.dim)
