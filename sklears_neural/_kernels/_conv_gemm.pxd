# The drivers that run a convolution on its geometry (``_run_forward`` /
# ``_run_backward``, any path) and the GEMM path's helpers that the public
# entry points of ``_conv`` call.

from sklears_neural._kernels._conv_geom cimport Geom
from sklears_neural._kernels._fused cimport floating


cdef object _run_forward(x, w, b, d, dtype, n_threads=*)
cdef object _run_backward(gy, x, w, init, d, dtype, bint need_x, bint need_w,
                          bint need_b=*, n_threads=*)
cdef object _bias_grad(gy, channels, dtype)
cdef object _rows(a, dtype)

cdef int _im2col_batch(const floating[:, ::1] x, floating[:, ::1] cols,
                       const Geom* g) except -1
cdef int _col2im_batch(const floating[:, ::1] cols, floating[:, ::1] x,
                       const Geom* g) except -1
