"""``unfold`` (im2col) and ``fold`` (col2im): sliding windows as columns and back.

Each is the other's adjoint, so each one's backward is the other one. The
kernels are the ``im2col``/``col2im`` twins that the convolutions are built
on; the layout is PyTorch's ``torch.nn.functional.unfold``/``fold``.
"""

import math

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Function
from sklears_neural.nn.functional._conv import to_tuple

__all__ = ["fold", "unfold"]


class _Unfold(Function):
    def __init__(self, kernel_size, stride, padding, dilation):
        self.geometry = (kernel_size, stride, padding, dilation)

    def forward(self, x):
        self.input_shape = x.shape
        return kernels_for(x).im2col(x, *self.geometry)

    def backward(self, gy):
        return kernels_for(gy).col2im(gy, self.input_shape, *self.geometry)


class _Fold(Function):
    def __init__(self, output_shape, kernel_size, stride, padding, dilation):
        self.output_shape = output_shape
        self.geometry = (kernel_size, stride, padding, dilation)

    def forward(self, cols):
        return kernels_for(cols).col2im(cols, self.output_shape, *self.geometry)

    def backward(self, gy):
        return kernels_for(gy).im2col(gy, *self.geometry)


def _geometry(name, d, kernel_size, dilation, padding, stride):
    return (to_tuple(kernel_size, d, f"{name}: kernel_size", 1),
            to_tuple(stride, d, f"{name}: stride", 1),
            to_tuple(padding, d, f"{name}: padding", 0),
            to_tuple(dilation, d, f"{name}: dilation", 1))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract the sliding windows of a batch as columns (im2col).

    As ``torch.nn.functional.unfold``, for 1, 2 or 3 spatial dimensions: a
    convolution is ``weight.reshape(C_out, -1) @ unfold(input, ...)``.

    Parameters
    ----------
    input : Tensor of shape (N, C, \\*spatial)
        The batch; 1 to 3 spatial dimensions.
    kernel_size : int or tuple of int
        The window size along each spatial dimension.
    dilation : int or tuple of int, default=1
        The spacing between the elements of a window.
    padding : int or tuple of int, default=0
        Zeros added on both sides of each spatial dimension.
    stride : int or tuple of int, default=1
        The step between windows.

    Returns
    -------
    Tensor of shape (N, C * prod(kernel_size), L)
        Row ``c * prod(kernel_size) + k`` holds offset ``k`` (C order) of
        channel ``c``; column ``l`` is the ``l``-th window in C order.

    Raises
    ------
    ValueError
        If ``input`` is not 3-D to 5-D, or a size is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.nn import functional as F
    >>> F.unfold(np.ones((1, 2, 4, 4)), kernel_size=3).shape
    (1, 18, 4)
    """
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"unfold: input must be (N, C, *spatial) with 1 to 3 spatial "
                         f"dimensions; got shape {tuple(input.shape)}.")
    geometry = _geometry("unfold", input.ndim - 2, kernel_size, dilation, padding, stride)
    return _Unfold(*geometry).apply(input)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns of sliding windows back into a batch (col2im).

    As ``torch.nn.functional.fold``: the adjoint of :func:`unfold`, so
    overlapping windows add up (``fold(unfold(x))`` multiplies each element by
    the number of windows that read it).

    Parameters
    ----------
    input : Tensor of shape (N, C * prod(kernel_size), L)
        The columns, laid out as :func:`unfold` returns them.
    output_size : int or tuple of int
        The spatial shape of the result (1 to 3 dimensions).
    kernel_size : int or tuple of int
        The window size along each spatial dimension.
    dilation : int or tuple of int, default=1
        The spacing between the elements of a window.
    padding : int or tuple of int, default=0
        Zeros that were added on both sides; dropped from the result.
    stride : int or tuple of int, default=1
        The step between windows.

    Returns
    -------
    Tensor of shape (N, C, \\*output_size)
        The summed windows.

    Raises
    ------
    ValueError
        If the shapes do not describe whole windows of ``output_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.nn import functional as F
    >>> F.fold(np.ones((1, 18, 4)), output_size=(4, 4), kernel_size=3).shape
    (1, 2, 4, 4)
    """
    d = 1 if isinstance(output_size, int) else len(tuple(output_size))
    if d not in (1, 2, 3):
        raise ValueError(f"fold: output_size must have 1 to 3 dimensions; got {output_size!r}.")
    output_size = to_tuple(output_size, d, "fold: output_size", 1)
    geometry = _geometry("fold", d, kernel_size, dilation, padding, stride)
    window = math.prod(geometry[0])
    if input.ndim != 3 or input.shape[1] % window:
        raise ValueError(f"fold: input must be (N, C * {window}, L) for kernel_size "
                         f"{geometry[0]}; got shape {tuple(input.shape)}.")
    output_shape = (input.shape[0], input.shape[1] // window, *output_size)
    return _Fold(output_shape, *geometry).apply(input)
