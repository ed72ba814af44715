"""Convolution layers: ``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d``, depthwise-separable
and residual blocks."""

import math
import numbers

from sklears_neural._random import as_generator
from sklears_neural._specs import check_activation
from sklears_neural.nn import functional as F
from sklears_neural.nn import init
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.functional._conv import to_tuple
from sklears_neural.nn.layers._factory import empty_parameter_array

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "DepthwiseSeparableConv2d", "ResidualBlock2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive_int(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer; got {value!r}.")
    return int(value)


class _ConvNd(Module):
    """What convolutions and transposed convolutions share: arguments, weights, init."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, *, dtype=None, device="cpu",
                 generator=None):
        super().__init__()
        name, d = type(self).__name__, self._dims
        self.in_channels = _positive_int(name, "in_channels", in_channels)
        self.out_channels = _positive_int(name, "out_channels", out_channels)
        self.groups = _positive_int(name, "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}.")
        self.kernel_size = to_tuple(kernel_size, d, f"{name}: kernel_size", 1)
        self.stride = to_tuple(stride, d, f"{name}: stride", 1)
        self.dilation = to_tuple(dilation, d, f"{name}: dilation", 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self._transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple"
                                 f"{'' if self._transposed else ', valid or same'}; "
                                 f"got {padding!r}.")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' needs stride 1; got {self.stride}.")
            self.padding = padding
        else:
            self.padding = to_tuple(padding, d, f"{name}: padding", 0)
        if padding_mode not in _PADDING_MODES or (self._transposed and padding_mode != "zeros"):
            allowed = "'zeros'" if self._transposed else ", ".join(map(repr, _PADDING_MODES))
            raise ValueError(f"{name}: padding_mode must be {allowed}; got {padding_mode!r}.")
        self.padding_mode = padding_mode
        self.output_padding = to_tuple(output_padding, d, f"{name}: output_padding", 0)
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(empty_parameter_array(shape, dtype, device))
        if bias:
            self.bias = Parameter(empty_parameter_array((self.out_channels,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        """Draw weights and bias uniformly from ``±1/sqrt(fan_in)``, PyTorch's default.

        ``fan_in`` is ``weight.shape[1] * prod(kernel_size)`` (kaiming uniform
        with ``a = sqrt(5)``, which reduces to this bound).

        Parameters
        ----------
        generator : numpy.random.Generator, int or None, default=None
            The source of the draws.
        """
        rng = as_generator(generator)
        fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in)
        init.uniform_(self.weight, -bound, bound, generator=rng)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def _check_channels(self, input):
        d = self._dims
        if input.ndim != d + 2 or input.shape[1] != self.in_channels:
            dims = {1: "L", 2: "H, W", 3: "D, H, W"}[d]
            raise ValueError(f"{self!r}: expected input of shape (N, {self.in_channels}, "
                             f"{dims}); got {tuple(input.shape)}.")

    def _call(self, fn, *args):
        """Run the op; shape errors name this layer."""
        try:
            return fn(*args)
        except ValueError as exc:
            raise ValueError(f"{self!r}: {exc}") from None

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The channels, kernel size and stride, then the options that differ from
            their defaults.
        """
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


