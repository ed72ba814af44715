# All heavy nogil loops of the kernels, compiled twice: as ``_loops``
# (portable baseline flags) and as ``_loops_avx2`` (-mavx2 -mfma). The
# Python-facing modules call one or the other at run time depending on the
# CPU (``_cpu.use_avx2``). Both .pyx files only include this file, so the two
# builds cannot drift apart.

from libc.math cimport log, sqrt

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport (
    ACT_CELU, ACT_ELU, ACT_GELU, ACT_GELU_TANH, ACT_HARDSIGMOID, ACT_HARDSWISH,
    ACT_LEAKY_RELU, ACT_LOGSIGMOID, ACT_MISH, ACT_RELU, ACT_SELU, ACT_SIGMOID, ACT_SILU,
    ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_TANH, ACT_TANHSHRINK, Act, ActCelu, ActElu, ActGelu,
    ActGeluTanh, ActHardsigmoid, ActHardswish, ActIdentity, ActLeakyRelu, ActLogsigmoid,
    ActMish, ActRelu, ActSelu, ActSigmoid, ActSilu, ActSoftplus, ActSoftsign, ActTanh,
    ActTanhshrink, act_backward_elem, act_forward_elem, c_exp, c_fabs, c_log,
    c_log1p_unit, c_sqrt, row_dot, row_max, row_sum,
)
from sklears_neural._kernels._types cimport (
    LOSS_BCE, LOSS_HUBER, LOSS_L1, LOSS_MSE, LOSS_POISSON, OPT_ADADELTA, OPT_ADAGRAD,
    OPT_ADAM, OPT_ADAMAX, OPT_LAMB, OPT_LARS, OPT_NADAM, OPT_RADAM, OPT_RMSPROP, OPT_SGD,
    Hyper,
)


# ---------------------------------------------------------------------------
# activations (elementwise, and the dense layer's fused epilogues)
# ---------------------------------------------------------------------------

# Each loop below inlines one activation's math; a function holds one such
# loop only, so that GCC's per-function growth limits never stop the
# inlining (an out-of-line call would keep the loop scalar). Every loop is
# branch-free, hence vectorised.

cdef void _forward_loop(const Act* tag, const floating* x, floating* y,
                        Py_ssize_t n, floating a) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        y[j] = act_forward_elem(tag, x[j], a)


cdef void _forward_bias_rows(const Act* tag, floating* y, const floating* bias,
                             floating* pre, Py_ssize_t pre_row_stride,
                             Py_ssize_t n_rows, Py_ssize_t n_cols,
                             floating a) noexcept nogil:
    cdef Py_ssize_t i, j, off
    cdef floating* pre_row
    cdef floating z
    for i in range(n_rows):
        off = i * n_cols
        pre_row = pre + i * pre_row_stride
        for j in range(n_cols):
            z = y[off + j] + bias[j]
            pre_row[j] = z
            y[off + j] = act_forward_elem(tag, z, a)


cdef void _backward_loop(const Act* tag, const floating* g, const floating* v,
                         floating* gz, Py_ssize_t n, floating a) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        gz[j] = act_backward_elem(tag, g[j], v[j], a)


cdef void _backward_colsum_rows(const Act* tag, const floating* g, const floating* v,
                                floating* gz, double* colsum, Py_ssize_t n_rows,
                                Py_ssize_t n_cols, floating a) noexcept nogil:
    cdef Py_ssize_t i, j, off
    cdef floating r
    for i in range(n_rows):
        off = i * n_cols
        for j in range(n_cols):
            r = act_backward_elem(tag, g[off + j], v[off + j], a)
            gz[off + j] = r
            colsum[j] += r


