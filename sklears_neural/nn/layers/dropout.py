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
        The probability of zeroing an element.
    generator : numpy.random.Generator, int or None, default=None
        Source of the masks on the CPU; seed it for reproducible training.

    Raises
    ------
    ValueError
        If ``p`` is not in [0, 1).
    """

    def __init__(self, p=0.5, generator=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1); got {p!r}.")
        self.p = p
        self.generator = as_generator(generator)

    def forward(self, input):
        """Drop elements in training mode; return the input unchanged otherwise.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The input with elements zeroed and the rest scaled by ``1 / (1 - p)``.
        """
        return F.dropout(input, self.p, self.training, self.generator)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``p=...``.
        """
        return f"p={self.p}"


class AlphaDropout(Dropout):
    """Dropout for SELU networks: keeps zero mean and unit variance.

    Parameters
    ----------
    p : float in [0, 1), default=0.5
        The probability of dropping an element.
    generator : numpy.random.Generator, int or None, default=None
        Source of the masks on the CPU; seed it for reproducible training.
    """

    def forward(self, input):
        """Apply alpha dropout in training mode; return the input unchanged otherwise.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The input with elements dropped, shifted and scaled.
        """
        return F.alpha_dropout(input, self.p, self.training, self.generator)


class GaussianNoise(Module):
    """Add Gaussian noise of standard deviation ``std`` during training.

    Parameters
    ----------
    std : float >= 0, default=0.1
        The standard deviation of the noise.
    decay : float in (0, 1], default=1.0
        ``step()`` multiplies ``std`` by ``decay`` (call it once per epoch,
        e.g. from a callback) for a noise level that fades as training goes.
    generator : numpy.random.Generator, int or None, default=None
        Source of the noise on the CPU; seed it for reproducible training.

    Raises
    ------
    ValueError
        If ``std`` is negative or ``decay`` is not in (0, 1].
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
        """Add the noise in training mode; return the input unchanged otherwise.

        Parameters
        ----------
        input : Tensor
            The input, of any shape.

        Returns
        -------
        Tensor
            The input plus the noise.
        """
        return F.gaussian_noise(input, self.std, self.training, self.generator)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            ``std=..., decay=...``.
        """
        return f"std={self.std}, decay={self.decay}"
