"""Activations forward and backward, softmax and log-softmax (CPU kernels).

Same names, signatures and results as ``sklears_neural._xp._activation``.
Each kernel is one pass over its input: an elementwise loop for the
activations, one loop per row (max, exp-sum, output) for the softmaxes.
The dense layer's fused epilogues live here too (``act_forward_rows`` /
``act_backward_rows``, cimported by ``_dense``).
"""

import numpy as np

cimport cython

from cython.parallel cimport prange

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport (
    ACT_ELU, ACT_GELU, ACT_GELU_TANH, ACT_IDENTITY, ACT_LEAKY_RELU, ACT_MISH,
    ACT_RELU, ACT_SELU, ACT_SIGMOID, ACT_SILU, ACT_SOFTPLUS, ACT_TANH,
    SKN_SELU_ALPHA, SKN_SELU_SCALE, SKN_SOFTPLUS_THRESHOLD, Act, ActElu, ActGelu,
    ActGeluTanh, ActIdentity, ActLeakyRelu, ActMish, ActRelu, ActSelu, ActSigmoid,
    ActSilu, ActSoftplus, ActTanh, act_backward_elem, act_forward_elem, c_exp, c_log,
)
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._kernels._validation import (
    FLOAT32,
    as_array,
    c_array,
    check_same_shape,
    float_dtype,
)
from sklears_neural._specs import (
    ACTIVATION_IDS,
    SELU_ALPHA,
    SELU_SCALE,
    SOFTPLUS_THRESHOLD,
    backward_uses_output,
    check_activation,
    default_param,
)

__all__ = [
    "activation_forward",
    "activation_backward",
    "softmax",
    "log_softmax",
    "softmax_backward",
    "log_softmax_backward",
]

# The C side switches on these ids; they must be the ids of ``_specs``.
_C_ACTIVATION_IDS = {
    "identity": ACT_IDENTITY,
    "relu": ACT_RELU,
    "leaky_relu": ACT_LEAKY_RELU,
    "elu": ACT_ELU,
    "selu": ACT_SELU,
    "gelu": ACT_GELU,
    "gelu_tanh": ACT_GELU_TANH,
    "silu": ACT_SILU,
    "mish": ACT_MISH,
    "softplus": ACT_SOFTPLUS,
    "tanh": ACT_TANH,
    "sigmoid": ACT_SIGMOID,
}
_C_CONSTANTS = (SKN_SELU_ALPHA, SKN_SELU_SCALE, SKN_SOFTPLUS_THRESHOLD)
if _C_ACTIVATION_IDS != ACTIVATION_IDS or _C_CONSTANTS != (
    SELU_ALPHA, SELU_SCALE, SOFTPLUS_THRESHOLD
):
    raise ImportError(
        "sklears_neural._kernels was built against a different "
        "sklears_neural._specs (activation ids or constants differ); rebuild it."
    )

# From this many elements an elementwise activation uses all OpenMP threads
# when n_threads is None (measured: see the kernels' benchmark notes).
PARALLEL_MIN_SIZE = 1 << 18


# ---------------------------------------------------------------------------
# nogil loops
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


cdef int _forward_flat(const floating[::1] x, floating[::1] y, int act, floating a,
                       int n_threads) except -1:
    cdef Py_ssize_t n = x.shape[0], chunk, lo, hi
    cdef int c
    with nogil:
        if n_threads <= 1:
            act_forward(&x[0], &y[0], n, act, a)
        else:
            chunk = (n + n_threads - 1) // n_threads
            for c in prange(n_threads, num_threads=n_threads, schedule="static"):
                lo = c * chunk
                hi = min(n, lo + chunk)
                if lo < hi:
                    act_forward(&x[lo], &y[lo], hi - lo, act, a)
    return 0


