"""Graph kernels (CPU): aggregation over a CSR matrix of incoming edges and
reductions over contiguous segments.

Same names, signatures and results as ``sklears_neural._xp._graph``, plus a
keyword-only ``n_threads``; the argument checks are in
``sklears_neural._specs._graph``. The forward passes split the rows (target
nodes) over the threads, each row one pass over its entries; the backward
pass of x scatters into the sources, so it splits the feature columns over
the threads instead (no two threads write one value). Sums are accumulated
in the arrays' dtype, in entry order (as the ``_xp`` twin's ``add.at``).
"""

from cython.parallel cimport prange
from libc.math cimport INFINITY, exp
from libc.stdint cimport int64_t

import numpy as np

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._specs._arrays import c_array, float_dtype
from sklears_neural._specs._graph import (
    check_argmax,
    check_csr,
    check_index,
    check_reduce,
    check_segments,
    heads_of,
)

__all__ = ["gather_rows", "scatter_add_rows", "segment_reduce_backward",
           "segment_reduce_forward", "segment_softmax_backward", "segment_softmax_forward",
           "spmm_backward", "spmm_forward"]

# Entries x features below which the loops stay serial (a thread's start-up
# costs more than it saves).
PARALLEL_MIN_SIZE = 1 << 16

cdef enum:
    SUM = 0
    MEAN = 1
    MAX = 2

_REDUCE_IDS = {"sum": SUM, "mean": MEAN, "max": MAX}


cdef void _forward_rows(const int64_t[::1] indptr, const int64_t[::1] indices,
                        const floating* w, Py_ssize_t heads, const floating[:, ::1] x,
                        floating[:, ::1] out, int64_t[:, ::1] argmax, int reduce,
                        int n_threads) noexcept nogil:
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, features = x.shape[1]
    cdef Py_ssize_t i
    if features == 0:
        return
    for i in prange(n_rows, nogil=True, schedule="static", num_threads=n_threads):
        _forward_row(&indices[0] if indices.shape[0] else NULL, indptr[i], indptr[i + 1], w,
                     heads, &x[0, 0], features, &out[i, 0],
                     &argmax[i, 0] if reduce == MAX else NULL, reduce)


cdef inline void _forward_row(const int64_t* indices, Py_ssize_t begin, Py_ssize_t end,
                              const floating* w, Py_ssize_t heads, const floating* x,
                              Py_ssize_t features, floating* out, int64_t* argmax,
                              int reduce) noexcept nogil:
    """One target row: contiguous rows of x added (or compared) into ``out``; head h's
    weight scales the feature columns ``h * width:(h + 1) * width``."""
    cdef Py_ssize_t e, j, h, width = features // heads
    cdef floating weight, value
    cdef const floating* row
    if reduce == MAX:
        for j in range(features):
            out[j] = -INFINITY
    for e in range(begin, end):
        row = x + indices[e] * features
        for h in range(heads):
            weight = 1 if w == NULL else w[e * heads + h]
            if reduce == MAX:
                for j in range(h * width, (h + 1) * width):
                    value = weight * row[j]
                    if value > out[j]:
                        out[j] = value
                        argmax[j] = e
            else:
                for j in range(h * width, (h + 1) * width):
                    out[j] += weight * row[j]
    if reduce == MEAN and end > begin:
        for j in range(features):
            out[j] /= (end - begin)
    if reduce == MAX:
        for j in range(features):
            if argmax[j] < 0:
                out[j] = 0


