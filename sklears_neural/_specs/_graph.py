"""Shape rules and argument checks of the graph kernels (both twins).

A graph's edges reach the kernels as a CSR matrix over the targets: row i
lists node i's incoming edges, ``indices[indptr[i]:indptr[i + 1]]`` their
sources and ``weights`` (optional) their weights, so that an aggregation
is one pass over each row. Segments (the nodes of each graph of a batch)
are contiguous row ranges ``ptr[s]:ptr[s + 1]``.
"""

import numpy as np

__all__ = ["REDUCTIONS", "check_argmax", "check_csr", "check_index", "check_reduce",
           "check_segments", "heads_of"]

REDUCTIONS = ("sum", "mean", "max")


def check_reduce(kernel, reduce):
    if reduce not in REDUCTIONS:
        raise ValueError(f"{kernel}: reduce must be one of {', '.join(map(repr, REDUCTIONS))};"
                         f" got {reduce!r}.")


def _int_vector(kernel, name, a):
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise ValueError(f"{kernel}: {name} must be a 1-D integer array; got dtype {a.dtype} "
                         f"and shape {tuple(a.shape)}.")


def check_csr(kernel, indptr, indices, weights, n_rows, n_cols, n_features=None):
    """Raise unless (indptr, indices, weights) is a valid CSR structure of n_rows rows
    whose column indices are in [0, n_cols). Weights are one per entry, (nnz,), or one
    per entry and head, (nnz, heads), with the ``n_features`` columns split evenly
    between the heads. Reads the arrays (on the host for CuPy)."""
    _int_vector(kernel, "indptr", indptr)
    _int_vector(kernel, "indices", indices)
    if indptr.shape[0] != n_rows + 1:
        raise ValueError(f"{kernel}: indptr has {indptr.shape[0]} entries for {n_rows} rows; "
                         f"it needs {n_rows + 1}.")
    nnz = indices.shape[0]
    xp_indptr = indptr.get() if hasattr(indptr, "get") else np.asarray(indptr)
    if xp_indptr[0] != 0 or xp_indptr[-1] != nnz or (np.diff(xp_indptr) < 0).any():
        raise ValueError(f"{kernel}: indptr must start at 0, never decrease and end at "
                         f"len(indices) = {nnz}.")
    if nnz:
        host = indices.get() if hasattr(indices, "get") else np.asarray(indices)
        if host.min() < 0 or host.max() >= n_cols:
            raise ValueError(f"{kernel}: indices must be source nodes in [0, {n_cols}).")
    if weights is None:
        return
    shape = tuple(weights.shape)
    if shape != (nnz,) and not (len(shape) == 2 and shape[0] == nnz and shape[1] >= 1):
        raise ValueError(f"{kernel}: weights has shape {shape}; it needs one value per "
                         f"entry, ({nnz},), or per entry and head, ({nnz}, heads).")
    if len(shape) == 2 and n_features is not None and n_features % shape[1]:
        raise ValueError(f"{kernel}: {shape[1]} heads of weights do not split the "
                         f"{n_features} feature columns evenly.")


def heads_of(weights):
    """The number of heads of a weights array (1 for one value per entry or none)."""
    return 1 if weights is None or len(weights.shape) == 1 else int(weights.shape[1])


def check_index(kernel, index, n_rows):
    """Raise unless ``index`` is a 1-D integer array of rows in [0, n_rows)."""
    _int_vector(kernel, "index", index)
    if index.shape[0]:
        host = index.get() if hasattr(index, "get") else np.asarray(index)
        if host.min() < 0 or host.max() >= n_rows:
            raise ValueError(f"{kernel}: index must hold rows in [0, {n_rows}).")


def check_segments(kernel, ptr, n_rows):
    """Raise unless ``ptr`` splits n_rows rows into contiguous segments."""
    _int_vector(kernel, "ptr", ptr)
    host = ptr.get() if hasattr(ptr, "get") else np.asarray(ptr)
    if host.shape[0] < 1 or host[0] != 0 or host[-1] != n_rows or (np.diff(host) < 0).any():
        raise ValueError(f"{kernel}: ptr must start at 0, never decrease and end at the "
                         f"number of rows ({n_rows}).")


def check_argmax(kernel, argmax, indptr, shape):
    """Raise unless ``argmax`` (``spmm_forward``'s, for "max") has ``shape`` and each
    value is -1 or an entry of its own row (the Cython twin indexes with it)."""
    if tuple(argmax.shape) != tuple(shape):
        raise ValueError(f"{kernel}: reduce='max' needs spmm_forward's argmax, of shape "
                         f"{tuple(shape)}; got {tuple(argmax.shape)}.")
    host = argmax.get() if hasattr(argmax, "get") else np.asarray(argmax)
    starts = (indptr.get() if hasattr(indptr, "get") else np.asarray(indptr))
    low, high = starts[:-1, None], starts[1:, None]
    if not ((host == -1) | ((host >= low) & (host < high))).all():
        raise ValueError(f"{kernel}: argmax holds entries outside their rows: pass the "
                         "argmax spmm_forward returned for this graph.")
