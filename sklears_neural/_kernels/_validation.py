"""Argument checks shared by the Python faces of the Cython kernels.

The nogil loops trust their inputs completely; everything that could make
them read out of bounds or mix precisions is rejected here first, with a
``ValueError`` that names the kernel, the arguments and their shapes/dtypes.
"""

import numpy as np

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
        The arguments as passed in (before ``as_array``). Integer and boolean
        arrays, and Python scalars and lists (which carry no dtype of their
        own, as in NEP 50), take the float dtype of the others; float32 and
        float64 numpy arrays are never mixed; other dtypes (float16, complex,
        object, ...) are rejected.

    Returns
    -------
    numpy.dtype
        float32 or float64 (float64 when no argument is a float array).
    """
    found_name = None
    found = None
    for name, a in named:
        if not isinstance(a, (np.ndarray, np.generic)):
            if a is not None and np.asarray(a).dtype.kind not in "biuf":
                raise ValueError(
                    f"{kernel}: {name} must be numeric; got {type(a).__name__}."
                )
            continue
        dt = a.dtype
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
    """``a`` as a C-contiguous array of ``dtype``, copying only if needed."""
    if type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(a, dtype=dtype)


def check_same_shape(kernel, name_a, a, name_b, b):
    """Raise unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{kernel}: {name_a} has shape {a.shape} but {name_b} has shape "
            f"{b.shape}; they must be equal."
        )


def check_ndim(kernel, name, a, ndim):
    """Raise unless ``a.ndim == ndim``."""
    if a.ndim != ndim:
        raise ValueError(
            f"{kernel}: {name} must be {ndim}-D; got shape {a.shape}."
        )


def check_rows(kernel, name, weight, n, ref_name, ref_shape):
    """Raise unless ``weight`` has shape ``(n,)`` (one value per row)."""
    if weight.shape != (n,):
        raise ValueError(
            f"{kernel}: {name} has shape {weight.shape} but {ref_name} has shape "
            f"{ref_shape}; {name} needs one value per row, shape ({n},)."
        )


def check_writeable(kernel, name, a):
    """Raise unless ``a`` is a numpy array that can be updated in place."""
    if type(a) is not np.ndarray and not isinstance(a, np.ndarray):
        raise ValueError(
            f"{kernel}: {name} must be a numpy array (it is updated in place); "
            f"got {type(a).__name__}."
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
