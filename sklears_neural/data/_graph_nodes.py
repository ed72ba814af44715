"""Node-level datasets: the nodes of one or more graphs as rows.

A node task trains on some nodes of a graph (the labelled ones) while
every node's features and edges take part in the message passing
(transductive learning). A row of ``NodeDataset`` is one node; a batch is
the graphs that hold the batch's nodes, collated, with the nodes' positions
in it (``NodeBatch.nodes``), so that a model computes every node of those
graphs and reads out the batch's rows.
"""

from collections import namedtuple

import numpy as np

from sklears_neural.data._dataset import Dataset, _item
from sklears_neural.data._graph import Graph, GraphBatch, collate_graphs, row_arrays

__all__ = ["NodeBatch", "NodeDataset"]

NodeBatch = namedtuple("NodeBatch", [*GraphBatch._fields, "nodes"])
NodeBatch.__doc__ = """``GraphBatch`` with the positions of the batch's nodes in it.

A model receives it unpacked, ``module(x, edge_index, edge_attr, edge_weight,
batch, n_graphs, nodes)``, and returns one row per entry of ``nodes``.

Parameters
----------
x : ndarray of shape (total_nodes, n_features)
    As in ``GraphBatch``.
edge_index : ndarray of int64 of shape (2, total_edges)
    As in ``GraphBatch``.
edge_attr : ndarray of shape (total_edges, n_edge_features) or None
    As in ``GraphBatch``.
edge_weight : ndarray of shape (total_edges,) or None
    As in ``GraphBatch``.
batch : ndarray of int64 of shape (total_nodes,)
    As in ``GraphBatch``.
n_graphs : int
    As in ``GraphBatch``.
nodes : ndarray of int64 of shape (n_rows,)
    The rows of ``x`` the batch is about, in the batch's order.
"""


class NodeDataset(Dataset):
    """Nodes of one or more graphs as rows, with optional targets and weights.

    Parameters
    ----------
    graphs : Graph or sequence of Graph
        The graphs (alike: see ``collate_graphs``).
    nodes : array-like of int of shape (n_rows,), optional
        The nodes, numbered over the graphs in order (the first graph's
        nodes are 0 .. n_0 - 1, the second's follow); default every node.
    y : array-like of shape (n_rows, ...), optional
        One target per row.
    sample_weight : array-like of shape (n_rows,), optional
        One weight per row.
    """

    def __init__(self, graphs, nodes=None, y=None, sample_weight=None):
        self.graphs = [graphs] if isinstance(graphs, Graph) else list(graphs)
        if not self.graphs or not all(isinstance(g, Graph) for g in self.graphs):
            raise TypeError("NodeDataset takes a Graph or a non-empty list of Graph objects.")
        sizes = np.array([g.n_nodes for g in self.graphs], dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(sizes)])
        total = int(self._offsets[-1])
        self.nodes = (np.arange(total, dtype=np.int64) if nodes is None
                      else np.asarray(nodes, dtype=np.int64).reshape(-1))
        if self.nodes.size and (self.nodes.min() < 0 or self.nodes.max() >= total):
            raise ValueError(f"nodes must be in [0, {total}) (the graphs' nodes, numbered "
                             "graph after graph).")
        self.y, self.sample_weight = row_arrays(len(self.nodes), "nodes", y, sample_weight)

    @property
    def n_nodes(self):
        """Nodes of all the graphs together."""
        return int(self._offsets[-1])

    def __len__(self):
        return len(self.nodes)

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, indices):
        """The graphs holding nodes ``indices``, collated, and the nodes' positions.

        Parameters
        ----------
        indices : array-like of int or slice
            Rows of the dataset, in order.

        Returns
        -------
        batch : tuple
            ``(NodeBatch, y[, sample_weight])``.
        """
        rows = np.arange(len(self.nodes))[indices]
        chosen = self.nodes[rows]
        graph_of = np.searchsorted(self._offsets, chosen, side="right") - 1
        used = np.unique(graph_of)
        collated = collate_graphs([self.graphs[int(k)] for k in used])
        sizes = self._offsets[used + 1] - self._offsets[used]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        positions = starts[np.searchsorted(used, graph_of)] + chosen - self._offsets[graph_of]
        batch = NodeBatch(*collated, positions.astype(np.int64))
        return _item((batch, None if self.y is None else self.y[rows],
                      None if self.sample_weight is None else self.sample_weight[rows]))

    def subset(self, indices):
        """A NodeDataset over rows ``indices`` (the same graphs).

        Parameters
        ----------
        indices : array-like of int
            Rows, in order.

        Returns
        -------
        NodeDataset
            The selected nodes with their targets and weights.
        """
        indices = np.asarray(indices, dtype=np.int64)
        return NodeDataset(self.graphs, self.nodes[indices],
                           None if self.y is None else self.y[indices],
                           None if self.sample_weight is None else self.sample_weight[indices])
