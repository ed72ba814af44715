"""Array-argument checks shared by both kernel twins.

The dtype rule (``float_dtype``) is the twins' one rule for the float
arguments of a kernel, so that the Cython kernels and the ``_xp`` kernels
accept the same inputs and raise the same ``ValueError`` messages. It reads
only an argument's ``dtype`` attribute, so it serves numpy and CuPy arrays
alike (a CuPy array is never copied to the host).

The Cython kernels' nogil loops trust their inputs completely; everything
that could make them read out of bounds or mix precisions is rejected first
by these checks, with a message that names the kernel, the arguments and
their shapes/dtypes. ``as_array``, ``c_array`` and ``rows_view`` make the
numpy arrays those loops read.
"""

import numpy as np

from sklears_neural.backend import is_cupy_array

__all__ = [
    "FLOAT32",
    "FLOAT64",
    "as_array",
    "c_array",
    "check_last_axis",
    "check_ndim",
    "check_rows",
    "check_same_shape",
    "check_writeable",
    "float_dtype",
    "rows_view",
]

FLOAT32 = np.dtype(np.float32)
FLOAT64 = np.dtype(np.float64)
_FLOATS = (FLOAT32, FLOAT64)


def as_array(a):
    """``numpy.asarray`` with a fast path for arrays."""
    return a if type(a) is np.ndarray else np.asarray(a)


def float_dtype(kernel, *named):
    """Return the one float dtype shared by the named arrays.

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    *named : (str, object or None)
        The arguments as passed in (before any conversion). Integer and
        boolean arrays, and Python scalars and lists (which carry no dtype
        of their own, as in NEP 50), take the float dtype of the others;
        float32 and float64 arrays (numpy or CuPy) are never mixed; other
        dtypes (float16, complex, object, ...) are rejected. None entries
        are skipped.

    Returns
    -------
    numpy.dtype
        float32 or float64 (float64 when no argument is a float array).

    Raises
    ------
    ValueError
        If an argument has another dtype or two float arguments differ.
    """
    found_name = None
    found = None
    for name, a in named:
        if a is None:
            continue
        dt = getattr(a, "dtype", None)
        if not isinstance(dt, np.dtype):  # a Python scalar or (nested) list
            if np.asarray(a).dtype.kind not in "biuf":
                raise ValueError(
                    f"{kernel}: {name} must be numeric; got {type(a).__name__}."
                )
            continue
        if dt.kind in "biu":
            continue
        if dt not in _FLOATS:
            raise ValueError(
                f"{kernel}: {name} has dtype {dt}; the kernels take float32 or "
                "float64 arrays only."
            )
        if found is None:
            found_name, found = name, dt
        elif dt != found:
            raise ValueError(
                f"{kernel}: {found_name} has dtype {found} but {name} has dtype "
                f"{dt}; float32 and float64 are never mixed silently. Cast one of "
                "them (e.g. with .astype) first."
            )
    return FLOAT64 if found is None else found


def c_array(a, dtype):
    """``a`` as a C-contiguous numpy array of ``dtype``, copying only if needed."""
    if type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(a, dtype=dtype)


def check_same_shape(kernel, name_a, a, name_b, b):
    """Raise unless ``a`` and ``b`` have the same shape."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{kernel}: {name_a} has shape {tuple(a.shape)} but {name_b} has shape "
            f"{tuple(b.shape)}; they must be equal."
        )


def check_ndim(kernel, name, a, ndim):
    """Raise unless ``a.ndim == ndim``."""
    if a.ndim != ndim:
        raise ValueError(
            f"{kernel}: {name} must be {ndim}-D; got shape {tuple(a.shape)}."
        )


def check_last_axis(kernel, name, a):
    """Raise unless ``a`` has a non-empty last axis (the softmaxes' rows)."""
    if a.ndim == 0:
        raise ValueError(f"{kernel}: {name} must have at least 1 dimension; got a scalar.")
    if a.shape[-1] == 0:
        raise ValueError(
            f"{kernel}: {name} has shape {tuple(a.shape)}; the last axis must not be empty."
        )


def check_rows(kernel, name, weight, n, ref_name, ref_shape):
    """Raise unless ``weight`` has shape ``(n,)`` (one value per row)."""
    if tuple(weight.shape) != (n,):
        raise ValueError(
            f"{kernel}: {name} has shape {tuple(weight.shape)} but {ref_name} has shape "
            f"{tuple(ref_shape)}; {name} needs one value per row, shape ({n},)."
        )


def check_writeable(kernel, name, a):
    """Raise unless ``a`` is an array that can be updated in place.

    A numpy array must be writeable; a CuPy array (the ``_xp`` kernels' GPU
    arrays) always is. Anything else (a list, a scalar) is rejected.
    """
    if not isinstance(a, np.ndarray):
        if is_cupy_array(a):
            return
        raise ValueError(
            f"{kernel}: {name} must be a numpy array (a CuPy array on the GPU); it is "
            f"updated in place; got {type(a).__name__}."
        )
    if not a.flags.writeable:
        raise ValueError(f"{kernel}: {name} is read-only; it must be writeable.")


def rows_view(a):
    """View/copy of a C-contiguous ``a`` as 2-D (first axis, all the rest)."""
    if a.ndim == 2:
        return a
    n = a.shape[0] if a.ndim else 1
    rest = 1
    for s in a.shape[1:]:
        rest *= s
    return a.reshape(n, rest)
