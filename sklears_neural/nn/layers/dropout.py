"""Dropout layer."""

from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module
from sklears_neural._random import as_generator

__all__ = ["Dropout"]


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
