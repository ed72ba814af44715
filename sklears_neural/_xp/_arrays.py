"""The twins' dtype rule applied to the arguments of an ``_xp`` kernel.

``float_arrays`` is the portable counterpart of what every Cython entry
point does first: pick the one float dtype of its float arguments
(``sklears_neural._specs._arrays.float_dtype``, shared by both twins) and
convert the arguments to it, so that integer, boolean and list inputs give
the same output dtype in both twins and mixed precisions raise the same
error. The conversion stays on the arguments' namespace (numpy or CuPy) and
copies nothing that already has the dtype.
"""

from sklears_neural._specs._arrays import float_dtype
from sklears_neural.backend import get_array_module


def float_arrays(kernel, *named):
    """Return ``(dtype, arrays)``: the one float dtype of the named arguments
    and each argument as an array of that dtype (None stays None).

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    *named : (str, array-like or None)
        The arguments the Cython twin passes to ``float_dtype``, as passed in.
    """
    dtype = float_dtype(kernel, *named)
    return dtype, as_arrays(*(a for _, a in named), dtype=dtype)


def as_arrays(*arrays, dtype=None):
    """The arguments as arrays of their namespace, of ``dtype`` when given
    (None stays None); an array that already is one is not copied."""
    xp = get_array_module(*arrays)
    return tuple(None if a is None else xp.asarray(a, dtype=dtype) for a in arrays)
