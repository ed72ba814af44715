"""Which kernel twin runs on an array: the one module that knows both.

``sklears_neural._kernels`` (Cython) serves numpy arrays and
``sklears_neural._xp`` (plain array code) serves CuPy arrays. Both expose the
same entry points; ops ask ``kernels_for(array)`` for the set to call.
``backend`` knows neither twin, and the twins never import each other.
"""

import functools

import numpy as np

from sklears_neural.backend import is_cupy_array

__all__ = ["kernels_for", "products_pool"]


def kernels_for(a):
    """Return the kernel set for array ``a``.

    numpy arrays get the compiled Cython kernels (``sklears_neural._kernels``);
    CuPy arrays get the portable ones (``sklears_neural._xp``), which run on
    the GPU through CuPy. Both expose the same functions.
    """
    if type(a) is not np.ndarray and is_cupy_array(a):
        return _portable_kernels()
    return _cpu_kernels()


def products_pool(dtype):
    """The thread pool that runs the matrix products of ``dtype`` on the CPU.

    ``"engine"`` (OpenMP) where float32 products run on our AVX-512 GEMM,
    ``"blas"`` where they go to the BLAS library (float64, or a CPU without
    AVX-512F). An estimator whose work is matrix products gives this pool
    the cores for its fit (``sklears_neural._threads.thread_limits``), so
    that its products use them and one pool runs at a time.

    Parameters
    ----------
    dtype : numpy dtype or type
        The dtype of the computation.

    Returns
    -------
    {"blas", "engine"}
    """
    try:
        from sklears_neural._kernels._blas import products_on_own_gemm
    except ImportError:  # pragma: no cover - an unbuilt checkout
        return "blas"
    return "engine" if products_on_own_gemm(dtype) else "blas"


@functools.lru_cache(maxsize=None)
def _cpu_kernels():
    # Imported on first use and cached: every op asks for its kernels.
    from sklears_neural import _kernels

    return _kernels


@functools.lru_cache(maxsize=None)
def _portable_kernels():
    from sklears_neural import _xp

    return _xp


# Load the compiled kernels now rather than at the first op: they bring in the
# OpenMP runtime, and the thread policy (sklears_neural._threads) inspects the
# loaded thread pools once; a pool loaded after that would escape its limits
# (an n_threads=1 fit ran its convolutions on every core). Costs ~10 ms. Without
# a build, the error waits for the first op that needs the kernels.
try:
    _cpu_kernels()
except ImportError:  # pragma: no cover - an unbuilt checkout
    pass
