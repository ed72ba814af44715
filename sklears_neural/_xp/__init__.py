"""Portable kernels written once against an array namespace.

With numpy arrays these are the readable reference that every Cython kernel
in ``sklears_neural._kernels`` is tested against; with CuPy arrays they are
the GPU path. Both kernel sets export exactly ``_specs.KERNEL_NAMES``, with
the same signatures and semantics; each module below lists its share in its
``__all__``.
"""

from sklears_neural._specs import KERNEL_NAMES
from sklears_neural._xp._activation import *  # noqa: F403
from sklears_neural._xp._attention import *  # noqa: F403
from sklears_neural._xp._conv import *  # noqa: F403
from sklears_neural._xp._dense import *  # noqa: F403
from sklears_neural._xp._graph import *  # noqa: F403
from sklears_neural._xp._loss import *  # noqa: F403
from sklears_neural._xp._norm import *  # noqa: F403
from sklears_neural._xp._optim import *  # noqa: F403
from sklears_neural._xp._pool import *  # noqa: F403
from sklears_neural._xp._rnn import *  # noqa: F403

__all__ = list(KERNEL_NAMES)
