"""Pooling layers, ``Flatten`` and nearest ``Upsample``."""

from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "Flatten", "MaxPool1d", "MaxPool2d", "MaxPool3d", "Upsample"]


class _Pool(Module):
    """Stores the op's keyword arguments; shape errors name the layer."""

    _op = None

    def __init__(self, **options):
        super().__init__()
        self._options = options
        for key, value in options.items():
            setattr(self, key, value)

    def forward(self, input):
        """Pool the input (see the ``nn.functional`` op of the same name).

        Parameters
        ----------
        input : Tensor of shape (N, C, *spatial)
            The input batch, with the layer's number of spatial dimensions.

        Returns
        -------
        Tensor, or (Tensor, Tensor) with ``return_indices``
            The pooled batch, and the argmax of each window as int64.

        Raises
        ------
        ValueError
            If the input or the options do not fit; the message names the layer.
        """
        try:
            return type(self)._op(input, **self._options)
        except ValueError as exc:
            raise ValueError(f"{self!r}: {exc}") from None

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The options, ``name=value`` each.
        """
        return ", ".join(f"{k}={v!r}" for k, v in self._options.items())


class _MaxPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding,
                         dilation=dilation, ceil_mode=ceil_mode, return_indices=return_indices)


class MaxPool1d(_MaxPool):
    """Max pooling over (N, C, L), as ``torch.nn.MaxPool1d`` (see ``F.max_pool1d``).

    Parameters
    ----------
    kernel_size : int or tuple of 1 int
        The size of the pooling window.
    stride : int or tuple of 1 int, default=None
        The step between windows; None means ``kernel_size``.
    padding : int or tuple of 1 int, default=0
        Implicit -inf padding on both sides; at most half the (dilated) kernel.
    dilation : int or tuple of 1 int, default=1
        The spacing between the elements of a window.
    return_indices : bool, default=False
        Also return the argmax of each window (flat index in its input row).
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    """

    _op = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    """Max pooling over (N, C, H, W), as ``torch.nn.MaxPool2d``.

    Parameters
    ----------
    kernel_size : int or (int, int)
        The size of the pooling window.
    stride : int or (int, int), default=None
        The step between windows; None means ``kernel_size``.
    padding : int or (int, int), default=0
        Implicit -inf padding on both sides; at most half the (dilated) kernel.
    dilation : int or (int, int), default=1
        The spacing between the elements of a window.
    return_indices : bool, default=False
        Also return the argmax of each window (flat index in its input plane).
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    """

    _op = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPool):
    """Max pooling over (N, C, D, H, W), as ``torch.nn.MaxPool3d``.

    Parameters
    ----------
    kernel_size : int or (int, int, int)
        The size of the pooling window.
    stride : int or (int, int, int), default=None
        The step between windows; None means ``kernel_size``.
    padding : int or (int, int, int), default=0
        Implicit -inf padding on both sides; at most half the (dilated) kernel.
    dilation : int or (int, int, int), default=1
        The spacing between the elements of a window.
    return_indices : bool, default=False
        Also return the argmax of each window (flat index in its input volume).
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    """

    _op = staticmethod(F.max_pool3d)


class AvgPool1d(_Pool):
    """Average pooling over (N, C, L), as ``torch.nn.AvgPool1d``.

    Parameters
    ----------
    kernel_size : int or tuple of 1 int
        The size of the pooling window.
    stride : int or tuple of 1 int, default=None
        The step between windows; None means ``kernel_size``.
    padding : int or tuple of 1 int, default=0
        Implicit zero padding on both sides; at most half the kernel.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    count_include_pad : bool, default=True
        Whether padded zeros count in each window's divisor.
    """

    _op = staticmethod(F.avg_pool1d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding,
                         ceil_mode=ceil_mode, count_include_pad=count_include_pad)


class _AvgPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding,
                         ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                         divisor_override=divisor_override)


class AvgPool2d(_AvgPool):
    """Average pooling over (N, C, H, W), as ``torch.nn.AvgPool2d``.

    Parameters
    ----------
    kernel_size : int or (int, int)
        The size of the pooling window.
    stride : int or (int, int), default=None
        The step between windows; None means ``kernel_size``.
    padding : int or (int, int), default=0
        Implicit zero padding on both sides; at most half the kernel.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    count_include_pad : bool, default=True
        Whether padded zeros count in each window's divisor.
    divisor_override : int, default=None
        Divide every window's sum by this instead.
    """

    _op = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPool):
    """Average pooling over (N, C, D, H, W), as ``torch.nn.AvgPool3d``.

    Parameters
    ----------
    kernel_size : int or (int, int, int)
        The size of the pooling window.
    stride : int or (int, int, int), default=None
        The step between windows; None means ``kernel_size``.
    padding : int or (int, int, int), default=0
        Implicit zero padding on both sides; at most half the kernel.
    ceil_mode : bool, default=False
        Round the output size up instead of down.
    count_include_pad : bool, default=True
        Whether padded zeros count in each window's divisor.
    divisor_override : int, default=None
        Divide every window's sum by this instead.
    """

    _op = staticmethod(F.avg_pool3d)


class _AdaptiveAvg(_Pool):
    def __init__(self, output_size):
        super().__init__(output_size=output_size)


class AdaptiveAvgPool1d(_AdaptiveAvg):
    """Average pooling of (N, C, L) to ``output_size`` bins, as ``torch.nn.AdaptiveAvgPool1d``.

    Parameters
    ----------
    output_size : int, None or tuple of 1 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    """

    _op = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvg):
    """Average pooling of (N, C, H, W) to an ``output_size`` grid; 1 is global pooling.

    As ``torch.nn.AdaptiveAvgPool2d``; see ``nn.functional.adaptive_avg_pool2d``.

    Parameters
    ----------
    output_size : int, None or tuple of 2 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    """

    _op = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvg):
    """Average pooling of (N, C, D, H, W) to an ``output_size`` grid.

    Parameters
    ----------
    output_size : int, None or tuple of 3 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    """

    _op = staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMax(_Pool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size=output_size, return_indices=return_indices)


class AdaptiveMaxPool1d(_AdaptiveMax):
    """Max pooling of (N, C, L) to ``output_size`` bins, as ``torch.nn.AdaptiveMaxPool1d``.

    Parameters
    ----------
    output_size : int, None or tuple of 1 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    return_indices : bool, default=False
        Also return the argmax of each bin (flat index in its input row).
    """

    _op = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMax):
    """Max pooling of (N, C, H, W) to an ``output_size`` grid, as ``torch.nn.AdaptiveMaxPool2d``.

    Parameters
    ----------
    output_size : int, None or tuple of 2 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    return_indices : bool, default=False
        Also return the argmax of each bin (flat index in its input plane).
    """

    _op = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMax):
    """Max pooling of (N, C, D, H, W) to an ``output_size`` grid.

    Parameters
    ----------
    output_size : int, None or tuple of 3 (int or None)
        The number of bins along each spatial dimension; None keeps that
        dimension's size.
    return_indices : bool, default=False
        Also return the argmax of each bin (flat index in its input volume).
    """

    _op = staticmethod(F.adaptive_max_pool3d)


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` into one, as ``torch.nn.Flatten``.

    Parameters
    ----------
    start_dim : int, default=1
        The first dimension flattened; the default keeps the batch dimension.
    end_dim : int, default=-1
        The last dimension flattened (included).
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        """Flatten the dimensions ``start_dim`` to ``end_dim`` of the input.

        Parameters
        ----------
        input : Tensor
            The input.

        Returns
        -------
        Tensor
            The input with those dimensions merged into one.

        Raises
        ------
        ValueError
            If ``start_dim`` comes after ``end_dim`` for this input.
        """
        shape = tuple(input.shape)
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        if start > end:
            raise ValueError(f"{self!r}: start_dim comes after end_dim for input of shape "
                             f"{shape}.")
        flat = 1
        for size in shape[start:end + 1]:
            flat *= size
        return input.reshape(*shape[:start], flat, *shape[end + 1:])

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``start_dim=..., end_dim=...``.
        """
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Upsample(Module):
    """Nearest-neighbour upsampling by integer factors, as ``torch.nn.Upsample(mode="nearest")``.

    Parameters
    ----------
    scale_factor : int or tuple of int
        Repetition of each element along each spatial dimension.
    mode : {"nearest"}, default="nearest"
        The interpolation; only nearest-neighbour is implemented.

    Raises
    ------
    ValueError
        If ``mode`` is not ``"nearest"``.
    """

    def __init__(self, scale_factor, mode="nearest"):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: only mode='nearest' is implemented; got {mode!r}.")
        self.scale_factor = scale_factor
        self.mode = mode

    def forward(self, input):
        """Upsample the input (see ``nn.functional.upsample_nearest``).

        Parameters
        ----------
        input : Tensor of shape (N, C, *spatial)
            The input batch, with 1 to 3 spatial dimensions.

        Returns
        -------
        Tensor of shape (N, C, *(spatial * scale_factor))
            The upsampled batch.

        Raises
        ------
        ValueError
            If the input or the scale factor do not fit; the message names the layer.
        """
        try:
            return F.upsample_nearest(input, self.scale_factor)
        except ValueError as exc:
            raise ValueError(f"{self!r}: {exc}") from None

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``scale_factor=..., mode=...``.
        """
        return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
