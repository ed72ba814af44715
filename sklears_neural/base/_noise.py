"""The estimators' ``noise`` parameter: Gaussian noise on inputs, weights or activations."""

import numbers
from dataclasses import dataclass

import numpy as np

from sklears_neural.backend import to_device

__all__ = ["NoiseSpec", "parse_noise", "gaussian_like"]

NOISE_TARGETS = ("inputs", "weights", "activations")


@dataclass(frozen=True)
class NoiseSpec:
    """Standard deviation, where the noise goes, and its per-epoch decay."""

    std: float = 0.0
    on: str = "inputs"
    decay: float = 1.0

    def std_at(self, epoch):
        """Standard deviation during ``epoch`` (0 for the first): ``std * decay**epoch``."""
        return self.std * self.decay ** epoch


def _real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def parse_noise(noise):
    """Validate an estimator's ``noise`` parameter.

    Parameters
    ----------
    noise : float or dict
        A float is the standard deviation of noise on the inputs. A dict has
        ``"std"`` (required, >= 0), ``"on"`` (one of "inputs", "weights",
        "activations"; default "inputs") and ``"decay"`` (in (0, 1],
        default 1: the standard deviation is multiplied by it after every
        epoch).

    Returns
    -------
    NoiseSpec

    Raises
    ------
    ValueError
        Naming ``noise`` and what is wrong with it.
    """
    if _real(noise):
        if not noise >= 0:
            raise ValueError(f"noise must be >= 0 (a standard deviation); got {noise!r}.")
        return NoiseSpec(std=float(noise))
    if not isinstance(noise, dict):
        raise ValueError("noise must be a float (std of noise on the inputs) or a dict with "
                         f"keys 'std', 'on', 'decay'; got {noise!r}.")
    unknown = sorted(set(noise) - {"std", "on", "decay"})
    if unknown:
        raise ValueError(f"noise has unknown keys {unknown}; allowed are 'std', 'on', 'decay'.")
    if "std" not in noise:
        raise ValueError("noise as a dict needs a 'std' entry (the standard deviation).")
    std, on, decay = noise["std"], noise.get("on", "inputs"), noise.get("decay", 1.0)
    if not _real(std) or not std >= 0:
        raise ValueError(f"noise['std'] must be a number >= 0; got {std!r}.")
    if on not in NOISE_TARGETS:
        raise ValueError(f"noise['on'] must be one of {', '.join(map(repr, NOISE_TARGETS))}; "
                         f"got {on!r}.")
    if not _real(decay) or not 0 < decay <= 1:
        raise ValueError(f"noise['decay'] must be in (0, 1]; got {decay!r}.")
    return NoiseSpec(std=float(std), on=on, decay=float(decay))


def gaussian_like(rng, array, std, device):
    """``std`` times standard normal noise shaped and typed like ``array``, on ``device``."""
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    noise = rng.standard_normal(array.shape, dtype=dtype)
    noise *= std
    return noise if device == "cpu" else to_device(noise, device)
