from sklears_neural._kernels._fused cimport floating


cdef void act_forward_rows(const floating* x, const floating* bias, floating* pre,
                           floating* y, Py_ssize_t n_rows, Py_ssize_t n_cols,
                           int act, floating a) noexcept nogil

cdef void act_backward_rows(const floating* g, const floating* v, floating* gz,
                            double* colsum, Py_ssize_t n_rows, Py_ssize_t n_cols,
                            int act, floating a) noexcept nogil
