# Declarations of the loops in ``_loops.pxi`` (this build and the other
# one have identical declarations).

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._types cimport Hyper


cdef void act_forward(const floating* x, floating* y, Py_ssize_t n, int act,
                      floating a) noexcept nogil

cdef void act_forward_rows(floating* y, const floating* bias, floating* pre,
                           Py_ssize_t pre_row_stride, Py_ssize_t n_rows,
                           Py_ssize_t n_cols, int act, floating a) noexcept nogil

cdef void act_backward(const floating* g, const floating* v, floating* gz,
                       Py_ssize_t n, int act, floating a) noexcept nogil

cdef void act_backward_rows(const floating* g, const floating* v, floating* gz,
                            double* colsum, Py_ssize_t n_rows, Py_ssize_t n_cols,
                            int act, floating a) noexcept nogil

cdef void prelu_forward(const floating* x, const floating* w, floating* y,
                        Py_ssize_t n_outer, Py_ssize_t n_ch,
                        Py_ssize_t n_inner) noexcept nogil

cdef void prelu_backward(const floating* g, const floating* x, const floating* w,
                         floating* gx, double* gw, Py_ssize_t n_outer,
                         Py_ssize_t n_ch, Py_ssize_t n_inner) noexcept nogil

cdef void softmax_rows(const floating* x, floating* out, Py_ssize_t n, Py_ssize_t c,
                       bint take_log) noexcept nogil

cdef void softmax_backward_rows(const floating* gy, const floating* y, floating* gx,
                                Py_ssize_t n, Py_ssize_t c, bint from_log) noexcept nogil

cdef Py_ssize_t sce_rows(const floating* x, Py_ssize_t n, Py_ssize_t c,
                         const Py_ssize_t* tp, const floating* qp, const floating* wp,
                         floating* losses, floating* grad, double label_smoothing,
                         double scale) noexcept nogil

cdef void elementwise_loss(int kind, const floating* xp, const floating* tp,
                           const floating* wp, const floating* pwp,
                           Py_ssize_t pw_row_stride, floating* lp, floating* gp,
                           Py_ssize_t n, Py_ssize_t d, double scale, double p1,
                           bint flag1, bint flag2) noexcept nogil

cdef void run_range(int kind, floating* p, const floating* g, floating* s1,
                    floating* s2, floating* s3, Py_ssize_t lo, Py_ssize_t hi,
                    const Hyper* h) noexcept nogil