cdef int _backward_flat(const floating[::1] g, const floating[::1] v, floating[::1] gz,
                        int act, floating a, int n_threads) except -1:
    cdef Py_ssize_t n = g.shape[0], chunk, lo, hi
    cdef int c
    with nogil:
        if n_threads <= 1:
            act_backward(&g[0], &v[0], &gz[0], n, act, a)
        else:
            chunk = (n + n_threads - 1) // n_threads
            for c in prange(n_threads, num_threads=n_threads, schedule="static"):
                lo = c * chunk
                hi = min(n, lo + chunk)
                if lo < hi:
                    act_backward(&g[lo], &v[lo], &gz[lo], hi - lo, act, a)
    return 0


cdef int _softmax_rows(const floating[:, ::1] x, floating[:, ::1] out,
                       bint take_log) except -1:
    cdef Py_ssize_t n = x.shape[0], c = x.shape[1], i, j
    cdef floating m, shift
    cdef double s
    with nogil:
        for i in range(n):
            # A NaN anywhere makes the sum NaN, hence the whole row, as in numpy.
            m = x[i, 0]
            for j in range(1, c):
                if x[i, j] > m:
                    m = x[i, j]
            s = 0
            if take_log:
                for j in range(c):
                    s += c_exp(x[i, j] - m)
                # shifted - log(sum(exp(shifted))), as the reference
                shift = c_log(<floating> s)
                for j in range(c):
                    out[i, j] = (x[i, j] - m) - shift
            else:
                for j in range(c):
                    out[i, j] = c_exp(x[i, j] - m)
                    s += out[i, j]
                for j in range(c):
                    out[i, j] = out[i, j] / <floating> s
    return 0


cdef int _softmax_backward_rows(const floating[:, ::1] gy, const floating[:, ::1] y,
                                floating[:, ::1] gx, bint from_log) except -1:
    cdef Py_ssize_t n = gy.shape[0], c = gy.shape[1], i, j
    cdef double s
    cdef floating sf
    with nogil:
        for i in range(n):
            s = 0
            if from_log:
                for j in range(c):
                    s += gy[i, j]
                sf = <floating> s
                for j in range(c):
                    gx[i, j] = gy[i, j] - c_exp(y[i, j]) * sf
            else:
                for j in range(c):
                    s += gy[i, j] * y[i, j]
                sf = <floating> s
                for j in range(c):
                    gx[i, j] = y[i, j] * (gy[i, j] - sf)
    return 0


# ---------------------------------------------------------------------------
# Python faces
# ---------------------------------------------------------------------------

def activation_forward(x, activation, param=None, *, n_threads=None):
    """Return ``activation(x)`` elementwise.

    Parameters
    ----------
    x : array-like
        Any shape, float32 or float64.
    activation : str
        A name from ``sklears_neural._specs.ACTIVATIONS``.
    param : float, optional
        negative_slope for leaky_relu, alpha for elu, beta for softplus.
    n_threads : int, optional
        OpenMP threads; None runs serially below ``PARALLEL_MIN_SIZE``
        elements and on all threads above.

    Returns
    -------
    ndarray
        A new C-contiguous array of the shape and dtype of ``x``.
    """
    name = check_activation(activation)
    cdef int act = ACTIVATION_IDS[name]
    cdef double a = default_param(name, param)
    dtype = float_dtype("activation_forward", ("x", x))
    x = as_array(x)
    xc = c_array(x, dtype)
    y = np.empty(x.shape, dtype=dtype)
    nt = resolve_n_threads(n_threads, xc.size, PARALLEL_MIN_SIZE)
    if dtype == FLOAT32:
        _forward_flat[float](xc.reshape(-1), y.reshape(-1), act, <float> a, nt)
    else:
        _forward_flat[double](xc.reshape(-1), y.reshape(-1), act, a, nt)
    return y


