"""Convolution ops: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d``, one graph node each.

Layout is PyTorch's: input (N, C_in, *spatial), weight (C_out, C_in // groups,
*kernel) for a convolution and (C_in, C_out // groups, *kernel) for a
transposed one. The kernels (im2col + GEMM, or a direct loop for depthwise
convolutions) live in ``_kernels._conv`` / ``_xp._conv``.
"""

import numbers

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Function

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "same_padding", "to_tuple"]


def to_tuple(value, d, name, minimum=0):
    """``value`` as a tuple of ``d`` ints >= ``minimum`` (an int is repeated)."""
    items = (value,) * d if isinstance(value, numbers.Integral) else tuple(value)
    if len(items) != d or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                  and v >= minimum for v in items):
        raise ValueError(f"{name} must be an int >= {minimum} or a tuple of {d} such ints; "
                         f"got {value!r}.")
    return tuple(int(v) for v in items)


def same_padding(kernel_size, dilation):
    """Per-dimension (before, after) zero padding that keeps the size at stride 1.

    The total ``dilation * (kernel - 1)`` is split with the extra unit after,
    as PyTorch does for ``padding="same"``.

    Parameters
    ----------
    kernel_size : sequence of int
        The kernel size along each spatial dimension.
    dilation : sequence of int
        The dilation along each spatial dimension.

    Returns
    -------
    list of (int, int)
        The ``(before, after)`` padding of each spatial dimension.
    """
    pairs = []
    for k, dil in zip(kernel_size, dilation):
        total = dil * (k - 1)
        pairs.append((total // 2, total - total // 2))
    return pairs


class _Conv(Function):
    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, weight, bias):
        y = kernels_for(x).conv_forward(x, weight, bias, self.stride, self.padding,
                                        self.dilation, self.groups)
        if any(self.needs_input_grad):
            self.save_for_backward(x, weight)
        return y

    def backward(self, gy):
        x, weight = self.saved
        need_x, need_w, need_b = self.needs_input_grad
        return kernels_for(gy).conv_backward(gy, x, weight, self.stride, self.padding,
                                             self.dilation, self.groups, need_input=need_x,
                                             need_weight=need_w, need_bias=need_b)


class _ConvTranspose(Function):
    def __init__(self, stride, padding, output_padding, dilation, groups):
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.dilation, self.groups = dilation, groups

    def forward(self, x, weight, bias):
        y = kernels_for(x).conv_transpose_forward(x, weight, bias, self.stride, self.padding,
                                                  self.output_padding, self.dilation,
                                                  self.groups)
        if any(self.needs_input_grad):
            self.save_for_backward(x, weight)
        return y

    def backward(self, gy):
        x, weight = self.saved
        need_x, need_w, need_b = self.needs_input_grad
        return kernels_for(gy).conv_transpose_backward(
            gy, x, weight, self.stride, self.padding, self.output_padding, self.dilation,
            self.groups, need_input=need_x, need_weight=need_w, need_bias=need_b)


def _check_input(name, input, d):
    if input.ndim != d + 2:
        dims = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}[d]
        raise ValueError(f"{name}: input must be {dims}; got shape {tuple(input.shape)}.")


