"""Normalisation layers."""

import numpy as np

from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm"]


class BatchNorm1d(Module):
    """Batch normalisation of (n, C) or (n, C, L) inputs, per channel.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default=1e-5
        Added to the variance before its square root.
    momentum : float, default=0.1
        Weight of the newest batch in the running statistics.
    affine : bool, default=True
        Learn a per-channel scale (``weight``) and shift (``bias``).
    track_running_stats : bool, default=True
        Keep running mean/variance for evaluation; otherwise evaluation
        uses batch statistics too.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters and buffers; None means float32.
    device : str, default="cpu"
        The device of the parameters and buffers.

    Attributes
    ----------
    weight, bias : Parameter of shape (num_features,) or None
        The per-channel scale and shift; None without ``affine``.
    running_mean, running_var : ndarray of shape (num_features,) or None
        The running statistics (buffers); None without ``track_running_stats``.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, *, dtype=None, device="cpu"):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty_parameter_array((num_features,), dtype, device) + 1)
            self.bias = Parameter(empty_parameter_array((num_features,), dtype, device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", empty_parameter_array((num_features,), dtype, device))
            self.register_buffer("running_var", empty_parameter_array((num_features,), dtype, device) + 1)
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)

    #: Accepted input ranks and how they read in messages.
    _ranks = {2: "(n, {c})", 3: "(n, {c}, L)"}

    def forward(self, input):
        """Normalise each channel with the batch statistics (training) or the running ones.

        Parameters
        ----------
        input : Tensor
            The input batch: (n, C) or (n, C, L) for ``BatchNorm1d``, (n, C, H, W)
            for ``BatchNorm2d``, (n, C, D, H, W) for ``BatchNorm3d``.

        Returns
        -------
        Tensor
            The normalised batch, of the shape of ``input``.

        Raises
        ------
        ValueError
            If the input has the wrong rank or number of channels.
        """
        if input.ndim not in self._ranks or input.shape[1] != self.num_features:
            shapes = " or ".join(s.format(c=self.num_features) for s in self._ranks.values())
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of "
                             f"shape {shapes}; got {input.shape}.")
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            training=use_batch_stats, momentum=self.momentum, eps=self.eps)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The number of channels and the options.
        """
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` axes.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The shape of the trailing axes normalised together.
    eps : float, default=1e-5
        Added to the variance before its square root.
    elementwise_affine : bool, default=True
        Learn an elementwise scale (``weight``) and, with ``bias``, shift.
    bias : bool, default=True
        Learn the shift too (only with ``elementwise_affine``).
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.

    Attributes
    ----------
    weight, bias : Parameter of shape normalized_shape or None
        The elementwise scale and shift, or None.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *,
                 dtype=None, device="cpu"):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty_parameter_array(self.normalized_shape, dtype, device) + 1)
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(empty_parameter_array(self.normalized_shape, dtype, device))
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        """Normalise each sample over the trailing axes.

        Parameters
        ----------
        input : Tensor of shape (..., *normalized_shape)
            The input batch.

        Returns
        -------
        Tensor
            The normalised input, of its shape.
        """
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The normalised shape and the options.
        """
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of (n, C, H, W) images, per channel (fused kernels).

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default=1e-5
        Added to the variance before its square root.
    momentum : float, default=0.1
        Weight of the newest batch in the running statistics.
    affine : bool, default=True
        Learn a per-channel scale (``weight``) and shift (``bias``).
    track_running_stats : bool, default=True
        Keep running mean/variance for evaluation; otherwise evaluation
        uses batch statistics too.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters and buffers; None means float32.
    device : str, default="cpu"
        The device of the parameters and buffers.

    Attributes
    ----------
    weight, bias : Parameter of shape (num_features,) or None
        The per-channel scale and shift; None without ``affine``.
    running_mean, running_var : ndarray of shape (num_features,) or None
        The running statistics (buffers); None without ``track_running_stats``.
    """

    _ranks = {4: "(n, {c}, H, W)"}


class BatchNorm3d(BatchNorm1d):
    """Batch normalisation of (n, C, D, H, W) volumes, per channel (fused kernels).

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default=1e-5
        Added to the variance before its square root.
    momentum : float, default=0.1
        Weight of the newest batch in the running statistics.
    affine : bool, default=True
        Learn a per-channel scale (``weight``) and shift (``bias``).
    track_running_stats : bool, default=True
        Keep running mean/variance for evaluation; otherwise evaluation
        uses batch statistics too.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters and buffers; None means float32.
    device : str, default="cpu"
        The device of the parameters and buffers.

    Attributes
    ----------
    weight, bias : Parameter of shape (num_features,) or None
        The per-channel scale and shift; None without ``affine``.
    running_mean, running_var : ndarray of shape (num_features,) or None
        The running statistics (buffers); None without ``track_running_stats``.
    """

    _ranks = {5: "(n, {c}, D, H, W)"}


class GroupNorm(Module):
    """Normalise each sample over groups of channels (Wu & He, 2018).

    Parameters
    ----------
    num_groups : int
        The number of groups of channels; divides ``num_channels``.
    num_channels : int
        C, the number of channels.
    eps : float, default=1e-5
        Added to the variance before its square root.
    affine : bool, default=True
        Learn a per-channel scale and shift.
    dtype : {"float32", "float64"}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.

    Attributes
    ----------
    weight, bias : Parameter of shape (num_channels,) or None
        The per-channel scale and shift; None without ``affine``.

    Raises
    ------
    ValueError
        If ``num_groups`` does not divide ``num_channels``.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, dtype=None,
                 device="cpu"):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide "
                             f"num_channels={num_channels}.")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(empty_parameter_array((num_channels,), dtype, device) + 1)
            self.bias = Parameter(empty_parameter_array((num_channels,), dtype, device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        """Normalise each sample over groups of channels.

        Parameters
        ----------
        input : Tensor of shape (n, num_channels, ...)
            The input batch.

        Returns
        -------
        Tensor
            The normalised batch, of the shape of ``input``.

        Raises
        ------
        ValueError
            If the input does not have ``num_channels`` channels on axis 1.
        """
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input "
                             f"of shape (n, {self.num_channels}, ...); got {input.shape}.")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The numbers of groups and channels and the options.
        """
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
