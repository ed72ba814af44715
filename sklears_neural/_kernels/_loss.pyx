"""Losses with their gradients, computed together (CPU kernels).

Same names, signatures and results as ``sklears_neural._xp._loss``: every
loss returns ``(losses, grad)``, both already multiplied by
``scale * weight[i]`` for row ``i``.

softmax + cross-entropy is one pass per row (max, exp-sum, loss, gradient);
the other losses are one elementwise pass (the loops are in ``_loops.pxi``). Class indices are checked against
``[0, n_classes)`` inside that pass, before they are used to read a logit.
"""

import numpy as np

cimport cython

cimport sklears_neural._kernels._loops as base
cimport sklears_neural._kernels._loops_avx2 as avx2
cimport sklears_neural._kernels._loops_avx512 as avx512
from sklears_neural._kernels._cpu cimport use_avx2, use_avx512
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._types cimport (
    LOSS_BCE, LOSS_HUBER, LOSS_L1, LOSS_MSE, LOSS_POISSON,
)

from sklears_neural._specs._arrays import FLOAT32, as_array, c_array, float_dtype, rows_view
from sklears_neural._specs._loss import (
    check_cross_entropy,
    check_elementwise_loss,
    class_index_error,
)

__all__ = [
    "softmax_cross_entropy",
    "bce_with_logits",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "poisson_nll_loss",
]

# ---------------------------------------------------------------------------
# softmax + cross-entropy
# ---------------------------------------------------------------------------

cdef Py_ssize_t _sce_rows(const floating[:, ::1] x, object index_target,
                          object prob_target, object weight, floating[::1] losses,
                          floating[:, ::1] grad, double label_smoothing,
                          double scale) except -2:
    """Fill ``losses`` and ``grad``; return -1, or the first row whose class
    index is out of range (nothing is read out of bounds)."""
    cdef const Py_ssize_t[::1] tv
    cdef const floating[:, ::1] qv
    cdef const floating[::1] wv
    cdef const Py_ssize_t* tp = NULL
    cdef const floating* qp = NULL
    cdef const floating* wp = NULL
    cdef Py_ssize_t bad
    if x.shape[0] == 0:
        return -1
    if index_target is not None:
        tv = index_target
        tp = &tv[0]
    else:
        qv = prob_target
        qp = &qv[0, 0]
    if weight is not None:
        wv = weight
        wp = &wv[0]
    with nogil:
        if use_avx512():
            bad = avx512.sce_rows(&x[0, 0], x.shape[0], x.shape[1], tp, qp, wp,
                                  &losses[0], &grad[0, 0], label_smoothing, scale)
        elif use_avx2():
            bad = avx2.sce_rows(&x[0, 0], x.shape[0], x.shape[1], tp, qp, wp,
                                &losses[0], &grad[0, 0], label_smoothing, scale)
        else:
            bad = base.sce_rows(&x[0, 0], x.shape[0], x.shape[1], tp, qp, wp,
                                &losses[0], &grad[0, 0], label_smoothing, scale)
    return bad


def softmax_cross_entropy(logits, target, weight=None, label_smoothing=0.0, scale=1.0):
    """Softmax followed by cross-entropy, in one pass over each row.

    Parameters
    ----------
    logits : array-like of shape (n, n_classes)
    target : int array of shape (n,) (class indices in ``[0, n_classes)``) or
        float array of shape (n, n_classes) (class probabilities)
    weight : array-like of shape (n,) or None
    label_smoothing : float in [0, 1]
        The target becomes ``(1 - label_smoothing) * target + label_smoothing / n_classes``.
    scale : float

    Returns
    -------
    losses : ndarray of shape (n,)
    grad : ndarray of shape (n, n_classes)
    """
    kernel = "softmax_cross_entropy"
    passed = (logits, target, weight)  # as passed in: what the dtype rule reads
    logits = as_array(logits)
    target = as_array(target)
    if weight is not None:
        weight = as_array(weight)
    indices = check_cross_entropy(kernel, logits, target, weight)
    # class indices are no float argument: only probabilities share the dtype
    dtype = float_dtype(kernel, ("logits", passed[0]),
                        ("target", None if indices else passed[1]), ("weight", passed[2]))
    n, n_classes = logits.shape
    index_target = prob_target = None
    if indices:
        index_target = np.ascontiguousarray(target, dtype=np.intp)
        if target.dtype.kind == "u" and target.dtype.itemsize >= np.dtype(np.intp).itemsize:
            too_big = target > np.iinfo(np.intp).max
            if too_big.any():
                i = int(np.argmax(too_big))
                raise class_index_error(kernel, i, target[i], logits.shape)
    else:
        prob_target = c_array(target, dtype)
    if weight is not None:
        weight = c_array(weight, dtype)
    x = c_array(logits, dtype)
    losses = np.empty(n, dtype=dtype)
    grad = np.empty((n, n_classes), dtype=dtype)
    ls = float(label_smoothing)
    if dtype == FLOAT32:
        bad = _sce_rows[float](x, index_target, prob_target, weight, losses, grad,
                               ls, float(scale))
    else:
        bad = _sce_rows[double](x, index_target, prob_target, weight, losses, grad,
                                ls, float(scale))
    if bad >= 0:
        raise class_index_error(kernel, bad, index_target[bad], logits.shape)
    return losses, grad


# ---------------------------------------------------------------------------
# elementwise losses
# ---------------------------------------------------------------------------

