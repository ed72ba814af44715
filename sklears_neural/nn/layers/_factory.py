"""Allocation of a layer's parameter arrays on the requested device and dtype."""

from sklears_neural.backend import check_dtype, parse_device, to_device

import numpy as np

__all__ = ["empty_parameter_array"]


def empty_parameter_array(shape, dtype=None, device="cpu"):
    """A zero-filled array for a new parameter, of ``dtype`` on ``device``."""
    parse_device(device)
    array = np.zeros(shape, dtype=check_dtype(dtype))
    return array if device == "cpu" else to_device(array, device)