cdef void _backward_x(const int64_t[::1] indptr, const int64_t[::1] indices,
                      const floating* w, Py_ssize_t heads, const floating[:, ::1] grad_out,
                      const int64_t[:, ::1] argmax, floating[:, ::1] grad_x, int reduce,
                      int n_threads) noexcept nogil:
    """grad_x[src, j] += w_e * d out[i, j]: one block of contiguous feature columns per
    thread (no two threads add into one value), each a single pass over the entries."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, features = grad_out.shape[1]
    cdef Py_ssize_t width = (features + n_threads - 1) // n_threads
    cdef Py_ssize_t n_blocks = (features + width - 1) // width if features else 0
    cdef Py_ssize_t head_width = features // heads
    cdef Py_ssize_t block, first, last, i, e, j, h, lo, hi
    cdef floating scale, weight
    cdef const floating* g
    cdef floating* target
    if features == 0:
        return
    for block in prange(n_blocks, nogil=True, schedule="static",
                        num_threads=n_threads if n_blocks > 1 else 1):
        first = block * width
        last = first + width
        if last > features:
            last = features
        for i in range(n_rows):
            g = &grad_out[i, 0]
            if reduce == MAX:
                for j in range(first, last):
                    e = argmax[i, j]
                    if e >= 0:
                        grad_x[indices[e], j] += (
                            1 if w == NULL else w[e * heads + j // head_width]) * g[j]
                continue
            scale = 1
            if reduce == MEAN and indptr[i + 1] > indptr[i]:
                scale = 1.0 / (indptr[i + 1] - indptr[i])
            for e in range(indptr[i], indptr[i + 1]):
                target = &grad_x[indices[e], 0]
                for h in range(first // head_width, (last - 1) // head_width + 1):
                    weight = scale * (1 if w == NULL else w[e * heads + h])
                    lo = h * head_width
                    hi = lo + head_width
                    if lo < first:
                        lo = first
                    if hi > last:
                        hi = last
                    for j in range(lo, hi):
                        target[j] += weight * g[j]


cdef void _backward_weights(const int64_t[::1] indptr, const int64_t[::1] indices,
                            Py_ssize_t heads, const floating[:, ::1] x,
                            const floating[:, ::1] grad_out, const int64_t[:, ::1] argmax,
                            floating[::1] grad_w, int reduce, int n_threads) noexcept nogil:
    """grad_w[e, h] = sum over head h's columns j of d out[i, j] / d message[e, j] *
    x[src, j] (rows split)."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, features = x.shape[1]
    cdef Py_ssize_t width = features // heads
    cdef Py_ssize_t i, e, j, h
    cdef floating scale, total
    for i in prange(n_rows, nogil=True, schedule="static", num_threads=n_threads):
        scale = 1
        if reduce == MEAN and indptr[i + 1] > indptr[i]:
            scale = 1.0 / (indptr[i + 1] - indptr[i])
        for e in range(indptr[i], indptr[i + 1]):
            for h in range(heads):
                total = 0
                for j in range(h * width, (h + 1) * width):
                    if reduce == MAX:
                        if argmax[i, j] == e:
                            total = total + grad_out[i, j] * x[indices[e], j]
                    else:
                        total = total + grad_out[i, j] * x[indices[e], j]
                grad_w[e * heads + h] = scale * total


def _structure(kernel, indptr, indices, weights, x, reduce):
    """The checked structure as int64 arrays (the same checks, in the same order, as the
    ``_xp`` twin's)."""
    check_reduce(kernel, reduce)
    if np.ndim(x) != 2:
        raise ValueError(f"{kernel}: x must be 2-D (nodes, features); got "
                         f"{tuple(np.shape(x))}.")
    indptr = np.ascontiguousarray(indptr)
    indices = np.ascontiguousarray(indices)
    check_csr(kernel, indptr, indices, None if weights is None else np.asarray(weights),
              indptr.shape[0] - 1, np.shape(x)[0], np.shape(x)[1])
    return indptr.astype(np.int64, copy=False), indices.astype(np.int64, copy=False)


def spmm_forward(indptr, indices, weights, x, reduce, *, n_threads=None):
    """Aggregate each row's entries: ``out[i] = reduce_e (w_e * x[indices[e]])``.

    Parameters
    ----------
    indptr : int array of shape (n_rows + 1,)
    indices : int array of shape (nnz,)
        Source row of x of each entry.
    weights : array of shape (nnz,) or (nnz, heads), or None
        Per entry, or per entry and head: head h scales the feature columns
        ``h * F / heads:(h + 1) * F / heads`` (multi-head attention).
    x : array of shape (n_nodes, F)
    reduce : {"sum", "mean", "max"}
    n_threads : int, optional

    Returns
    -------
    out : ndarray of shape (n_rows, F)
        A row without entries gives 0.
    argmax : ndarray of int64 of shape (n_rows, F) or None
        For "max": the entry that won each value (the first in order; -1 for
        an empty row).
    """
    dtype = float_dtype("spmm_forward", ("x", x), ("weights", weights))
    indptr, indices = _structure("spmm_forward", indptr, indices, weights, x, reduce)
    x = c_array(x, dtype)
    n_rows = indptr.shape[0] - 1
    out = np.zeros((n_rows, x.shape[1]), dtype=dtype)
    argmax = np.full((n_rows, x.shape[1]) if reduce == "max" else (0, 0), -1, dtype=np.int64)
    weighted = weights is not None
    w = c_array(weights, dtype) if weighted else np.empty(0, dtype=dtype)
    nt = resolve_n_threads(n_threads, indices.shape[0] * x.shape[1], PARALLEL_MIN_SIZE)
    _forward(indptr, indices, w.reshape(-1), weighted, heads_of(w if weighted else None), x,
             out, argmax, _REDUCE_IDS[reduce], nt)
    return out, (argmax if reduce == "max" else None)


