"""Graphs: one ``Graph``, a ``GraphBatch`` of many collated block-diagonally, and a
``GraphDataset`` that batches them.

A graph holds node features ``x`` (n_nodes, F) and its edges as ``edge_index``
(2, n_edges) of int64 (source row 0, target row 1: PyG's convention), with
optional ``edge_attr`` (n_edges, D) and ``edge_weight`` (n_edges,), targets
``y`` (one per node, or one for the graph) and a node ``mask``. Messages flow
from source to target, so a node aggregates over its incoming edges; an
undirected graph lists each edge both ways. A batch of graphs is one graph
with the graphs' nodes stacked, their edges shifted by each graph's first
node, and ``batch`` giving each node's graph: many small graphs train as one
sparse product.
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp

from sklears_neural.data._dataset import Dataset, _item

__all__ = ["Graph", "GraphBatch", "GraphDataset", "collate_graphs"]


class Graph:
    """One graph: node features, edges and optional edge data, targets and mask.

    Parameters
    ----------
    x : array-like of shape (n_nodes, n_features) or (n_nodes,)
        Node features (a 1-D array is one feature per node).
    edge_index : array-like of int of shape (2, n_edges), optional
        Sources (row 0) and targets (row 1) of the edges, node indices in
        [0, n_nodes). Give this or ``adjacency``; neither means no edges.
    adjacency : scipy sparse matrix of shape (n_nodes, n_nodes), optional
        ``adjacency[i, j] != 0`` is an edge from i to j, its value the edge
        weight (dropped when every value is 1).
    edge_attr : array-like of shape (n_edges, n_edge_features), optional
        Edge features (with ``edge_index``, in its order).
    edge_weight : array-like of shape (n_edges,), optional
        Edge weights.
    y : array-like, optional
        Targets: one per node (length n_nodes), or one for the graph.
    mask : array-like of bool of shape (n_nodes,), optional
        The nodes that take part in training (a node task's labelled nodes).
    name : str, default="graph"
        How errors name this graph (e.g. ``"X[3]"``).

    Attributes
    ----------
    n_nodes, n_edges, n_features : int
    """

    def __init__(self, x, edge_index=None, *, adjacency=None, edge_attr=None,
                 edge_weight=None, y=None, mask=None, name="graph"):
        self.name = name
        self.x = _node_features(x, name)
        n = self.x.shape[0]
        if adjacency is not None:
            if edge_index is not None:
                raise ValueError(f"{name}: give edge_index or adjacency, not both.")
            edge_index, weight = _from_adjacency(adjacency, n, name)
            edge_weight = weight if edge_weight is None else edge_weight
        self.edge_index = _edge_index(edge_index, n, name)
        e = self.edge_index.shape[1]
        self.edge_attr = _edge_rows(edge_attr, e, "edge_attr", name, ndim=2)
        self.edge_weight = _edge_rows(edge_weight, e, "edge_weight", name, ndim=1)
        self.y = None if y is None else np.asarray(y)
        self.mask = None if mask is None else _mask(mask, n, name)

    @property
    def n_nodes(self):
        """The number of nodes."""
        return self.x.shape[0]

    @property
    def n_edges(self):
        """The number of edges (an undirected edge counts twice)."""
        return self.edge_index.shape[1]

    @property
    def n_features(self):
        """The number of features per node."""
        return self.x.shape[1]

    def adjacency(self, weighted=True):
        """The graph as a CSR matrix ``A[source, target]``.

        scipy's and PyG's orientation, what ``Graph(x, adjacency=A)`` reads:
        ``A.T @ x`` sums each node's incoming messages; duplicate edges add
        up.

        Parameters
        ----------
        weighted : bool, default=True
            Use ``edge_weight`` (else every edge counts 1).

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_nodes, n_nodes)
            The adjacency, sources as rows.
        """
        weights = (self.edge_weight if weighted and self.edge_weight is not None
                   else np.ones(self.n_edges))
        source, target = self.edge_index
        return sp.csr_matrix((weights, (source, target)), shape=(self.n_nodes, self.n_nodes))

    @classmethod
    def from_networkx(cls, graph, node_features=None, *, edge_weight="weight", y=None,
                      name="graph"):
        """A Graph from a networkx graph (networkx is not imported here).

        Parameters
        ----------
        graph : networkx.Graph or DiGraph
            Its nodes are numbered in ``graph.nodes`` order; an undirected
            graph's edges are listed both ways.
        node_features : str, list of str or array-like, optional
            Node attribute name(s) to read as features, or the features
            themselves (n_nodes, F). None: one constant feature per node.
        edge_weight : str or None, default="weight"
            Edge attribute read as the weight when every edge has it.
        y : str or array-like, optional
            A node attribute name read as node targets, or the targets.
        name : str, default="graph"
            How errors name the graph.

        Returns
        -------
        Graph
        """
        nodes = list(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        data = dict(graph.nodes(data=True))
        if node_features is None:
            x = np.ones((len(nodes), 1))
        elif isinstance(node_features, (str, list)) and all(
                isinstance(key, str) for key in np.atleast_1d(node_features)):
            keys = [node_features] if isinstance(node_features, str) else node_features
            x = np.array([[float(data[node][key]) for key in keys] for node in nodes])
        else:
            x = node_features
        edges = list(graph.edges(data=True))
        pairs = [(index[u], index[v]) for u, v, _ in edges]
        weights = None
        if edge_weight is not None and edges and all(edge_weight in d for *_, d in edges):
            weights = [float(d[edge_weight]) for *_, d in edges]
        if not graph.is_directed():  # each edge both ways (a self-loop once)
            both = [k for k, (u, v) in enumerate(pairs) if u != v]
            pairs = pairs + [pairs[k][::-1] for k in both]
            if weights is not None:
                weights = weights + [weights[k] for k in both]
        edge_index = np.array(pairs, dtype=np.int64).T.reshape(2, -1)
        if isinstance(y, str):
            y = np.array([data[node][y] for node in nodes])
        return cls(x, edge_index, edge_weight=weights, y=y, name=name)


def _node_features(x, name):
    x = np.asarray(x)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        raise ValueError(f"{name}: node features must be (n_nodes, n_features); got shape "
                         f"{x.shape}.")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name}: node features must be numbers; got dtype {x.dtype}.")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: a graph needs at least one node.")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: node features contain NaN or infinity.")
    return x


def _from_adjacency(adjacency, n, name):
    if not sp.issparse(adjacency):
        adjacency = sp.csr_matrix(np.asarray(adjacency))
    if adjacency.shape != (n, n):
        raise ValueError(f"{name}: adjacency has shape {adjacency.shape}; the graph has {n} "
                         f"nodes, so it must be ({n}, {n}).")
    coo = adjacency.tocoo()
    coo.eliminate_zeros()  # a stored zero is no edge
    weights = np.asarray(coo.data, dtype=np.float64)
    edge_index = np.vstack([coo.row, coo.col]).astype(np.int64)
    return edge_index, None if np.all(weights == 1.0) else weights


def _edge_index(edge_index, n, name):
    if edge_index is None:
        return np.zeros((2, 0), dtype=np.int64)
    edges = np.asarray(edge_index)
    if edges.ndim != 2 or edges.shape[0] != 2:
        hint = " (pass its transpose)" if edges.ndim == 2 and edges.shape[1] == 2 else ""
        raise ValueError(f"{name}: edge_index must have shape (2, n_edges); got "
                         f"{edges.shape}{hint}.")
    if edges.size and edges.dtype.kind not in "iu":
        if edges.dtype.kind != "f" or not np.all(edges == np.round(edges)):
            raise ValueError(f"{name}: edge_index must hold integer node indices; got "
                             f"dtype {edges.dtype}.")
    edges = edges.astype(np.int64)
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        bad = edges[:, ((edges < 0) | (edges >= n)).any(axis=0)][:, 0]
        raise ValueError(f"{name}: edge {tuple(int(v) for v in bad)} points outside the "
                         f"{n} nodes (indices must be in [0, {n})).")
    return edges


def _edge_rows(values, n_edges, what, name, ndim):
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float64)
    if ndim == 2 and values.ndim == 1:
        values = values.reshape(-1, 1)
    if values.ndim != ndim or values.shape[0] != n_edges:
        raise ValueError(f"{name}: {what} has shape {values.shape}; the graph has {n_edges} "
                         "edges, one row each.")
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: {what} contains NaN or infinity.")
    return values


def _mask(mask, n, name):
    mask = np.asarray(mask)
    if mask.shape != (n,) or mask.dtype != bool:
        raise ValueError(f"{name}: mask must be a boolean array of one value per node "
                         f"({n}); got dtype {mask.dtype} and shape {mask.shape}.")
    return mask


GraphBatch = namedtuple("GraphBatch", ["x", "edge_index", "edge_attr", "edge_weight",
                                       "batch", "n_graphs"])
GraphBatch.__doc__ = """Graphs collated into one block-diagonal graph (PyG's ``Batch``).

A model receives it unpacked, ``module(x, edge_index, edge_attr, edge_weight,
batch, n_graphs)``.

Parameters
----------
x : ndarray of shape (total_nodes, n_features)
    Every graph's node features, graph after graph.
edge_index : ndarray of int64 of shape (2, total_edges)
    Every graph's edges, shifted by the graph's first node.
edge_attr : ndarray of shape (total_edges, n_edge_features) or None
    The edge features, graph after graph.
edge_weight : ndarray of shape (total_edges,) or None
    The edge weights, graph after graph.
batch : ndarray of int64 of shape (total_nodes,)
    The graph of each node, 0 .. n_graphs - 1.
n_graphs : int
    How many graphs the batch holds.
"""


def collate_graphs(graphs):
    """Collate graphs into one ``GraphBatch`` (block-diagonal, nodes in order).

    Parameters
    ----------
    graphs : sequence of Graph
        Graphs with the same node-feature width (and the same edge data:
        every graph or none has ``edge_attr``, and likewise ``edge_weight``).

    Returns
    -------
    GraphBatch
        The graphs as one block-diagonal graph, with each node's graph.
    """
    graphs = list(graphs)
    if not graphs:
        raise ValueError("collate_graphs needs at least one graph.")
    _check_alike(graphs)
    sizes = np.array([g.n_nodes for g in graphs])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    x = np.concatenate([g.x for g in graphs])
    edge_index = np.concatenate([g.edge_index + offset for g, offset in zip(graphs, offsets)],
                                axis=1)
    edge_attr = (None if graphs[0].edge_attr is None
                 else np.concatenate([g.edge_attr for g in graphs]))
    edge_weight = (None if graphs[0].edge_weight is None
                   else np.concatenate([g.edge_weight for g in graphs]))
    batch = np.repeat(np.arange(len(graphs), dtype=np.int64), sizes)
    return GraphBatch(x, edge_index, edge_attr, edge_weight, batch, len(graphs))


def _check_alike(graphs):
    widths = {g.n_features for g in graphs}
    if len(widths) > 1:
        first = graphs[0]
        other = next(g for g in graphs if g.n_features != first.n_features)
        raise ValueError(f"The graphs have node features of different widths: {first.name} "
                         f"has {first.n_features}, {other.name} has {other.n_features}.")
    for what in ("edge_attr", "edge_weight"):
        having = [getattr(g, what) is not None for g in graphs]
        if any(having) and not all(having):
            missing = graphs[having.index(False)].name
            raise ValueError(f"Some graphs have {what} and {missing} has none: give it for "
                             "every graph or for none.")
    attr_widths = {g.edge_attr.shape[1] for g in graphs if g.edge_attr is not None}
    if len(attr_widths) > 1:
        raise ValueError(f"The graphs have edge features of different widths: "
                         f"{sorted(attr_widths)}.")


def row_arrays(n, rows, y, sample_weight):
    """y and sample_weight as arrays (None stays None) of ``n`` rows, checked; ``rows``
    names what a row is in the error."""
    arrays = [None if a is None else np.asarray(a) for a in (y, sample_weight)]
    for what, values in zip(("y", "sample_weight"), arrays):
        if values is not None and values.shape[0] != n:
            raise ValueError(f"{what} has {values.shape[0]} rows for {n} {rows}.")
    return arrays


class GraphDataset(Dataset):
    """A list of graphs with optional graph targets and sample weights.

    A batch is ``(GraphBatch, y[, sample_weight])``.

    Parameters
    ----------
    graphs : sequence of Graph
        The graphs (checked to be alike: see ``collate_graphs``).
    y : array-like of shape (n_graphs, ...), optional
        One target per graph.
    sample_weight : array-like of shape (n_graphs,), optional
        One weight per graph.
    """

    def __init__(self, graphs, y=None, sample_weight=None):
        self.graphs = list(graphs)
        if not all(isinstance(g, Graph) for g in self.graphs):
            raise TypeError("GraphDataset takes a list of Graph objects.")
        if self.graphs:
            _check_alike(self.graphs)
        self.y, self.sample_weight = row_arrays(len(self.graphs), "graphs", y, sample_weight)

    def __len__(self):
        return len(self.graphs)

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, indices):
        """The graphs ``indices`` collated, with their targets and weights.

        Parameters
        ----------
        indices : array-like of int or slice
            The graphs, in order.

        Returns
        -------
        batch : tuple
            ``(GraphBatch, y[, sample_weight])``.
        """
        positions = (range(len(self.graphs))[indices] if isinstance(indices, slice)
                     else np.asarray(indices, dtype=np.int64))
        batch = collate_graphs([self.graphs[int(i)] for i in positions])
        positions = np.asarray(list(positions), dtype=np.int64)
        return _item((batch, None if self.y is None else self.y[positions],
                      None if self.sample_weight is None else self.sample_weight[positions]))

    def subset(self, indices):
        """A GraphDataset over the graphs ``indices``, in order.

        Parameters
        ----------
        indices : array-like of int
            The graphs, in order.

        Returns
        -------
        GraphDataset
            The selected graphs with their targets and weights.
        """
        indices = np.asarray(indices, dtype=np.int64)
        return GraphDataset([self.graphs[int(i)] for i in indices],
                            None if self.y is None else self.y[indices],
                            None if self.sample_weight is None else self.sample_weight[indices])

