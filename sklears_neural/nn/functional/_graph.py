"""Message passing ops: aggregation over each node's incoming edges, and pooling
over the nodes of each graph of a batch; each one graph node over the kernels of
``_kernels._graph`` / ``_xp._graph``.

The edges come as a CSR structure over the targets (``graph_csr`` builds it
from an ``edge_index``), so that aggregation is one pass per node; the
permutation from edge order to CSR order is kept, so that per-edge inputs
(weights, attention) can be given in edge order.
"""

import contextlib
import contextvars

import numpy as np

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Function, Tensor
from sklears_neural.backend import get_array_module
from sklears_neural.nn.functional._shape import cat

__all__ = ["check_edge_index", "edge_mask", "edge_mask_for", "gather_rows", "global_pool",
           "graph_aggregate", "graph_csr", "graph_ptr", "scatter_add_rows", "segment_softmax",
           "take_entries"]


def check_edge_index(edge_index, n_nodes):
    """``edge_index`` as int64 of shape (2, n_edges), its nodes in [0, n_nodes).

    Parameters
    ----------
    edge_index : array-like of int
        Sources (row 0) and targets (row 1).
    n_nodes : int
        The number of nodes.

    Returns
    -------
    ndarray of int64 of shape (2, n_edges)
        The edges.
    """
    edges = np.asarray(edge_index)
    if edges.ndim != 2 or edges.shape[0] != 2 or (edges.size and edges.dtype.kind not in "iu"):
        raise ValueError(f"edge_index must be integers of shape (2, n_edges); got dtype "
                         f"{edges.dtype} and shape {edges.shape}.")
    edges = edges.astype(np.int64, copy=False)
    if edges.size and (edges.min() < 0 or edges.max() >= n_nodes):
        raise ValueError(f"edge_index has nodes outside [0, {n_nodes}).")
    return edges


def graph_csr(edge_index, n_nodes):
    """The CSR structure of incoming edges: (indptr, indices, order).

    Parameters
    ----------
    edge_index : int array of shape (2, n_edges)
        Sources (row 0) and targets (row 1).
    n_nodes : int
        The number of nodes.

    Returns
    -------
    indptr : ndarray of int64 of shape (n_nodes + 1,)
        Node i's incoming edges are CSR entries ``indptr[i]:indptr[i + 1]``.
    indices : ndarray of int64 of shape (n_edges,)
        The source of each entry.
    order : ndarray of int64 of shape (n_edges,)
        The edge (its column in ``edge_index``) of each entry: per-edge
        values in edge order are ``values[order]`` in CSR order.
    """
    edge_index = check_edge_index(edge_index, n_nodes)
    source, target = edge_index
    order = _stable_order(target, n_nodes)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(target, minlength=n_nodes), out=indptr[1:])
    return indptr, source[order], order


def _stable_order(keys, n_keys):
    """``np.argsort(keys, kind="stable")`` for keys in [0, n_keys), by 16-bit digits:
    numpy radix-sorts 16-bit integers, 3-4x faster than its stable sort of int64."""
    if n_keys <= 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    if n_keys > 1 << 32:
        return np.argsort(keys, kind="stable")
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return low[np.argsort((keys[low] >> 16).astype(np.uint16), kind="stable")]


class _Aggregate(Function):
    def __init__(self, indptr, indices, reduce):
        self.indptr, self.indices, self.reduce = indptr, indices, reduce

    def forward(self, x, weights):
        out, self.argmax = kernels_for(x).spmm_forward(self.indptr, self.indices, weights, x,
                                                       self.reduce)
        self.save_for_backward(x, weights)
        return out

    def backward(self, grad):
        x, weights = self.saved
        grad_x, grad_w = kernels_for(grad).spmm_backward(
            self.indptr, self.indices, weights, x, grad, self.reduce, self.argmax,
            weights_grad=self.needs_input_grad[1])
        return grad_x, grad_w


