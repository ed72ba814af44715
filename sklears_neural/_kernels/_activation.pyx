"""Activations forward and backward, softmax and log-softmax (CPU kernels).

Same names, signatures and results as ``sklears_neural._xp._activation``.
Each kernel is one pass over its input: an elementwise loop for the
activations, one loop per row (max, exp-sum, output) for the softmaxes.
The loops themselves are in ``_loops.pxi`` (built for two instruction sets,
dispatched at run time).
"""

import numpy as np

cimport cython

from cython.parallel cimport prange

cimport sklears_neural._kernels._loops as base
cimport sklears_neural._kernels._loops_avx2 as avx2
cimport sklears_neural._kernels._loops_avx512 as avx512
from sklears_neural._kernels._cpu cimport use_avx2, use_avx512
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport (
    ACT_CELU, ACT_ELU, ACT_GELU, ACT_GELU_TANH, ACT_HARDSIGMOID, ACT_HARDSWISH,
    ACT_IDENTITY, ACT_LEAKY_RELU, ACT_LOGSIGMOID, ACT_MISH, ACT_RELU, ACT_SELU,
    ACT_SIGMOID, ACT_SILU, ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_TANH, ACT_TANHSHRINK,
    SKN_SELU_ALPHA, SKN_SELU_SCALE, SKN_SOFTPLUS_THRESHOLD,
)
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._kernels._blas import products_on_own_gemm
from sklears_neural._specs._arrays import (
    FLOAT32,
    as_array,
    c_array,
    check_last_axis,
    check_same_shape,
    float_dtype,
)
from sklears_neural._specs import (
    ACTIVATION_IDS,
    SELU_ALPHA,
    SELU_SCALE,
    SOFTPLUS_THRESHOLD,
    backward_operand,
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
    "prelu_forward",
    "prelu_backward",
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
    "celu": ACT_CELU,
    "hardswish": ACT_HARDSWISH,
    "hardsigmoid": ACT_HARDSIGMOID,
    "softsign": ACT_SOFTSIGN,
    "tanhshrink": ACT_TANHSHRINK,
    "logsigmoid": ACT_LOGSIGMOID,
}
_C_CONSTANTS = (SKN_SELU_ALPHA, SKN_SELU_SCALE, SKN_SOFTPLUS_THRESHOLD)
if _C_ACTIVATION_IDS != ACTIVATION_IDS or _C_CONSTANTS != (
    SELU_ALPHA, SELU_SCALE, SOFTPLUS_THRESHOLD
):
    raise ImportError(
        "sklears_neural._kernels was built against a different "
        "sklears_neural._specs (activation ids or constants differ); rebuild it."
    )

# Below this many elements an activation runs serially even when n_threads
# asks for more (see ``_openmp_helpers``: measured break-even is 16k-64k
# elements in isolation; this keeps a margin for thread wake-up).
PARALLEL_MIN_SIZE = 1 << 18


# ---------------------------------------------------------------------------
# nogil loops
# ---------------------------------------------------------------------------

# The loops are compiled twice (``_loops.pxi``); ``use_avx2()`` picks the
# build for this CPU.

cdef inline void _act_forward(const floating* x, floating* y, Py_ssize_t n, int act,
                              floating a) noexcept nogil:
    if use_avx512():
        avx512.act_forward(x, y, n, act, a)
    elif use_avx2():
        avx2.act_forward(x, y, n, act, a)
    else:
        base.act_forward(x, y, n, act, a)


cdef inline void _act_backward(const floating* g, const floating* v, floating* gz,
                               Py_ssize_t n, int act, floating a) noexcept nogil:
    if use_avx512():
        avx512.act_backward(g, v, gz, n, act, a)
    elif use_avx2():
        avx2.act_backward(g, v, gz, n, act, a)
    else:
        base.act_backward(g, v, gz, n, act, a)


cdef int _forward_flat(const floating[::1] x, floating[::1] y, int act, floating a,
                       int n_threads) except -1:
    cdef Py_ssize_t n = x.shape[0], chunk, lo, hi
    cdef int c
    with nogil:
        if n_threads <= 1:
            _act_forward(&x[0], &y[0], n, act, a)
        else:
            chunk = (n + n_threads - 1) // n_threads
            for c in prange(n_threads, num_threads=n_threads, schedule="static"):
                lo = c * chunk
                hi = min(n, lo + chunk)
                if lo < hi:
                    _act_forward(&x[lo], &y[lo], hi - lo, act, a)
    return 0


cdef int _backward_flat(const floating[::1] g, const floating[::1] v, floating[::1] gz,
                        int act, floating a, int n_threads) except -1:
    cdef Py_ssize_t n = g.shape[0], chunk, lo, hi
    cdef int c
    with nogil:
        if n_threads <= 1:
            _act_backward(&g[0], &v[0], &gz[0], n, act, a)
        else:
            chunk = (n + n_threads - 1) // n_threads
            for c in prange(n_threads, num_threads=n_threads, schedule="static"):
                lo = c * chunk
                hi = min(n, lo + chunk)
                if lo < hi:
                    _act_backward(&g[lo], &v[lo], &gz[lo], hi - lo, act, a)
    return 0


