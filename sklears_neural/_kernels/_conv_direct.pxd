# The direct (depthwise) convolution path, called by the drivers of
# ``_conv_gemm`` (``_run_forward`` / ``_run_backward``) when ``_path`` picks it.

from sklears_neural._kernels._conv_geom cimport Geom
from sklears_neural._kernels._fused cimport floating


cdef int _direct_forward(const floating[:, ::1] x, const floating[:, ::1] w,
                         const floating[::1] b, bint has_bias, floating[:, ::1] y,
                         floating[::1] scratch, Py_ssize_t[::1] offsets,
                         const Geom* g, int n_threads=*) except -1

cdef int _direct_backward(const floating[:, ::1] gy, const floating[:, ::1] x,
                          const floating[:, ::1] w, const floating[::1] init,
                          bint has_init, floating[:, ::1] gx, floating[:, ::1] gw,
                          double[:, ::1] gw_acc, double[:, ::1] gb_acc, bint need_x,
                          bint need_w, bint need_b, floating[::1] scratch,
                          Py_ssize_t[::1] offsets, const Geom* g, int n_threads=*) except -1

# The scratch (values of the conv's dtype) and the offsets array (intp) the
# two functions above take, for a geometry dict of ``_specs._conv``.
cdef object _direct_scratch_size(dict d)
cdef object _tap_offsets(dict d)
