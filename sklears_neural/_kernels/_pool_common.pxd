# What the pooling, adaptive pooling and resizing kernels share (``_pool``,
# ``_pool_adaptive``, ``_resize``): the 3-axis plane geometry every nogil loop
# reads, and the max-pool comparison.

from sklears_neural._kernels._fused cimport floating


ctypedef struct Geom:
    # Spatial geometry padded to 3 axes (D, H, W).
    Py_ssize_t n[3]   # input sizes
    Py_ssize_t o[3]   # output sizes
    Py_ssize_t k[3]   # kernel
    Py_ssize_t s[3]   # stride
    Py_ssize_t p[3]   # padding
    Py_ssize_t dl[3]  # dilation
    double div        # avg pool: divisor_override, or 0
    bint include_pad  # avg pool: count_include_pad
    # Per axis: first in-bounds element, element count and (avg pool) padded
    # size of every window, o[ax] each (``_pool._attach_windows``): no integer
    # division per output.
    const Py_ssize_t* win[3]


cdef Geom _geom(spatial, out, k=*, s=*, p=*, dl=*)


cdef inline bint _takes(floating v, floating best) noexcept nogil:
    """Whether v replaces the running maximum: larger, or NaN (the last NaN
    wins, as in PyTorch). Bitwise or, so the caller's selects stay branchless
    (random data defeats the branch predictor)."""
    return (v > best) | (v != v)