def _forward(const int64_t[::1] indptr, const int64_t[::1] indices, const floating[::1] w,
             bint weighted, Py_ssize_t heads, const floating[:, ::1] x, floating[:, ::1] out,
             int64_t[:, ::1] argmax, int reduce, int nt):
    """The nogil forward over memoryviews of one dtype (``w`` empty when unweighted)."""
    cdef const floating* wp = &w[0] if weighted and w.shape[0] else NULL
    with nogil:
        _forward_rows(indptr, indices, wp, heads, x, out, argmax, reduce, nt)


def spmm_backward(indptr, indices, weights, x, grad_out, reduce, argmax, *,
                  weights_grad=True, n_threads=None):
    """Gradients of ``spmm_forward`` with respect to x and the weights.

    Parameters
    ----------
    indptr, indices, weights, x, reduce
        As given to ``spmm_forward``.
    grad_out : array of shape (n_rows, F)
    argmax : int64 array of shape (n_rows, F) or None
        ``spmm_forward``'s, for "max".
    weights_grad : bool, default=True
        Compute the weights' gradient (False: skip that pass, return None).
    n_threads : int, optional

    Returns
    -------
    grad_x : ndarray of x's shape
    grad_weights : ndarray of the weights' shape or None
        None without weights or ``weights_grad``.
    """
    dtype = float_dtype("spmm_backward", ("x", x), ("weights", weights),
                        ("grad_out", grad_out))
    indptr, indices = _structure("spmm_backward", indptr, indices, weights, x, reduce)
    x = c_array(x, dtype)
    grad_out = c_array(grad_out, dtype)
    n_rows = indptr.shape[0] - 1
    if grad_out.shape != (n_rows, x.shape[1]):
        raise ValueError(f"spmm_backward: grad_out has shape {tuple(grad_out.shape)}; the "
                         f"output is ({n_rows}, {x.shape[1]}).")
    if reduce == "max":
        argmax = np.ascontiguousarray(argmax, dtype=np.int64)
        check_argmax("spmm_backward", argmax, indptr, grad_out.shape)
    else:
        argmax = np.zeros((0, 0), dtype=np.int64)
    weighted = weights is not None
    w = c_array(weights, dtype) if weighted else np.empty(0, dtype=dtype)
    heads = heads_of(w if weighted else None)
    grad_x = np.zeros_like(x)
    grad_w = np.zeros(w.shape if weighted and weights_grad else 0, dtype=dtype)
    nt = resolve_n_threads(n_threads, indices.shape[0] * x.shape[1], PARALLEL_MIN_SIZE)
    _backward(indptr, indices, w.reshape(-1), weighted, weighted and weights_grad, heads, x,
              grad_out, argmax, grad_x, grad_w.reshape(-1), _REDUCE_IDS[reduce], nt)
    return grad_x, (grad_w if weighted and weights_grad else None)


def _backward(const int64_t[::1] indptr, const int64_t[::1] indices, const floating[::1] w,
              bint weighted, bint weights_grad, Py_ssize_t heads, const floating[:, ::1] x,
              const floating[:, ::1] grad_out, const int64_t[:, ::1] argmax,
              floating[:, ::1] grad_x, floating[::1] grad_w, int reduce, int nt):
    """The nogil backward over memoryviews of one dtype (``grad_w`` empty unless weighted)."""
    cdef const floating* wp = &w[0] if weighted and w.shape[0] else NULL
    with nogil:
        _backward_x(indptr, indices, wp, heads, grad_out, argmax, grad_x, reduce, nt)
        if weights_grad:
            _backward_weights(indptr, indices, heads, x, grad_out, argmax, grad_w, reduce,
                              nt)


def segment_reduce_forward(ptr, x, reduce, *, n_threads=None):
    """Reduce contiguous row segments ``x[ptr[s]:ptr[s + 1]]`` (an empty one gives 0).

    Parameters
    ----------
    ptr : int array of shape (n_segments + 1,)
    x : array of shape (n_rows, F)
    reduce : {"sum", "mean", "max"}
    n_threads : int, optional

    Returns
    -------
    out : ndarray of shape (n_segments, F)
    argmax : ndarray of int64 of shape (n_segments, F) or None
        For "max": the winning row of each value (-1 for an empty segment).
    """
    check_segments("segment_reduce_forward", np.asarray(ptr), np.shape(x)[0])
    rows = np.arange(np.shape(x)[0], dtype=np.int64)
    return spmm_forward(ptr, rows, None, x, reduce, n_threads=n_threads)


