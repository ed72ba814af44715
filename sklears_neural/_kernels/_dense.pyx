"""The dense layer ``y = act(x @ W.T + b)`` (CPU kernels).

Same names, signatures and results as ``sklears_neural._xp._dense``.

Forward: one GEMM into the output, then one fused pass over it that adds the
bias, keeps the pre-activation only when the activation's backward needs it,
and applies the activation in place. Backward: one fused pass computing
``gz = gy * act'(.)`` and the bias gradient (column sums, accumulated in
double) together, then a GEMM for each of ``gx = gz @ W`` and
``gW = gz.T @ x`` that is asked for.

Matrices are handed to BLAS without copies when they are C- or F-contiguous
(an F-contiguous matrix is the C-contiguous storage of its transpose: the
transpose flag flips instead); anything else is copied once.
"""

import numpy as np

cimport cython

from sklears_neural._kernels._fused cimport floating
cimport sklears_neural._kernels._loops as base
cimport sklears_neural._kernels._loops_avx2 as avx2
cimport sklears_neural._kernels._loops_avx512 as avx512
from sklears_neural._kernels._cpu cimport use_avx2, use_avx512
from sklears_neural._kernels._blas cimport gemm_rowmajor

from sklears_neural._specs import (
    ACTIVATION_IDS,
    backward_uses_output,
    check_activation,
    default_param,
)
from sklears_neural._specs._arrays import FLOAT32, FLOAT64, as_array, float_dtype
from sklears_neural._specs._dense import (
    check_dense,
    check_dense_backward,
    dense_backward_operands,
)

__all__ = ["dense_backward", "dense_forward"]


# ---------------------------------------------------------------------------
# nogil parts
# ---------------------------------------------------------------------------

cdef int _gemm_mv(const floating[:, ::1] a, bint trans_a, const floating[:, ::1] b,
                  bint trans_b, floating[:, ::1] c, double alpha,
                  double beta) except -1:
    """c = alpha * op(a) @ op(b) + beta * c; all dimensions positive."""
    cdef int m = <int> c.shape[0]
    cdef int n = <int> c.shape[1]
    cdef int k = <int> (a.shape[0] if trans_a else a.shape[1])
    cdef int lda = <int> a.shape[1]
    cdef int ldb = <int> b.shape[1]
    cdef int ldc = <int> c.shape[1]
    with nogil:
        gemm_rowmajor(trans_a, trans_b, m, n, k, <floating> alpha, &a[0, 0], lda,
                      &b[0, 0], ldb, <floating> beta, &c[0, 0], ldc)
    return 0


cdef int _forward_epilogue(floating[:, ::1] y, const floating[::1] b,
                           floating[:, ::1] pre, bint keep_pre, int act,
                           floating a) except -1:
    """y = act(y + b) in place; pre = y + b (all rows when ``keep_pre``, else
    one scratch row that is overwritten), in one pass."""
    cdef Py_ssize_t pre_stride = pre.shape[1] if keep_pre else 0
    with nogil:
        if use_avx512():
            avx512.act_forward_rows(&y[0, 0], &b[0], &pre[0, 0], pre_stride, y.shape[0],
                                    y.shape[1], act, a)
        elif use_avx2():
            avx2.act_forward_rows(&y[0, 0], &b[0], &pre[0, 0], pre_stride, y.shape[0],
                                  y.shape[1], act, a)
        else:
            base.act_forward_rows(&y[0, 0], &b[0], &pre[0, 0], pre_stride, y.shape[0],
                                  y.shape[1], act, a)
    return 0


cdef int _backward_epilogue(const floating[:, ::1] gy, const floating[:, ::1] v,
                            floating[:, ::1] gz, double[::1] colsum, int act,
                            floating a) except -1:
    """gz = gy * act'(v) and colsum += column sums of gz, in one pass."""
    with nogil:
        if use_avx512():
            avx512.act_backward_rows(&gy[0, 0], &v[0, 0], &gz[0, 0], &colsum[0],
                                     gy.shape[0], gy.shape[1], act, a)
        elif use_avx2():
            avx2.act_backward_rows(&gy[0, 0], &v[0, 0], &gz[0, 0], &colsum[0],
                                   gy.shape[0], gy.shape[1], act, a)
        else:
            base.act_backward_rows(&gy[0, 0], &v[0, 0], &gz[0, 0], &colsum[0],
                                   gy.shape[0], gy.shape[1], act, a)
    return 0


cdef int _column_sums(const floating[:, ::1] g, double[::1] out) except -1:
    cdef Py_ssize_t i, j
    with nogil:
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                out[j] += g[i, j]
    return 0


# ---------------------------------------------------------------------------
# Python side
# ---------------------------------------------------------------------------

def _operand(a, dtype):
    """Return ``(stored, flipped)``: a C-contiguous matrix holding ``a``
    (``a`` itself or ``a.T``, copied only when neither is contiguous)."""
    if a.dtype == dtype:
        if a.flags.c_contiguous:
            return a, False
        if a.flags.f_contiguous:
            return a.T, True
    return np.ascontiguousarray(a, dtype=dtype), False


def _product(a, trans_a, b, trans_b, out, alpha, beta):
    """out = alpha * op(a) @ op(b) + beta * out; ``out`` is C-contiguous.

    Shapes are already checked. Empty products are handled here (BLAS wants
    positive sizes and leading dimensions).
    """
    m, n = out.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        if beta == 0.0:
            out.fill(0)
        else:
            out *= beta
        return
    dtype = out.dtype
    a, flipped = _operand(a, dtype)
    trans_a = trans_a != flipped
    b, flipped = _operand(b, dtype)
    trans_b = trans_b != flipped
    if dtype == FLOAT32:
        _gemm_mv[float](a, trans_a, b, trans_b, out, alpha, beta)
    else:
        _gemm_mv[double](a, trans_a, b, trans_b, out, alpha, beta)


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


