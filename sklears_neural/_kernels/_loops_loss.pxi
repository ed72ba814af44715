# The loss loops of the ``_loops`` / ``_loops_avx2`` pair (included by
# ``_loops.pxi``, compiled once per build): softmax cross-entropy rows and the
# elementwise losses (MSE, L1, Huber, BCE with logits, Poisson NLL).

from libc.math cimport log

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport (
    c_exp, c_fabs, c_log, c_log1p_unit, row_max, row_sum,
)
from sklears_neural._kernels._types cimport (
    LOSS_BCE, LOSS_HUBER, LOSS_L1, LOSS_MSE, LOSS_POISSON,
)


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------

cdef Py_ssize_t sce_rows(const floating* x, Py_ssize_t n, Py_ssize_t c,
                         const Py_ssize_t* tp, const floating* qp, const floating* wp,
                         floating* losses, floating* grad, double label_smoothing,
                         double scale) noexcept nogil:
    """softmax + cross-entropy of ``n`` rows of ``c >= 1`` logits, one row at
    a time. Targets: class indices ``tp`` or probabilities ``qp`` (the other
    NULL); ``wp``: row weights or NULL. Returns -1, or the first row whose
    class index is out of range (nothing is read out of bounds)."""
    cdef Py_ssize_t i, j, ti = 0, bad = -1
    cdef double ls = label_smoothing
    cdef double s, log_s, sum_shift, sum_q, acc, loss
    cdef floating m, r, inv_s, q, sum_qf, e_t
    cdef const floating* xr
    cdef const floating* qr
    cdef floating* gr
    cdef floating ls_c = <floating> (ls / c)
    cdef floating keep = <floating> (1.0 - ls)
    cdef floating scale_f = <floating> scale
    for i in range(n):
        if tp != NULL:
            ti = tp[i]
            if ti < 0 or ti >= c:
                bad = i
                break
        r = scale_f * wp[i] if wp != NULL else scale_f
        xr = x + i * c
        gr = grad + i * c
        m = row_max(xr, c)
        for j in range(c):
            gr[j] = c_exp(xr[j] - m)  # scratch: exp(x - max)
        s = row_sum(gr, c)
        # Work with shifted logits x - m (as log_softmax does): no
        # cancellation between a large log-sum-exp and a large logit.
        log_s = log(s)
        inv_s = <floating> (1.0 / s)
        if tp != NULL:
            # q = (1 - ls) onehot(t) + ls / c, summing to 1
            loss = (1.0 - ls) * (log_s - <double> (xr[ti] - m))
            if ls != 0:
                sum_shift = row_sum(xr, c) - c * <double> m
                loss += ls * (log_s - sum_shift / c)
            e_t = gr[ti]
            for j in range(c):
                gr[j] = (gr[j] * inv_s - ls_c) * r
            gr[ti] = (e_t * inv_s - (keep + ls_c)) * r
        else:
            # Any target: loss = sum_j q_j (log_s - (x_j - m)),
            # grad = softmax * sum(q) - q
            qr = qp + i * c
            acc = 0
            sum_q = 0
            for j in range(c):
                q = qr[j]
                if ls != 0:
                    q = q * keep + ls_c
                sum_q += q
                acc += q * (log_s - <double> (xr[j] - m))
            loss = acc
            sum_qf = <floating> sum_q
            for j in range(c):
                q = qr[j] * keep + ls_c if ls != 0 else qr[j]
                gr[j] = (gr[j] * inv_s * sum_qf - q) * r
        losses[i] = <floating> loss * r
    return bad