def graph_aggregate(x, indptr, indices, weights=None, reduce="sum"):
    """Aggregate each node's incoming messages: ``out[i] = reduce_e (w_e * x[src_e])``.

    Parameters
    ----------
    x : Tensor of shape (n_nodes, F)
        Node features (the messages are the sources' rows).
    indptr, indices : int arrays
        The CSR structure of incoming edges (``graph_csr``).
    weights : Tensor of shape (n_edges,) or (n_edges, heads), optional
        Per-entry weights, in CSR order (differentiable); with heads, head h
        scales the feature columns ``h * F / heads:(h + 1) * F / heads``
        (multi-head attention).
    reduce : {"sum", "mean", "max"}, default="sum"
        Sum, mean over the incoming edges, or elementwise max; a node
        without incoming edges gets 0.

    Returns
    -------
    Tensor of shape (n_targets, F)
        One row per CSR row.
    """
    return _Aggregate(indptr, indices, reduce).apply(x, weights)


class _SegmentPool(Function):
    def __init__(self, ptr, reduce):
        self.ptr, self.reduce = ptr, reduce

    def forward(self, x):
        out, self.argmax = kernels_for(x).segment_reduce_forward(self.ptr, x, self.reduce)
        self.save_for_backward(x)
        return out

    def backward(self, grad):
        (x,) = self.saved
        return kernels_for(grad).segment_reduce_backward(self.ptr, x, grad, self.reduce,
                                                         self.argmax)


def global_pool(x, batch, n_graphs, reduce="mean"):
    """Pool the nodes of each graph of a batch into one row per graph.

    Parameters
    ----------
    x : Tensor of shape (n_nodes, F)
        Node features, the nodes of each graph together (as ``collate_graphs``
        lays them out).
    batch : int array of shape (n_nodes,)
        Each node's graph, non-decreasing.
    n_graphs : int
        The number of graphs (a graph without nodes pools to 0).
    reduce : {"sum", "mean", "max"}, default="mean"
        PyG's ``global_add_pool``, ``global_mean_pool``, ``global_max_pool``.

    Returns
    -------
    Tensor of shape (n_graphs, F)
        One row per graph.
    """
    return _SegmentPool(graph_ptr(batch, n_graphs, "global_pool"), reduce).apply(x)


def graph_ptr(batch, n_graphs, caller="graph_ptr"):
    """Each graph's node range from a batch vector: graph s is nodes ``ptr[s]:ptr[s + 1]``.

    Parameters
    ----------
    batch : int array of shape (n_nodes,)
        Each node's graph, non-decreasing.
    n_graphs : int
        The number of graphs.
    caller : str, default="graph_ptr"
        Names the caller in errors.

    Returns
    -------
    ndarray of int64 of shape (n_graphs + 1,)
        The segment boundaries.
    """
    batch = np.asarray(batch, dtype=np.int64)
    if batch.size and (np.diff(batch) < 0).any():
        raise ValueError(f"{caller}: batch must be non-decreasing (each graph's nodes "
                         "together, as collate_graphs lays them out).")
    if batch.size and (batch.min() < 0 or batch.max() >= n_graphs):
        raise ValueError(f"{caller}: batch must hold graph indices in [0, {n_graphs}).")
    ptr = np.zeros(n_graphs + 1, dtype=np.int64)
    np.cumsum(np.bincount(batch, minlength=n_graphs), out=ptr[1:])
    return ptr