def segment_reduce_backward(ptr, x, grad_out, reduce, argmax, *, n_threads=None):
    """The gradient of ``segment_reduce_forward`` with respect to x.

    Parameters
    ----------
    ptr, x, reduce
        As given to ``segment_reduce_forward``.
    grad_out : array of shape (n_segments, F)
    argmax : int64 array or None
        ``segment_reduce_forward``'s, for "max".
    n_threads : int, optional

    Returns
    -------
    ndarray of x's shape
    """
    check_segments("segment_reduce_backward", np.asarray(ptr), np.shape(x)[0])
    rows = np.arange(np.shape(x)[0], dtype=np.int64)
    return spmm_backward(ptr, rows, None, x, grad_out, reduce, argmax,
                         n_threads=n_threads)[0]


# -- gather and scatter ------------------------------------------------------------------
def gather_rows(x, index, *, n_threads=None):
    """Rows of x by index: ``out[k] = x[index[k]]`` (the backward of ``scatter_add_rows``).

    Parameters
    ----------
    x : array of shape (n_rows, F)
    index : int array of shape (n,)
        Rows of x, in [0, n_rows); repeats allowed.
    n_threads : int, optional

    Returns
    -------
    ndarray of shape (n, F)
    """
    dtype = float_dtype("gather_rows", ("x", x))
    x = _rows_2d("gather_rows", x, dtype)
    index = _index("gather_rows", index, x.shape[0])
    out = np.empty((index.shape[0], x.shape[1]), dtype=dtype)
    nt = resolve_n_threads(n_threads, out.size, PARALLEL_MIN_SIZE)
    _gather(x, index, out, nt)
    return out


def scatter_add_rows(src, index, n_rows, *, n_threads=None):
    """Rows of src added by index: ``out[index[k]] += src[k]``, in the order of k (the
    backward of ``gather_rows``).

    Parameters
    ----------
    src : array of shape (n, F)
    index : int array of shape (n,)
        The output row of each row of src, in [0, n_rows).
    n_rows : int
        Rows of the output (a row no index names is 0).
    n_threads : int, optional

    Returns
    -------
    ndarray of shape (n_rows, F)
    """
    dtype = float_dtype("scatter_add_rows", ("src", src))
    src = _rows_2d("scatter_add_rows", src, dtype)
    index = _index("scatter_add_rows", index, n_rows)
    if index.shape[0] != src.shape[0]:
        raise ValueError(f"scatter_add_rows: index has {index.shape[0]} entries for "
                         f"{src.shape[0]} rows of src.")
    out = np.zeros((n_rows, src.shape[1]), dtype=dtype)
    nt = resolve_n_threads(n_threads, src.size, PARALLEL_MIN_SIZE)
    _scatter_add(src, index, out, nt)
    return out


def _rows_2d(kernel, a, dtype):
    if np.ndim(a) != 2:
        raise ValueError(f"{kernel}: expected a 2-D array (rows, features); got shape "
                         f"{tuple(np.shape(a))}.")
    return c_array(a, dtype)


def _index(kernel, index, n_rows):
    index = np.ascontiguousarray(index)
    check_index(kernel, index, n_rows)
    return index.astype(np.int64, copy=False)


def _gather(const floating[:, ::1] x, const int64_t[::1] index, floating[:, ::1] out, int nt):
    cdef Py_ssize_t k, j, features = x.shape[1]
    if features == 0:
        return
    for k in prange(index.shape[0], nogil=True, schedule="static", num_threads=nt):
        for j in range(features):
            out[k, j] = x[index[k], j]


def _scatter_add(const floating[:, ::1] src, const int64_t[::1] index, floating[:, ::1] out,
                 int nt):
    """One block of feature columns per thread, each a pass over src in order."""
    cdef Py_ssize_t features = src.shape[1]
    cdef Py_ssize_t width = (features + nt - 1) // nt if features else 1
    cdef Py_ssize_t n_blocks = (features + width - 1) // width
    cdef Py_ssize_t block, first, last, k, j
    for block in prange(n_blocks, nogil=True, schedule="static",
                        num_threads=nt if n_blocks > 1 else 1):
        first = block * width
        last = first + width
        if last > features:
            last = features
        for k in range(index.shape[0]):
            for j in range(first, last):
                out[index[k], j] += src[k, j]


