"""Graph kernels on an array namespace: aggregation over a CSR matrix of incoming
edges and reductions over contiguous segments (the reference twin).

``spmm_forward`` returns the aggregation and, for "max", the entry that won
each output value (-1 for a node without incoming edges, whose output is 0,
as PyG's). Entry ids are positions in ``indices``. The backward passes
scatter with ``add.at`` (``cupyx.scatter_add`` on CuPy).
"""

import numpy as np

from sklears_neural._specs._arrays import float_dtype
from sklears_neural._specs._graph import (
    check_argmax,
    check_csr,
    check_index,
    check_reduce,
    check_segments,
    heads_of,
)
from sklears_neural.backend import get_array_module

__all__ = ["gather_rows", "scatter_add_rows", "segment_reduce_backward",
           "segment_reduce_forward", "segment_softmax_backward", "segment_softmax_forward",
           "spmm_backward", "spmm_forward"]


def _scatter(xp, how, target, index, values):
    """``target[index] <how>= values`` with repeated indices (add, maximum, minimum)."""
    if xp is np:
        getattr(np, how).at(target, index, values)
    else:  # pragma: no cover - CuPy
        import cupyx

        {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max,
         "minimum": cupyx.scatter_min}[how](target, index, values)


def _arrays(kernel, indptr, indices, weights, x, reduce, dtype):
    """The checked arguments as arrays of their namespace (x, weights of ``dtype``)."""
    check_reduce(kernel, reduce)
    xp = get_array_module(x, weights, indptr)
    x = xp.asarray(x, dtype=dtype)
    if x.ndim != 2:
        raise ValueError(f"{kernel}: x must be 2-D (nodes, features); got {tuple(x.shape)}.")
    indptr, indices = xp.asarray(indptr), xp.asarray(indices)
    weights = None if weights is None else xp.asarray(weights, dtype=dtype)
    check_csr(kernel, indptr, indices, weights, indptr.shape[0] - 1, x.shape[0], x.shape[1])
    return xp, indptr.astype(np.int64), indices.astype(np.int64), weights, x


