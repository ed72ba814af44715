"""The network behind ``CNNClassifier`` / ``CNNRegressor``: conv blocks then a dense head."""

import math

from sklears_neural.nn import (
    Activation,
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dropout,
    Flatten,
    GaussianNoise,
    Linear,
    MaxPool1d,
    MaxPool2d,
    Module,
    Sequential,
)

__all__ = ["CNNNetwork", "Unflatten"]

_LAYERS = {
    1: {"conv": Conv1d, "norm": BatchNorm1d, "max": MaxPool1d, "avg": AvgPool1d,
        "global_max": AdaptiveMaxPool1d, "global_avg": AdaptiveAvgPool1d},
    2: {"conv": Conv2d, "norm": BatchNorm2d, "max": MaxPool2d, "avg": AvgPool2d,
        "global_max": AdaptiveMaxPool2d, "global_avg": AdaptiveAvgPool2d},
}


class Unflatten(Module):
    """Reshape flat rows (n, prod(shape)) into (n, *shape).

    Estimators keep their data as 2-D arrays (what scikit-learn's
    validation, splitting and sparse support expect); the network restores
    the image or signal layout as its first step.
    """

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, input):
        return input.reshape(input.shape[0], *self.shape)

    def extra_repr(self):
        return f"shape={self.shape}"


def _pooled(size, pool):
    """Size after max/avg pooling with kernel = stride = ``pool`` and ``ceil_mode``."""
    return max(1, math.ceil((size - pool) / pool) + 1) if size >= pool else 1


class CNNNetwork(Module):
    """Convolution blocks (conv → batch norm → activation → pooling), then a dense head.

    Convolutions use "same" padding, so only pooling shrinks the input;
    pooling uses ``ceil_mode`` so a dimension that reaches 1 stays 1.

    Parameters
    ----------
    input_shape : tuple of int
        (C, L) for ``dims=1``, (C, H, W) for ``dims=2``.
    conv_layers : sequence of (int, int)
        (filters, kernel_size) per convolution block.
    n_outputs : int
        The width of the output (logits or predictions).
    dims : {1, 2}, default=2
        The number of spatial dimensions: signals or images.
    pooling : {"max", "avg", None}, default="max"
        Pooling after each block, window and stride ``pool_size``.
    pool_size : int, default=2
        The pooling window and stride.
    global_pool : {"avg", "max", None}, default=None
        Pool each channel to one value before the head (None: flatten).
    hidden_layer_sizes : sequence of int, default=()
        Dense layers of the head.
    activation : str, default="relu"
        The activation of the blocks and of the hidden dense layers.
    batch_norm : bool, default=True
        Batch norm after each convolution (which then has no bias).
    dropout : float, default=0.0
        Dropout before each dense layer of the head.
    activation_noise : float, default=0.0
        Standard deviation of a ``GaussianNoise`` layer after each activation.
    generator : numpy.random.Generator, default=None
        Seeds the initial weights, the dropout masks and the noise.

    Attributes
    ----------
    layers : Sequential
        Every layer, from the ``Unflatten`` of the input to the output layer.
    """

    def __init__(self, input_shape, conv_layers, n_outputs, *, dims=2, pooling="max",
                 pool_size=2, global_pool=None, hidden_layer_sizes=(), activation="relu",
                 batch_norm=True, dropout=0.0, activation_noise=0.0, generator=None):
        super().__init__()
        kinds = _LAYERS[dims]
        layers = [Unflatten(input_shape)]
        channels, spatial = input_shape[0], list(input_shape[1:])
        for filters, kernel_size in conv_layers:
            layers.append(kinds["conv"](channels, filters, kernel_size, padding="same",
                                        bias=not batch_norm, generator=generator))
            if batch_norm:
                layers.append(kinds["norm"](filters))
            layers.append(Activation(activation))
            if activation_noise > 0:
                layers.append(GaussianNoise(activation_noise, generator=generator))
            if pooling is not None:
                layers.append(kinds[pooling](pool_size, ceil_mode=True))
                spatial = [_pooled(s, pool_size) for s in spatial]
            channels = filters
        if global_pool is not None:
            layers.append(kinds["global_" + global_pool](1))
            spatial = [1] * dims
        layers.append(Flatten())
        width = channels * math.prod(spatial)
        for size in hidden_layer_sizes:
            if dropout > 0:
                layers.append(Dropout(dropout, generator=generator))
            layers.append(Linear(width, size, activation=activation, generator=generator))
            if activation_noise > 0:
                layers.append(GaussianNoise(activation_noise, generator=generator))
            width = size
        if dropout > 0:
            layers.append(Dropout(dropout, generator=generator))
        layers.append(Linear(width, n_outputs, generator=generator))
        self.layers = Sequential(*layers)

    def forward(self, x):
        """Apply the network.

        Parameters
        ----------
        x : Tensor of shape (n, prod(input_shape))
            Flat rows; the first layer reshapes them to ``(n, *input_shape)``.

        Returns
        -------
        Tensor of shape (n, n_outputs)
            The outputs.
        """
        return self.layers(x)