cdef int _softmax_rows(const floating[:, ::1] x, floating[:, ::1] out,
                       bint take_log) except -1:
    with nogil:
        if use_avx512():
            avx512.softmax_rows(&x[0, 0], &out[0, 0], x.shape[0], x.shape[1], take_log)
        elif use_avx2():
            avx2.softmax_rows(&x[0, 0], &out[0, 0], x.shape[0], x.shape[1], take_log)
        else:
            base.softmax_rows(&x[0, 0], &out[0, 0], x.shape[0], x.shape[1], take_log)
    return 0


cdef int _softmax_backward_rows(const floating[:, ::1] gy, const floating[:, ::1] y,
                                floating[:, ::1] gx, bint from_log) except -1:
    with nogil:
        if use_avx512():
            avx512.softmax_backward_rows(&gy[0, 0], &y[0, 0], &gx[0, 0], gy.shape[0],
                                         gy.shape[1], from_log)
        elif use_avx2():
            avx2.softmax_backward_rows(&gy[0, 0], &y[0, 0], &gx[0, 0], gy.shape[0],
                                       gy.shape[1], from_log)
        else:
            base.softmax_backward_rows(&gy[0, 0], &y[0, 0], &gx[0, 0], gy.shape[0],
                                       gy.shape[1], from_log)
    return 0


cdef int _prelu_forward(const floating[::1] x, const floating[::1] w, floating[::1] y,
                        Py_ssize_t n_outer, Py_ssize_t n_ch, Py_ssize_t n_inner) except -1:
    with nogil:
        if use_avx512():
            avx512.prelu_forward(&x[0], &w[0], &y[0], n_outer, n_ch, n_inner)
        elif use_avx2():
            avx2.prelu_forward(&x[0], &w[0], &y[0], n_outer, n_ch, n_inner)
        else:
            base.prelu_forward(&x[0], &w[0], &y[0], n_outer, n_ch, n_inner)
    return 0


cdef int _prelu_backward(const floating[::1] g, const floating[::1] x,
                         const floating[::1] w, floating[::1] gx, double[::1] gw,
                         bint need_x, bint need_weight, Py_ssize_t n_outer,
                         Py_ssize_t n_ch, Py_ssize_t n_inner) except -1:
    cdef floating* gxp = &gx[0] if need_x else NULL
    cdef double* gwp = &gw[0] if need_weight else NULL
    with nogil:
        if use_avx512():
            avx512.prelu_backward(&g[0], &x[0], &w[0], gxp, gwp, n_outer, n_ch, n_inner)
        elif use_avx2():
            avx2.prelu_backward(&g[0], &x[0], &w[0], gxp, gwp, n_outer, n_ch, n_inner)
        else:
            base.prelu_backward(&g[0], &x[0], &w[0], gxp, gwp, n_outer, n_ch, n_inner)
    return 0


# ---------------------------------------------------------------------------
# Python faces
# ---------------------------------------------------------------------------

