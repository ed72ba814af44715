"""How many threads a step of work may use, and which thread pool gets them.

The engine meets two thread pools in one process: the BLAS library's
(numpy's and scipy's OpenBLAS) and the OpenMP pool of our Cython kernels,
which also runs the float32 products on CPUs with AVX-512F (our own GEMM,
``_kernels/_blas.pyx``). Measured on the 2-core development machine, the policy
below follows from four facts (DESIGN.md, "Threads"; the numbers are in the
kernel-layer issue's closing note and ``benchmarks/compare.py``):

* Two pools alternating in a hot loop fight: each pool's idle workers spin
  for a while after a call, so the other pool's next call shares its cores
  with spinners (~20x slower small steps). Hence *one pool per fit*: an
  estimator declares which pool owns the cores (for models whose work is
  large GEMMs, the pool that runs them: ``_dispatch.products_pool``;
  ``"engine"`` for convolutional and recurrent ones, whose kernels run their
  own batch-parallel loops with one-thread products inside) and the other
  pool is held to one thread for the whole fit.
* Below ~2**24 multiply-adds per batch a second thread gains nothing and
  costs a lot when the other core is busy, so small work runs on one thread.
* OpenBLAS runs products below ~2**18 multiply-adds on one thread anyway;
  setting a limit for them would only cost time (~30 us on a one-row
  predict). Our convolution and pooling kernels parallelise from smaller
  sizes, so where the engine's pool owns the cores the limit stays.
* Under load (another process busy on the machine) threads that wait for
  each other by spinning collapse: MLP training at 2 threads fell to 0.32x
  of its quiet 1-thread speed while a second training ran, PyTorch's to
  0.04x. So ``n_threads=None`` takes no more threads than there are free
  CPUs when the fit starts (usable CPUs minus the other runnable tasks the
  kernel reports in ``/proc/loadavg``).

``thread_limits`` applies the policy to one fit or predict (``n_threads`` of
the estimators); ``threads`` is the same cap for code that uses the engine
directly.
"""

import functools
import glob
import math
import os
import threading
import time
from contextlib import contextmanager, nullcontext

from threadpoolctl import ThreadpoolController

__all__ = ["OPENBLAS_SERIAL_BELOW", "SERIAL_BELOW_WORK", "batch_threads", "free_cpus",
           "serial_blas", "thread_limits", "threads", "usable_cpus"]

SERIAL_BELOW_WORK = 2**24
OPENBLAS_SERIAL_BELOW = 2**18
POOLS = ("blas", "engine")


@functools.lru_cache(maxsize=None)
def _thread_controller():
    # Built once: inspecting the loaded libraries costs ~0.2 ms, a limit ~4 us.
    return ThreadpoolController()


@functools.lru_cache(maxsize=None)
def _blas_controllers():
    return [c for c in _thread_controller().lib_controllers if c.user_api == "blas"]


_serial_lock = threading.Lock()
_serial_state = {"depth": 0, "saved": []}


@contextmanager
def serial_blas():
    """Hold every BLAS library to one thread inside the block.

    For kernels whose own threads each call the BLAS (batch-parallel
    convolutions): a multithreaded BLAS inside them would start a second
    pool on the same cores. Nested and concurrent uses are counted, and the
    previous thread counts come back when the last one leaves. A library
    already at one thread is left alone; a toggle costs ~3 us.

    Yields
    ------
    None
    """
    with _serial_lock:
        if _serial_state["depth"] == 0:
            saved = [(c, c.get_num_threads()) for c in _blas_controllers()]
            saved = [(c, n) for c, n in saved if n != 1]
            for c, _ in saved:
                c.set_num_threads(1)
            _serial_state["saved"] = saved
        _serial_state["depth"] += 1
    try:
        yield
    finally:
        with _serial_lock:
            _serial_state["depth"] -= 1
            if _serial_state["depth"] == 0:
                for c, n in _serial_state["saved"]:
                    c.set_num_threads(n)
                _serial_state["saved"] = []