def _conv(name, d, input, weight, bias, stride, padding, dilation, groups):
    _check_input(name, input, d)
    stride = to_tuple(stride, d, f"{name}: stride", 1)
    dilation = to_tuple(dilation, d, f"{name}: dilation", 1)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{name}: groups must be an int >= 1; got {groups!r}.")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * d
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' needs stride 1; got stride {stride}.")
            pairs = same_padding(weight.shape[2:], dilation)
            if any(before != after for before, after in pairs):
                from sklears_neural.nn.functional._pool import pad

                flat = [p for pair in reversed(pairs) for p in pair]
                input, padding = pad(input, flat), (0,) * d
            else:
                padding = tuple(before for before, _ in pairs)
        else:
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same'; "
                             f"got {padding!r}.")
    padding = to_tuple(padding, d, f"{name}: padding", 0)
    return _Conv(stride, padding, dilation, int(groups)).apply(input, weight, bias)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C_in, L) input, as ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, L)
        The input batch.
    weight : Tensor of shape (C_out, C_in // groups, K)
        The filters.
    bias : Tensor of shape (C_out,), default=None
        Added to each output channel; None for no bias.
    stride : int or tuple of 1 int, default=1
        The step of the filters over the input.
    padding : int or tuple of 1 int, "valid" or "same", default=0
        Zero padding on both sides; "valid" is none, "same" (stride 1 only) keeps
        the spatial size.
    dilation : int or tuple of 1 int, default=1
        The spacing between the taps of a filter.
    groups : int, default=1
        Split channels into groups convolved separately (``groups = C_in``
        is a depthwise convolution).

    Returns
    -------
    Tensor of shape (N, C_out, L_out)
        ``L_out = (L + 2 * padding - dilation * (K - 1) - 1) // stride + 1``.

    Raises
    ------
    ValueError
        If the input is not (N, C_in, L), or an argument is out of range.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of (N, C_in, H, W) input, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, H, W)
        The input batch.
    weight : Tensor of shape (C_out, C_in // groups, kH, kW)
        The filters.
    bias : Tensor of shape (C_out,), default=None
        Added to each output channel; None for no bias.
    stride : int or (int, int), default=1
        The step of the filters over the input.
    padding : int or (int, int), "valid" or "same", default=0
        Zero padding on both sides; "valid" is none, "same" (stride 1 only) keeps
        the spatial size.
    dilation : int or (int, int), default=1
        The spacing between the taps of a filter.
    groups : int, default=1
        Split channels into groups convolved separately (``groups = C_in``
        is a depthwise convolution).

    Returns
    -------
    Tensor of shape (N, C_out, H_out, W_out)
        ``H_out = (H + 2 * padding - dilation * (kH - 1) - 1) // stride + 1``, and
        likewise ``W_out``.

    Raises
    ------
    ValueError
        If the input is not (N, C_in, H, W), or an argument is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.autograd import Tensor
    >>> from sklears_neural.nn import functional as F
    >>> x = Tensor(np.ones((1, 1, 4, 4)))
    >>> F.conv2d(x, Tensor(np.ones((2, 1, 3, 3))), padding=1).shape
    (1, 2, 4, 4)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of (N, C_in, D, H, W) input, as ``torch.nn.functional.conv3d``.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, D, H, W)
        The input batch.
    weight : Tensor of shape (C_out, C_in // groups, kD, kH, kW)
        The filters.
    bias : Tensor of shape (C_out,), default=None
        Added to each output channel; None for no bias.
    stride : int or (int, int, int), default=1
        The step of the filters over the input.
    padding : int or (int, int, int), "valid" or "same", default=0
        Zero padding on both sides; "valid" is none, "same" (stride 1 only) keeps
        the spatial size.
    dilation : int or (int, int, int), default=1
        The spacing between the taps of a filter.
    groups : int, default=1
        Split channels into groups convolved separately (``groups = C_in``
        is a depthwise convolution).

    Returns
    -------
    Tensor of shape (N, C_out, D_out, H_out, W_out)
        Each spatial size as in ``conv2d``.

    Raises
    ------
    ValueError
        If the input is not (N, C_in, D, H, W), or an argument is out of range.
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, d, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    _check_input(name, input, d)
    stride = to_tuple(stride, d, f"{name}: stride", 1)
    padding = to_tuple(padding, d, f"{name}: padding", 0)
    output_padding = to_tuple(output_padding, d, f"{name}: output_padding", 0)
    dilation = to_tuple(dilation, d, f"{name}: dilation", 1)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{name}: groups must be an int >= 1; got {groups!r}.")
    op = _ConvTranspose(stride, padding, output_padding, dilation, int(groups))
    return op.apply(input, weight, bias)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 1-D convolution, as ``torch.nn.functional.conv_transpose1d``.

    The gradient of ``conv1d`` with respect to its input, used as a layer:
    it upsamples by ``stride``.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, L)
        The input batch.
    weight : Tensor of shape (C_in, C_out // groups, K)
        The filters.
    bias : Tensor of shape (C_out,), default=None
        Added to each output channel; None for no bias.
    stride : int or tuple of 1 int, default=1
        The upsampling factor.
    padding : int or tuple of 1 int, default=0
        The padding of the matching ``conv1d``: cropped from both sides of the
        output.
    output_padding : int or tuple of 1 int, default=0
        Size added to one side of the output, to choose among the input sizes a
        strided convolution maps to the same output size.
    groups : int, default=1
        Split channels into groups convolved separately.
    dilation : int or tuple of 1 int, default=1
        The spacing between the taps of a filter.

    Returns
    -------
    Tensor of shape (N, C_out, L_out)
        ``L_out = (L - 1) * stride - 2 * padding + dilation * (K - 1)
        + output_padding + 1``.

    Raises
    ------
    ValueError
        If the input is not (N, C_in, L), or an argument is out of range.
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 2-D convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    The gradient of ``conv2d`` with respect to its input, used as a layer:
    it upsamples by ``stride``.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, H, W)
        The input batch.
    weight : Tensor of shape (C_in, C_out // groups, kH, kW)
        The filters.
    bias : Tensor of shape (C_out,), default=None
        Added to each output channel; None for no bias.
    stride : int or (int, int), default=1
        The upsampling factor.
    padding : int or (int, int), default=0
        The padding of the matching ``conv2d``: cropped from both sides of the
        output.
    output_padding : int or (int, int), default=0
        Size added to one side of the output, to choose among the input sizes a
        strided convolution maps to the same output size.
    groups : int, default=1
        Split channels into groups convolved separately.
    dilation : int or (int, int), default=1
        The spacing between the taps of a filter.

    Returns
    -------
    Tensor of shape (N, C_out, H_out, W_out)
        ``H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1)
        + output_padding + 1``, and likewise ``W_out``.

    Raises
    ------
    ValueError
        If the input is not (N, C_in, H, W), or an argument is out of range.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 3-D convolution, as ``torch.nn.functional.conv_transpose3d``.

    The gradient of ``conv3d`` with respect to its input, used as a layer:
    it upsamples by ``stride``.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, D, H, W)
        The input batch.
    weight : Tensor of shape (C_in, C_out // groups, kD, kH, kW)
        The filters.
    bias : Tensor of shape (C_out,), default=None
        Added to each output channel; None for no bias.
    stride : int or (int, int, int), default=1
        The upsampling factor.
    padding : int or (int, int, int), default=0
        The padding of the matching ``conv3d``: cropped from both sides of the
        output.
    output_padding : int or (int, int, int), default=0
        Size added to one side of the output, to choose among the input sizes a
        strided convolution maps to the same output size.
    groups : int, default=1
        Split channels into groups convolved separately.
    dilation : int or (int, int, int), default=1
        The spacing between the taps of a filter.

    Returns
    -------
    Tensor of shape (N, C_out, D_out, H_out, W_out)
        Each spatial size as in ``conv_transpose2d``.

    Raises
    ------
    ValueError
        If the input is not (N, C_in, D, H, W), or an argument is out of range.
    """
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)
