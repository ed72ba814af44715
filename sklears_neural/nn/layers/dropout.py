"""Dropout layer."""

from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module
from sklears_neural._random import as_generator

__all__ = ["AlphaDropout", "Dropout", "GaussianNoise"]


class Dropout(Module):
    """Zero elements with probability ``p`` during training (inverted dropout).

    Parameters
    ----------
    p : float in [0, 1), default=0.5
    generator : numpy.random.Generator, int or None
        Source of the masks; seed it for reproducible training.
    """

    def __init__(self, p=0.5, generator=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1); got {p!r}.")
        self.p = p
        self.generator = as_generator(generator)

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.generator)

    def extra_repr(self):
        return f"p={self.p}"


class AlphaDropout(Dropout):
    """Dropout for SELU networks: keeps zero mean and unit variance.

    Parameters
    ----------
    p : float in [0, 1), default=0.5
    generator : numpy.random.Generator, int or None
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.generator)


class GaussianNoise(Module):
    """Add Gaussian noise of standard deviation ``std`` during training.

    Parameters
    ----------
    std : float >= 0, default=0.1
    decay : float in (0, 1], default=1.0
        ``step()`` multiplies ``std`` by ``decay`` (call it once per epoch,
        e.g. from a callback) for a noise level that fades as training goes.
    generator : numpy.random.Generator, int or None
    """

    def __init__(self, std=0.1, decay=1.0, generator=None):
        super().__init__()
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0; got {std!r}.")
        if not 0 < decay <= 1:
            raise ValueError(f"GaussianNoise: decay must be in (0, 1]; got {decay!r}.")
        self.std = std
        self.decay = decay
        self.generator = as_generator(generator)

    def step(self):
        """Decay the noise level once."""
        self.std *= self.decay

    def forward(self, input):
        return F.gaussian_noise(input, self.std, self.training, self.generator)

    def extra_repr(self):
        return f"std={self.std}, decay={self.decay}"
