"""Batch and layer normalisation ops."""

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Function
from sklears_neural.backend import get_array_module

__all__ = ["batch_norm", "group_norm", "layer_norm"]


class _Normalize(Function):
    """``y = (x - mean) * inv_std * gamma + beta`` with mean/var over ``axes``.

    The statistic axes and the parameter shape differ between batch and
    layer norm; the calculus is the same.
    """

    def __init__(self, axes, param_shape, flat_shape, eps, running=None, momentum=0.1):
        self.axes = axes
        self.param_shape = param_shape  # broadcastable against the input
        self.flat_shape = flat_shape  # the parameters' own shape
        self.eps = eps
        self.running = running  # (running_mean, running_var) to update, or None
        self.momentum = momentum

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        mean = x.mean(axis=self.axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=self.axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        xhat = centered * inv_std
        if self.running is not None:
            running_mean, running_var = self.running
            count = x.size // mean.size
            unbiased = var * (count / max(count - 1, 1))
            running_mean *= 1 - self.momentum
            running_mean += self.momentum * mean.reshape(running_mean.shape)
            running_var *= 1 - self.momentum
            running_var += self.momentum * unbiased.reshape(running_var.shape)
        y = xhat
        if gamma is not None:
            y = y * gamma.reshape(self.param_shape)
        if beta is not None:
            y = y + beta.reshape(self.param_shape)
        self.save_for_backward(xhat, inv_std, gamma)
        return y

    def _param_axes(self, ndim):
        # Axes over which a parameter's gradient is summed.
        kept = [i for i, n in enumerate(self.param_shape) if n != 1]
        return tuple(i for i in range(ndim) if i not in kept)

    def backward(self, gy):
        xhat, inv_std, gamma = self.saved
        need_x, need_gamma, need_beta = self.needs_input_grad
        param_axes = self._param_axes(gy.ndim)
        g_gamma = (gy * xhat).sum(axis=param_axes).reshape(self.flat_shape) if need_gamma else None
        g_beta = gy.sum(axis=param_axes).reshape(self.flat_shape) if need_beta else None
        gx = None
        if need_x:
            g_xhat = gy if gamma is None else gy * gamma.reshape(self.param_shape)
            mean_g = g_xhat.mean(axis=self.axes, keepdims=True)
            mean_gx = (g_xhat * xhat).mean(axis=self.axes, keepdims=True)
            gx = (g_xhat - mean_g - xhat * mean_gx) * inv_std
        return gx, g_gamma, g_beta


class _BatchNormKernel(Function):
    """Training-mode batch norm over (N, C, *spatial) in the fused kernels.

    The running statistics get the batch mean and the unbiased batch
    variance, recovered from the kernel's ``invstd = 1 / sqrt(var + eps)``.
    """

    def __init__(self, eps, running=None, momentum=0.1):
        self.eps = eps
        self.running = running
        self.momentum = momentum

    def forward(self, x, gamma, beta):
        y, mean, invstd = kernels_for(x).batch_norm_forward(x, gamma, beta, self.eps)
        if self.running is not None:
            running_mean, running_var = self.running
            count = x.size // x.shape[1]
            var = (1.0 / (invstd.astype("float64") ** 2) - self.eps) * (count / (count - 1))
            running_mean *= 1 - self.momentum
            running_mean += self.momentum * mean
            running_var *= 1 - self.momentum
            running_var += (self.momentum * var).astype(running_var.dtype)
        if any(self.needs_input_grad):
            self.save_for_backward(x, gamma, mean, invstd)
        return y

    def backward(self, gy):
        x, gamma, mean, invstd = self.saved
        need_x, need_gamma, need_beta = self.needs_input_grad
        return kernels_for(gy).batch_norm_backward(gy, x, gamma, mean, invstd, need_input=need_x,
                                                   need_gamma=need_gamma, need_beta=need_beta)


class _Affine(Function):
    """Eval-mode batch norm: the running statistics as a fixed per-channel affine map.

    The forward is one pass of the ``batch_norm_inference`` kernel; the
    normalised input is kept only when the weight's gradient needs it.
    """

    def __init__(self, running_mean, running_var, eps, param_shape):
        self.running_mean = running_mean
        self.running_var = running_var
        self.eps = eps
        self.param_shape = param_shape

    def _inv_std(self):
        xp = get_array_module(self.running_var)
        return (1.0 / xp.sqrt(self.running_var + self.eps)).reshape(self.param_shape)

    def forward(self, x, gamma, beta):
        y = kernels_for(x).batch_norm_inference(x, gamma, beta, self.running_mean,
                                                 self.running_var, self.eps)
        need_x, need_gamma, _ = self.needs_input_grad
        xhat = None
        if need_gamma:
            shift = self.running_mean.reshape(self.param_shape)
            xhat = ((x - shift) * self._inv_std()).astype(x.dtype, copy=False)
        self.save_for_backward(xhat, gamma)
        return y

    def backward(self, gy):
        xhat, gamma = self.saved
        axes = tuple(i for i in range(gy.ndim) if i != 1)
        need_x, need_gamma, need_beta = self.needs_input_grad
        gx = None
        if need_x:
            scale = self._inv_std()
            if gamma is not None:
                scale = scale * gamma.reshape(self.param_shape)
            gx = (gy * scale).astype(gy.dtype, copy=False)
        return (gx,
                (gy * xhat).sum(axis=axes) if need_gamma else None,
                gy.sum(axis=axes) if need_beta else None)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) over the batch and any trailing axes.

    In training mode the batch statistics are used and, when given,
    ``running_mean`` / ``running_var`` (raw arrays) are updated in place
    with ``momentum`` (the running variance is unbiased, as PyTorch).
    Otherwise the running statistics are used.

    Parameters
    ----------
    input : Tensor of shape (n, C, ...)
        The input batch; channels on axis 1.
    running_mean : ndarray of shape (C,) or None
        The running mean of each channel; required in eval mode.
    running_var : ndarray of shape (C,) or None
        The running variance of each channel; required in eval mode.
    weight : Tensor of shape (C,), default=None
        Per-channel scale; None for none.
    bias : Tensor of shape (C,), default=None
        Per-channel shift; None for none.
    training : bool, default=False
        Normalise with the batch statistics (and update the running ones) rather
        than with the running statistics.
    momentum : float, default=0.1
        The weight of the batch statistics in the update
        ``running = (1 - momentum) * running + momentum * batch``.
    eps : float, default=1e-5
        Added to the variance before its square root.

    Returns
    -------
    Tensor
        The normalised batch, of the shape of ``input``.

    Raises
    ------
    ValueError
        If the shapes do not match, training sees a single value per channel, or
        eval mode has no running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: input must be (n, channels, ...); got shape {input.shape}.")
    n_channels = input.shape[1]
    for name, a in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if a is not None and tuple(a.shape) != (n_channels,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(a.shape)}; input of shape "
                             f"{input.shape} needs ({n_channels},).")
    param_shape = (1, n_channels) + (1,) * (input.ndim - 2)
    if training:
        if input.size // n_channels <= 1:
            raise ValueError(f"batch_norm: training needs more than one value per channel; "
                             f"got input of shape {input.shape}.")
        running = None if running_mean is None else (running_mean, running_var)
        if input.ndim > 2:  # images, signals: the fused kernels
            return _BatchNormKernel(eps, running, momentum).apply(input, weight, bias)
        axes = (0,) + tuple(range(2, input.ndim))
        op = _Normalize(axes, param_shape, (n_channels,), eps, running, momentum)
        return op.apply(input, weight, bias)
    if running_mean is None:
        raise ValueError("batch_norm: eval mode needs running_mean and running_var.")
    return _Affine(running_mean, running_var, eps, param_shape).apply(input, weight, bias)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` axes of each sample.

    Parameters
    ----------
    input : Tensor
        The input, whose shape ends with ``normalized_shape``.
    normalized_shape : int or tuple of int
        The shape of the trailing axes normalised together.
    weight : Tensor of shape normalized_shape, default=None
        Elementwise scale; None for none.
    bias : Tensor of shape normalized_shape, default=None
        Elementwise shift; None for none.
    eps : float, default=1e-5
        Added to the variance before its square root.

    Returns
    -------
    Tensor
        The normalised input, of its shape.

    Raises
    ------
    ValueError
        If the shape of ``input`` does not end with ``normalized_shape``.
    """
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"layer_norm: input of shape {input.shape} does not end with "
                         f"normalized_shape {normalized_shape}.")
    axes = tuple(range(input.ndim - k, input.ndim))
    param_shape = (1,) * (input.ndim - k) + normalized_shape
    return _Normalize(axes, param_shape, normalized_shape, eps).apply(input, weight, bias)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over groups of channels (axis 1), as ``torch.nn.GroupNorm``.

    Parameters
    ----------
    input : Tensor of shape (n, C, ...)
        The input batch; channels on axis 1.
    num_groups : int
        The number of groups of channels; must divide C.
    weight, bias : Tensor of shape (C,), default=None
        Per-channel scale and shift; None for none.
    eps : float, default=1e-5
        Added to the variance before its square root.

    Returns
    -------
    Tensor
        The normalised batch, of the shape of ``input``.

    Raises
    ------
    ValueError
        If ``input`` has fewer than 2 axes or ``num_groups`` does not divide C.
    """
    if input.ndim < 2:
        raise ValueError(f"group_norm: input must be (n, channels, ...); got shape {input.shape}.")
    n, channels = input.shape[0], input.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the {channels} channels "
                         f"of input {input.shape}.")
    grouped = input.reshape(n, num_groups, -1)
    normalized = _Normalize((2,), (1, 1, 1), (1,), eps).apply(grouped, None, None)
    y = normalized.reshape(*input.shape)
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(*param_shape)
    if bias is not None:
        y = y + bias.reshape(*param_shape)
    return y
