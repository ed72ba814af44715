"""Random regularisers: dropout, alpha dropout for SELU nets, Gaussian noise."""

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.autograd import Function
from sklears_neural.backend import get_array_module

__all__ = ["alpha_dropout", "dropout", "gaussian_noise"]


def keep_mask(like, p, generator):
    """Inverted-dropout multiplier shaped like ``like``: 0 with probability ``p``,
    else ``1 / (1 - p)``. ``generator`` draws it on the CPU (CuPy uses its own)."""
    xp = get_array_module(like)
    keep = 1.0 - p
    if xp is np:
        uniform = generator.random(like.shape,
                                   dtype=like.dtype if like.dtype == np.float32 else np.float64)
    else:
        uniform = xp.random.random(like.shape, dtype=like.dtype)
    mask = (uniform < keep).astype(like.dtype)
    mask *= 1.0 / keep
    return mask


class Dropout(Function):
    def __init__(self, p, generator):
        self.p = p
        self.generator = generator

    def forward(self, x):
        mask = keep_mask(x, self.p, self.generator)
        self.save_for_backward(mask)
        return x * mask

    def backward(self, gy):
        (mask,) = self.saved
        return gy * mask


def dropout(input, p=0.5, training=True, generator=None):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    Parameters
    ----------
    input : Tensor
        The input, of any shape.
    p : float in [0, 1), default=0.5
        The probability of zeroing an element.
    training : bool, default=True
        When False, or when ``p == 0``, the input is returned unchanged.
    generator : numpy.random.Generator, int or None, default=None
        Source of the random mask on the CPU (CuPy uses its own generator).

    Returns
    -------
    Tensor
        The input with elements dropped and the rest scaled, or ``input`` itself.

    Raises
    ------
    ValueError
        If ``p`` is not in [0, 1).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1); got {p!r}.")
    if not training or p == 0.0:
        return input
    return Dropout(float(p), as_generator(generator)).apply(input)


# SELU's negative saturation value, -scale * alpha.
_ALPHA_PRIME = -1.7580993408473766


class _AlphaDropout(Function):
    def __init__(self, p, generator):
        self.p = p
        self.generator = generator

    def forward(self, x):
        xp = get_array_module(x)
        keep = 1.0 - self.p
        if xp is np:
            uniform = self.generator.random(x.shape, dtype=x.dtype if x.dtype == np.float32 else np.float64)
        else:
            uniform = xp.random.random(x.shape, dtype=x.dtype)
        mask = (uniform < keep).astype(x.dtype)
        a = (keep * (1.0 + self.p * _ALPHA_PRIME ** 2)) ** -0.5
        b = -a * _ALPHA_PRIME * self.p
        self.save_for_backward(mask * a)
        return (x * mask + _ALPHA_PRIME * (1.0 - mask)) * a + b

    def backward(self, gy):
        (scaled_mask,) = self.saved
        return gy * scaled_mask


def alpha_dropout(input, p=0.5, training=False, generator=None):
    """Dropout that keeps SELU activations at zero mean and unit variance.

    Dropped units are set to SELU's saturation value ``-scale * alpha`` and
    the result is shifted and scaled so that mean and variance are kept
    (Klambauer et al., 2017), as ``torch.nn.functional.alpha_dropout``.

    Parameters
    ----------
    input : Tensor
        The input, of any shape.
    p : float in [0, 1), default=0.5
        The probability of dropping an element.
    training : bool, default=False
        When False, or when ``p == 0``, the input is returned unchanged.
    generator : numpy.random.Generator, int or None, default=None
        Source of the random mask on the CPU (CuPy uses its own generator).

    Returns
    -------
    Tensor
        The input with elements dropped, shifted and scaled, or ``input`` itself.

    Raises
    ------
    ValueError
        If ``p`` is not in [0, 1).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"alpha_dropout probability p must be in [0, 1); got {p!r}.")
    if not training or p == 0.0:
        return input
    return _AlphaDropout(float(p), as_generator(generator)).apply(input)


class _AddNoise(Function):
    def __init__(self, std, generator):
        self.std = std
        self.generator = generator

    def forward(self, x):
        xp = get_array_module(x)
        if xp is np:
            noise = self.generator.standard_normal(x.shape, dtype=x.dtype if x.dtype == np.float32 else np.float64)
        else:
            noise = xp.random.standard_normal(x.shape, dtype=x.dtype)
        return x + (self.std * noise).astype(x.dtype, copy=False)

    def backward(self, gy):
        return gy


def gaussian_noise(input, std=0.1, training=True, generator=None):
    """Add zero-mean Gaussian noise of standard deviation ``std`` during training.

    The gradient passes through unchanged. Used on inputs, activations or
    (through ``nn.utils``) weights as a regulariser.

    Parameters
    ----------
    input : Tensor
        The input, of any shape.
    std : float, default=0.1
        The standard deviation of the noise; at least 0.
    training : bool, default=True
        When False, or when ``std == 0``, the input is returned unchanged.
    generator : numpy.random.Generator, int or None, default=None
        Source of the noise on the CPU (CuPy uses its own generator).

    Returns
    -------
    Tensor
        The input plus the noise, or ``input`` itself.

    Raises
    ------
    ValueError
        If ``std`` is negative.
    """
    if std < 0:
        raise ValueError(f"gaussian_noise: std must be >= 0; got {std!r}.")
    if not training or std == 0:
        return input
    return _AddNoise(float(std), as_generator(generator)).apply(input)
