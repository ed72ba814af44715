"""Link-level data: node pairs of one graph as rows, with negative sampling, and a
split of a graph's edges into a training graph and held-out pairs.

A row of ``LinkDataset`` is a pair (u, v) with a label (1: an edge). A batch
is the whole graph (every node passes messages) with the batch's pairs, plus,
when ``negative_ratio`` is set, random pairs drawn afresh for each batch and
labelled 0 (negative sampling).
"""

from collections import namedtuple

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.data._dataset import Dataset, _item
from sklears_neural.data._graph import Graph, GraphBatch, collate_graphs, row_arrays

__all__ = ["LinkBatch", "LinkDataset", "check_pairs", "split_edges"]

LinkBatch = namedtuple("LinkBatch", [*GraphBatch._fields, "pairs"])
LinkBatch.__doc__ = """``GraphBatch`` of one graph with the node pairs a batch scores.

A model receives it unpacked, ``module(x, edge_index, edge_attr, edge_weight,
batch, n_graphs, pairs)``, and returns one row per pair.

Parameters
----------
x : ndarray of shape (n_nodes, n_features)
    As in ``GraphBatch``.
edge_index : ndarray of int64 of shape (2, n_edges)
    As in ``GraphBatch``.
edge_attr : ndarray of shape (n_edges, n_edge_features) or None
    As in ``GraphBatch``.
edge_weight : ndarray of shape (n_edges,) or None
    As in ``GraphBatch``.
batch : ndarray of int64 of shape (n_nodes,)
    As in ``GraphBatch``.
n_graphs : int
    As in ``GraphBatch``.
pairs : ndarray of int64 of shape (n_pairs, 2)
    The node pairs (source, target) to score.
"""


def check_pairs(pairs, n_nodes, what="X"):
    """Node pairs as int64 of shape (n_pairs, 2), every node in [0, n_nodes).

    Parameters
    ----------
    pairs : array-like of int of shape (n_pairs, 2)
        Source and target nodes.
    n_nodes : int
        Nodes of the graph.
    what : str, default="X"
        How errors name the pairs.

    Returns
    -------
    ndarray of int64 of shape (n_pairs, 2)
        The pairs.
    """
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or (pairs.size and pairs.dtype.kind not in "iu"):
        raise ValueError(f"{what} must be node pairs, integers of shape (n_pairs, 2); got "
                         f"dtype {pairs.dtype} and shape {pairs.shape}.")
    pairs = pairs.astype(np.int64, copy=False)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n_nodes):
        raise ValueError(f"{what} holds nodes outside the graph's {n_nodes} (indices must be "
                         f"in [0, {n_nodes})).")
    return pairs


class LinkDataset(Dataset):
    """Node pairs of one graph as rows, with labels, weights and negative sampling.

    Parameters
    ----------
    graph : Graph
        The graph whose edges pass the messages.
    pairs : array-like of int of shape (n_pairs, 2)
        The pairs (source, target).
    y : array-like of shape (n_pairs,), optional
        One label per pair (1: an edge, 0: none).
    sample_weight : array-like of shape (n_pairs,), optional
        One weight per pair (a sampled negative weighs 1).
    negative_ratio : float, default=0.0
        Random pairs drawn per row of a batch, labelled 0 (needs ``y``).
    generator : numpy.random.Generator, int or None, default=None
        Draws the negatives.
    """

    def __init__(self, graph, pairs, y=None, sample_weight=None, negative_ratio=0.0,
                 generator=None):
        if not isinstance(graph, Graph):
            raise TypeError("LinkDataset takes one Graph.")
        self.graph = graph
        self.pairs = check_pairs(pairs, graph.n_nodes, "pairs")
        self.y, self.sample_weight = row_arrays(len(self.pairs), "pairs", y, sample_weight)
        if negative_ratio and self.y is None:
            raise ValueError("negative_ratio needs y: the sampled pairs are labelled 0.")
        self.negative_ratio = float(negative_ratio)
        self.generator = as_generator(generator)

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, indices):
        """The graph with pairs ``indices`` (and fresh negatives).

        Parameters
        ----------
        indices : array-like of int or slice
            Rows, in order.

        Returns
        -------
        batch : tuple
            ``(LinkBatch, y[, sample_weight])``.
        """
        rows = np.arange(len(self.pairs))[indices]
        pairs = self.pairs[rows]
        y = None if self.y is None else self.y[rows]
        w = None if self.sample_weight is None else self.sample_weight[rows]
        if self.negative_ratio:
            negatives = self._negatives(int(round(self.negative_ratio * len(rows))))
            pairs = np.concatenate([pairs, negatives])
            y = np.concatenate([y, np.zeros(len(negatives), dtype=y.dtype)])
            if w is not None:
                w = np.concatenate([w, np.ones(len(negatives), dtype=w.dtype)])
        batch = LinkBatch(*collate_graphs([self.graph]), pairs)
        return _item((batch, y, w))

    def _negatives(self, n):
        """n random pairs of distinct nodes (a self-pair would score z . z, no test of a
        link). A drawn pair may be an edge of the graph: with sparse graphs rarely,
        and filtering them would cost a lookup per pair (PyG's default does not)."""
        nodes = self.graph.n_nodes
        if nodes < 2:
            raise ValueError("negative sampling needs a graph of at least 2 nodes.")
        source = self.generator.integers(0, nodes, n)
        target = (source + self.generator.integers(1, nodes, n)) % nodes
        return np.stack([source, target], axis=1)

    def subset(self, indices):
        """A LinkDataset over rows ``indices`` (the same graph and sampling).

        Parameters
        ----------
        indices : array-like of int
            Rows, in order.

        Returns
        -------
        LinkDataset
            The selected pairs with their labels and weights.
        """
        indices = np.asarray(indices, dtype=np.int64)
        return LinkDataset(self.graph, self.pairs[indices],
                           None if self.y is None else self.y[indices],
                           None if self.sample_weight is None else self.sample_weight[indices],
                           self.negative_ratio, self.generator)

    def with_negatives(self, ratio, generator=None, fixed=False):
        """Give this dataset ``ratio`` negatives per row, drawn per batch or once.

        Parameters
        ----------
        ratio : float
            Negatives per row.
        generator : numpy.random.Generator, int or None, default=None
            Draws them.
        fixed : bool, default=False
            Draw them once, as rows of the returned dataset (for validation
            data, which must score the same pairs every epoch).

        Returns
        -------
        LinkDataset
            The dataset with its negatives.
        """
        if not fixed:
            return LinkDataset(self.graph, self.pairs, self.y, self.sample_weight, ratio,
                               generator)
        drawn = LinkDataset(self.graph, self.pairs, self.y, self.sample_weight, ratio,
                            generator).__getitems__(slice(None))
        return LinkDataset(self.graph, drawn[0].pairs, drawn[1],
                           drawn[2] if len(drawn) > 2 else None)