@cython.wraparound(True)  # Python-level negative indices (shapes)
def dense_forward(x, W, b, activation="identity", activation_param=None):
    """Forward of a dense layer.

    Parameters
    ----------
    x : array-like of shape (n, in_features)
        Leading dimensions other than one batch axis are flattened (and
        restored on the output).
    W : array-like of shape (out_features, in_features)
    b : array-like of shape (out_features,) or None
    activation : str
    activation_param : float, optional

    Returns
    -------
    y : ndarray of shape (n, out_features)
        ``activation(x @ W.T + b)``.
    pre : ndarray or None
        The pre-activation, kept only when the activation's backward needs it.
    """
    kernel = "dense_forward"
    name = check_activation(activation)
    cdef int act = ACTIVATION_IDS[name]
    cdef double a = default_param(name, activation_param)
    dtype = float_dtype(kernel, ("x", x), ("W", W), ("b", b))
    x = as_array(x)
    W = as_array(W)
    if b is not None:
        b = as_array(b)
    check_dense(kernel, x, W, b)
    out_f, in_f = W.shape
    if b is not None and (b.dtype != dtype or not b.flags.c_contiguous):
        b = np.ascontiguousarray(b, dtype=dtype)
    lead = x.shape[:-1]
    n = _prod(lead)
    x2 = x if x.ndim == 2 else x.reshape(n, in_f)
    y = np.empty((n, out_f), dtype=dtype)
    _product(x2, False, W, True, y, 1.0, 0.0)
    keep_pre = not backward_uses_output(name)
    pre = np.empty((n, out_f), dtype=dtype) if keep_pre else None
    if (b is not None or name != "identity") and n > 0 and out_f > 0:
        # The fused loop always adds a bias and stores a pre-activation:
        # zeros stand in for no bias, one scratch row for an unkept pre.
        bias = b if b is not None else np.zeros(out_f, dtype=dtype)
        pre_buf = pre if keep_pre else np.empty((1, out_f), dtype=dtype)
        if dtype == FLOAT32:
            _forward_epilogue[float](y, bias, pre_buf, keep_pre, act, <float> a)
        else:
            _forward_epilogue[double](y, bias, pre_buf, keep_pre, act, a)
    out_shape = lead + (out_f,)
    if x.ndim != 2:
        y = y.reshape(out_shape)
        if pre is not None:
            pre = pre.reshape(out_shape)
    return y, pre


@cython.wraparound(True)  # Python-level negative indices (shapes)
def dense_backward(gy, x, W, y, pre, activation="identity", activation_param=None,
                   need_x=True, need_W=True, need_b=True):
    """Backward of a dense layer.

    Parameters
    ----------
    gy : array-like of shape (n, out_features)
    x, W : the forward inputs
        ``x`` may be None when ``need_W`` is false, ``W`` when ``need_x`` is.
    y, pre : the forward outputs of ``dense_forward``
        Only the one the activation's backward uses is read (``y`` for
        identity, relu, tanh, sigmoid; ``pre`` otherwise).
    activation, activation_param : as in the forward
    need_x, need_W, need_b : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    gx, gW, gb : ndarrays or None
    """
    kernel = "dense_backward"
    name = check_activation(activation)
    cdef int act = ACTIVATION_IDS[name]
    cdef double a = default_param(name, activation_param)
    need_x = bool(need_x)
    need_W = bool(need_W)
    need_b = bool(need_b)
    identity = name == "identity"
    v_name, v, x, W = dense_backward_operands(kernel, name, x, W, y, pre, need_x, need_W)
    dtype = float_dtype(kernel, ("gy", gy), (v_name, v), ("x", x), ("W", W))
    gy = as_array(gy)
    if v is not None:
        v = as_array(v)
    if x is not None:
        x = as_array(x)
    if W is not None:
        W = as_array(W)
    check_dense_backward(kernel, gy, v_name, v, x, W)
    out_f = gy.shape[-1]
    lead = gy.shape[:-1]
    n = _prod(lead)
    if not (need_x or need_W or need_b):
        return None, None, None
    gy2 = np.ascontiguousarray(gy, dtype=dtype).reshape(n, out_f)
    # The fused backward pass always accumulates the bias gradient (cheap).
    colsum = np.zeros(out_f, dtype=FLOAT64)
    if identity:
        gz = gy2
        if need_b:
            if dtype == FLOAT32:
                _column_sums[float](gz, colsum)
            else:
                _column_sums[double](gz, colsum)
    else:
        v2 = np.ascontiguousarray(v, dtype=dtype).reshape(n, out_f)
        gz = np.empty((n, out_f), dtype=dtype)
        if n == 0 or out_f == 0:
            pass
        elif dtype == FLOAT32:
            _backward_epilogue[float](gy2, v2, gz, colsum, act, <float> a)
        else:
            _backward_epilogue[double](gy2, v2, gz, colsum, act, a)

    gx = gW = gb = None
    if need_b:
        gb = colsum.astype(dtype)
    if need_x:
        in_f = W.shape[1]
        gx = np.empty((n, in_f), dtype=dtype)
        _product(gz, False, W, False, gx, 1.0, 0.0)
        if gy.ndim != 2:
            gx = gx.reshape(lead + (in_f,))
    if need_W:
        in_f = x.shape[-1]
        x2 = x if x.ndim == 2 else x.reshape(n, in_f)
        gW = np.empty((out_f, in_f), dtype=dtype)
        _product(gz, True, x2, False, gW, 1.0, 0.0)
    return gx, gW, gb