cdef void act_forward(const floating* x, floating* y, Py_ssize_t n, int act,
                      floating a) noexcept nogil:
    """``y = act(x)`` over ``n`` elements (``y`` may be ``x``)."""
    if act == ACT_RELU:
        _forward_loop(<ActRelu*> NULL, x, y, n, a)
    elif act == ACT_LEAKY_RELU:
        _forward_loop(<ActLeakyRelu*> NULL, x, y, n, a)
    elif act == ACT_ELU:
        _forward_loop(<ActElu*> NULL, x, y, n, a)
    elif act == ACT_SELU:
        _forward_loop(<ActSelu*> NULL, x, y, n, a)
    elif act == ACT_GELU:
        _forward_loop(<ActGelu*> NULL, x, y, n, a)
    elif act == ACT_GELU_TANH:
        _forward_loop(<ActGeluTanh*> NULL, x, y, n, a)
    elif act == ACT_SILU:
        _forward_loop(<ActSilu*> NULL, x, y, n, a)
    elif act == ACT_MISH:
        _forward_loop(<ActMish*> NULL, x, y, n, a)
    elif act == ACT_SOFTPLUS:
        _forward_loop(<ActSoftplus*> NULL, x, y, n, a)
    elif act == ACT_TANH:
        _forward_loop(<ActTanh*> NULL, x, y, n, a)
    elif act == ACT_SIGMOID:
        _forward_loop(<ActSigmoid*> NULL, x, y, n, a)
    elif act == ACT_CELU:
        _forward_loop(<ActCelu*> NULL, x, y, n, a)
    elif act == ACT_HARDSWISH:
        _forward_loop(<ActHardswish*> NULL, x, y, n, a)
    elif act == ACT_HARDSIGMOID:
        _forward_loop(<ActHardsigmoid*> NULL, x, y, n, a)
    elif act == ACT_SOFTSIGN:
        _forward_loop(<ActSoftsign*> NULL, x, y, n, a)
    elif act == ACT_TANHSHRINK:
        _forward_loop(<ActTanhshrink*> NULL, x, y, n, a)
    elif act == ACT_LOGSIGMOID:
        _forward_loop(<ActLogsigmoid*> NULL, x, y, n, a)
    else:
        _forward_loop(<ActIdentity*> NULL, x, y, n, a)


