"""Random data augmentation of training batches of images (N, C, H, W) or signals (N, C, L)."""

import numbers

import numpy as np
from scipy import ndimage

__all__ = ["Augmenter", "parse_augment"]

_FLIPS = ("horizontal", "vertical", "both")
_KEYS = ("flip", "crop_padding", "shift", "rotation", "noise")


def _nonnegative_int(key, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"augment['{key}'] must be an int >= 0 (pixels); got {value!r}.")
    return int(value)


def _nonnegative_real(key, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"augment['{key}'] must be a number >= 0; got {value!r}.")
    return float(value)


class Augmenter:
    """Apply random flips, crops, shifts, rotations and noise to a batch.

    Each sample gets its own random draw from the generator passed to
    ``__call__``. All geometric changes fill uncovered pixels with zeros.

    Parameters
    ----------
    flip : {"horizontal", "vertical", "both"} or None
        Mirror each sample with probability 1/2 (per axis for "both").
        For signals, "horizontal" reverses time.
    crop_padding : int
        Zero-pad by this many pixels on every side, then crop a random
        window of the original size (a random translation by up to
        ``crop_padding`` pixels).
    shift : int
        Translate by up to this many pixels along every spatial axis.
    rotation : float
        Rotate images by a uniform angle in ``[-rotation, rotation]`` degrees
        (bilinear; images only).
    noise : float
        Add Gaussian noise of this standard deviation.
    """

    def __init__(self, flip=None, crop_padding=0, shift=0, rotation=0.0, noise=0.0):
        self.flip = flip
        self.max_shift = crop_padding + shift
        self.rotation = rotation
        self.noise = noise

    def __call__(self, batch, rng):
        """Return an augmented copy of ``batch`` (numpy, shape (N, C, *spatial)).

        Parameters
        ----------
        batch : ndarray of shape (N, C, L) or (N, C, H, W)
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of the same shape and dtype
        """
        out = np.array(batch, copy=True)
        n, spatial = out.shape[0], out.shape[2:]
        if self.flip is not None:
            axes = {"horizontal": [-1], "vertical": [-2], "both": [-2, -1]}[self.flip]
            for axis in axes:
                chosen = rng.random(n) < 0.5
                out[chosen] = np.flip(out[chosen], axis=axis)
        if self.max_shift:
            shifts = rng.integers(-self.max_shift, self.max_shift + 1, size=(n, len(spatial)))
            for i in range(n):
                out[i] = _translate(out[i], shifts[i])
        if self.rotation:
            angles = rng.uniform(-self.rotation, self.rotation, size=n)
            for i in range(n):
                out[i] = ndimage.rotate(out[i], angles[i], axes=(-1, -2), reshape=False,
                                        order=1, mode="constant", cval=0.0)
        if self.noise:
            out += (rng.standard_normal(out.shape) * self.noise).astype(out.dtype)
        return out


def _translate(sample, shift):
    """Shift a (C, *spatial) sample by integer offsets, zero-filling what is uncovered."""
    out = np.zeros_like(sample)
    src, dst = [slice(None)], [slice(None)]
    for size, s in zip(sample.shape[1:], shift):
        s = int(np.clip(s, -size, size))
        src.append(slice(max(0, -s), size - max(0, s)))
        dst.append(slice(max(0, s), size - max(0, -s)))
    out[tuple(dst)] = sample[tuple(src)]
    return out


def parse_augment(augment, dims):
    """Validate an estimator's ``augment`` parameter and build its ``Augmenter``.

    Parameters
    ----------
    augment : dict or None
        Keys among "flip", "crop_padding", "shift", "rotation", "noise"
        (see ``Augmenter``).
    dims : {1, 2}
        Spatial dimensions of the data (rotation and vertical flips need 2).

    Returns
    -------
    Augmenter or None
    """
    if augment is None:
        return None
    if not isinstance(augment, dict):
        raise ValueError("augment must be None or a dict with keys among "
                         f"{', '.join(map(repr, _KEYS))}; got {augment!r}.")
    unknown = sorted(set(augment) - set(_KEYS))
    if unknown:
        raise ValueError(f"augment has unknown keys {unknown}; allowed are "
                         f"{', '.join(map(repr, _KEYS))}.")
    flip = augment.get("flip")
    if flip is not None and flip not in _FLIPS:
        raise ValueError(f"augment['flip'] must be one of {', '.join(map(repr, _FLIPS))} or "
                         f"None; got {flip!r}.")
    rotation = _nonnegative_real("rotation", augment.get("rotation", 0.0))
    if dims == 1 and (rotation or flip in ("vertical", "both")):
        raise ValueError("augment: rotation and vertical flips need images (2-D inputs); "
                         "signals support 'flip': 'horizontal', 'crop_padding', 'shift' and "
                         "'noise'.")
    return Augmenter(flip=flip,
                     crop_padding=_nonnegative_int("crop_padding", augment.get("crop_padding", 0)),
                     shift=_nonnegative_int("shift", augment.get("shift", 0)),
                     rotation=rotation,
                     noise=_nonnegative_real("noise", augment.get("noise", 0.0)))
