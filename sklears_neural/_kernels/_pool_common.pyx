"""The common ground of the pooling-family kernels (CPU).

Every spatial kernel of ``_pool`` (max and average pooling),
``_pool_adaptive`` (adaptive pooling) and ``_resize`` (padding, nearest
upsampling) sees its input as ``(planes, D, H, W)``: ``planes`` is N * C,
and 1-D/2-D inputs get leading spatial axes of size 1 (kernel 1, stride 1,
no padding), so one loop nest serves all ranks. Each plane is one single
pass; planes are independent, which is what ``prange`` splits (from
``PARALLEL_MIN_SIZE`` elements on). This module builds that geometry
(``Geom``, declared in ``_pool_common.pxd``) and the plane views.
"""

import numpy as np

# Below this many input elements a kernel runs serially even when n_threads
# asks for more (thread wake-up costs more than the loop).
PARALLEL_MIN_SIZE = 1 << 17


cdef Geom _geom(spatial, out, k=None, s=None, p=None, dl=None):
    """The geometry of a 1- to 3-D problem, padded at the front to 3 axes."""
    cdef Geom g
    cdef int i, lead = 3 - len(spatial)
    for i in range(3):
        j = i - lead
        inside = j >= 0
        g.n[i] = spatial[j] if inside else 1
        g.o[i] = out[j] if inside else 1
        g.k[i] = k[j] if inside and k is not None else 1
        g.s[i] = s[j] if inside and s is not None else 1
        g.p[i] = p[j] if inside and p is not None else 0
        g.dl[i] = dl[j] if inside and dl is not None else 1
    g.div = 0.0
    g.include_pad = True
    g.win[0] = g.win[1] = g.win[2] = NULL
    return g


def _prod(shape):
    """The product of the sizes in ``shape``."""
    n = 1
    for v in shape:
        n *= v
    return n


def _planes(a, dtype):
    """``a`` (N, C, *S) as a C-contiguous (N * C, prod(S)) array."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a.reshape(a.shape[0] * a.shape[1], _prod(a.shape[2:]))


def _empty_planes(shape, dtype):
    """An uninitialised (N * C, prod(S)) array for the shape (N, C, *S)."""
    return np.empty((shape[0] * shape[1], _prod(shape[2:])), dtype=dtype)


def _zero_planes(shape, dtype):
    """A zeroed (N * C, prod(S)) array for the shape (N, C, *S)."""
    return np.zeros((shape[0] * shape[1], _prod(shape[2:])), dtype=dtype)


def _nonempty(*arrays):
    """True when no array is empty (the loops assume elements to point at)."""
    return all(a.size for a in arrays)