def activation_forward(x, activation, activation_param=None, *, n_threads=None):
    """Return ``activation(x)`` elementwise.

    Parameters
    ----------
    x : array-like
        Any shape, float32 or float64.
    activation : str
        A name from ``sklears_neural._specs.ACTIVATIONS``.
    activation_param : float, optional
        negative_slope for leaky_relu, alpha for elu and celu, beta for
        softplus.
    n_threads : int, optional
        Up to this many OpenMP threads for arrays of at least
        ``PARALLEL_MIN_SIZE`` elements; None (default) runs serially.

    Returns
    -------
    ndarray
        A new C-contiguous array of the shape and dtype of ``x``.
    """
    name = check_activation(activation)
    cdef int act = ACTIVATION_IDS[name]
    cdef double a = default_param(name, activation_param)
    dtype = float_dtype("activation_forward", ("x", x))
    x = as_array(x)
    xc = c_array(x, dtype)
    y = np.empty(x.shape, dtype=dtype)
    nt = resolve_n_threads(n_threads, xc.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if dtype == FLOAT32:
        _forward_flat[float](xc.reshape(-1), y.reshape(-1), act, <float> a, nt)
    else:
        _forward_flat[double](xc.reshape(-1), y.reshape(-1), act, a, nt)
    return y


def activation_backward(gy, x, y, activation, activation_param=None, *, n_threads=None):
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
    activation_param : float, optional
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
    cdef double a = default_param(name, activation_param)
    if name == "identity":
        dtype = float_dtype(kernel, ("gy", gy))
        return np.array(gy, dtype=dtype, order="C", copy=True)
    v_name, v = backward_operand(kernel, name, x, y)
    dtype = float_dtype(kernel, ("gy", gy), (v_name, v))
    gy = as_array(gy)
    v = as_array(v)
    check_same_shape(kernel, "gy", gy, v_name, v)
    gyc = c_array(gy, dtype)
    vc = c_array(v, dtype)
    gx = np.empty(gy.shape, dtype=dtype)
    nt = resolve_n_threads(n_threads, gyc.size, PARALLEL_MIN_SIZE,
                           products_on_own_gemm(dtype))
    if dtype == FLOAT32:
        _backward_flat[float](gyc.reshape(-1), vc.reshape(-1), gx.reshape(-1),
                              act, <float> a, nt)
    else:
        _backward_flat[double](gyc.reshape(-1), vc.reshape(-1), gx.reshape(-1),
                               act, a, nt)
    return gx


@cython.wraparound(True)  # Python-level negative indices (shapes)
def _rows_last_axis(kernel, name, a):
    check_last_axis(kernel, name, a)
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


def _prelu_layout(kernel, x, weight):
    """(n_outer, n_ch, n_inner) of ``x`` for ``weight``: one slope shared
    (weight of size 1) or one per channel on axis 1 (size x.shape[1])."""
    if weight.ndim > 1:
        raise ValueError(
            f"{kernel}: weight must be 0-D or 1-D; got shape {weight.shape}."
        )
    n_ch = weight.size
    if n_ch == 1:
        return 1, 1, x.size
    if x.ndim < 2 or x.shape[1] != n_ch:
        raise ValueError(
            f"{kernel}: weight has {n_ch} elements but x has shape {x.shape}; "
            "weight needs 1 element (shared) or one per channel (x.shape[1])."
        )
    n_inner = 1
    for s in x.shape[2:]:
        n_inner *= s
    return x.shape[0], n_ch, n_inner


def prelu_forward(x, weight):
    """Return ``x if x > 0 else weight * x`` (PReLU).

    Parameters
    ----------
    x : array-like
        Any shape, float32 or float64.
    weight : array-like
        The negative slope(s): 1 element, shared, or ``x.shape[1]`` elements,
        one per channel (axis 1).

    Returns
    -------
    ndarray
        A new C-contiguous array of the shape and dtype of ``x``.
    """
    kernel = "prelu_forward"
    dtype = float_dtype(kernel, ("x", x), ("weight", weight))
    x = as_array(x)
    weight = as_array(weight)
    n_outer, n_ch, n_inner = _prelu_layout(kernel, x, weight)
    xc = c_array(x, dtype)
    wc = c_array(weight, dtype).reshape(-1)
    y = np.empty(x.shape, dtype=dtype)
    if xc.size == 0:
        return y
    if dtype == FLOAT32:
        _prelu_forward[float](xc.reshape(-1), wc, y.reshape(-1), n_outer, n_ch, n_inner)
    else:
        _prelu_forward[double](xc.reshape(-1), wc, y.reshape(-1), n_outer, n_ch, n_inner)
    return y


def prelu_backward(gy, x, weight, need_x=True, need_weight=True):
    """Gradients of PReLU with respect to its input and its weight.

    Parameters
    ----------
    gy : array-like
        Gradient with respect to the output, shape of ``x``.
    x : array-like
        The input of the forward pass.
    weight : array-like
        The slope(s) of the forward pass.
    need_x, need_weight : bool
        Which gradients to compute; the other is returned as None.

    Returns
    -------
    gx : ndarray or None
        ``gy if x > 0 else weight * gy``, shape of ``x``.
    gweight : ndarray or None
        Sum of ``x * gy`` where ``x <= 0``, per slope; shape of ``weight``.
    """
    kernel = "prelu_backward"
    dtype = float_dtype(kernel, ("gy", gy), ("x", x), ("weight", weight))
    gy = as_array(gy)
    x = as_array(x)
    weight = as_array(weight)
    check_same_shape(kernel, "gy", gy, "x", x)
    n_outer, n_ch, n_inner = _prelu_layout(kernel, x, weight)
    gx = np.empty(x.shape, dtype=dtype) if need_x else None
    gw = np.zeros(n_ch, dtype=np.float64) if need_weight else None
    if x.size and (need_x or need_weight):
        gyc = c_array(gy, dtype).reshape(-1)
        xc = c_array(x, dtype).reshape(-1)
        wc = c_array(weight, dtype).reshape(-1)
        # placeholders for the gradient not asked for (never written)
        gx_flat = gx.reshape(-1) if need_x else np.empty(1, dtype=dtype)
        gw_buf = gw if need_weight else np.empty(1, dtype=np.float64)
        if dtype == FLOAT32:
            _prelu_backward[float](gyc, xc, wc, gx_flat, gw_buf, need_x, need_weight,
                                   n_outer, n_ch, n_inner)
        else:
            _prelu_backward[double](gyc, xc, wc, gx_flat, gw_buf, need_x, need_weight,
                                    n_outer, n_ch, n_inner)
    if need_weight:
        gw = gw.astype(dtype).reshape(weight.shape)
    return gx, gw