cdef int _elementwise(int kind, const floating[:, ::1] x, const floating[:, ::1] t,
                      object weight, object pos_weight, floating[:, ::1] losses,
                      floating[:, ::1] grad, double scale, double p1,
                      bint flag1, bint flag2) except -1:
    """One pass: ``losses`` and ``grad`` of loss ``kind`` times the row factor.

    p1/flag1/flag2: huber (delta); poisson (eps; log_input, full).
    ``pos_weight`` (bce) is 2-D (1 or n rows, one column per element of a row).
    """
    cdef const floating[::1] wv
    cdef const floating[:, ::1] pwv
    cdef const floating* wp = NULL
    cdef const floating* pwp = NULL
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1], pw_row_stride = 0
    if n == 0 or d == 0:
        return 0
    if weight is not None:
        wv = weight
        wp = &wv[0]
    if pos_weight is not None:
        pwv = pos_weight
        pwp = &pwv[0, 0]
        pw_row_stride = d if pwv.shape[0] > 1 else 0
    with nogil:
        if use_avx512():
            avx512.elementwise_loss(kind, &x[0, 0], &t[0, 0], wp, pwp, pw_row_stride,
                                    &losses[0, 0], &grad[0, 0], n, d, scale, p1, flag1,
                                    flag2)
        elif use_avx2():
            avx2.elementwise_loss(kind, &x[0, 0], &t[0, 0], wp, pwp, pw_row_stride,
                                  &losses[0, 0], &grad[0, 0], n, d, scale, p1, flag1,
                                  flag2)
        else:
            base.elementwise_loss(kind, &x[0, 0], &t[0, 0], wp, pwp, pw_row_stride,
                                  &losses[0, 0], &grad[0, 0], n, d, scale, p1, flag1,
                                  flag2)
    return 0


@cython.wraparound(True)  # Python-level negative indices (shapes)
def _elementwise_loss(kernel, kind, x, target, weight, scale, pos_weight=None,
                      p1=0.0, flag1=False, flag2=False):
    dtype = float_dtype(kernel, ("x", x), ("target", target), ("weight", weight),
                        ("pos_weight", pos_weight))
    x = as_array(x)
    target = as_array(target)
    if weight is not None:
        weight = as_array(weight)
    if pos_weight is not None:
        pos_weight = as_array(pos_weight)
    check_elementwise_loss(kernel, x, target, weight, pos_weight)
    if weight is not None:
        weight = c_array(weight, dtype)
    xc = c_array(x, dtype)
    x2 = rows_view(xc)
    t2 = rows_view(c_array(target, dtype))
    pw2 = None
    if pos_weight is not None:
        if x.ndim == 0:
            pw2 = np.ascontiguousarray(pos_weight, dtype=dtype).reshape(1, 1)
        elif pos_weight.ndim < x.ndim or pos_weight.shape[0] == 1:
            # the same for every row: one row of x.shape[1:]
            if pos_weight.ndim == x.ndim:
                pos_weight = pos_weight[0]
            row = np.broadcast_to(pos_weight, x.shape[1:])
            pw2 = np.ascontiguousarray(row, dtype=dtype).reshape(1, x2.shape[1])
        else:
            pw2 = rows_view(np.ascontiguousarray(np.broadcast_to(pos_weight, x.shape), dtype=dtype))
    losses = np.empty(x.shape, dtype=dtype)
    grad = np.empty(x.shape, dtype=dtype)
    l2 = rows_view(losses)
    g2 = rows_view(grad)
    if dtype == FLOAT32:
        _elementwise[float](kind, x2, t2, weight, pw2, l2, g2, float(scale),
                            float(p1), flag1, flag2)
    else:
        _elementwise[double](kind, x2, t2, weight, pw2, l2, g2, float(scale),
                             float(p1), flag1, flag2)
    return losses, grad


def bce_with_logits(x, target, weight=None, pos_weight=None, scale=1.0):
    """Binary cross-entropy on logits, elementwise over (n, d).

    ``pos_weight`` (shape (d,)) multiplies the positive term, as in PyTorch.
    """
    return _elementwise_loss("bce_with_logits", LOSS_BCE, x, target, weight, scale,
                             pos_weight=pos_weight)


def mse_loss(x, target, weight=None, scale=1.0):
    """Squared error ``(x - t)**2`` elementwise."""
    return _elementwise_loss("mse_loss", LOSS_MSE, x, target, weight, scale)


def l1_loss(x, target, weight=None, scale=1.0):
    """Absolute error ``|x - t|`` elementwise (gradient 0 where x == t)."""
    return _elementwise_loss("l1_loss", LOSS_L1, x, target, weight, scale)


def huber_loss(x, target, weight=None, scale=1.0, delta=1.0):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond."""
    return _elementwise_loss("huber_loss", LOSS_HUBER, x, target, weight, scale,
                             p1=delta)


def poisson_nll_loss(x, target, weight=None, scale=1.0, log_input=True, full=False,
                     eps=1e-8):
    """Poisson negative log-likelihood, as ``torch.nn.PoissonNLLLoss``.

    With ``log_input`` the input is the log-rate: ``exp(x) - t * x``;
    otherwise it is the rate: ``x - t * log(x + eps)``. ``full`` adds
    Stirling's approximation of ``log(t!)`` where ``t > 1``.
    """
    return _elementwise_loss("poisson_nll_loss", LOSS_POISSON, x, target, weight,
                             scale, p1=eps, flag1=bool(log_input), flag2=bool(full))