def _per_column(xp, weights, features):
    """Weights of shape (nnz,) or (nnz, heads) as one per entry and feature column."""
    if weights.ndim == 1:
        return weights[:, None]
    return xp.repeat(weights, features // weights.shape[1], axis=1)


def _rows_of_entries(xp, indptr, n_rows):
    return xp.repeat(xp.arange(n_rows), xp.diff(indptr).astype(np.int64))


def spmm_forward(indptr, indices, weights, x, reduce):
    """Aggregate each row's entries: ``out[i] = reduce_e (w_e * x[indices[e]])``.

    Weights of shape (nnz, heads) scale head h's feature columns
    ``h * F / heads:(h + 1) * F / heads`` by ``w[e, h]``.

    Returns (out of shape (n_rows, F), argmax of shape (n_rows, F) or None).
    """
    dtype = float_dtype("spmm_forward", ("x", x), ("weights", weights))
    xp, indptr, indices, weights, x = _arrays("spmm_forward", indptr, indices, weights, x,
                                              reduce, dtype)
    n_rows = indptr.shape[0] - 1
    features = x.shape[1]
    messages = x[indices]
    if weights is not None:
        messages = messages * _per_column(xp, weights, features)
    rows = _rows_of_entries(xp, indptr, n_rows)
    out = xp.zeros((n_rows, features), dtype=dtype)
    if reduce != "max":
        _scatter(xp, "add", out, rows, messages)
        if reduce == "mean":
            counts = xp.maximum(xp.diff(indptr), 1).astype(dtype)
            out /= counts[:, None]
        return out, None
    nnz = indices.shape[0]
    best = xp.full((n_rows, features), -np.inf, dtype=dtype)
    _scatter(xp, "maximum", best, rows, messages)
    # the first entry (in order) that reaches the maximum wins, as in the Cython twin
    ids = xp.where(messages == best[rows], xp.arange(nnz)[:, None], nnz)
    first = xp.full((n_rows, features), nnz, dtype=np.int64)
    _scatter(xp, "minimum", first, rows, ids)
    argmax = xp.where(first < nnz, first, -1)
    return xp.where(argmax >= 0, best, 0).astype(dtype), argmax


def spmm_backward(indptr, indices, weights, x, grad_out, reduce, argmax, *,
                  weights_grad=True):
    """Gradients of ``spmm_forward`` with respect to x and the weights (None without).

    Returns (grad_x of x's shape, grad_weights of the weights' shape or None: None
    without weights or ``weights_grad``).
    """
    dtype = float_dtype("spmm_backward", ("x", x), ("weights", weights),
                        ("grad_out", grad_out))
    xp, indptr, indices, weights, x = _arrays("spmm_backward", indptr, indices, weights, x,
                                              reduce, dtype)
    n_rows = indptr.shape[0] - 1
    grad_out = xp.asarray(grad_out, dtype=dtype)
    if tuple(grad_out.shape) != (n_rows, x.shape[1]):
        raise ValueError(f"spmm_backward: grad_out has shape {tuple(grad_out.shape)}; the "
                         f"output is ({n_rows}, {x.shape[1]}).")
    if reduce == "max":
        argmax = xp.asarray(argmax, dtype=np.int64)
        check_argmax("spmm_backward", argmax, indptr, grad_out.shape)
    nnz = indices.shape[0]
    w = xp.ones((nnz, 1), dtype=dtype) if weights is None else _per_column(
        xp, weights, x.shape[1])
    rows = _rows_of_entries(xp, indptr, n_rows)
    grad_x = xp.zeros_like(x)
    if reduce == "max":  # d loss / d message of each entry: the winners take it
        per_entry = xp.zeros((nnz, x.shape[1]), dtype=dtype)
        r, c = xp.nonzero(argmax >= 0)
        per_entry[argmax[r, c], c] = grad_out[r, c]
    else:
        per_entry = grad_out[rows]
        if reduce == "mean":
            per_entry = per_entry / xp.maximum(xp.diff(indptr), 1).astype(dtype)[rows][:, None]
    _scatter(xp, "add", grad_x, indices, per_entry * w)
    grad_weights = None
    if weights is not None and weights_grad:
        heads = heads_of(weights)
        grad_weights = (per_entry * x[indices]).reshape(nnz, heads, x.shape[1] // heads)
        grad_weights = grad_weights.sum(axis=2)
        grad_weights = grad_weights.reshape(weights.shape)
    return grad_x, grad_weights


def segment_reduce_forward(ptr, x, reduce):
    """Reduce contiguous row segments ``x[ptr[s]:ptr[s + 1]]`` (an empty one gives 0).

    Returns (out of shape (n_segments, F), argmax of shape (n_segments, F) or None).
    """
    xp = get_array_module(x, ptr)
    n_rows = np.shape(x)[0]
    check_segments("segment_reduce_forward", xp.asarray(ptr), n_rows)
    rows = xp.arange(n_rows, dtype=np.int64)  # segment s holds rows ptr[s]:ptr[s + 1]
    return spmm_forward(ptr, rows, None, x, reduce)


def segment_reduce_backward(ptr, x, grad_out, reduce, argmax):
    """The gradient of ``segment_reduce_forward`` with respect to x."""
    xp = get_array_module(x, ptr)
    n_rows = np.shape(x)[0]
    check_segments("segment_reduce_backward", xp.asarray(ptr), n_rows)
    rows = xp.arange(n_rows, dtype=np.int64)
    return spmm_backward(ptr, rows, None, x, grad_out, reduce, argmax)[0]


def _rows_2d(kernel, a, dtype, xp):
    a = xp.asarray(a, dtype=dtype)
    if a.ndim != 2:
        raise ValueError(f"{kernel}: expected a 2-D array (rows, features); got shape "
                         f"{tuple(a.shape)}.")
    return a


def gather_rows(x, index):
    """Rows of x by index: ``out[k] = x[index[k]]`` (the backward of ``scatter_add_rows``)."""
    dtype = float_dtype("gather_rows", ("x", x))
    xp = get_array_module(x, index)
    x = _rows_2d("gather_rows", x, dtype, xp)
    index = xp.asarray(index)
    check_index("gather_rows", index, x.shape[0])
    return x[index.astype(np.int64)]


def scatter_add_rows(src, index, n_rows):
    """Rows of src added by index: ``out[index[k]] += src[k]`` (the backward of
    ``gather_rows``)."""
    dtype = float_dtype("scatter_add_rows", ("src", src))
    xp = get_array_module(src, index)
    src = _rows_2d("scatter_add_rows", src, dtype, xp)
    index = xp.asarray(index)
    check_index("scatter_add_rows", index, n_rows)
    if index.shape[0] != src.shape[0]:
        raise ValueError(f"scatter_add_rows: index has {index.shape[0]} entries for "
                         f"{src.shape[0]} rows of src.")
    out = xp.zeros((n_rows, src.shape[1]), dtype=dtype)
    _scatter(xp, "add", out, index.astype(np.int64), src)
    return out


def _scores(kernel, ptr, scores, dtype, xp):
    scores = xp.asarray(scores, dtype=dtype)
    if scores.ndim not in (1, 2):
        raise ValueError(f"{kernel}: scores must be 1-D (entries) or 2-D (entries, heads); "
                         f"got shape {tuple(scores.shape)}.")
    ptr = xp.asarray(ptr)
    check_segments(kernel, ptr, scores.shape[0])
    return ptr.astype(np.int64), (scores[:, None] if scores.ndim == 1 else scores)


def segment_softmax_forward(ptr, scores):
    """Softmax over each contiguous segment ``ptr[s]:ptr[s + 1]`` of entries, per column
    (per head); scores of shape (n,) or (n, heads), the output of the same shape."""
    dtype = float_dtype("segment_softmax_forward", ("scores", scores))
    xp = get_array_module(scores, ptr)
    shape = np.shape(scores)
    ptr, s = _scores("segment_softmax_forward", ptr, scores, dtype, xp)
    segment = _rows_of_entries(xp, ptr, ptr.shape[0] - 1)
    top = xp.full((ptr.shape[0] - 1, s.shape[1]), -np.inf, dtype=dtype)
    _scatter(xp, "maximum", top, segment, s)
    out = xp.exp(s - top[segment])
    total = xp.zeros_like(top)
    _scatter(xp, "add", total, segment, out)
    return (out / total[segment]).reshape(shape)


def segment_softmax_backward(ptr, out, grad_out):
    """The gradient of ``segment_softmax_forward`` from its output:
    ``out * (g - sum over the segment of out * g)``."""
    dtype = float_dtype("segment_softmax_backward", ("out", out), ("grad_out", grad_out))
    xp = get_array_module(out, grad_out, ptr)
    if np.shape(grad_out) != np.shape(out):
        raise ValueError(f"segment_softmax_backward: grad_out has shape "
                         f"{tuple(np.shape(grad_out))}; out has {tuple(np.shape(out))}.")
    shape = np.shape(out)
    ptr, o = _scores("segment_softmax_backward", ptr, out, dtype, xp)
    g = xp.asarray(grad_out, dtype=dtype).reshape(o.shape)
    segment = _rows_of_entries(xp, ptr, ptr.shape[0] - 1)
    dot = xp.zeros((ptr.shape[0] - 1, o.shape[1]), dtype=dtype)
    _scatter(xp, "add", dot, segment, o * g)
    return (o * (g - dot[segment])).reshape(shape)
