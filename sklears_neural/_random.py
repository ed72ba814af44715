"""One way to turn a user's seed into a numpy ``Generator``."""

import numbers

import numpy as np

__all__ = ["as_generator"]


def as_generator(generator):
    """Return a ``numpy.random.Generator`` for ``generator``.

    Parameters
    ----------
    generator : numpy.random.Generator, int, numpy.random.RandomState or None
        A Generator is returned as is; an int seeds a new one; a
        ``RandomState`` seeds a new one from one draw of it (so it advances
        and stays reproducible); None gives a fresh, unseeded one.
    """
    if generator is None:
        return np.random.default_rng()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, np.random.RandomState):
        return np.random.default_rng(generator.randint(0, 2**31 - 1))
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"generator seed must be >= 0; got {generator!r}.")
        return np.random.default_rng(int(generator))
    raise ValueError("generator must be a numpy.random.Generator, an int seed, a "
                     f"numpy.random.RandomState or None; got {type(generator).__name__}.")
