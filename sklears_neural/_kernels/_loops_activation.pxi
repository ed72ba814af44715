# The activation loops of the ``_loops`` / ``_loops_avx2`` pair (included by
# ``_loops.pxi``, compiled once per build): elementwise forward/backward, the
# dense layer's fused epilogues, PReLU, and softmax / log-softmax rows.

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport (
    ACT_CELU, ACT_ELU, ACT_GELU, ACT_GELU_TANH, ACT_HARDSIGMOID, ACT_HARDSWISH,
    ACT_LEAKY_RELU, ACT_LOGSIGMOID, ACT_MISH, ACT_RELU, ACT_SELU, ACT_SIGMOID, ACT_SILU,
    ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_TANH, ACT_TANHSHRINK, Act, ActCelu, ActElu, ActGelu,
    ActGeluTanh, ActHardsigmoid, ActHardswish, ActIdentity, ActLeakyRelu, ActLogsigmoid,
    ActMish, ActRelu, ActSelu, ActSigmoid, ActSilu, ActSoftplus, ActSoftsign, ActTanh,
    ActTanhshrink, act_backward_elem, act_forward_elem, c_exp, c_log, row_dot, row_max,
    row_sum,
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
