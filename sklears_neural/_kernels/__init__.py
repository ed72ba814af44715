"""Compiled CPU kernels (Cython, nogil, OpenMP where it pays).

The same entry points as ``sklears_neural._xp`` (the names are
``_specs.KERNEL_NAMES``; same signatures and semantics), tested against it;
``sklears_neural._dispatch.kernels_for`` hands this module out for numpy
arrays. Functions that can use several OpenMP threads take an extra
keyword-only ``n_threads``: None is one thread for the elementwise kernels
(``_openmp_helpers`` has the measurements) and the pool's threads above a
measured size for the batch-parallel convolutions (``_conv``).
"""

from sklears_neural._kernels._activation import *  # noqa: F403
from sklears_neural._kernels._attention import *  # noqa: F403
from sklears_neural._kernels._conv import *  # noqa: F403
from sklears_neural._kernels._dense import *  # noqa: F403
from sklears_neural._kernels._graph import *  # noqa: F403
from sklears_neural._kernels._loss import *  # noqa: F403
from sklears_neural._kernels._norm import *  # noqa: F403
from sklears_neural._kernels._openmp_helpers import openmp_enabled, openmp_max_threads
from sklears_neural._kernels._optim import *  # noqa: F403
from sklears_neural._kernels._pool import *  # noqa: F403
from sklears_neural._kernels._pool_adaptive import *  # noqa: F403
from sklears_neural._kernels._resize import *  # noqa: F403
from sklears_neural._kernels._rnn import *  # noqa: F403
from sklears_neural._specs import KERNEL_NAMES

__all__ = [*KERNEL_NAMES, "openmp_enabled", "openmp_max_threads"]
