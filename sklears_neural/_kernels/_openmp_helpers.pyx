"""Whether the kernels were built with OpenMP, and how many threads to use.

Thread policy (see DESIGN.md, "Threads"): on a small machine an OpenMP pool
woken next to OpenBLAS's pool costs more than it gains, so elementwise
kernels run serially unless the array is large enough that a measurement
showed a second thread paying off. ``n_threads=None`` applies that policy; an
explicit integer forces the thread count (``-1`` all threads, ``-2`` all but
one, ... as in scikit-learn).
"""

import operator


def openmp_enabled():
    """Return True if the kernels were compiled with OpenMP support."""
    return bool(SKN_OPENMP_ENABLED)


def openmp_max_threads():
    """Return the number of threads an OpenMP region would use by default.

    This is ``omp_get_max_threads()`` (it honours ``OMP_NUM_THREADS``), or 1
    when the kernels were built without OpenMP.
    """
    return skn_omp_get_max_threads()


cpdef int resolve_n_threads(object n_threads, Py_ssize_t size,
                            Py_ssize_t parallel_min_size) except -1:
    """Return the number of OpenMP threads a kernel over ``size`` items uses.

    Parameters
    ----------
    n_threads : int or None
        None: one thread below ``parallel_min_size`` items, all OpenMP
        threads from there on. A positive int: that many threads. A negative
        int: ``openmp_max_threads() + 1 + n_threads`` (so -1 means all).
    size : int
        Number of items the kernel loops over.
    parallel_min_size : int
        Measured size from which the kernel gains from a second thread.
    """
    cdef int max_threads = skn_omp_get_max_threads()
    cdef long requested
    if n_threads is None:
        if size < parallel_min_size:
            return 1
        return max_threads
    try:
        if isinstance(n_threads, bool):
            raise TypeError
        requested = operator.index(n_threads)
    except TypeError:
        raise ValueError(
            f"n_threads must be None or a non-zero int; got {n_threads!r}."
        ) from None
    if requested == 0:
        raise ValueError("n_threads must be None or a non-zero int; got 0.")
    if requested < 0:
        requested = max(1, max_threads + 1 + requested)
    if not SKN_OPENMP_ENABLED:
        return 1
    return <int> min(requested, 4096)
