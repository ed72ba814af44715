"""Inverted dropout: zero activations at random, rescale the rest."""

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.autograd import Function
from sklears_neural.backend import get_array_module

__all__ = ["dropout"]


class Dropout(Function):
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
        mask *= 1.0 / keep
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
    p : float in [0, 1)
    training : bool
        When False, or when ``p == 0``, the input is returned unchanged.
    generator : numpy.random.Generator, int or None
        Source of the random mask on the CPU (CuPy uses its own generator).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1); got {p!r}.")
    if not training or p == 0.0:
        return input
    return Dropout(float(p), as_generator(generator)).apply(input)