cdef void act_forward_rows(floating* y, const floating* bias, floating* pre,
                           Py_ssize_t pre_row_stride, Py_ssize_t n_rows,
                           Py_ssize_t n_cols, int act, floating a) noexcept nogil:
    """The dense epilogue, one fused pass in place over the GEMM output ``y``:
    ``z = y + bias`` (bias per column), ``pre = z``, ``y = act(z)``.

    ``bias`` and ``pre`` must not be NULL: pass zeros for no bias, and one
    scratch row with ``pre_row_stride = 0`` when the pre-activation is not kept.
    """
    if act == ACT_RELU:
        _forward_bias_rows(<ActRelu*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_LEAKY_RELU:
        _forward_bias_rows(<ActLeakyRelu*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_ELU:
        _forward_bias_rows(<ActElu*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_SELU:
        _forward_bias_rows(<ActSelu*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_GELU:
        _forward_bias_rows(<ActGelu*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_GELU_TANH:
        _forward_bias_rows(<ActGeluTanh*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_SILU:
        _forward_bias_rows(<ActSilu*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_MISH:
        _forward_bias_rows(<ActMish*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_SOFTPLUS:
        _forward_bias_rows(<ActSoftplus*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_TANH:
        _forward_bias_rows(<ActTanh*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_SIGMOID:
        _forward_bias_rows(<ActSigmoid*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_CELU:
        _forward_bias_rows(<ActCelu*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_HARDSWISH:
        _forward_bias_rows(<ActHardswish*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_HARDSIGMOID:
        _forward_bias_rows(<ActHardsigmoid*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_SOFTSIGN:
        _forward_bias_rows(<ActSoftsign*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_TANHSHRINK:
        _forward_bias_rows(<ActTanhshrink*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    elif act == ACT_LOGSIGMOID:
        _forward_bias_rows(<ActLogsigmoid*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)
    else:
        _forward_bias_rows(<ActIdentity*> NULL, y, bias, pre, pre_row_stride, n_rows, n_cols, a)


cdef void act_backward(const floating* g, const floating* v, floating* gz,
                       Py_ssize_t n, int act, floating a) noexcept nogil:
    """``gz = g * act'(v)`` over ``n`` elements (``v``: see ``act_backward_elem``)."""
    if act == ACT_RELU:
        _backward_loop(<ActRelu*> NULL, g, v, gz, n, a)
    elif act == ACT_LEAKY_RELU:
        _backward_loop(<ActLeakyRelu*> NULL, g, v, gz, n, a)
    elif act == ACT_ELU:
        _backward_loop(<ActElu*> NULL, g, v, gz, n, a)
    elif act == ACT_SELU:
        _backward_loop(<ActSelu*> NULL, g, v, gz, n, a)
    elif act == ACT_GELU:
        _backward_loop(<ActGelu*> NULL, g, v, gz, n, a)
    elif act == ACT_GELU_TANH:
        _backward_loop(<ActGeluTanh*> NULL, g, v, gz, n, a)
    elif act == ACT_SILU:
        _backward_loop(<ActSilu*> NULL, g, v, gz, n, a)
    elif act == ACT_MISH:
        _backward_loop(<ActMish*> NULL, g, v, gz, n, a)
    elif act == ACT_SOFTPLUS:
        _backward_loop(<ActSoftplus*> NULL, g, v, gz, n, a)
    elif act == ACT_TANH:
        _backward_loop(<ActTanh*> NULL, g, v, gz, n, a)
    elif act == ACT_SIGMOID:
        _backward_loop(<ActSigmoid*> NULL, g, v, gz, n, a)
    elif act == ACT_CELU:
        _backward_loop(<ActCelu*> NULL, g, v, gz, n, a)
    elif act == ACT_HARDSWISH:
        _backward_loop(<ActHardswish*> NULL, g, v, gz, n, a)
    elif act == ACT_HARDSIGMOID:
        _backward_loop(<ActHardsigmoid*> NULL, g, v, gz, n, a)
    elif act == ACT_SOFTSIGN:
        _backward_loop(<ActSoftsign*> NULL, g, v, gz, n, a)
    elif act == ACT_TANHSHRINK:
        _backward_loop(<ActTanhshrink*> NULL, g, v, gz, n, a)
    elif act == ACT_LOGSIGMOID:
        _backward_loop(<ActLogsigmoid*> NULL, g, v, gz, n, a)
    else:
        _backward_loop(<ActIdentity*> NULL, g, v, gz, n, a)


cdef void act_backward_rows(const floating* g, const floating* v, floating* gz,
                            double* colsum, Py_ssize_t n_rows, Py_ssize_t n_cols,
                            int act, floating a) noexcept nogil:
    """The dense backward pass: ``gz = g * act'(v)`` and
    ``colsum[j] += gz[i, j]`` (the bias gradient) together; ``colsum`` must
    not be NULL."""
    if act == ACT_RELU:
        _backward_colsum_rows(<ActRelu*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_LEAKY_RELU:
        _backward_colsum_rows(<ActLeakyRelu*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_ELU:
        _backward_colsum_rows(<ActElu*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_SELU:
        _backward_colsum_rows(<ActSelu*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_GELU:
        _backward_colsum_rows(<ActGelu*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_GELU_TANH:
        _backward_colsum_rows(<ActGeluTanh*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_SILU:
        _backward_colsum_rows(<ActSilu*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_MISH:
        _backward_colsum_rows(<ActMish*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_SOFTPLUS:
        _backward_colsum_rows(<ActSoftplus*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_TANH:
        _backward_colsum_rows(<ActTanh*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_SIGMOID:
        _backward_colsum_rows(<ActSigmoid*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_CELU:
        _backward_colsum_rows(<ActCelu*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_HARDSWISH:
        _backward_colsum_rows(<ActHardswish*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_HARDSIGMOID:
        _backward_colsum_rows(<ActHardsigmoid*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_SOFTSIGN:
        _backward_colsum_rows(<ActSoftsign*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_TANHSHRINK:
        _backward_colsum_rows(<ActTanhshrink*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    elif act == ACT_LOGSIGMOID:
        _backward_colsum_rows(<ActLogsigmoid*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
    else:
        _backward_colsum_rows(<ActIdentity*> NULL, g, v, gz, colsum, n_rows, n_cols, a)


# ---------------------------------------------------------------------------
# PReLU: a learnable negative slope, shared or one per channel
# ---------------------------------------------------------------------------

# The input is seen as (n_outer, n_ch, n_inner), C-contiguous, with slope
# w[c] for channel c (n_ch = 1, n_outer = 1 for a shared slope). With
# n_inner == 1 (a 2-D input) the loop runs along the channels instead, so
# that it stays long enough to vectorise.

cdef void prelu_forward(const floating* x, const floating* w, floating* y,
                        Py_ssize_t n_outer, Py_ssize_t n_ch,
                        Py_ssize_t n_inner) noexcept nogil:
    """``y = x if x > 0 else w[c] * x``."""
    cdef Py_ssize_t o, c, i, off
    cdef floating xi, wc, neg
    if n_inner == 1:
        for o in range(n_outer):
            off = o * n_ch
            for c in range(n_ch):
                xi = x[off + c]
                neg = w[c] * xi
                y[off + c] = xi if xi > 0 else neg
        return
    for o in range(n_outer):
        for c in range(n_ch):
            off = (o * n_ch + c) * n_inner
            wc = w[c]
            for i in range(n_inner):
                xi = x[off + i]
                neg = wc * xi
                y[off + i] = xi if xi > 0 else neg


cdef void prelu_backward(const floating* g, const floating* x, const floating* w,
                         floating* gx, double* gw, Py_ssize_t n_outer,
                         Py_ssize_t n_ch, Py_ssize_t n_inner) noexcept nogil:
    """``gx = g if x > 0 else w[c] g`` (skipped when ``gx`` is NULL) and
    ``gw[c] += sum of x g where x <= 0`` (skipped when ``gw`` is NULL)."""
    cdef Py_ssize_t o, c, i, off
    cdef floating xi, gi, wc, neg, r
    cdef double acc
    if n_inner == 1:
        for o in range(n_outer):
            off = o * n_ch
            if gx != NULL:
                for c in range(n_ch):
                    xi = x[off + c]
                    gi = g[off + c]
                    neg = w[c] * gi
                    gx[off + c] = gi if xi > 0 else neg
            if gw != NULL:
                for c in range(n_ch):
                    xi = x[off + c]
                    r = xi * g[off + c]
                    gw[c] += 0 if xi > 0 else r
        return
    for o in range(n_outer):
        for c in range(n_ch):
            off = (o * n_ch + c) * n_inner
            wc = w[c]
            if gx != NULL:
                for i in range(n_inner):
                    xi = x[off + i]
                    gi = g[off + i]
                    neg = wc * gi
                    gx[off + i] = gi if xi > 0 else neg
            if gw != NULL:
                acc = 0
                for i in range(n_inner):
                    xi = x[off + i]
                    r = xi * g[off + i]
                    acc += 0 if xi > 0 else r
                gw[c] += acc


# ---------------------------------------------------------------------------
# softmax / log-softmax, one row at a time
# ---------------------------------------------------------------------------

cdef void softmax_rows(const floating* x, floating* out, Py_ssize_t n, Py_ssize_t c,
                       bint take_log) noexcept nogil:
    """Softmax (or log-softmax) of each of the ``n`` rows of length ``c >= 1``."""
    cdef Py_ssize_t i, j
    cdef const floating* xr
    cdef floating* outr
    cdef floating m, shift, sf
    for i in range(n):
        xr = x + i * c
        outr = out + i * c
        m = row_max(xr, c)
        for j in range(c):
            outr[j] = c_exp(xr[j] - m)
        sf = <floating> row_sum(outr, c)
        if take_log:
            # shifted - log(sum(exp(shifted))), as the reference
            shift = c_log(sf)
            for j in range(c):
                outr[j] = (xr[j] - m) - shift
        else:
            for j in range(c):
                outr[j] = outr[j] / sf


cdef void softmax_backward_rows(const floating* gy, const floating* y, floating* gx,
                                Py_ssize_t n, Py_ssize_t c, bint from_log) noexcept nogil:
    """Gradient of softmax (``from_log``: log-softmax) given its output ``y``."""
    cdef Py_ssize_t i, j
    cdef const floating* gr
    cdef const floating* yr
    cdef floating* outr
    cdef floating sf
    for i in range(n):
        gr = gy + i * c
        yr = y + i * c
        outr = gx + i * c
        if from_log:
            sf = <floating> row_sum(gr, c)
            for j in range(c):
                outr[j] = gr[j] - c_exp(yr[j]) * sf
        else:
            sf = <floating> row_dot(gr, yr, c)
            for j in range(c):
                outr[j] = yr[j] * (gr[j] - sf)


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