# -- softmax over segments ---------------------------------------------------------------
def segment_softmax_forward(ptr, scores, *, n_threads=None):
    """Softmax over each contiguous segment of entries, per column (per head).

    ``out[e, h] = exp(s[e, h]) / sum_{e' in segment} exp(s[e', h])``: with a
    CSR ``indptr`` as ``ptr``, the softmax over each node's incoming edges
    (GAT's attention); with a batch's node ``ptr``, over each graph's nodes.

    Parameters
    ----------
    ptr : int array of shape (n_segments + 1,)
        Segment s is entries ``ptr[s]:ptr[s + 1]``.
    scores : array of shape (n,) or (n, heads)
    n_threads : int, optional

    Returns
    -------
    ndarray of the scores' shape
    """
    dtype = float_dtype("segment_softmax_forward", ("scores", scores))
    scores, flat = _scores("segment_softmax_forward", ptr, scores, dtype)
    ptr = np.ascontiguousarray(ptr).astype(np.int64, copy=False)
    out = np.empty_like(scores)
    nt = resolve_n_threads(n_threads, scores.size, PARALLEL_MIN_SIZE)
    _softmax(ptr, scores, out, nt)
    return out.reshape(-1) if flat else out


def segment_softmax_backward(ptr, out, grad_out, *, n_threads=None):
    """The gradient of ``segment_softmax_forward`` from its output.

    ``grad[e, h] = out[e, h] * (g[e, h] - sum_{e' in segment} out[e', h] g[e', h])``.

    Parameters
    ----------
    ptr : int array of shape (n_segments + 1,)
    out : array of shape (n,) or (n, heads)
        ``segment_softmax_forward``'s output.
    grad_out : array of out's shape
    n_threads : int, optional

    Returns
    -------
    ndarray of out's shape
    """
    dtype = float_dtype("segment_softmax_backward", ("out", out), ("grad_out", grad_out))
    if np.shape(grad_out) != np.shape(out):
        raise ValueError(f"segment_softmax_backward: grad_out has shape "
                         f"{tuple(np.shape(grad_out))}; out has {tuple(np.shape(out))}.")
    out, flat = _scores("segment_softmax_backward", ptr, out, dtype)
    grad_out = c_array(grad_out, dtype).reshape(out.shape)
    ptr = np.ascontiguousarray(ptr).astype(np.int64, copy=False)
    grad = np.empty_like(out)
    nt = resolve_n_threads(n_threads, out.size, PARALLEL_MIN_SIZE)
    _softmax_backward(ptr, out, grad_out, grad, nt)
    return grad.reshape(-1) if flat else grad


def _scores(kernel, ptr, scores, dtype):
    """scores as a C-contiguous 2-D array and whether it came 1-D (checked)."""
    if np.ndim(scores) not in (1, 2):
        raise ValueError(f"{kernel}: scores must be 1-D (entries) or 2-D (entries, heads); "
                         f"got shape {tuple(np.shape(scores))}.")
    check_segments(kernel, np.asarray(ptr), np.shape(scores)[0])
    flat = np.ndim(scores) == 1
    scores = c_array(scores, dtype)
    return (scores.reshape(-1, 1) if flat else scores), flat


def _softmax(const int64_t[::1] ptr, const floating[:, ::1] s, floating[:, ::1] out, int nt):
    cdef Py_ssize_t i, e, h, heads = s.shape[1]
    cdef floating top, total
    for i in prange(ptr.shape[0] - 1, nogil=True, schedule="static", num_threads=nt):
        for h in range(heads):
            top = -INFINITY
            for e in range(ptr[i], ptr[i + 1]):
                if s[e, h] > top:
                    top = s[e, h]
            total = 0
            for e in range(ptr[i], ptr[i + 1]):
                out[e, h] = exp(s[e, h] - top)
                total = total + out[e, h]
            for e in range(ptr[i], ptr[i + 1]):
                out[e, h] = out[e, h] / total


def _softmax_backward(const int64_t[::1] ptr, const floating[:, ::1] out,
                      const floating[:, ::1] g, floating[:, ::1] grad, int nt):
    cdef Py_ssize_t i, e, h, heads = out.shape[1]
    cdef floating dot
    for i in prange(ptr.shape[0] - 1, nogil=True, schedule="static", num_threads=nt):
        for h in range(heads):
            dot = 0
            for e in range(ptr[i], ptr[i + 1]):
                dot = dot + out[e, h] * g[e, h]
            for e in range(ptr[i], ptr[i + 1]):
                grad[e, h] = out[e, h] * (g[e, h] - dot)
