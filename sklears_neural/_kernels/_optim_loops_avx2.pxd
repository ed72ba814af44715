from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._optim_types cimport Hyper


cdef void run_range(int kind, floating* p, const floating* g, floating* s1,
                    floating* s2, floating* s3, Py_ssize_t lo, Py_ssize_t hi,
                    const Hyper* h) noexcept nogil
