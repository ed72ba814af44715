# The optimizer update loops of the ``_loops`` / ``_loops_avx2`` pair
# (included by ``_loops.pxi``, compiled once per build), one ``run_range``
# entry point for all of them.

from libc.math cimport sqrt

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport c_fabs, c_sqrt
from sklears_neural._kernels._types cimport (
    OPT_ADADELTA, OPT_ADAGRAD, OPT_ADAM, OPT_ADAMAX, OPT_LAMB, OPT_LARS, OPT_NADAM,
    OPT_RADAM, OPT_RMSPROP, OPT_SGD, Hyper,
)


# ---------------------------------------------------------------------------
# optimizer updates
# ---------------------------------------------------------------------------

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


cdef void _nadam_range(floating* p, const floating* grad, floating* m, floating* v,
                       Py_ssize_t lo, Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating decay = <floating> h.decay
    cdef floating b1 = <floating> h.beta1, omb1 = <floating> h.one_minus_beta1
    cdef floating b2 = <floating> h.beta2, omb2 = <floating> h.one_minus_beta2
    cdef floating inv_bc2 = <floating> h.inv_bc2_sqrt, eps = <floating> h.eps
    cdef floating cg = <floating> h.grad_coef, cm = <floating> h.avg_coef
    cdef bint coupled = h.coupled_wd
    cdef floating g, pi, mi, vi, d
    cdef Py_ssize_t i
    for i in range(lo, hi):
        pi = p[i]
        g = _grad(grad[i], pi, sign, wd, coupled)
        mi = m[i] * b1 + omb1 * g
        vi = v[i] * b2 + omb2 * g * g
        m[i] = mi
        v[i] = vi
        d = c_sqrt(vi) * inv_bc2 + eps
        p[i] = pi * decay - cg * g / d - cm * mi / d


cdef void _adamax_range(floating* p, const floating* grad, floating* m, floating* u,
                        Py_ssize_t lo, Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating b1 = <floating> h.beta1, omb1 = <floating> h.one_minus_beta1
    cdef floating b2 = <floating> h.beta2, eps = <floating> h.eps
    cdef floating step = <floating> h.step_size
    cdef bint coupled = h.coupled_wd
    cdef floating g, mi, a, b, ui
    cdef Py_ssize_t i
    for i in range(lo, hi):
        g = _grad(grad[i], p[i], sign, wd, coupled)
        mi = m[i] * b1 + omb1 * g
        m[i] = mi
        a = u[i] * b2
        b = c_fabs(g) + eps
        ui = b if b > a else a      # a NaN in a stays (numpy.maximum) ...
        ui = b if b != b else ui    # ... and so does one in b
        u[i] = ui
        p[i] = p[i] - step * mi / ui


cdef void _radam_range(floating* p, const floating* grad, floating* m, floating* v,
                       Py_ssize_t lo, Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating decay = <floating> h.decay
    cdef floating b1 = <floating> h.beta1, omb1 = <floating> h.one_minus_beta1
    cdef floating b2 = <floating> h.beta2, omb2 = <floating> h.one_minus_beta2
    cdef floating eps = <floating> h.eps, step = <floating> h.step_size
    cdef floating rect = <floating> h.rect_factor
    cdef bint coupled = h.coupled_wd, rectified = h.rectified
    cdef floating g, pi, mi, vi, ur, u
    cdef Py_ssize_t i
    for i in range(lo, hi):
        pi = p[i]
        g = _grad(grad[i], pi, sign, wd, coupled)
        mi = m[i] * b1 + omb1 * g
        vi = v[i] * b2 + omb2 * g * g
        m[i] = mi
        v[i] = vi
        ur = step * mi * (rect / (c_sqrt(vi) + eps))
        u = step * mi
        p[i] = pi * decay - (ur if rectified else u)


cdef void _adadelta_range(floating* p, const floating* grad, floating* sq,
                          floating* acc, Py_ssize_t lo, Py_ssize_t hi,
                          const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating lr = <floating> h.lr, eps = <floating> h.eps
    cdef floating rho = <floating> h.alpha, omr = <floating> h.one_minus_alpha
    cdef bint coupled = h.coupled_wd
    cdef floating g, s, d
    cdef Py_ssize_t i
    for i in range(lo, hi):
        g = _grad(grad[i], p[i], sign, wd, coupled)
        s = sq[i] * rho + omr * g * g
        sq[i] = s
        d = c_sqrt(acc[i] + eps) / c_sqrt(s + eps) * g
        acc[i] = acc[i] * rho + omr * d * d
        p[i] = p[i] - lr * d


# LAMB and LARS scale a parameter's whole step by a ratio of norms: two
# passes over [lo, hi) (the whole parameter: these kinds never run in chunks),
# the sums of squares in double. A strictly ordered double sum never
# vectorises (no -ffast-math), so the sums run in NORM_LANES independent
# double lanes (a fixed order, hence deterministic), over blocks of
# NORM_BLOCK elements; LAMB computes each block's update direction r once
# into a stack buffer, so the reduction loop stays separate from (and as
# cheap as) the arithmetic one.

cdef enum:
    NORM_LANES = 16
    NORM_BLOCK = 256


cdef inline void _sumsq_lanes(const floating* x, Py_ssize_t n,
                              double* acc) noexcept nogil:
    """acc[k] += x[j]**2 (in double) for j = k mod NORM_LANES, j < n."""
    cdef Py_ssize_t j = 0, k
    cdef double t
    while j + NORM_LANES <= n:
        for k in range(NORM_LANES):
            t = <double> x[j + k]
            acc[k] += t * t
        j += NORM_LANES
    k = 0
    while j < n:
        t = <double> x[j]
        acc[k] += t * t
        j += 1
        k += 1


cdef inline double _fold_lanes(double* acc) noexcept nogil:
    cdef Py_ssize_t k, w = NORM_LANES
    while w > 1:
        w //= 2
        for k in range(w):
            acc[k] += acc[k + w]
    return acc[0]


cdef void _lamb_range(floating* p, const floating* grad, floating* m, floating* v,
                      Py_ssize_t lo, Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating b1 = <floating> h.beta1, omb1 = <floating> h.one_minus_beta1
    cdef floating b2 = <floating> h.beta2, omb2 = <floating> h.one_minus_beta2
    cdef floating inv_bc1 = <floating> h.inv_bc1, inv_bc2 = <floating> h.inv_bc2_sqrt
    cdef floating eps = <floating> h.eps, wd = <floating> h.wd
    cdef floating g, mi, vi, r, pi, scale
    cdef floating rb[NORM_BLOCK]
    cdef double wacc[NORM_LANES]
    cdef double racc[NORM_LANES]
    cdef double w2, r2, ratio = 1
    cdef Py_ssize_t i, j, k, nb
    for k in range(NORM_LANES):
        wacc[k] = 0
        racc[k] = 0
    i = lo
    while i < hi:
        nb = hi - i
        if nb > NORM_BLOCK:
            nb = NORM_BLOCK
        for j in range(nb):
            g = grad[i + j]
            pi = p[i + j]
            mi = m[i + j] * b1 + omb1 * g
            vi = v[i + j] * b2 + omb2 * g * g
            m[i + j] = mi
            v[i + j] = vi
            rb[j] = mi * inv_bc1 / (c_sqrt(vi) * inv_bc2 + eps) + wd * pi
        _sumsq_lanes(p + i, nb, wacc)
        _sumsq_lanes(rb, nb, racc)
        i += nb
    w2 = _fold_lanes(wacc)
    r2 = _fold_lanes(racc)
    if w2 > 0 and r2 > 0:
        ratio = sqrt(w2) / sqrt(r2)
    scale = <floating> (h.lr * ratio)
    for i in range(lo, hi):
        pi = p[i]
        r = m[i] * inv_bc1 / (c_sqrt(v[i]) * inv_bc2 + eps) + wd * pi
        p[i] = pi - scale * r


cdef void _lars_range(floating* p, const floating* grad, floating* buf,
                      Py_ssize_t lo, Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef double w2, g2, wn, gn, local_lr = 1
    cdef double wacc[NORM_LANES]
    cdef double gacc[NORM_LANES]
    cdef floating wd = 0 if h.exclude else <floating> h.wd
    cdef floating mom = <floating> h.momentum, scale, g, b
    cdef Py_ssize_t i, k, nb
    if not h.exclude:
        for k in range(NORM_LANES):
            wacc[k] = 0
            gacc[k] = 0
        i = lo
        while i < hi:
            nb = hi - i
            if nb > NORM_BLOCK:
                nb = NORM_BLOCK
            _sumsq_lanes(p + i, nb, wacc)
            _sumsq_lanes(grad + i, nb, gacc)
            i += nb
        w2 = _fold_lanes(wacc)
        g2 = _fold_lanes(gacc)
        if w2 > 0 and g2 > 0:
            wn = sqrt(w2)
            gn = sqrt(g2)
            local_lr = h.trust_coefficient * wn / (gn + h.wd * wn + h.eps)
    scale = <floating> (h.lr * local_lr)
    if buf == NULL:
        for i in range(lo, hi):
            p[i] = p[i] - scale * (grad[i] + wd * p[i])
    else:
        for i in range(lo, hi):
            b = buf[i] * mom + scale * (grad[i] + wd * p[i])
            buf[i] = b
            p[i] = p[i] - b


cdef void run_range(int kind, floating* p, const floating* g, floating* s1,
                            floating* s2, floating* s3, Py_ssize_t lo, Py_ssize_t hi,
                            const Hyper* h) noexcept nogil:
    if kind == OPT_ADAM:
        _adam_range(p, g, s1, s2, s3, lo, hi, h)
    elif kind == OPT_SGD:
        _sgd_range(p, g, s1, lo, hi, h)
    elif kind == OPT_RMSPROP:
        _rmsprop_range(p, g, s1, s2, s3, lo, hi, h)
    elif kind == OPT_ADAGRAD:
        _adagrad_range(p, g, s1, lo, hi, h)
    elif kind == OPT_NADAM:
        _nadam_range(p, g, s1, s2, lo, hi, h)
    elif kind == OPT_ADAMAX:
        _adamax_range(p, g, s1, s2, lo, hi, h)
    elif kind == OPT_RADAM:
        _radam_range(p, g, s1, s2, lo, hi, h)
    elif kind == OPT_ADADELTA:
        _adadelta_range(p, g, s1, s2, lo, hi, h)
    elif kind == OPT_LAMB:
        _lamb_range(p, g, s1, s2, lo, hi, h)
    else:
        _lars_range(p, g, s1, lo, hi, h)
