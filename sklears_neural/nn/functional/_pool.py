"""Pooling, padding and nearest upsampling ops over (N, C, *spatial) inputs.

PyTorch's names, arguments and output shapes; each op is one graph node over
the kernels of ``_kernels._pool`` / ``_xp._pool``.
"""

import numbers

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Function, Tensor
from sklears_neural.nn.functional._conv import to_tuple

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "max_pool1d", "max_pool2d", "max_pool3d",
    "pad", "upsample_nearest",
]

_SHAPES = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def _check_input(name, input, d):
    if input.ndim != d + 2:
        raise ValueError(f"{name}: input must be {_SHAPES[d]}; got shape {tuple(input.shape)}.")


class _MaxPool(Function):
    def __init__(self, kernel_size, stride, padding, dilation, ceil_mode):
        self.args = (kernel_size, stride, padding, dilation, ceil_mode)
        self.indices = None

    def forward(self, x):
        y, self.indices = kernels_for(x).max_pool_forward(x, *self.args)
        self.input_shape = x.shape
        return y

    def backward(self, gy):
        return kernels_for(gy).max_pool_backward(gy, self.indices, self.input_shape)


class _AdaptiveMaxPool(_MaxPool):
    def __init__(self, output_size):
        self.output_size = output_size
        self.indices = None

    def forward(self, x):
        y, self.indices = kernels_for(x).adaptive_max_pool_forward(x, self.output_size)
        self.input_shape = x.shape
        return y


class _AvgPool(Function):
    def __init__(self, kernel_size, stride, padding, ceil_mode, count_include_pad,
                 divisor_override):
        self.args = (kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)

    def forward(self, x):
        self.input_shape = x.shape
        return kernels_for(x).avg_pool_forward(x, *self.args)

    def backward(self, gy):
        return kernels_for(gy).avg_pool_backward(gy, self.input_shape, *self.args)


class _AdaptiveAvgPool(Function):
    def __init__(self, output_size):
        self.output_size = output_size

    def forward(self, x):
        self.input_shape = x.shape
        return kernels_for(x).adaptive_avg_pool_forward(x, self.output_size)

    def backward(self, gy):
        return kernels_for(gy).adaptive_avg_pool_backward(gy, self.input_shape)


class _Pad(Function):
    def __init__(self, pad, mode, value):
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x):
        self.input_shape = x.shape
        return kernels_for(x).pad_forward(x, self.pad, self.mode, self.value)

    def backward(self, gy):
        return kernels_for(gy).pad_backward(gy, self.input_shape, self.pad, self.mode)


class _UpsampleNearest(Function):
    def __init__(self, scale_factor):
        self.scale_factor = scale_factor

    def forward(self, x):
        return kernels_for(x).upsample_nearest_forward(x, self.scale_factor)

    def backward(self, gy):
        return kernels_for(gy).upsample_nearest_backward(gy, self.scale_factor)


