# Elementwise activation loops, compiled twice: as ``_activation_loops``
# (portable baseline flags) and as ``_activation_loops_avx2`` (-mavx2 -mfma);
# ``_activation`` picks one at run time from the CPU's features. Both .pyx
# files only include this file, so the two builds cannot drift apart.

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport (
    ACT_ELU, ACT_GELU, ACT_GELU_TANH, ACT_LEAKY_RELU, ACT_MISH, ACT_RELU, ACT_SELU,
    ACT_SIGMOID, ACT_SILU, ACT_SOFTPLUS, ACT_TANH, Act, ActElu, ActGelu, ActGeluTanh,
    ActIdentity, ActLeakyRelu, ActMish, ActRelu, ActSelu, ActSigmoid, ActSilu,
    ActSoftplus, ActTanh, act_backward_elem, act_forward_elem,
)


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
    else:
        _backward_colsum_rows(<ActIdentity*> NULL, g, v, gz, colsum, n_rows, n_cols, a)