def activation_backward(gy, x, y, activation, param=None, *, n_threads=None):
    """Return ``gy * activation'(x)``.

    Parameters
    ----------
    gy : array-like
        Gradient with respect to the activation's output.
    x : array-like or None
        The activation's input; may be None when
        ``backward_uses_output(activation)`` is true.
    y : array-like or None
        The activation's output; may be None when the backward uses the input.
    activation : str
    param : float, optional
    n_threads : int, optional
        As in ``activation_forward``.

    Returns
    -------
    ndarray
        A new array of the shape and dtype of ``gy``.
    """
    kernel = "activation_backward"
    name = check_activation(activation)
    cdef int act = ACTIVATION_IDS[name]
    cdef double a = default_param(name, param)
    if name == "identity":
        dtype = float_dtype(kernel, ("gy", gy))
        return np.array(gy, dtype=dtype, order="C", copy=True)
    if backward_uses_output(name):
        v_name, v = "y", y
    else:
        v_name, v = "x", x
    if v is None:
        raise ValueError(
            f"{kernel}: the backward of {name!r} needs {v_name} (the activation's "
            f"{'output' if v_name == 'y' else 'input'}); got None."
        )
    dtype = float_dtype(kernel, ("gy", gy), (v_name, v))
    gy = as_array(gy)
    v = as_array(v)
    check_same_shape(kernel, "gy", gy, v_name, v)
    gyc = c_array(gy, dtype)
    vc = c_array(v, dtype)
    gx = np.empty(gy.shape, dtype=dtype)
    nt = resolve_n_threads(n_threads, gyc.size, PARALLEL_MIN_SIZE)
    if dtype == FLOAT32:
        _backward_flat[float](gyc.reshape(-1), vc.reshape(-1), gx.reshape(-1),
                              act, <float> a, nt)
    else:
        _backward_flat[double](gyc.reshape(-1), vc.reshape(-1), gx.reshape(-1),
                               act, a, nt)
    return gx


@cython.wraparound(True)  # Python-level negative indices (shapes)
def _rows_last_axis(kernel, name, a):
    if a.ndim == 0:
        raise ValueError(f"{kernel}: {name} must have at least 1 dimension; got a scalar.")
    if a.shape[-1] == 0:
        raise ValueError(
            f"{kernel}: {name} has shape {a.shape}; the last axis must not be empty."
        )
    return a.reshape(-1, a.shape[-1])


def _softmax(kernel, x, take_log):
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    xc = c_array(x, dtype)
    out = np.empty(x.shape, dtype=dtype)
    x2 = _rows_last_axis(kernel, "x", xc)
    out2 = out.reshape(x2.shape)
    if dtype == FLOAT32:
        _softmax_rows[float](x2, out2, take_log)
    else:
        _softmax_rows[double](x2, out2, take_log)
    return out


def softmax(x):
    """Softmax over the last axis (one pass per row)."""
    return _softmax("softmax", x, False)


def log_softmax(x):
    """Log-softmax over the last axis (one pass per row)."""
    return _softmax("log_softmax", x, True)


def _softmax_backward(kernel, gy, y, from_log):
    dtype = float_dtype(kernel, ("gy", gy), ("y", y))
    gy = as_array(gy)
    y = as_array(y)
    check_same_shape(kernel, "gy", gy, "y", y)
    gyc = c_array(gy, dtype)
    yc = c_array(y, dtype)
    gx = np.empty(gy.shape, dtype=dtype)
    gy2 = _rows_last_axis(kernel, "gy", gyc)
    y2 = yc.reshape(gy2.shape)
    gx2 = gx.reshape(gy2.shape)
    if dtype == FLOAT32:
        _softmax_backward_rows[float](gy2, y2, gx2, from_log)
    else:
        _softmax_backward_rows[double](gy2, y2, gx2, from_log)
    return gx


def softmax_backward(gy, y):
    """Gradient of softmax given its output ``y``."""
    return _softmax_backward("softmax_backward", gy, y, False)


def log_softmax_backward(gy, y):
    """Gradient of log-softmax given its output ``y`` (log-probabilities)."""
    return _softmax_backward("log_softmax_backward", gy, y, True)