def batch_threads(n_threads, resolved, own_products=False):
    """Threads of a batch-parallel kernel call: one pool at a time.

    ``resolved`` is what the kernel's size policy allows. When the caller
    left ``n_threads`` at None, the kernel takes its threads if the engine's
    pool owns the cores, i.e. the BLAS is held to one thread (as
    ``thread_limits(pool="engine")`` and ``threads(pool="engine")`` do), or
    if its products run on the engine's own GEMM (``own_products``: float32
    on a CPU with AVX-512F), whose calls never wake the BLAS's pool. Else
    the BLAS owns the cores and the kernel runs on one thread with the
    BLAS's threads in its GEMMs. An explicit ``n_threads`` is obeyed. A
    kernel that runs several threads holds the BLAS to one thread meanwhile
    (``serial_blas``), for the products it still sends there.

    Parameters
    ----------
    n_threads : int or None
        The kernel's ``n_threads`` argument.
    resolved : int
        The thread count the kernel's size policy gives.
    own_products : bool, default=False
        Whether the kernel's products run on the engine's own GEMM.

    Returns
    -------
    int
        The threads to use, at least 1.
    """
    if resolved <= 1 or n_threads is not None or own_products:
        return resolved
    if all(c.get_num_threads() == 1 for c in _blas_controllers()):
        return resolved
    return 1


