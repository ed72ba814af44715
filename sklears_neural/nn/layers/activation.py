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
        """Return the input unchanged.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            ``input`` itself.
        """
        return input


class Activation(Module):
    """Any fused activation given by name (``"relu"``, ``"gelu"``, ...).

    Parameters
    ----------
    name : str
        A name that ``nn.functional.activation`` takes: one of
        ``sklears_neural._specs.ACTIVATIONS``, or ``"logistic"``, ``"linear"``.
    """

    def __init__(self, name):
        from sklears_neural._specs import check_activation

        super().__init__()
        self.name = check_activation(name)

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.activation(input, self.name)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The activation's name, quoted.
        """
        return repr(self.name)


class ReLU(Module):
    """Rectified linear unit, ``max(x, 0)``."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.relu(input)


class LeakyReLU(Module):
    """Leaky ReLU: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    Parameters
    ----------
    negative_slope : float, default=0.01
        The slope for negative inputs.
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``negative_slope=...``.
        """
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Parameters
    ----------
    alpha : float, default=1.0
        The value the output tends to, negated, as ``x`` goes to minus infinity.
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.elu(input, self.alpha)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``alpha=...``.
        """
        return f"alpha={self.alpha}"


class SELU(Module):
    """Self-normalising ELU."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.selu(input)


class GELU(Module):
    """Gaussian error linear unit; ``approximate="tanh"`` for the fast form.

    Parameters
    ----------
    approximate : {"none", "tanh"}, default="none"
        ``"none"`` computes the normal CDF exactly, ``"tanh"`` with PyTorch's tanh
        approximation.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``approximate=...``.
        """
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """Sigmoid linear unit (swish), ``x * sigmoid(x)``."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.silu(input)


class Mish(Module):
    """Mish, ``x * tanh(softplus(x))``."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.mish(input)


class Softplus(Module):
    """Softplus, ``log(1 + exp(beta * x)) / beta``.

    Parameters
    ----------
    beta : float, default=1.0
        The sharpness of the curve.
    threshold : float, default=20.0
        Above ``beta * x > threshold`` the output is ``x``; only 20 is supported
        (another value raises at the first forward).
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``beta=..., threshold=...``.
        """
        return f"beta={self.beta}, threshold={self.threshold}"


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.tanh(input)


class Sigmoid(Module):
    """Logistic sigmoid."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.sigmoid(input)


class CELU(Module):
    """Continuously differentiable ELU, ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Parameters
    ----------
    alpha : float, default=1.0
        The scale of the negative part; not 0 (0 raises at the first forward).
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.celu(input, self.alpha)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``alpha=...``.
        """
        return f"alpha={self.alpha}"


class Hardswish(Module):
    """Hard swish, ``x * relu6(x + 3) / 6``."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.hardswish(input)


class Hardsigmoid(Module):
    """Hard sigmoid, ``relu6(x + 3) / 6``."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.hardsigmoid(input)


class Softsign(Module):
    """Softsign, ``x / (1 + |x|)``."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.softsign(input)


class Tanhshrink(Module):
    """Tanhshrink, ``x - tanh(x)``."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.tanhshrink(input)


class LogSigmoid(Module):
    """Log-sigmoid, ``log(sigmoid(x))``, computed without overflow."""

    def forward(self, input):
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.logsigmoid(input)


class PReLU(Module):
    """Parametric ReLU: ``x`` for ``x > 0``, ``weight * x`` otherwise, with a learnable slope.

    Parameters
    ----------
    num_parameters : int, default=1
        1 (one slope shared by every element) or the number of channels
        (axis 1 of the input), one slope each.
    init : float, default=0.25
        The slopes' initial value.
    dtype : numpy dtype, default=None
        The dtype of the slopes; None means float32.
    device : str, default="cpu"
        The device of the slopes.

    Attributes
    ----------
    weight : Parameter of shape (num_parameters,)
        The slopes.
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
        """Apply the activation.

        Parameters
        ----------
        input : Tensor
            The input; channels on axis 1 when there is one slope per channel.

        Returns
        -------
        Tensor
            The activations, of the shape of ``input``.
        """
        return F.prelu(input, self.weight)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``num_parameters=...``.
        """
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    """Softmax along ``dim``.

    Parameters
    ----------
    dim : int, default=-1
        The axis whose entries sum to one.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Apply the softmax along ``dim``.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The probabilities, of the shape of ``input``.
        """
        return F.softmax(input, self.dim)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``dim=...``.
        """
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Log-softmax along ``dim``.

    Parameters
    ----------
    dim : int, default=-1
        The axis to normalise over.
    """

    def forward(self, input):
        """Apply the log-softmax along ``dim``.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The log-probabilities, of the shape of ``input``.
        """
        return F.log_softmax(input, self.dim)