class _Conv(_ConvNd):
    _conv = None  # F.conv1d / conv2d / conv3d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", *, dtype=None,
                 device="cpu", generator=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype, device=device,
                         generator=generator)

    def forward(self, input):
        """Convolve the input with the filters.

        Parameters
        ----------
        input : Tensor of shape (N, in_channels, *spatial)
            The input batch.

        Returns
        -------
        Tensor
            The output batch, of shape (N, out_channels, *spatial_out).

        Raises
        ------
        ValueError
            If the input does not fit the layer; the message names the layer.
        """
        self._check_channels(input)
        padding = self.padding
        if self.padding_mode != "zeros" and padding != "valid":
            if padding == "same":
                pairs = F.same_padding(self.kernel_size, self.dilation)
            else:
                pairs = [(p, p) for p in padding]
            flat = [p for pair in reversed(pairs) for p in pair]
            input = self._call(F.pad, input, flat, self.padding_mode)
            padding = 0
        return self._call(type(self)._conv, input, self.weight, self.bias, self.stride,
                          padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) input, as ``torch.nn.Conv1d``.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    kernel_size : int or tuple of 1 int
        The size of the filters.
    stride : int or tuple of 1 int, default=1
        The step of the filters over the input.
    padding : int or tuple of 1 int, "valid" or "same", default=0
        Padding on both sides; "valid" is none, "same" (stride 1 only) keeps the
        spatial size.
    dilation : int or tuple of 1 int, default=1
        The spacing between the taps of a filter.
    groups : int, default=1
        Split channels into groups convolved separately; ``groups = in_channels``
        makes a depthwise convolution.
    bias : bool, default=True
        Whether the layer has a learnable bias.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}, default="zeros"
        How the padding is filled.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels // groups, \\*kernel_size)
        The filters.
    bias : Parameter of shape (out_channels,) or None
        The bias, None without one.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``groups`` does not divide the channels.
    """

    _dims = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) input, as ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    kernel_size : int or (int, int)
        The size of the filters.
    stride : int or (int, int), default=1
        The step of the filters over the input.
    padding : int or (int, int), "valid" or "same", default=0
        Padding on both sides; "valid" is none, "same" (stride 1 only) keeps the
        spatial size.
    dilation : int or (int, int), default=1
        The spacing between the taps of a filter.
    groups : int, default=1
        Split channels into groups convolved separately; ``groups = in_channels``
        makes a depthwise convolution.
    bias : bool, default=True
        Whether the layer has a learnable bias.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}, default="zeros"
        How the padding is filled.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels // groups, \\*kernel_size)
        The filters.
    bias : Parameter of shape (out_channels,) or None
        The bias, None without one.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``groups`` does not divide the channels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural import nn
    >>> from sklears_neural.autograd import Tensor
    >>> conv = nn.Conv2d(1, 8, 3, padding=1, generator=0)
    >>> conv(Tensor(np.zeros((2, 1, 8, 8), dtype=np.float32))).shape
    (2, 8, 8, 8)
    """

    _dims = 2
    _conv = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W) input, as ``torch.nn.Conv3d``.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    kernel_size : int or (int, int, int)
        The size of the filters.
    stride : int or (int, int, int), default=1
        The step of the filters over the input.
    padding : int or (int, int, int), "valid" or "same", default=0
        Padding on both sides; "valid" is none, "same" (stride 1 only) keeps the
        spatial size.
    dilation : int or (int, int, int), default=1
        The spacing between the taps of a filter.
    groups : int, default=1
        Split channels into groups convolved separately; ``groups = in_channels``
        makes a depthwise convolution.
    bias : bool, default=True
        Whether the layer has a learnable bias.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}, default="zeros"
        How the padding is filled.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels // groups, \\*kernel_size)
        The filters.
    bias : Parameter of shape (out_channels,) or None
        The bias, None without one.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``groups`` does not divide the channels.
    """

    _dims = 3
    _conv = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", *,
                 dtype=None, device="cpu", generator=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, dtype=dtype,
                         device=device, generator=generator)

    def forward(self, input):
        """Apply the transposed convolution to the input.

        Parameters
        ----------
        input : Tensor of shape (N, in_channels, *spatial)
            The input batch.

        Returns
        -------
        Tensor
            The output batch, of shape (N, out_channels, *spatial_out).

        Raises
        ------
        ValueError
            If the input does not fit the layer; the message names the layer.
        """
        self._check_channels(input)
        return self._call(type(self)._conv, input, self.weight, self.bias, self.stride,
                          self.padding, self.output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution, as ``torch.nn.ConvTranspose1d``.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    kernel_size : int or tuple of 1 int
        The size of the filters.
    stride : int or tuple of 1 int, default=1
        The upsampling factor.
    padding : int or tuple of 1 int, default=0
        The padding of the matching convolution: cropped from both sides of the
        output.
    output_padding : int or tuple of 1 int, default=0
        Size added to one side of the output, to choose among the input sizes a
        strided convolution maps to the same output size.
    groups : int, default=1
        Split channels into groups convolved separately.
    bias : bool, default=True
        Whether the layer has a learnable bias.
    dilation : int or tuple of 1 int, default=1
        The spacing between the taps of a filter.
    padding_mode : {"zeros"}, default="zeros"
        Only zero padding.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).

    Attributes
    ----------
    weight : Parameter of shape (in_channels, out_channels // groups, \\*kernel_size)
        The filters.
    bias : Parameter of shape (out_channels,) or None
        The bias, None without one.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``groups`` does not divide the channels.
    """

    _dims = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution (learned upsampling), as ``torch.nn.ConvTranspose2d``.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    kernel_size : int or (int, int)
        The size of the filters.
    stride : int or (int, int), default=1
        The upsampling factor.
    padding : int or (int, int), default=0
        The padding of the matching convolution: cropped from both sides of the
        output.
    output_padding : int or (int, int), default=0
        Size added to one side of the output, to choose among the input sizes a
        strided convolution maps to the same output size.
    groups : int, default=1
        Split channels into groups convolved separately.
    bias : bool, default=True
        Whether the layer has a learnable bias.
    dilation : int or (int, int), default=1
        The spacing between the taps of a filter.
    padding_mode : {"zeros"}, default="zeros"
        Only zero padding.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).

    Attributes
    ----------
    weight : Parameter of shape (in_channels, out_channels // groups, \\*kernel_size)
        The filters.
    bias : Parameter of shape (out_channels,) or None
        The bias, None without one.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``groups`` does not divide the channels.
    """

    _dims = 2
    _conv = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution, as ``torch.nn.ConvTranspose3d``.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    kernel_size : int or (int, int, int)
        The size of the filters.
    stride : int or (int, int, int), default=1
        The upsampling factor.
    padding : int or (int, int, int), default=0
        The padding of the matching convolution: cropped from both sides of the
        output.
    output_padding : int or (int, int, int), default=0
        Size added to one side of the output, to choose among the input sizes a
        strided convolution maps to the same output size.
    groups : int, default=1
        Split channels into groups convolved separately.
    bias : bool, default=True
        Whether the layer has a learnable bias.
    dilation : int or (int, int, int), default=1
        The spacing between the taps of a filter.
    padding_mode : {"zeros"}, default="zeros"
        Only zero padding.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).

    Attributes
    ----------
    weight : Parameter of shape (in_channels, out_channels // groups, \\*kernel_size)
        The filters.
    bias : Parameter of shape (out_channels,) or None
        The bias, None without one.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``groups`` does not divide the channels.
    """

    _dims = 3
    _conv = staticmethod(F.conv_transpose3d)


class DepthwiseSeparableConv2d(Module):
    """A depthwise ``k×k`` convolution per channel followed by a pointwise ``1×1`` one.

    MobileNet's building block: about ``k²`` times fewer multiply-adds than
    a full convolution with the same channels.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    kernel_size : int or (int, int)
        The size of the depthwise filters.
    stride : int or (int, int), default=1
        The stride of the depthwise part.
    padding : int, (int, int), "valid" or "same", default=0
        The zero padding of the depthwise part.
    dilation : int or (int, int), default=1
        The dilation of the depthwise part.
    depth_multiplier : int, default=1
        Output channels of the depthwise part per input channel.
    bias : bool, default=True
        Whether both parts have a learnable bias.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).

    Attributes
    ----------
    depthwise : Conv2d
        The ``k×k`` convolution with ``groups=in_channels``.
    pointwise : Conv2d
        The ``1×1`` convolution.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, depth_multiplier=1, bias=True, *, dtype=None, device="cpu",
                 generator=None):
        super().__init__()
        rng = as_generator(generator)
        mid = in_channels * _positive_int(type(self).__name__, "depth_multiplier",
                                          depth_multiplier)
        self.depthwise = Conv2d(in_channels, mid, kernel_size, stride, padding, dilation,
                                groups=in_channels, bias=bias, dtype=dtype, device=device,
                                generator=rng)
        self.pointwise = Conv2d(mid, out_channels, 1, bias=bias, dtype=dtype, device=device,
                                generator=rng)

    def forward(self, input):
        """Apply the depthwise, then the pointwise convolution.

        Parameters
        ----------
        input : Tensor of shape (N, in_channels, H, W)
            The input batch.

        Returns
        -------
        Tensor of shape (N, out_channels, H_out, W_out)
            The output batch.
        """
        return self.pointwise(self.depthwise(input))


class ResidualBlock2d(Module):
    """A ResNet basic block: two 3×3 convolutions with batch norm and a skip connection.

    ``y = act(bn2(conv2(act(bn1(conv1(x))))) + shortcut(x))``; the shortcut
    is the identity, or a strided 1×1 convolution with batch norm when the
    shape changes.

    Parameters
    ----------
    in_channels : int
        The number of channels of the input.
    out_channels : int
        The number of channels of the output.
    stride : int, default=1
        Stride of the first convolution (2 halves the image).
    activation : str, default="relu"
        The activation ``act``, a name ``nn.functional.activation`` takes.
    batch_norm : bool, default=True
        Follow each convolution with batch norm (the convolutions then have no
        bias).
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's default initialisation).
    """

    def __init__(self, in_channels, out_channels, stride=1, activation="relu",
                 batch_norm=True, *, dtype=None, device="cpu", generator=None):
        from sklears_neural.nn.layers.norm import BatchNorm2d

        super().__init__()
        rng = as_generator(generator)
        self.activation = check_activation(activation)
        kw = dict(dtype=dtype, device=device)
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride, 1, bias=not batch_norm,
                            generator=rng, **kw)
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, 1, bias=not batch_norm,
                            generator=rng, **kw)
        self.bn1 = BatchNorm2d(out_channels, **kw) if batch_norm else None
        self.bn2 = BatchNorm2d(out_channels, **kw) if batch_norm else None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = Conv2d(in_channels, out_channels, 1, stride, bias=not batch_norm,
                                   generator=rng, **kw)
            self.shortcut_bn = BatchNorm2d(out_channels, **kw) if batch_norm else None
        else:
            self.shortcut = None
            self.shortcut_bn = None

    def forward(self, input):
        """Apply the block.

        Parameters
        ----------
        input : Tensor of shape (N, in_channels, H, W)
            The input batch.

        Returns
        -------
        Tensor of shape (N, out_channels, H_out, W_out)
            The output batch; ``H_out = ceil(H / stride)``, likewise ``W_out``.
        """
        out = self.conv1(input)
        if self.bn1 is not None:
            out = self.bn1(out)
        out = F.activation(out, self.activation)
        out = self.conv2(out)
        if self.bn2 is not None:
            out = self.bn2(out)
        skip = input
        if self.shortcut is not None:
            skip = self.shortcut(input)
            if self.shortcut_bn is not None:
                skip = self.shortcut_bn(skip)
        return F.activation(out + skip, self.activation)
