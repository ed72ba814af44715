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

So for the elementwise kernels ``n_threads=None`` (their default) means one
thread while the BLAS runs several (it is never slower in a loop that also
calls BLAS), and the pool's threads above ``PARALLEL_MIN_SIZE`` while the
engine's pool owns the cores (the BLAS held to one thread: CNN and RNN fits,
``backend.threads(pool="engine")``), where no second pool is awake to fight.

Kernels that split a batch across threads, each sample's work whole on one
thread with a single-threaded BLAS inside (the convolutions), resolve with
``resolve_batch_threads`` instead: there ``None`` means every thread the
OpenMP pool allows (``omp_get_max_threads()``, which the estimators'
``thread_limits`` and threadpoolctl set) once the batch has enough work.
Such a kernel holds the BLAS to one thread while its threads run
(``sklears_neural._threads.serial_blas``): measured on a 32x14x14 -> 64 conv,
batch 64, 2 threads, a multithreaded BLAS inside made the step 3x slower
than one thread. A caller that knows better
(``n_jobs`` resolved once per ``fit``, or a standalone large update) passes
an int; the kernel then uses up to that many threads (capped at
``openmp_max_threads()``), and still runs serially below its measured
``PARALLEL_MIN_SIZE``.
"""

import operator

from sklears_neural._threads import batch_threads


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
                            Py_ssize_t parallel_min_size, bint own_products=False) except -1:
    """Return the number of OpenMP threads a kernel over ``size`` items uses.

    Parameters
    ----------
    n_threads : int or None
        None: the OpenMP pool's threads while the engine's pool owns the cores
        (the BLAS held to one thread, as in CNN and RNN fits and in
        ``backend.threads(pool="engine")``, or ``own_products``), else one
        thread: next to a multithreaded BLAS, a parallel elementwise loop
        fights its pool. A
        positive int: up to that many threads. A negative int:
        ``openmp_max_threads() + 1 + n_threads`` (so -1 means all). Never more
        than ``openmp_max_threads()``; 0 is an error.
    size : int
        Number of items the kernel loops over.
    parallel_min_size : int
        Measured size below which the kernel stays serial whatever is asked.
    own_products : bool, default=False
        Whether the products of the network around the kernel run in the
        OpenMP pool too (``_blas.products_on_own_gemm`` of its dtype: float32
        on AVX-512 CPUs; only narrow one-thread products, such as a
        10-class output layer, still go to the BLAS), so that its loop
        rarely alternates with the BLAS's pool: None then takes the OpenMP
        pool's threads whoever holds the BLAS (a BatchNorm2d forward + backward on 64x32x28x28 float32, 2
        threads: 3.3 -> 1.5 ms).
    """
    cdef int max_threads = skn_omp_get_max_threads()
    cdef long requested
    if n_threads is None:
        if not SKN_OPENMP_ENABLED or size < parallel_min_size or max_threads == 1:
            return 1
        return batch_threads(None, max_threads, own_products=own_products)
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


cpdef int resolve_batch_threads(object n_threads, Py_ssize_t n_items, double work,
                                double parallel_min_work) except -1:
    """Return the threads of a kernel that runs ``n_items`` independent items.

    Parameters
    ----------
    n_threads : int or None
        None: every thread of the OpenMP pool (``openmp_max_threads()``) when
        ``work >= parallel_min_work``, else one. A positive int: up to that
        many, whatever the work. A negative int: ``openmp_max_threads() + 1 +
        n_threads``. Never more than ``openmp_max_threads()`` or ``n_items``;
        0 is an error.
    n_items : int
        Items (samples) the kernel splits across threads.
    work : float
        Multiply-adds of the whole call, roughly.
    parallel_min_work : float
        Measured work below which ``None`` stays serial.
    """
    cdef int max_threads = skn_omp_get_max_threads()
    cdef long requested
    if n_threads is None:
        if work < parallel_min_work:
            return 1
        requested = max_threads
    else:
        requested = resolve_n_threads(n_threads, 1, 0)  # checks the value
        requested = n_threads if n_threads > 0 else requested
    if not SKN_OPENMP_ENABLED:
        return 1
    return <int> max(1, min(requested, max_threads, n_items))
