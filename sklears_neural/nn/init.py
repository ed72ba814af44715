"""Parameter initialisers in the manner of ``torch.nn.init``.

Every function fills a tensor's data in place and returns the tensor. Random
values are drawn in float64 with numpy from ``generator`` (a
``numpy.random.Generator``, an int seed, a ``numpy.random.RandomState`` or
None for fresh entropy), then cast to the tensor's dtype and copied to its
device, so the same seed gives the same weights on the CPU and the GPU and
the tensor's dtype never changes.

Fans follow PyTorch's convention: for a weight of shape
``(out_features, in_features, *kernel)``, ``fan_in = in_features * prod(kernel)``
and ``fan_out = out_features * prod(kernel)``.
"""

import math

import numpy as np
from scipy.special import log_ndtr, ndtri_exp

from sklears_neural._random import as_generator
from sklears_neural._specs._scalars import check_real
from sklears_neural.autograd import Tensor
from sklears_neural.backend import device_of, is_cupy_array, to_device

__all__ = [
    "calculate_gain",
    "constant_",
    "glorot_normal_",
    "glorot_uniform_",
    "he_normal_",
    "he_uniform_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "lecun_normal_",
    "lecun_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_UNIT_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
_NONLINEARITIES = _UNIT_GAIN + ("tanh", "relu", "leaky_relu", "selu")


# -- helpers ------------------------------------------------------------------
def _data(tensor, func):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{func}: expected a Tensor or Parameter; got {type(tensor).__name__}.")
    return tensor.data


def _float_data(tensor, func):
    data = _data(tensor, func)
    if data.dtype.kind != "f":
        raise ValueError(
            f"{func}: random initialisation needs a floating-point tensor; got dtype "
            f"{data.dtype}."
        )
    return data


def _fill(tensor, values):
    """Copy float64 ``values`` into the tensor's data, in its dtype and on its device."""
    data = tensor.data
    values = np.asarray(values).astype(data.dtype, copy=False)
    if is_cupy_array(data):
        values = to_device(values, device_of(data))
    data[...] = values
    return tensor


def _calculate_fan_in_and_fan_out(tensor):
    """Return ``(fan_in, fan_out)`` of a weight tensor, as PyTorch computes them.

    Parameters
    ----------
    tensor : Tensor or array
        At least 2-D: ``(out_features, in_features, *receptive_field)``.

    Returns
    -------
    fan_in : int
        ``shape[1] * prod(shape[2:])``.
    fan_out : int
        ``shape[0] * prod(shape[2:])``.
    """
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            "fan in and fan out need a tensor with at least 2 dimensions "
            f"(out_features, in_features, ...); got shape {shape}."
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out'; got {mode!r}.")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


# -- gains ----------------------------------------------------------------------
def calculate_gain(nonlinearity, param=None):
    r"""Return the recommended gain for a nonlinearity (PyTorch's table).

    ================= ====================================================
    nonlinearity      gain
    ================= ====================================================
    linear / identity :math:`1`
    conv{1,2,3}d      :math:`1`
    conv_transpose*d  :math:`1`
    sigmoid           :math:`1`
    tanh              :math:`5/3`
    relu              :math:`\sqrt{2}`
    leaky_relu        :math:`\sqrt{2 / (1 + \text{negative\_slope}^2)}`
    selu              :math:`3/4`
    ================= ====================================================

    Parameters
    ----------
    nonlinearity : str
        One of the names above.
    param : float, default=None
        ``negative_slope`` of leaky_relu (None means 0.01); ignored otherwise.

    Returns
    -------
    float
        The gain.

    Raises
    ------
    ValueError
        If ``nonlinearity`` is not in the table, or ``param`` is not a number.

    Examples
    --------
    >>> round(calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        else:
            negative_slope = float(check_real("param (negative_slope)", param))
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"nonlinearity must be one of {', '.join(_NONLINEARITIES)}; got {nonlinearity!r}."
    )


# -- constant fills -------------------------------------------------------------
def constant_(tensor, val, *, generator=None):
    """Fill ``tensor`` with ``val``, in place.

    Parameters
    ----------
    tensor : Tensor
        The tensor to fill, in place.
    val : float
        The fill value.
    generator : object, default=None
        Ignored; accepted so every initialiser has the same signature.

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    _data(tensor, "constant_").fill(val)
    return tensor


def zeros_(tensor, *, generator=None):
    """Fill ``tensor`` with zeros, in place, and return it (``generator`` is ignored).

    Parameters
    ----------
    tensor : Tensor
        The tensor to fill, in place.
    generator : object, default=None
        Ignored; accepted so every initialiser has the same signature.

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    return constant_(tensor, 0, generator=generator)


def ones_(tensor, *, generator=None):
    """Fill ``tensor`` with ones, in place, and return it (``generator`` is ignored).

    Parameters
    ----------
    tensor : Tensor
        The tensor to fill, in place.
    generator : object, default=None
        Ignored; accepted so every initialiser has the same signature.

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    return constant_(tensor, 1, generator=generator)


# -- plain distributions ------------------------------------------------------------
def uniform_(tensor, a=0.0, b=1.0, *, generator=None):
    r"""Fill ``tensor`` with draws from :math:`\mathcal{U}(a, b)`, in place.

    Parameters
    ----------
    tensor : Tensor
        The tensor to fill, in place.
    a, b : float, default=0, 1
        Lower and upper bound, ``a <= b``.
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "uniform_")
    check_real("uniform_: a", a)
    check_real("uniform_: b", b)
    if a > b:
        raise ValueError(f"uniform_: needs a <= b; got a={a!r}, b={b!r}.")
    rng = as_generator(generator)
    return _fill(tensor, rng.uniform(a, b, size=data.shape))


def normal_(tensor, mean=0.0, std=1.0, *, generator=None):
    r"""Fill ``tensor`` with draws from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`.

    Parameters
    ----------
    tensor : Tensor
        The tensor to fill, in place.
    mean : float, default=0
        The mean.
    std : float, default=1
        Standard deviation, >= 0.
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "normal_")
    check_real("normal_: mean", mean)
    check_real("normal_: std", std, ge=0)
    rng = as_generator(generator)
    return _fill(tensor, rng.normal(mean, std, size=data.shape))


def _truncated_standard_normal(lo, hi, size, rng):
    """Exact draws of N(0, 1) conditioned on [lo, hi], by inverse CDF in log space.

    The interval is reflected so that most of it lies left of 0, where the
    normal CDF is accurate in relative terms even far in the tail.
    """
    flip = lo + hi > 0
    if flip:
        lo, hi = -hi, -lo
    log_cdf_lo, log_cdf_hi = log_ndtr(lo), log_ndtr(hi)
    u = rng.uniform(0.0, 1.0, size=size)
    # log(Phi(lo) + u (Phi(hi) - Phi(lo))), computed relative to Phi(hi).
    with np.errstate(divide="ignore"):
        log_p = log_cdf_hi + np.log(u + (1.0 - u) * math.exp(log_cdf_lo - log_cdf_hi))
    x = np.clip(ndtri_exp(log_p), lo, hi)
    return -x if flip else x


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, *, generator=None):
    r"""Fill ``tensor`` with a normal distribution truncated to ``[a, b]``.

    Draws from :math:`\mathcal{N}(\text{mean}, \text{std}^2)` conditioned on
    :math:`a \le x \le b` exactly (inverse CDF, no rejection loop). As in
    PyTorch, ``a`` and ``b`` are absolute bounds, not multiples of ``std``.

    Parameters
    ----------
    tensor : Tensor
        The tensor to fill, in place.
    mean : float, default=0
        The mean of the untruncated normal.
    std : float, default=1
        Standard deviation of the untruncated normal, > 0.
    a, b : float, default=-2, 2
        Bounds, ``a < b`` (either may be infinite).
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "trunc_normal_")
    check_real("trunc_normal_: mean", mean)
    check_real("trunc_normal_: std", std, gt=0)
    check_real("trunc_normal_: a", a)
    check_real("trunc_normal_: b", b)
    if not a < b:
        raise ValueError(f"trunc_normal_: needs a < b; got a={a!r}, b={b!r}.")
    rng = as_generator(generator)
    z = _truncated_standard_normal((a - mean) / std, (b - mean) / std, data.shape, rng)
    return _fill(tensor, np.clip(mean + std * z, a, b))


# -- fan-scaled schemes ---------------------------------------------------------------
def xavier_uniform_(tensor, gain=1.0, *, generator=None):
    r"""Glorot/Xavier uniform initialisation, in place.

    Draws from :math:`\mathcal{U}(-B, B)` with
    :math:`B = \text{gain}\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}`, so the
    variance is :math:`\text{gain}^2 \cdot 2 / (\text{fan\_in} + \text{fan\_out})`.

    Parameters
    ----------
    tensor : Tensor
        The weight tensor to fill, in place; at least 2-D.
    gain : float, default=1
        Scale (see ``calculate_gain``).
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "xavier_uniform_")
    check_real("xavier_uniform_: gain", gain)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(data)
    if data.size == 0:
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _fill(tensor, as_generator(generator).uniform(-bound, bound, size=data.shape))


def xavier_normal_(tensor, gain=1.0, *, generator=None):
    r"""Glorot/Xavier normal initialisation, in place.

    Draws from :math:`\mathcal{N}(0, \sigma^2)` with
    :math:`\sigma = \text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`.

    Parameters
    ----------
    tensor : Tensor
        The weight tensor to fill, in place; at least 2-D.
    gain : float, default=1
        Scale (see ``calculate_gain``).
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "xavier_normal_")
    check_real("xavier_normal_: gain", gain)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(data)
    if data.size == 0:
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, as_generator(generator).normal(0.0, std, size=data.shape))


def _kaiming_std(data, a, mode, nonlinearity, func):
    check_real(f"{func}: a", a)
    fan = _calculate_correct_fan(data, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan) if fan else 0.0


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *,
                     generator=None):
    r"""He/Kaiming uniform initialisation, in place.

    Draws from :math:`\mathcal{U}(-B, B)` with
    :math:`B = \text{gain}\sqrt{3 / \text{fan\_mode}}`, so the variance is
    :math:`\text{gain}^2 / \text{fan\_mode}`.

    Parameters
    ----------
    tensor : Tensor
        The weight tensor to fill, in place; at least 2-D.
    a : float, default=0
        Negative slope of the rectifier after this layer (leaky_relu only).
    mode : {"fan_in", "fan_out"}, default="fan_in"
        ``fan_in`` keeps the forward pass's variance, ``fan_out`` backward's.
    nonlinearity : str, default="leaky_relu"
        See ``calculate_gain``; with ``a=0`` the default is ReLU's
        :math:`\sqrt{2}`.
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "kaiming_uniform_")
    std = _kaiming_std(data, a, mode, nonlinearity, "kaiming_uniform_")
    if data.size == 0:
        return tensor
    bound = math.sqrt(3.0) * std
    return _fill(tensor, as_generator(generator).uniform(-bound, bound, size=data.shape))


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *,
                    generator=None):
    r"""He/Kaiming normal initialisation, in place.

    Draws from :math:`\mathcal{N}(0, \sigma^2)` with
    :math:`\sigma = \text{gain} / \sqrt{\text{fan\_mode}}`.

    Parameters
    ----------
    tensor : Tensor
        The weight tensor to fill, in place; at least 2-D.
    a : float, default=0
        Negative slope of the rectifier after this layer (leaky_relu only).
    mode : {"fan_in", "fan_out"}, default="fan_in"
        ``fan_in`` keeps the forward pass's variance, ``fan_out`` backward's.
    nonlinearity : str, default="leaky_relu"
        See ``calculate_gain``.
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "kaiming_normal_")
    std = _kaiming_std(data, a, mode, nonlinearity, "kaiming_normal_")
    if data.size == 0:
        return tensor
    return _fill(tensor, as_generator(generator).normal(0.0, std, size=data.shape))


def lecun_uniform_(tensor, *, generator=None):
    r"""LeCun uniform initialisation (variance :math:`1 / \text{fan\_in}`), in place.

    Draws from :math:`\mathcal{U}(-B, B)` with :math:`B = \sqrt{3 / \text{fan\_in}}`.

    Parameters
    ----------
    tensor : Tensor
        The weight tensor to fill, in place; at least 2-D.
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "lecun_uniform_")
    fan_in, _ = _calculate_fan_in_and_fan_out(data)
    if data.size == 0:
        return tensor
    bound = math.sqrt(3.0 / fan_in)
    return _fill(tensor, as_generator(generator).uniform(-bound, bound, size=data.shape))


def lecun_normal_(tensor, *, generator=None):
    r"""LeCun normal initialisation, in place: :math:`\mathcal{N}(0, 1 / \text{fan\_in})`.

    The untruncated normal (Keras truncates it and rescales; the variance is
    the same). The usual partner of SELU.

    Parameters
    ----------
    tensor : Tensor
        The weight tensor to fill, in place; at least 2-D.
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "lecun_normal_")
    fan_in, _ = _calculate_fan_in_and_fan_out(data)
    if data.size == 0:
        return tensor
    std = 1.0 / math.sqrt(fan_in)
    return _fill(tensor, as_generator(generator).normal(0.0, std, size=data.shape))


def orthogonal_(tensor, gain=1.0, *, generator=None):
    r"""Fill ``tensor`` with a (semi-)orthogonal matrix times ``gain``, in place.

    The tensor is viewed as a matrix of shape ``(shape[0], prod(shape[1:]))``.
    A standard normal matrix (transposed if wide) is factored as
    :math:`QR`; the columns of :math:`Q` are multiplied by
    :math:`\operatorname{sign}(\operatorname{diag} R)`, which makes :math:`Q`
    uniformly (Haar) distributed (Saxe et al., 2013). The rows of the result
    are orthonormal when ``shape[0] <= prod(shape[1:])``, its columns
    otherwise.

    Parameters
    ----------
    tensor : Tensor
        The weight tensor to fill, in place; at least 2-D.
    gain : float, default=1
        Scale (see ``calculate_gain``).
    generator : numpy.random.Generator, int, numpy.random.RandomState or None, default=None
        Source of randomness (None: fresh, unseeded).

    Returns
    -------
    Tensor
        ``tensor`` itself.
    """
    data = _float_data(tensor, "orthogonal_")
    if data.ndim < 2:
        raise ValueError(
            f"orthogonal_: needs a tensor with at least 2 dimensions; got shape {data.shape}."
        )
    check_real("orthogonal_: gain", gain)
    if data.size == 0:
        return tensor
    rows = data.shape[0]
    cols = data.size // rows
    flat = as_generator(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q *= signs
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(data.shape))


# -- aliases ------------------------------------------------------------------------
glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