def usable_cpus():
    """Number of CPUs this process may run on (its affinity mask).

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where the platform has it, else
        ``os.cpu_count()``.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _own_running_threads():
    """Threads of this process that are runnable right now (Linux), at least 1."""
    running = 0
    for path in glob.glob("/proc/self/task/*/stat"):
        try:
            with open(path) as f:
                running += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            continue
    return max(running, 1)


# free_cpus() looks this many times, this far apart, and counts a CPU as busy
# only if some other task wanted it every time: one look caught a passing
# task (a shell, a kernel thread) often enough to halve a whole fit.
_LOOKS = 3
_LOOK_GAP_S = 5e-4
# ...and keeps its answer this long: a predict of a few hundred rows takes less
# than the looks (a 100-row predict went from 0.53 to 0.64 ms).
_FRESH_FOR_S = 1.0
_last_free = {"at": -math.inf, "cpus": None}


def _other_runnable_tasks():
    """Runnable tasks of other processes on this process's CPUs right now (Linux), or
    None without /proc.

    ``/proc/loadavg`` counts the whole machine; a process allowed on only some of
    its CPUs counts the others' tasks as running elsewhere first (a process pinned
    to 2 of 64 CPUs of a busy host is not short of CPUs unless the host is full).
    """
    try:
        with open("/proc/loadavg") as f:
            runnable = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    others = max(0, runnable - _own_running_threads())
    elsewhere = max(0, (os.cpu_count() or 1) - usable_cpus())
    return max(0, others - elsewhere)


def free_cpus():
    """Usable CPUs that other processes are not busy on.

    Reads the number of runnable tasks from ``/proc/loadavg`` (Linux) a few
    times over about a millisecond, subtracts this process's own runnable
    threads, and takes the smallest count from :func:`usable_cpus`. The answer
    is reused for a second. Where ``/proc`` is missing every usable CPU counts
    as free.

    Returns
    -------
    int
        Between 1 and :func:`usable_cpus`.
    """
    now_s = time.monotonic()
    if now_s - _last_free["at"] < _FRESH_FOR_S:
        return _last_free["cpus"]
    usable = usable_cpus()
    others = None
    for look in range(_LOOKS):
        if look:
            time.sleep(_LOOK_GAP_S)
        now = _other_runnable_tasks()
        if now is None:
            return usable
        others = now if others is None else min(others, now)
        if others == 0:
            break
    cpus = max(1, min(usable, usable - others))
    _last_free.update(at=time.monotonic(), cpus=cpus)
    return cpus


def _resolve(n_threads, work):
    """Threads for a step of ``work`` multiply-adds: None means "let the libraries decide"."""
    if n_threads is not None:
        return n_threads
    if work < SERIAL_BELOW_WORK:
        return 1
    free = free_cpus()
    return None if free >= usable_cpus() else free


@contextmanager
def _openmp_only_limit(n):
    """Cap the OpenMP runtimes at ``n`` threads for the calling thread, and
    touch nothing else (threadpoolctl's limiter saves and restores every
    library, the BLAS included)."""
    controllers = [c for c in _thread_controller().lib_controllers
                   if c.user_api == "openmp"]
    saved = [(c, c.get_num_threads()) for c in controllers]
    for c, _ in saved:
        c.set_num_threads(n)
    try:
        yield
    finally:
        for c, count in saved:
            c.set_num_threads(count)


def thread_limits(n_threads, work, pool="blas"):
    """Context that caps the thread pools for one fit or predict.

    Parameters
    ----------
    n_threads : int or None
        The estimator's ``n_threads``. None applies the measured policy: one
        thread for batches below ``SERIAL_BELOW_WORK`` multiply-adds, else as
        many as there are free CPUs (:func:`free_cpus`). An int is used as
        given.
    work : int
        Multiply-adds of one batch, roughly.
    pool : {"blas", "engine"}, default="blas"
        Which pool owns the threads. ``"blas"``: BLAS and OpenMP are both
        capped at the thread count (the engine's elementwise kernels stay
        serial by their own policy). ``"engine"``: OpenMP gets the threads
        and BLAS is held to one thread, so that the kernels' batch-parallel
        loops never meet a second pool (below ``OPENBLAS_SERIAL_BELOW``
        multiply-adds with ``n_threads=None`` only OpenMP is capped, for the
        calling thread: the BLAS runs such products on one thread anyway).

    Returns
    -------
    context manager
        threadpoolctl's limiter, or a null context when nothing needs capping.
    """
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {POOLS}; got {pool!r}.")
    if pool == "blas" and n_threads is None and work < OPENBLAS_SERIAL_BELOW:
        return nullcontext()  # the BLAS runs such products on one thread anyway
    n = _resolve(n_threads, work)
    if pool == "blas":
        return nullcontext() if n is None else _thread_controller().limit(limits=n)
    if n_threads is None and work < OPENBLAS_SERIAL_BELOW:
        # The BLAS runs such products on one thread anyway: cap only the OpenMP
        # pool, whose limit belongs to the calling thread. Setting (and later
        # restoring) the BLAS's process-wide count here raced with a fit in
        # another Python thread: a predict during a fit restored the count
        # after the fit had, leaving the BLAS at one thread.
        return _openmp_only_limit(1)
    limits = {"blas": 1} if n is None else {"blas": 1, "openmp": n}
    return _thread_controller().limit(limits=limits)


@contextmanager
def threads(n_threads=None, pool="blas"):
    """Cap the thread pools the engine uses (BLAS and OpenMP) inside a block.

    For code that calls the engine directly (``nn``, ``optim``,
    ``nn.functional``); estimators take ``n_threads`` instead.

    Parameters
    ----------
    n_threads : int or None, default=None
        Threads for the block; -1 means all usable CPUs, None the free ones
        (:func:`free_cpus`).
    pool : {"blas", "engine"}, default="blas"
        Which pool gets them. ``"blas"``: both pools are capped at the count,
        and the matrix products use the threads (the batch-parallel kernels
        then run on one thread, unless their products run on our GEMM: one
        pool at a time). ``"engine"``: the
        OpenMP pool gets them and the BLAS is held to one thread, so that
        convolutions and recurrent layers split the batch; the better choice
        for convolutional and recurrent networks.

    Yields
    ------
    int
        The thread count in force.

    Examples
    --------
    >>> from sklears_neural.backend import threads
    >>> with threads(1) as n:
    ...     n
    1
    """
    if n_threads is None:
        n = free_cpus()
    elif isinstance(n_threads, bool) or not isinstance(n_threads, int) or not (
            n_threads >= 1 or n_threads == -1):
        raise ValueError(f"n_threads must be None, -1 or a positive int; got {n_threads!r}.")
    else:
        n = usable_cpus() if n_threads == -1 else n_threads
    with thread_limits(n, SERIAL_BELOW_WORK, pool):  # an explicit count: applied as given
        yield n
