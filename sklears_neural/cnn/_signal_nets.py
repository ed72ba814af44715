"""Published convolutional architectures for time-series classification.

The three networks of ``CNN1DClassifier(architecture=...)``, with the layer
settings of their papers; each ends in global average pooling over time
and one linear layer, so any series length goes through:

* ``FCN`` and ``ResNet``: Z. Wang, W. Yan and T. Oates, "Time series
  classification from scratch with deep neural networks: a strong
  baseline", IJCNN 2017.
* ``InceptionNetwork``: one network of H. Ismail Fawaz et al.,
  "InceptionTime: finding AlexNet for time series classification", Data
  Mining and Knowledge Discovery 2020 (InceptionTime is an ensemble of five
  of them).

Every network takes flat rows (n, C * L) and restores (n, C, L) first, as
``CNNNetwork`` does.
"""

import contextvars

import numpy as np

from sklears_neural.backend import get_array_module
from sklears_neural.nn import (
    AdaptiveAvgPool1d,
    BatchNorm1d,
    Conv1d,
    Flatten,
    Linear,
    MaxPool1d,
    Module,
    Sequential,
)
from sklears_neural.nn import functional as F
from sklears_neural.cnn._network import Unflatten

__all__ = ["FCN", "InceptionNetwork", "ResNet", "SIGNAL_ARCHITECTURES"]

# The valid positions, (n, 1, T) of 0/1, while a batch of zero-padded series of
# different lengths runs (set by _SignalNet.forward): every block zeroes its
# output past each series' end, so that a series gives at every valid position
# what it gives alone, whatever the batch it is padded in.
_MASK = contextvars.ContextVar("sklears_neural_signal_mask", default=None)


def _masked(x):
    """``x`` with the positions past each series' end set to 0 (no-op without a mask)."""
    mask = _MASK.get()
    return x if mask is None else x * mask


class _ConvBlock(Module):
    """Convolution ("same" padding, no bias) -> batch norm -> ReLU (optional)."""

    def __init__(self, in_channels, out_channels, kernel_size, *, relu=True, generator=None):
        super().__init__()
        self.conv = Conv1d(in_channels, out_channels, kernel_size, padding="same", bias=False,
                           generator=generator)
        self.norm = BatchNorm1d(out_channels)
        self.relu = relu

    def forward(self, x):
        """(n, in_channels, L) -> (n, out_channels, L)."""
        y = self.norm(self.conv(x))
        return _masked(F.relu(y) if self.relu else y)


class _Head(Module):
    """Global average pooling over time, then a linear layer."""

    def __init__(self, channels, n_outputs, generator=None):
        super().__init__()
        self.pool = Sequential(AdaptiveAvgPool1d(1), Flatten())
        self.linear = Linear(channels, n_outputs, generator=generator)

    def forward(self, x, lengths=None):
        """(n, channels, L) -> (n, n_outputs); with ``lengths``, the average
        covers each series' first ``lengths[i]`` positions only."""
        if lengths is None:
            return self.linear(self.pool(x))
        xp = get_array_module(x.data)
        n, _, steps = x.shape
        valid = np.arange(steps)[None, :] < np.asarray(lengths)[:, None]
        weights = xp.asarray((valid / np.asarray(lengths)[:, None])[:, None, :],
                             dtype=x.dtype)
        return self.linear((x * weights).sum(axis=2))


class _SignalNet(Module):
    """What the networks share: ``unflatten`` the rows, run ``blocks``, then ``head``."""

    def forward(self, x, lengths=None):
        """Apply the network.

        Parameters
        ----------
        x : Tensor of shape (n, C * L), or (n, T, C)
            Flat rows of equal-length series, or series zero-padded to T
            steps, time-major (what ``SequenceDataset`` batches hold).
        lengths : array-like of int of shape (n,), default=None
            With padded series, the valid steps of each; global average
            pooling then covers those only.

        Returns
        -------
        Tensor of shape (n, n_outputs)
        """
        if x.ndim == 3:
            x = x.transpose((0, 2, 1))
            if lengths is not None and (np.asarray(lengths) == x.shape[2]).all():
                lengths = None
        else:
            x = self.unflatten(x)
        if lengths is None:
            return self.head(self.blocks(x))
        lengths = np.asarray(lengths)
        if lengths.shape != (x.shape[0],) or lengths.min() < 1 or lengths.max() > x.shape[2]:
            raise ValueError(f"lengths must be one length in [1, {x.shape[2]}] per series; "
                             f"got {lengths!r}.")
        xp = get_array_module(x.data)
        valid = np.arange(x.shape[2])[None, :] < lengths[:, None]
        token = _MASK.set(xp.asarray(valid[:, None, :], dtype=x.dtype))
        try:
            # the input too: training noise reaches the padding
            return self.head(self.blocks(_masked(x)), lengths)
        finally:
            _MASK.reset(token)


# The constructor parameters the three networks share (InceptionNetwork adds depth).
_PARAMETERS = """    Parameters
    ----------
    input_shape : tuple of int
        (C, L) of one sample.
    n_outputs : int
        The width of the output (logits or predictions).
    generator : numpy.random.Generator, default=None
        Seeds the initial weights.
"""


class FCN(_SignalNet):
    __doc__ = """The fully convolutional network of Wang et al. (2017).

    Three blocks of convolution, batch norm and ReLU: 128 filters of
    length 8, 256 of length 5, 128 of length 3 ("same" padding, no
    pooling), then global average pooling and a linear layer.

""" + _PARAMETERS

    def __init__(self, input_shape, n_outputs, *, generator=None):
        super().__init__()
        channels = input_shape[0]
        self.unflatten = Unflatten(input_shape)
        self.blocks = Sequential(
            _ConvBlock(channels, 128, 8, generator=generator),
            _ConvBlock(128, 256, 5, generator=generator),
            _ConvBlock(256, 128, 3, generator=generator))
        self.head = _Head(128, n_outputs, generator=generator)