cdef void elementwise_loss(int kind, const floating* xp, const floating* tp,
                           const floating* wp, const floating* pwp,
                           Py_ssize_t pw_row_stride, floating* lp, floating* gp,
                           Py_ssize_t n, Py_ssize_t d, double scale, double p1,
                           bint flag1, bint flag2) noexcept nogil:
    """One pass: losses and gradients of loss ``kind`` over ``n`` rows of
    ``d`` elements, times the row factor ``scale * wp[i]`` (``wp`` may be NULL).

    p1/flag1/flag2: huber (delta); poisson (eps; log_input, full).
    ``pwp`` (bce's pos_weight, may be NULL) has rows of ``d`` elements,
    ``pw_row_stride`` apart (0: the same row for every sample).
    """
    cdef Py_ssize_t i, j
    cdef floating r, xi, ti, dd, ad, e, l, g, sp, pw, st, sg, sn
    cdef const floating* pwr
    cdef const floating* x
    cdef const floating* t
    cdef floating* losses
    cdef floating* grad
    cdef floating scale_f = <floating> scale
    cdef floating delta = <floating> p1
    cdef floating half_delta = <floating> (0.5 * p1)
    cdef floating eps = <floating> p1
    cdef floating two_pi = <floating> 6.283185307179586
    for i in range(n):
        r = scale_f * wp[i] if wp != NULL else scale_f
        x = xp + i * d
        t = tp + i * d
        losses = lp + i * d
        grad = gp + i * d
        if kind == LOSS_MSE:
            for j in range(d):
                dd = x[j] - t[j]
                losses[j] = dd * dd * r
                grad[j] = 2 * dd * r
        elif kind == LOSS_L1:
            for j in range(d):
                dd = x[j] - t[j]
                losses[j] = c_fabs(dd) * r
                if dd > 0:
                    g = 1
                elif dd < 0:
                    g = -1
                elif dd == 0:
                    g = 0
                else:
                    g = dd  # NaN
                grad[j] = g * r
        elif kind == LOSS_HUBER:
            for j in range(d):
                dd = x[j] - t[j]
                ad = c_fabs(dd)
                if ad <= delta:
                    l = <floating> 0.5 * dd * dd
                else:
                    l = delta * (ad - half_delta)
                if dd < -delta:
                    g = -delta
                elif dd > delta:
                    g = delta
                else:
                    g = dd
                losses[j] = l * r
                grad[j] = g * r
        elif kind == LOSS_POISSON:
            for j in range(d):
                xi = x[j]
                ti = t[j]
                if flag1:  # log_input
                    e = c_exp(xi)
                    l = e - ti * xi
                    g = e - ti
                else:
                    l = xi - ti * c_log(xi + eps)
                    g = 1 - ti / (xi + eps)
                if flag2 and ti > 1:  # full: Stirling's log(t!)
                    st = ti * c_log(ti) - ti + <floating> 0.5 * c_log(two_pi * ti)
                    l = l + st
                losses[j] = l * r
                grad[j] = g * r
        elif pwp == NULL:  # LOSS_BCE
            for j in range(d):
                xi = x[j]
                ti = t[j]
                # one exp for both: e = exp(-|x|),
                # log(1 + e^-x) = log1p(e) + max(-x, 0), sigmoid from e
                e = c_exp(-c_fabs(xi))
                sp = c_log1p_unit(e) + (-xi if xi < 0 else 0)
                sg = 1 / (1 + e)
                sn = e * sg
                sg = sg if xi >= 0 else sn
                losses[j] = ((1 - ti) * xi + sp) * r
                grad[j] = (sg - ti) * r
        else:  # LOSS_BCE with pos_weight
            pwr = pwp + i * pw_row_stride
            for j in range(d):
                xi = x[j]
                ti = t[j]
                pw = pwr[j]
                e = c_exp(-c_fabs(xi))
                sp = c_log1p_unit(e) + (-xi if xi < 0 else 0)
                sg = 1 / (1 + e)
                sn = e * sg
                sg = sg if xi >= 0 else sn
                losses[j] = ((1 - ti) * xi + (1 + (pw - 1) * ti) * sp) * r
                grad[j] = (sg * (pw * ti + 1 - ti) - pw * ti) * r
