"""How many BLAS/OpenMP threads a training or prediction step may use."""

import functools
from contextlib import nullcontext

from threadpoolctl import ThreadpoolController

__all__ = ["thread_limits", "SERIAL_BELOW_WORK", "OPENBLAS_SERIAL_BELOW"]

# Below this much work per batch (rows x parameters, about the multiply-adds of
# one forward pass) a second BLAS thread gains nothing on 2 cores, and idle
# workers that spin while the other core is busy made small steps up to 20x
# slower. Above it, 2 threads train the 784-256-128-10 MLP 1.36x faster at
# batch 128 and 1.66x at batch 512 (idle machine, 2 cores; see the note of
# the MLP issue). So: one thread for small work, the libraries' default above.
SERIAL_BELOW_WORK = 2**24
# OpenBLAS itself stays single-threaded for a GEMM below 65536 * 4 multiply-adds
# (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD); setting a limit for such
# work would only cost time (a single-row predict spends ~30 us on it).
OPENBLAS_SERIAL_BELOW = 2**18


@functools.lru_cache(maxsize=None)
def _thread_controller():
    # Built once: inspecting the loaded libraries costs ~0.2 ms, a limit ~4 us.
    return ThreadpoolController()


def thread_limits(n_threads, work):
    """Context that caps BLAS/OpenMP threads for batches of ``work`` multiply-adds.

    ``n_threads=None`` picks one thread for small work and leaves the
    libraries' defaults otherwise; an integer is applied as given.
    """
    if n_threads is None:
        if work < OPENBLAS_SERIAL_BELOW:
            return nullcontext()  # the BLAS runs such products on one thread anyway
        n_threads = 1 if work < SERIAL_BELOW_WORK else None
    if n_threads is None:
        return nullcontext()
    return _thread_controller().limit(limits=n_threads)
