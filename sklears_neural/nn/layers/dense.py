"""Fully connected layer."""

import math

from sklears_neural._random import as_generator
from sklears_neural._specs import check_activation
from sklears_neural.nn import functional as F
from sklears_neural.nn import init
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array

__all__ = ["Linear"]


class Linear(Module):
    """``y = activation(x @ weight.T + bias)``, the activation fused into the op.

    Parameters
    ----------
    in_features, out_features : int
        The sizes of each input and output sample.
    bias : bool, default=True
        Whether the layer has a learnable bias.
    activation : str, default=None
        Fused activation, a name ``nn.functional.activation`` takes (None =
        identity, as ``torch.nn.Linear``).
    activation_param : float, default=None
        The activation's parameter: negative_slope for leaky_relu, alpha for elu
        and celu, beta for softplus.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights: uniform in ``±1/sqrt(in_features)`` like
        PyTorch's default.

    Attributes
    ----------
    weight : Parameter of shape (out_features, in_features)
        The weights.
    bias : Parameter of shape (out_features,) or None
        The bias, None without one.

    Examples
    --------
    >>> from sklears_neural import nn
    >>> layer = nn.Linear(4, 3, activation="relu", generator=0)
    >>> layer.weight.shape
    (3, 4)
    """

    def __init__(self, in_features, out_features, bias=True, activation=None,
                 activation_param=None, *, dtype=None, device="cpu", generator=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int,)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Linear: {name} must be a positive integer; got {value!r}.")
        self.in_features = in_features
        self.out_features = out_features
        self.activation = check_activation(activation)
        self.activation_param = activation_param
        self.weight = Parameter(empty_parameter_array((out_features, in_features), dtype, device))
        if bias:
            self.bias = Parameter(empty_parameter_array((out_features,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        """Draw weights and bias uniformly from ``±1/sqrt(in_features)``.

        Parameters
        ----------
        generator : numpy.random.Generator, int or None, default=None
            The source of the draws.
        """
        rng = as_generator(generator)
        bound = 1.0 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound, generator=rng)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def forward(self, input):
        """Apply the layer.

        Parameters
        ----------
        input : Tensor of shape (..., in_features)
            The input; leading dimensions are kept.

        Returns
        -------
        Tensor of shape (..., out_features)
            The activations.
        """
        return F.linear(input, self.weight, self.bias, self.activation, self.activation_param)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The sizes, whether there is a bias, and the activation.
        """
        act = "" if self.activation == "identity" else f", activation={self.activation!r}"
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}{act}")