def split_edges(graph, test_size=0.1, *, negative_ratio=1.0, random_state=None):
    """Hold out some of a graph's edges for testing link prediction.

    An undirected edge (listed both ways) is held out both ways; self-loops
    are never held out. The training graph keeps the other edges (so that
    the held-out ones pass no message); the test pairs are the held-out
    edges, once each in the direction the graph lists first, labelled 1, and
    as many distinct random non-edges per edge as ``negative_ratio`` says,
    labelled 0 (PyG's ``RandomLinkSplit``, in small).

    Parameters
    ----------
    graph : Graph
        The graph.
    test_size : float in (0, 1), default=0.1
        The share of (undirected) edges held out.
    negative_ratio : float, default=1.0
        Non-edges per held-out edge.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the split and the non-edges.

    Returns
    -------
    train_graph : Graph
        The graph without the held-out edges.
    test_pairs : ndarray of int64 of shape (n_test, 2)
        Held-out edges, then non-edges.
    test_y : ndarray of int64 of shape (n_test,)
        1 for a held-out edge, 0 for a non-edge.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1); got {test_size!r}.")
    rng = as_generator(random_state)
    source, target = graph.edge_index
    n = graph.n_nodes
    keys = np.minimum(source, target) * n + np.maximum(source, target)
    candidates, first = np.unique(keys[source != target], return_index=True)
    if not len(candidates):
        raise ValueError("split_edges: the graph has no edges between distinct nodes.")
    n_test = max(1, int(round(test_size * len(candidates))))
    chosen = rng.choice(len(candidates), size=n_test, replace=False)
    held = candidates[chosen]
    keep = ~np.isin(keys, held)
    train = Graph(graph.x, graph.edge_index[:, keep],
                  edge_attr=None if graph.edge_attr is None else graph.edge_attr[keep],
                  edge_weight=None if graph.edge_weight is None else graph.edge_weight[keep],
                  y=graph.y, mask=graph.mask, name=graph.name)
    loop_free = np.flatnonzero(source != target)
    positives = graph.edge_index[:, loop_free[first[chosen]]].T  # as the graph lists them
    n_neg = int(round(negative_ratio * n_test))
    if n_neg > n * (n - 1) // 2 - len(candidates):
        raise ValueError(f"negative_ratio={negative_ratio} asks for {n_neg} non-edges; the "
                         f"graph has {n * (n - 1) // 2 - len(candidates)}.")
    existing, negatives = set(candidates.tolist()), []
    while len(negatives) < n_neg:
        u, v = (int(a) for a in rng.integers(0, n, 2))
        key = min(u, v) * n + max(u, v)
        if u != v and key not in existing:
            existing.add(key)  # each non-edge once
            negatives.append((u, v))
    pairs = np.concatenate([positives, np.array(negatives, dtype=np.int64).reshape(-1, 2)])
    labels = np.concatenate([np.ones(n_test, dtype=np.int64), np.zeros(n_neg, dtype=np.int64)])
    return train, pairs.astype(np.int64), labels
