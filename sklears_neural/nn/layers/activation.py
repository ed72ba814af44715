"""Activation layers (parameter-free wrappers of the functional ops)."""

from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module

__all__ = ["Identity", "ReLU", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Mish",
           "Softplus", "Tanh", "Sigmoid", "Softmax", "LogSoftmax"]


class Identity(Module):
    """Return the input unchanged."""

    def forward(self, input):
        return input


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
