"""Whether the kernels were built with OpenMP, and how many threads to use.

Thread policy (DESIGN.md, "Threads"), from measurements on the 2-core
development machine:

* In isolation a second thread pays off for elementwise kernels from about
  16k-64k elements (Adam over 1M float32: 0.36 ms -> 0.19 ms).
* In a training loop the same parallel updates sit between OpenBLAS GEMMs,
  and the two thread pools fight: with libgomp's default spin-waiting a
  784-256-128-10 MLP step went from 1.1 ms to 11 ms, and even 1M-4M element
  layers lost 10-50 %. With ``OMP_WAIT_POLICY=PASSIVE`` the fight is gone,
  but the parallel updates then merely break even.

So ``n_threads=None`` (the default of every kernel) means one thread: it is
never slower in a loop that also calls BLAS. A caller that knows better
(``n_jobs`` resolved once per ``fit``, or a standalone large update) passes
an int; the kernel then uses up to that many threads (capped at
``openmp_max_threads()``), and still runs serially below its measured
``PARALLEL_MIN_SIZE``.
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
        None: one thread. A positive int: up to that many threads. A negative
        int: ``openmp_max_threads() + 1 + n_threads`` (so -1 means all).
        Never more than ``openmp_max_threads()``; 0 is an error.
    size : int
        Number of items the kernel loops over.
    parallel_min_size : int
        Measured size below which the kernel stays serial whatever is asked.
    """
    cdef int max_threads = skn_omp_get_max_threads()
    cdef long requested
    if n_threads is None:
        return 1
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
        requested = max_threads + 1 + requested
    if not SKN_OPENMP_ENABLED or size < parallel_min_size:
        return 1
    return <int> max(1, min(requested, max_threads))