def _max_pool(name, d, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    _check_input(name, input, d)
    kernel_size = to_tuple(kernel_size, d, f"{name}: kernel_size", 1)
    stride = kernel_size if stride is None else to_tuple(stride, d, f"{name}: stride", 1)
    padding = to_tuple(padding, d, f"{name}: padding", 0)
    dilation = to_tuple(dilation, d, f"{name}: dilation", 1)
    op = _MaxPool(kernel_size, stride, padding, dilation, bool(ceil_mode))
    y = op.apply(input)
    return (y, Tensor(op.indices)) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling of (N, C, L) input, as ``torch.nn.functional.max_pool1d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, L)
        The input batch.
    kernel_size : int or tuple of 1 int
        The size of the pooling window.
    stride : int or tuple of 1 int, default=None
        The step between windows; None means ``kernel_size`` (non-overlapping windows).
    padding : int or tuple of 1 int, default=0
        Implicit -inf padding on both sides; at most half the (dilated) kernel.
    dilation : int or tuple of 1 int, default=1
        The spacing between the elements of a window.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    return_indices : bool, default=False
        Also return the argmax of each window (flat index in its input row,
        int64), as PyTorch does.

    Returns
    -------
    output : Tensor
        The pooled batch.
    indices : Tensor of int64
        The argmax of each window, of the shape of ``output``; only with
        ``return_indices``.
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling of (N, C, H, W) input, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, H, W)
        The input batch.
    kernel_size : int or (int, int)
        The size of the pooling window.
    stride : int or (int, int), default=None
        The step between windows; None means ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int), default=0
        Implicit -inf padding on both sides; at most half the (dilated) kernel.
    dilation : int or (int, int), default=1
        The spacing between the elements of a window.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    return_indices : bool, default=False
        Also return the argmax of each window (flat index in its input plane,
        int64), as PyTorch does.

    Returns
    -------
    output : Tensor
        The pooled batch.
    indices : Tensor of int64
        The argmax of each window, of the shape of ``output``; only with
        ``return_indices``.
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling of (N, C, D, H, W) input, as ``torch.nn.functional.max_pool3d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, D, H, W)
        The input batch.
    kernel_size : int or (int, int, int)
        The size of the pooling window.
    stride : int or (int, int, int), default=None
        The step between windows; None means ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int, int), default=0
        Implicit -inf padding on both sides; at most half the (dilated) kernel.
    dilation : int or (int, int, int), default=1
        The spacing between the elements of a window.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    return_indices : bool, default=False
        Also return the argmax of each window (flat index in its input volume,
        int64), as PyTorch does.

    Returns
    -------
    output : Tensor
        The pooled batch.
    indices : Tensor of int64
        The argmax of each window, of the shape of ``output``; only with
        ``return_indices``.
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def _avg_pool(name, d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_input(name, input, d)
    kernel_size = to_tuple(kernel_size, d, f"{name}: kernel_size", 1)
    stride = kernel_size if stride is None else to_tuple(stride, d, f"{name}: stride", 1)
    padding = to_tuple(padding, d, f"{name}: padding", 0)
    op = _AvgPool(kernel_size, stride, padding, bool(ceil_mode), bool(count_include_pad),
                  divisor_override)
    return op.apply(input)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling of (N, C, L) input, as ``torch.nn.functional.avg_pool1d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, L)
        The input batch.
    kernel_size : int or tuple of 1 int
        The size of the pooling window.
    stride : int or tuple of 1 int, default=None
        The step between windows; None means ``kernel_size`` (non-overlapping windows).
    padding : int or tuple of 1 int, default=0
        Implicit zero padding on both sides; at most half the kernel.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    count_include_pad : bool, default=True
        Whether padded zeros count in each window's divisor.

    Returns
    -------
    Tensor
        The pooled batch.
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling of (N, C, H, W) input, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, H, W)
        The input batch.
    kernel_size : int or (int, int)
        The size of the pooling window.
    stride : int or (int, int), default=None
        The step between windows; None means ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int), default=0
        Implicit zero padding on both sides; at most half the kernel.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    count_include_pad : bool, default=True
        Whether padded zeros count in each window's divisor.
    divisor_override : int, default=None
        Divide every window's sum by this instead.

    Returns
    -------
    Tensor
        The pooled batch.
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling of (N, C, D, H, W) input, as ``torch.nn.functional.avg_pool3d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, D, H, W)
        The input batch.
    kernel_size : int or (int, int, int)
        The size of the pooling window.
    stride : int or (int, int, int), default=None
        The step between windows; None means ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int, int), default=0
        Implicit zero padding on both sides; at most half the kernel.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    count_include_pad : bool, default=True
        Whether padded zeros count in each window's divisor.
    divisor_override : int, default=None
        Divide every window's sum by this instead.

    Returns
    -------
    Tensor
        The pooled batch.
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _output_size(name, input, d, output_size):
    """``output_size`` as d ints; None entries keep the input's size (PyTorch)."""
    sizes = (output_size,) * d if isinstance(output_size, numbers.Integral) or \
        output_size is None else tuple(output_size)
    if len(sizes) != d:
        raise ValueError(f"{name}: output_size must be an int or {d} ints; got {output_size!r}.")
    sizes = tuple(input.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    return to_tuple(sizes, d, f"{name}: output_size", 1)


def _adaptive_avg(name, d, input, output_size):
    _check_input(name, input, d)
    return _AdaptiveAvgPool(_output_size(name, input, d, output_size)).apply(input)


def _adaptive_max(name, d, input, output_size, return_indices):
    _check_input(name, input, d)
    op = _AdaptiveMaxPool(_output_size(name, input, d, output_size))
    y = op.apply(input)
    return (y, Tensor(op.indices)) if return_indices else y


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) input to ``output_size`` bins, as PyTorch.

    Parameters
    ----------
    input : Tensor of shape (N, C, L)
        The input batch.
    output_size : int, None or tuple of 1 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.

    Returns
    -------
    Tensor of shape (N, C, \\*output_size)
        The pooled batch.
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) input to an ``output_size`` grid, as PyTorch.

    Bin ``i`` of a dimension of size ``S`` pooled to ``O`` covers
    ``[floor(i S / O), ceil((i + 1) S / O))``; ``output_size=1`` is global
    average pooling.

    Parameters
    ----------
    input : Tensor of shape (N, C, H, W)
        The input batch.
    output_size : int, None or tuple of 2 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.

    Returns
    -------
    Tensor of shape (N, C, \\*output_size)
        The pooled batch.
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of (N, C, D, H, W) input to an ``output_size`` grid, as PyTorch.

    Parameters
    ----------
    input : Tensor of shape (N, C, D, H, W)
        The input batch.
    output_size : int, None or tuple of 3 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.

    Returns
    -------
    Tensor of shape (N, C, \\*output_size)
        The pooled batch.
    """
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) input to ``output_size`` bins, as PyTorch.

    Parameters
    ----------
    input : Tensor of shape (N, C, L)
        The input batch.
    output_size : int, None or tuple of 1 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    return_indices : bool, default=False
        Also return the argmax of each bin (flat index in its input row, int64).

    Returns
    -------
    output : Tensor of shape (N, C, \\*output_size)
        The pooled batch.
    indices : Tensor of int64
        The argmax of each bin, of the shape of ``output``; only with
        ``return_indices``.
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) input to an ``output_size`` grid, as PyTorch.

    Bins as in ``adaptive_avg_pool2d``; ``return_indices`` as in ``max_pool2d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, H, W)
        The input batch.
    output_size : int, None or tuple of 2 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    return_indices : bool, default=False
        Also return the argmax of each bin (flat index in its input plane, int64).

    Returns
    -------
    output : Tensor of shape (N, C, \\*output_size)
        The pooled batch.
    indices : Tensor of int64
        The argmax of each bin, of the shape of ``output``; only with
        ``return_indices``.
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) input to an ``output_size`` grid, as PyTorch.

    Parameters
    ----------
    input : Tensor of shape (N, C, D, H, W)
        The input batch.
    output_size : int, None or tuple of 3 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    return_indices : bool, default=False
        Also return the argmax of each bin (flat index in its input volume, int64).

    Returns
    -------
    output : Tensor of shape (N, C, \\*output_size)
        The pooled batch.
    indices : Tensor of int64
        The argmax of each bin, of the shape of ``output``; only with
        ``return_indices``.
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def pad(input, pad, mode="constant", value=0.0):
    """Pad the trailing dimensions, as ``torch.nn.functional.pad``.

    Parameters
    ----------
    input : Tensor of shape (N, C, \\*spatial)
        The input batch.
    pad : sequence of int
        ``(left, right)`` for the last dimension, then ``(top, bottom)`` for
        the one before, and so on (at most three dimensions).
    mode : {"constant", "reflect", "replicate", "circular"}, default="constant"
        Fill with ``value``, mirror the input without repeating its edge, repeat
        its edge, or wrap around; all but ``"constant"`` pad every spatial
        dimension.
    value : float, default=0.0
        Fill value of constant padding.

    Returns
    -------
    Tensor
        The padded batch.

    Raises
    ------
    ValueError
        If ``mode`` is not one of these, or ``pad`` does not fit the input.
    """
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError("pad: mode must be 'constant', 'reflect', 'replicate' or 'circular'; "
                         f"got {mode!r}.")
    return _Pad(tuple(int(p) for p in pad), mode, float(value)).apply(input)


def upsample_nearest(input, scale_factor):
    """Nearest-neighbour upsampling by integer factors (``interpolate(mode="nearest")``).

    Parameters
    ----------
    input : Tensor of shape (N, C, \\*spatial)
        The input batch, with 1 to 3 spatial dimensions.
    scale_factor : int or tuple of int
        Repetition of each element along each spatial dimension.

    Returns
    -------
    Tensor of shape (N, C, \\*(spatial * scale_factor))
        The upsampled batch.
    """
    d = input.ndim - 2
    if d not in (1, 2, 3):
        raise ValueError(f"upsample_nearest: input must be (N, C, *spatial) with 1 to 3 spatial "
                         f"dimensions; got shape {tuple(input.shape)}.")
    factors = to_tuple(scale_factor, d, "upsample_nearest: scale_factor", 1)
    return _UpsampleNearest(factors).apply(input)