class _ResidualBlock(Module):
    """Wang et al.'s residual block: three conv blocks (8, 5, 3), the last
    without ReLU, plus a shortcut (1x1 convolution and batch norm when the
    channels change, batch norm otherwise), then ReLU."""

    def __init__(self, in_channels, filters, generator=None):
        super().__init__()
        self.body = Sequential(
            _ConvBlock(in_channels, filters, 8, generator=generator),
            _ConvBlock(filters, filters, 5, generator=generator),
            _ConvBlock(filters, filters, 3, relu=False, generator=generator))
        if in_channels != filters:
            self.shortcut = _ConvBlock(in_channels, filters, 1, relu=False,
                                       generator=generator)
        else:
            self.shortcut = BatchNorm1d(filters)

    def forward(self, x):
        """(n, in_channels, L) -> (n, filters, L)."""
        return _masked(F.relu(self.body(x) + self.shortcut(x)))


class ResNet(_SignalNet):
    __doc__ = """The residual network of Wang et al. (2017).

    Three residual blocks of 64, 128 and 128 filters (each: convolutions of
    length 8, 5 and 3 with batch norm, and a shortcut), then global average
    pooling and a linear layer.

""" + _PARAMETERS

    def __init__(self, input_shape, n_outputs, *, generator=None):
        super().__init__()
        self.unflatten = Unflatten(input_shape)
        self.blocks = Sequential(
            _ResidualBlock(input_shape[0], 64, generator=generator),
            _ResidualBlock(64, 128, generator=generator),
            _ResidualBlock(128, 128, generator=generator))
        self.head = _Head(128, n_outputs, generator=generator)


def _pool_input(x):
    """``x`` for a max pooling of 3: past each series' end, a value below all of
    ``x``, so the window at its last step takes the maximum of the steps it
    has, as the pooling's own -inf padding does for a series alone."""
    mask = _MASK.get()
    if mask is None:
        return x
    floor = float(x.data.min()) - 1.0
    return x * mask + (1 - mask) * floor


class _InceptionModule(Module):
    """One Inception module of Ismail Fawaz et al. (2020): a 1x1 bottleneck
    of 32 filters (for inputs of more than one channel), three convolutions
    of 32 filters with kernels 40, 20 and 10 on it, and a max pooling of 3
    followed by 32 1x1 filters on the input; the four outputs concatenated
    (128 channels), batch norm, ReLU."""

    def __init__(self, in_channels, filters=32, kernel_sizes=(40, 20, 10), bottleneck=32,
                 generator=None):
        super().__init__()
        self.bottleneck = (Conv1d(in_channels, bottleneck, 1, bias=False, generator=generator)
                           if in_channels > 1 else None)
        width = bottleneck if in_channels > 1 else in_channels
        # a Sequential used as a list: the branches run side by side
        self.convs = Sequential(*[Conv1d(width, filters, k, padding="same", bias=False,
                                         generator=generator) for k in kernel_sizes])
        self.pool = MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = Conv1d(in_channels, filters, 1, bias=False, generator=generator)
        self.norm = BatchNorm1d(filters * (len(kernel_sizes) + 1))

    def forward(self, x):
        """(n, in_channels, L) -> (n, 4 * filters, L)."""
        z = self.bottleneck(x) if self.bottleneck is not None else x
        pooled = _masked(self.pool_conv(self.pool(_pool_input(x))))
        branches = [conv(z) for conv in self.convs] + [pooled]
        return _masked(F.relu(self.norm(F.cat(branches, dim=1))))


class InceptionNetwork(_SignalNet):
    """One network of InceptionTime (Ismail Fawaz et al., 2020).

    Six Inception modules (each 128 channels out) with a residual
    connection around every three (1x1 convolution and batch norm on the
    shortcut, added, ReLU), then global average pooling and a linear layer.
    The paper's InceptionTime averages five such networks trained from
    different initial weights.

    Parameters
    ----------
    input_shape : tuple of int
        (C, L) of one sample.
    n_outputs : int
        The width of the output (logits or predictions).
    depth : int, default=6
        The number of Inception modules.
    generator : numpy.random.Generator, default=None
        Seeds the initial weights.
    """

    def __init__(self, input_shape, n_outputs, *, depth=6, generator=None):
        super().__init__()
        self.unflatten = Unflatten(input_shape)
        self.blocks = _InceptionStack(input_shape[0], depth, generator)
        self.head = _Head(128, n_outputs, generator=generator)


class _InceptionStack(Module):
    """``depth`` Inception modules with a residual shortcut around every three."""

    def __init__(self, in_channels, depth, generator=None):
        super().__init__()
        channels, residual_in = in_channels, in_channels
        modules, shortcuts = [], []
        for i in range(depth):
            modules.append(_InceptionModule(channels, generator=generator))
            channels = 128
            if i % 3 == 2:
                shortcuts.append(_ConvBlock(residual_in, channels, 1, relu=False,
                                            generator=generator))
                residual_in = channels
        # Sequentials used as lists: forward interleaves them with the shortcuts
        self.inception = Sequential(*modules)
        self.shortcuts = Sequential(*shortcuts)

    def forward(self, x):
        """(n, in_channels, L) -> (n, 128, L)."""
        residual = x
        for i, module in enumerate(self.inception):
            x = module(x)
            if i % 3 == 2:
                x = _masked(F.relu(x + self.shortcuts[i // 3](residual)))
                residual = x
        return x


SIGNAL_ARCHITECTURES = {"fcn": FCN, "resnet": ResNet, "inception": InceptionNetwork}