class _Gather(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.n_rows = x.shape[0]
        return kernels_for(x).gather_rows(x, self.index)

    def backward(self, grad):
        return kernels_for(grad).scatter_add_rows(grad, self.index, self.n_rows)


class _ScatterAdd(Function):
    def __init__(self, index, n_rows):
        self.index, self.n_rows = index, n_rows

    def forward(self, src):
        return kernels_for(src).scatter_add_rows(src, self.index, self.n_rows)

    def backward(self, grad):
        return kernels_for(grad).gather_rows(grad, self.index)


def gather_rows(x, index):
    """Take rows of x by index, ``x[index]`` (repeats allowed).

    An edge list's sources or targets give each edge's node features.

    Parameters
    ----------
    x : Tensor of shape (n_rows, F)
        The rows.
    index : int array of shape (n,)
        Rows to take, in [0, n_rows).

    Returns
    -------
    Tensor of shape (n, F)
        The rows; the gradient adds back into each row taken.
    """
    return _Gather(np.asarray(index, dtype=np.int64)).apply(x)


def scatter_add_rows(src, index, n_rows):
    """Add rows of src into ``n_rows`` rows by index.

    PyG's ``scatter(..., reduce="sum")``.

    Parameters
    ----------
    src : Tensor of shape (n, F)
        The rows to add, one per index.
    index : int array of shape (n,)
        The row each is added into, in [0, n_rows).
    n_rows : int
        Rows of the output (a row no index names is 0).

    Returns
    -------
    Tensor of shape (n_rows, F)
        The sums.
    """
    return _ScatterAdd(np.asarray(index, dtype=np.int64), int(n_rows)).apply(src)


class _SegmentSoftmax(Function):
    def __init__(self, ptr):
        self.ptr = ptr

    def forward(self, scores):
        out = kernels_for(scores).segment_softmax_forward(self.ptr, scores)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return kernels_for(grad).segment_softmax_backward(self.ptr, out, grad)


def segment_softmax(scores, ptr):
    """Softmax over each contiguous segment of entries, per column (head).

    With a CSR ``indptr`` (``graph_csr``) and scores in CSR order, the
    softmax over each node's incoming edges (GAT's attention); with a
    ``graph_ptr``, over each graph's nodes (attention pooling).

    Parameters
    ----------
    scores : Tensor of shape (n,) or (n, heads)
        The scores, each segment's together.
    ptr : int array of shape (n_segments + 1,)
        Segment s is entries ``ptr[s]:ptr[s + 1]``.

    Returns
    -------
    Tensor of the scores' shape
        Each segment's weights, summing to 1 per column.
    """
    return _SegmentSoftmax(np.asarray(ptr, dtype=np.int64)).apply(scores)


_EDGE_MASK = contextvars.ContextVar("sklears_neural_edge_mask", default=None)


@contextlib.contextmanager
def edge_mask(mask):
    """Scale every message of the graph layers by a per-edge mask, inside the block.

    GNNExplainer's hook (PyG's explain mode): each layer multiplies the
    message of edge e by ``mask[e]`` (a self-loop the layer adds gets 1), so
    that a gradient reaches the mask. The mask follows the ``edge_index``
    the layers are called with, every edge its own entry: where the graph
    has self-loops of its own, PyG drops their entries and the rest of its
    mask shifts against GCN's messages, so the two differ there.

    Parameters
    ----------
    mask : Tensor of shape (n_edges,)
        One weight per edge, typically ``sigmoid`` of learned logits.

    Yields
    ------
    Tensor
        The mask.
    """
    token = _EDGE_MASK.set(mask)
    try:
        yield mask
    finally:
        _EDGE_MASK.reset(token)


def edge_mask_for(n_edges, keep=None, n_added=0):
    """The mask in force (``edge_mask``) for a layer's edges, or None.

    Parameters
    ----------
    n_edges : int
        The edges the layer was given (the mask's length).
    keep : bool array of shape (n_edges,), optional
        The given edges the layer keeps (a layer may drop self-loops).
    n_added : int, default=0
        Edges the layer appends after them (self-loops), weighted 1.

    Returns
    -------
    Tensor of shape (n_kept + n_added,) or None
        The mask over the layer's edges.
    """
    mask = _EDGE_MASK.get()
    if mask is None:
        return None
    if tuple(mask.shape) != (n_edges,):
        raise ValueError(f"edge_mask has shape {tuple(mask.shape)}; the layer's graph has "
                         f"{n_edges} edges.")
    if keep is not None and not keep.all():
        mask = gather_rows(mask.reshape(n_edges, 1), np.flatnonzero(keep)).reshape(-1)
    if n_added:
        ones = get_array_module(mask.data).ones(n_added, dtype=mask.dtype)
        mask = cat([mask, Tensor(ones)])
    return mask


def take_entries(values, order):
    """Take ``values[order]`` of a 1-D Tensor (per-edge values into CSR order).

    Parameters
    ----------
    values : Tensor of shape (n,)
        One value per edge.
    order : int array of shape (m,)
        The entries to take, in [0, n).

    Returns
    -------
    Tensor of shape (m,)
        The values taken (differentiable).
    """
    return gather_rows(values.reshape(-1, 1), order).reshape(-1)
