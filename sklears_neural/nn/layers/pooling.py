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
        try:
            return type(self)._op(input, **self._options)
        except ValueError as exc:
            raise ValueError(f"{self!r}: {exc}") from None

    def extra_repr(self):
        return ", ".join(f"{k}={v!r}" for k, v in self._options.items())


class _MaxPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding,
                         dilation=dilation, ceil_mode=ceil_mode, return_indices=return_indices)


class MaxPool1d(_MaxPool):
    """Max pooling over (N, C, L), as ``torch.nn.MaxPool1d`` (see ``F.max_pool1d``)."""

    _op = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    """Max pooling over (N, C, H, W), as ``torch.nn.MaxPool2d``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding, dilation, return_indices, ceil_mode
        As for ``nn.functional.max_pool2d``.
    """

    _op = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPool):
    """Max pooling over (N, C, D, H, W), as ``torch.nn.MaxPool3d``."""

    _op = staticmethod(F.max_pool3d)


class AvgPool1d(_Pool):
    """Average pooling over (N, C, L), as ``torch.nn.AvgPool1d``."""

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
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As for ``nn.functional.avg_pool2d``.
    """

    _op = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPool):
    """Average pooling over (N, C, D, H, W), as ``torch.nn.AvgPool3d``."""

    _op = staticmethod(F.avg_pool3d)


class _AdaptiveAvg(_Pool):
    def __init__(self, output_size):
        super().__init__(output_size=output_size)


class AdaptiveAvgPool1d(_AdaptiveAvg):
    """Average pooling of (N, C, L) to ``output_size`` bins, as ``torch.nn.AdaptiveAvgPool1d``."""

    _op = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvg):
    """Average pooling of (N, C, H, W) to an ``output_size`` grid; 1 is global pooling.

    As ``torch.nn.AdaptiveAvgPool2d``; see ``nn.functional.adaptive_avg_pool2d``.
    """

    _op = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvg):
    """Average pooling of (N, C, D, H, W) to an ``output_size`` grid."""

    _op = staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMax(_Pool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size=output_size, return_indices=return_indices)


class AdaptiveMaxPool1d(_AdaptiveMax):
    """Max pooling of (N, C, L) to ``output_size`` bins, as ``torch.nn.AdaptiveMaxPool1d``."""

    _op = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMax):
    """Max pooling of (N, C, H, W) to an ``output_size`` grid, as ``torch.nn.AdaptiveMaxPool2d``."""

    _op = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMax):
    """Max pooling of (N, C, D, H, W) to an ``output_size`` grid."""

    _op = staticmethod(F.adaptive_max_pool3d)


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` into one, as ``torch.nn.Flatten``.

    Parameters
    ----------
    start_dim : int, default=1
        Keeps the batch dimension by default.
    end_dim : int, default=-1
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
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
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Upsample(Module):
    """Nearest-neighbour upsampling by integer factors, as ``torch.nn.Upsample(mode="nearest")``.

    Parameters
    ----------
    scale_factor : int or tuple of int
    mode : {"nearest"}, default="nearest"
    """

    def __init__(self, scale_factor, mode="nearest"):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: only mode='nearest' is implemented; got {mode!r}.")
        self.scale_factor = scale_factor
        self.mode = mode

    def forward(self, input):
        try:
            return F.upsample_nearest(input, self.scale_factor)
        except ValueError as exc:
            raise ValueError(f"{self!r}: {exc}") from None

    def extra_repr(self):
        return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
