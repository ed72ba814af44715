"""Array namespaces, devices, dtypes and threads.

Everything above this module asks it two questions: which array library
holds this array (``get_array_module``) and where does it live
(``device_of``). Which kernels work on an array is ``_dispatch``'s question:
this module knows neither kernel twin. CuPy is imported only when a CUDA
device is asked for or a CuPy array is seen, so the CPU path never needs it.
``threads`` caps the CPU thread pools for code that drives the engine
directly (the policy lives in ``sklears_neural._threads``).
"""

import importlib
import re

import numpy as np

from sklears_neural._threads import free_cpus, threads

__all__ = [
    "DEFAULT_DTYPE",
    "SUPPORTED_DTYPES",
    "check_dtype",
    "device_of",
    "free_cpus",
    "get_array_module",
    "is_cupy_array",
    "parse_device",
    "threads",
    "to_device",
    "to_numpy",
]

DEFAULT_DTYPE = np.dtype(np.float32)
SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_DEVICE_PATTERN = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


def _import_cupy():
    """Import CuPy on first use, with an error that says how to get it."""
    try:
        return importlib.import_module("cupy")
    except ImportError as exc:
        raise RuntimeError(
            "device='cuda' needs CuPy, which is not installed. Install the GPU "
            "extra with `pip install sklears-neural[cuda]` (it needs an NVIDIA "
            "GPU and driver), or use device='cpu'."
        ) from exc


def is_cupy_array(a):
    """Return True if ``a`` is a CuPy array, without importing CuPy.

    Parameters
    ----------
    a : object
        Any object; only its type is looked at.

    Returns
    -------
    bool
        Whether the type of ``a`` comes from the ``cupy`` package.
    """
    kind = type(a)
    if kind is np.ndarray:  # the common case, asked several times per op
        return False
    return kind.__module__.partition(".")[0] == "cupy"


def get_array_module(*arrays):
    """Return the array namespace (``numpy`` or ``cupy``) of ``arrays``.

    Parameters
    ----------
    *arrays : array-like or None
        Arrays to inspect; ``None`` entries are ignored.

    Returns
    -------
    module
        ``cupy`` if any array is a CuPy array, else ``numpy``.
    """
    for a in arrays:
        if a is not None and type(a) is not np.ndarray and is_cupy_array(a):
            return _import_cupy()
    return np


def parse_device(device):
    """Split a device string into ``(kind, index)``.

    Parameters
    ----------
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    kind : {"cpu", "cuda"}
        The kind of device.
    index : int or None
        The GPU ordinal for ``"cuda:N"``, 0 for ``"cuda"``, None for the CPU.

    Raises
    ------
    ValueError
        If ``device`` is not one of these strings.
    """
    match = _DEVICE_PATTERN.match(device) if isinstance(device, str) else None
    if match is None:
        raise ValueError(
            f"device must be 'cpu', 'cuda' or 'cuda:N' (N a GPU index); got {device!r}."
        )
    kind, index = match.group(1), match.group(2)
    if kind == "cpu":
        if index is not None:
            raise ValueError(f"device must be plain 'cpu' (it takes no index); got {device!r}.")
        return "cpu", None
    return "cuda", int(index) if index is not None else 0


def _cuda_device(index):
    """Return a ``cupy.cuda.Device`` after checking that the GPU exists."""
    cp = _import_cupy()
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise RuntimeError(
            f"device='cuda:{index}' was asked for, but CuPy cannot reach a CUDA "
            f"driver ({exc}). Use device='cpu' on a machine without a GPU."
        ) from exc
    if index >= count:
        raise RuntimeError(
            f"device='cuda:{index}' was asked for, but only {count} CUDA "
            "device(s) are visible."
        )
    return cp.cuda.Device(index)


def device_of(a):
    """Return the device string of an array: ``"cpu"`` or ``"cuda:N"``.

    Parameters
    ----------
    a : array-like
        A numpy array, a CuPy array, or anything else (which lives on the CPU).

    Returns
    -------
    str
        ``"cuda:N"`` for a CuPy array on GPU ``N``, else ``"cpu"``.
    """
    if is_cupy_array(a):
        return f"cuda:{a.device.id}"
    return "cpu"


def to_device(a, device):
    """Return ``a`` as an array on ``device``, copying only when needed.

    Parameters
    ----------
    a : array-like
        A numpy array, a CuPy array, or anything ``numpy.asarray`` takes.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        ``a`` itself when it is already an array on ``device``, else a copy there.
    """
    kind, index = parse_device(device)
    if kind == "cpu":
        return to_numpy(a)
    cp = _import_cupy()
    with _cuda_device(index):
        return cp.asarray(a)


def to_numpy(a):
    """Return ``a`` as a numpy array (copying device arrays to the host).

    Parameters
    ----------
    a : array-like
        A numpy array, a CuPy array, or anything ``numpy.asarray`` takes.

    Returns
    -------
    numpy.ndarray
        ``a`` itself for a numpy array, a host copy of a CuPy array, else
        ``numpy.asarray(a)``.
    """
    if is_cupy_array(a):
        return a.get()
    return np.asarray(a)


def check_dtype(dtype):
    """Return ``dtype`` as a numpy dtype, if it is float32 or float64.

    Parameters
    ----------
    dtype : dtype-like or None
        None means the default, float32.

    Returns
    -------
    numpy.dtype
        ``numpy.float32`` or ``numpy.float64``.

    Raises
    ------
    ValueError
        If ``dtype`` is not float32 or float64.
    """
    if dtype is None:
        return DEFAULT_DTYPE
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype must be float32 or float64; got {dtype!r}.") from exc
    if resolved not in SUPPORTED_DTYPES:
        raise ValueError(f"dtype must be float32 or float64; got {resolved}.")
    return resolved


def __getattr__(name):
    # backend.kernels_for moved to sklears_neural._dispatch, above the twins; backend knows
    # neither twin, so the old name is resolved without a static import.
    if name == "kernels_for":
        import warnings

        warnings.warn("sklears_neural.backend.kernels_for moved to "
                      "sklears_neural._dispatch.kernels_for; the old name will be removed in "
                      "the next release.", FutureWarning, stacklevel=2)
        return importlib.import_module("sklears_neural._dispatch").kernels_for
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
