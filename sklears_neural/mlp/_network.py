"""The network behind ``MLPClassifier`` / ``MLPRegressor``."""

import math

from sklears_neural._specs import check_activation
from sklears_neural.nn import (
    Activation,
    BatchNorm1d,
    Dropout,
    GaussianNoise,
    LayerNorm,
    Linear,
    Module,
    Sequential,
    init,
)
from sklears_neural.nn.layers.activation import Identity

__all__ = ["MLPNetwork"]


class MLPNetwork(Module):
    """Dense layers with per-layer activations, optional dropout and normalisation.

    Without normalisation each hidden layer is one fused op (GEMM + bias +
    activation). With ``batch_norm`` or ``layer_norm`` the order is
    Linear → norm → activation → dropout. Weights start as scikit-learn's
    MLP does: uniform in ``±sqrt(6 / (fan_in + fan_out))`` (``sqrt(2 / …)``
    for a logistic activation), so both libraries start from the same
    distribution.

    Parameters
    ----------
    n_features : int
        The width of the input.
    hidden_layer_sizes : sequence of int
        The width of each hidden layer.
    n_outputs : int
        The width of the output (logits or predictions).
    activations : sequence of str
        One per hidden layer.
    dropout : sequence of float
        One per hidden layer.
    batch_norm, layer_norm : bool, default=False
        Normalise each hidden layer before its activation (one of them).
    residual : bool, default=False
        Add each hidden layer's input to its output (after its activation
        and dropout) where the two widths are equal.
    activation_noise : float, default=0.0
        Standard deviation of Gaussian noise added after each hidden
        activation in training (a ``GaussianNoise`` layer per hidden layer).
    generator : numpy.random.Generator, default=None
        Seeds the initial weights, the dropout masks and the noise.

    Attributes
    ----------
    layers : Sequential
        Every layer, input to output.
    residual : bool
        Whether hidden layers of equal widths have residual connections.
    """

    def __init__(self, n_features, hidden_layer_sizes, n_outputs, activations, dropout,
                 batch_norm=False, layer_norm=False, residual=False, activation_noise=0.0,
                 generator=None):
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes, n_outputs]
        layers = []
        normalised = batch_norm or layer_norm
        self.residual = bool(residual)
        # (first layer, end, residual) of each hidden layer's modules, then the output's
        self._blocks = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            start = len(layers)
            last = i == len(sizes) - 2
            name = "identity" if last else check_activation(activations[i])
            linear = Linear(fan_in, fan_out, activation=None if (last or normalised) else name)
            factor = 2.0 if name == "sigmoid" else 6.0
            bound = math.sqrt(factor / (fan_in + fan_out))
            init.uniform_(linear.weight, -bound, bound, generator=generator)
            init.uniform_(linear.bias, -bound, bound, generator=generator)
            layers.append(linear)
            if last:
                self._blocks.append((start, len(layers), False))
                break
            if normalised:
                layers.append(BatchNorm1d(fan_out) if batch_norm else LayerNorm(fan_out))
                layers.append(Activation(name) if name != "identity" else Identity())
            if activation_noise > 0:
                layers.append(GaussianNoise(activation_noise, generator=generator))
            if dropout[i] > 0:
                layers.append(Dropout(dropout[i], generator=generator))
            self._blocks.append((start, len(layers), self.residual and fan_in == fan_out))
        self.layers = Sequential(*layers)

    def linears(self):
        """Return the dense layers, input to output.

        Returns
        -------
        list of Linear
            The hidden layers, then the output layer.
        """
        return [m for m in self.layers if isinstance(m, Linear)]

    def forward(self, x):
        """Apply the network.

        Parameters
        ----------
        x : Tensor of shape (n, n_features)
            The input rows.

        Returns
        -------
        Tensor of shape (n, n_outputs)
            The outputs (logits for a classifier).
        """
        if not self.__dict__.get("residual", False):  # (networks saved before it existed)
            return self.layers(x)
        layers = list(self.layers)
        for start, end, skip in self._blocks:
            h = x
            for layer in layers[start:end]:
                h = layer(h)
            x = h + x if skip else h
        return x
