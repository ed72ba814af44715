# Optimizer update loops, compiled twice: as ``_optim_loops`` (portable
# baseline flags) and as ``_optim_loops_avx2`` (-mavx2 -mfma); ``_optim``
# picks one at run time from the CPU's features.

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport c_sqrt
from sklears_neural._kernels._optim_types cimport (
    OPT_ADAGRAD, OPT_ADAM, OPT_RMSPROP, OPT_SGD, Hyper,
)


# The loops below are branch-free: a loop-invariant option (weight decay,
# Nesterov, first step) computes both candidates and selects, which is exact
# (the unused candidate is discarded, NaN or not) and keeps the loop
# vectorisable; an option that needs an extra state array (momentum buffer,
# AMSGrad maximum, centered average) gets a loop of its own.

cdef inline floating _grad(floating gi, floating pi, floating sign, floating wd,
                           bint coupled) noexcept nogil:
    """sign * grad, plus wd * param for coupled weight decay."""
    cdef floating g = sign * gi
    cdef floating gd = g + wd * pi
    return gd if coupled else g


cdef void _sgd_range(floating* p, const floating* grad, floating* buf,
                     Py_ssize_t lo, Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating lr = <floating> h.lr, mom = <floating> h.momentum
    cdef floating omd = <floating> h.one_minus_dampening
    cdef bint coupled = h.coupled_wd, nesterov = h.nesterov, first = h.first_step
    cdef floating g, b, bn, gn
    cdef Py_ssize_t i
    if buf == NULL:
        for i in range(lo, hi):
            g = _grad(grad[i], p[i], sign, wd, coupled)
            p[i] = p[i] - lr * g
    else:
        for i in range(lo, hi):
            g = _grad(grad[i], p[i], sign, wd, coupled)
            bn = buf[i] * mom + omd * g
            b = g if first else bn
            buf[i] = b
            gn = g + mom * b
            g = gn if nesterov else b
            p[i] = p[i] - lr * g


cdef void _adam_range(floating* p, const floating* grad, floating* m, floating* v,
                      floating* vmax, Py_ssize_t lo, Py_ssize_t hi,
                      const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating decay = <floating> h.decay
    cdef floating b1 = <floating> h.beta1, omb1 = <floating> h.one_minus_beta1
    cdef floating b2 = <floating> h.beta2, omb2 = <floating> h.one_minus_beta2
    cdef floating inv_bc2 = <floating> h.inv_bc2_sqrt, eps = <floating> h.eps
    cdef floating step = <floating> h.step_size
    cdef bint coupled = h.coupled_wd
    cdef floating g, pi, mi, vi, vm
    cdef Py_ssize_t i
    if vmax == NULL:
        for i in range(lo, hi):
            pi = p[i]
            g = _grad(grad[i], pi, sign, wd, coupled)
            mi = m[i] * b1 + omb1 * g
            vi = v[i] * b2 + omb2 * g * g
            m[i] = mi
            v[i] = vi
            p[i] = pi * decay - step * mi / (c_sqrt(vi) * inv_bc2 + eps)
    else:
        for i in range(lo, hi):
            pi = p[i]
            g = _grad(grad[i], pi, sign, wd, coupled)
            mi = m[i] * b1 + omb1 * g
            vi = v[i] * b2 + omb2 * g * g
            m[i] = mi
            v[i] = vi
            vm = vmax[i]
            vm = vm if vi <= vm else vi  # numpy.maximum: a NaN in vi wins
            vm = vmax[i] if vmax[i] != vmax[i] else vm  # ... and in vmax too
            vmax[i] = vm
            p[i] = pi * decay - step * mi / (c_sqrt(vm) * inv_bc2 + eps)


cdef void _rmsprop_range(floating* p, const floating* grad, floating* sq,
                         floating* gavg, floating* buf, Py_ssize_t lo,
                         Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating lr = <floating> h.lr, mom = <floating> h.momentum
    cdef floating alpha = <floating> h.alpha, oma = <floating> h.one_minus_alpha
    cdef floating eps = <floating> h.eps
    cdef bint coupled = h.coupled_wd
    cdef floating g, s, ga, avg, b
    cdef Py_ssize_t i
    if gavg == NULL and buf == NULL:
        for i in range(lo, hi):
            g = _grad(grad[i], p[i], sign, wd, coupled)
            s = sq[i] * alpha + oma * g * g
            sq[i] = s
            p[i] = p[i] - lr * g / (c_sqrt(s) + eps)
    elif buf == NULL:
        for i in range(lo, hi):
            g = _grad(grad[i], p[i], sign, wd, coupled)
            s = sq[i] * alpha + oma * g * g
            sq[i] = s
            ga = gavg[i] * alpha + oma * g
            gavg[i] = ga
            p[i] = p[i] - lr * g / (c_sqrt(s - ga * ga) + eps)
    elif gavg == NULL:
        for i in range(lo, hi):
            g = _grad(grad[i], p[i], sign, wd, coupled)
            s = sq[i] * alpha + oma * g * g
            sq[i] = s
            b = buf[i] * mom + g / (c_sqrt(s) + eps)
            buf[i] = b
            p[i] = p[i] - lr * b
    else:
        for i in range(lo, hi):
            g = _grad(grad[i], p[i], sign, wd, coupled)
            s = sq[i] * alpha + oma * g * g
            sq[i] = s
            ga = gavg[i] * alpha + oma * g
            gavg[i] = ga
            b = buf[i] * mom + g / (c_sqrt(s - ga * ga) + eps)
            buf[i] = b
            p[i] = p[i] - lr * b


cdef void _adagrad_range(floating* p, const floating* grad, floating* ssum,
                         Py_ssize_t lo, Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating clr = <floating> h.step_size, eps = <floating> h.eps
    cdef bint coupled = h.coupled_wd
    cdef floating g, s
    cdef Py_ssize_t i
    for i in range(lo, hi):
        g = _grad(grad[i], p[i], sign, wd, coupled)
        s = ssum[i] + g * g
        ssum[i] = s
        p[i] = p[i] - clr * g / (c_sqrt(s) + eps)


cdef void run_range(int kind, floating* p, const floating* g, floating* s1,
                            floating* s2, floating* s3, Py_ssize_t lo, Py_ssize_t hi,
                            const Hyper* h) noexcept nogil:
    if kind == OPT_ADAM:
        _adam_range(p, g, s1, s2, s3, lo, hi, h)
    elif kind == OPT_SGD:
        _sgd_range(p, g, s1, lo, hi, h)
    elif kind == OPT_RMSPROP:
        _rmsprop_range(p, g, s1, s2, s3, lo, hi, h)
    else:
        _adagrad_range(p, g, s1, lo, hi, h)
