"""Learned graph pooling, with PyTorch Geometric's names: a softmax-gated readout
(``AttentionalAggregation``) and top-k node selection (``TopKPooling``)."""

import math

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.autograd import Tensor
from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array

__all__ = ["AttentionalAggregation", "TopKPooling"]


def _batch(batch, n_nodes, n_graphs):
    if batch is None:
        return np.zeros(n_nodes, dtype=np.int64), 1
    return np.asarray(batch, dtype=np.int64), int(n_graphs)


class AttentionalAggregation(Module):
    """Soft-attention readout (Li et al. 2016), PyG's ``AttentionalAggregation``.

    ``out_g = sum_{i in g} softmax_g(gate_nn(x))_i * nn(x_i)``: the gate's
    scores are softmaxed over each graph's nodes.

    Parameters
    ----------
    gate_nn : Module
        Maps node features to one score per node (shape (n_nodes, 1)) or
        one per feature (the width of ``nn``'s output).
    nn : Module, optional
        Transforms the node features before they are weighted.
    """

    def __init__(self, gate_nn, nn=None):
        super().__init__()
        self.gate_nn, self.nn = gate_nn, nn

    def forward(self, x, batch=None, n_graphs=None):
        """Pool.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, F)
            Node features, each graph's nodes together.
        batch : int array of shape (n_nodes,), optional
            Each node's graph (None: one graph).
        n_graphs : int, optional
            The number of graphs.

        Returns
        -------
        Tensor of shape (n_graphs, F')
            One row per graph (0 for a graph without nodes).
        """
        batch, n_graphs = _batch(batch, x.shape[0], n_graphs)
        gate = self.gate_nn(x)
        if gate.ndim != 2 or gate.shape[0] != x.shape[0]:
            raise ValueError(f"AttentionalAggregation: gate_nn gave shape {tuple(gate.shape)};"
                             f" it must give one row per node, ({x.shape[0]}, 1) or "
                             f"({x.shape[0]}, features).")
        weights = F.segment_softmax(gate, F.graph_ptr(batch, n_graphs, "AttentionalAggregation"))
        values = x if self.nn is None else self.nn(x)
        return F.global_pool(values * weights, batch, n_graphs, "sum")


class TopKPooling(Module):
    """Keep each graph's highest-scoring nodes, PyG's ``TopKPooling``.

    Gao and Ji (2019), Cangea et al. (2018). Each node scores
    ``s = x . p / |p|`` (a learned projection); the ``ceil(ratio * n)`` best
    nodes of each graph of n nodes are kept, their features scaled by
    ``nonlinearity(s) * multiplier`` (so that the projection learns), and the
    edges between kept nodes kept.

    Parameters
    ----------
    in_features : int
        The node feature width.
    ratio : float in (0, 1] or int, default=0.5
        The fraction of each graph's nodes kept, or (an int) how many.
    min_score : float, optional
        Instead of ``ratio``: score each node by the softmax of ``x . p``
        over its graph, and keep the nodes whose score exceeds this (and at
        least each graph's best).
    multiplier : float, default=1.0
        Scales the kept features.
    nonlinearity : {"tanh", "sigmoid"}, default="tanh"
        Applied to the scores (without ``min_score``).
    dtype : {"float32", "float64"}, optional
        The projection's dtype.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the projection.
    """

    def __init__(self, in_features, ratio=0.5, min_score=None, multiplier=1.0,
                 nonlinearity="tanh", *, dtype=None, generator=None):
        super().__init__()
        if isinstance(ratio, float) and not 0.0 < ratio <= 1.0 or (
                not isinstance(ratio, float) and (not isinstance(ratio, int) or ratio < 1)):
            raise ValueError(f"TopKPooling: ratio must be a float in (0, 1] or a positive "
                             f"int; got {ratio!r}.")
        if nonlinearity not in ("tanh", "sigmoid"):
            raise ValueError(f"TopKPooling: nonlinearity must be 'tanh' or 'sigmoid'; got "
                             f"{nonlinearity!r}.")
        self.in_features, self.ratio, self.min_score = in_features, ratio, min_score
        self.multiplier, self.nonlinearity = multiplier, nonlinearity
        bound = 1.0 / math.sqrt(in_features)
        weight = empty_parameter_array((in_features, 1), dtype, "cpu")
        weight[...] = as_generator(generator).uniform(-bound, bound, size=weight.shape)
        self.weight = Parameter(weight)

    def forward(self, x, edge_index, edge_attr=None, batch=None, n_graphs=None):
        """Pool.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, in_features)
            Node features, each graph's nodes together.
        edge_index : int array of shape (2, n_edges)
            Sources and targets.
        edge_attr : array of shape (n_edges, D), optional
            Kept with the edges kept.
        batch : int array of shape (n_nodes,), optional
            Each node's graph (None: one graph).
        n_graphs : int, optional
            The number of graphs.

        Returns
        -------
        x : Tensor of shape (n_kept, in_features)
            The kept nodes' scaled features, each graph's together.
        edge_index : int array of shape (2, n_kept_edges)
            The edges between kept nodes, renumbered.
        edge_attr : array or None
            Their features.
        batch : int array of shape (n_kept,)
            Each kept node's graph.
        perm : int array of shape (n_kept,)
            The kept nodes, as indices into the input: each graph's best
            first (in node order with ``min_score``).
        score : Tensor of shape (n_kept,)
            Their scores (after the nonlinearity or softmax).
        """
        n = x.shape[0]
        batch, n_graphs = _batch(batch, n, n_graphs)
        ptr = F.graph_ptr(batch, n_graphs, "TopKPooling")
        projection = x @ self.weight
        if self.min_score is None:
            raw = projection / ((self.weight * self.weight).sum() ** 0.5)
            score = F.tanh(raw) if self.nonlinearity == "tanh" else F.sigmoid(raw)
        else:  # as PyG: the softmax of the unnormalised projection
            score = F.segment_softmax(projection, ptr)
        perm = self._select(np.asarray(score.numpy()).reshape(-1), ptr)
        kept = F.gather_rows(x, perm) * F.gather_rows(score, perm)
        if self.multiplier != 1:
            kept = kept * self.multiplier
        edges = F.check_edge_index(edge_index, n)
        new_id = np.full(n, -1, dtype=np.int64)
        new_id[perm] = np.arange(len(perm))
        keep = (new_id[edges[0]] >= 0) & (new_id[edges[1]] >= 0)
        attr = None if edge_attr is None else (
            edge_attr[np.flatnonzero(keep)] if isinstance(edge_attr, Tensor)
            else np.asarray(edge_attr)[keep])
        return (kept, new_id[edges[:, keep]], attr, batch[perm], perm,
                F.gather_rows(score, perm).reshape(-1))

    def _select(self, score, ptr):
        """Each graph's kept nodes: best first with ``ratio``, in node order with
        ``min_score`` (PyG's orders)."""
        chosen = []
        for start, stop in zip(ptr[:-1], ptr[1:]):
            size = stop - start
            if size == 0:
                continue
            order = start + np.argsort(-score[start:stop], kind="stable")
            if self.min_score is not None:  # in node order, as PyG
                above = score[order] > min(self.min_score, score[order[0]] - 1e-7)
                chosen.append(np.sort(order[above]))
            elif isinstance(self.ratio, float):
                chosen.append(order[:math.ceil(self.ratio * size)])
            else:
                chosen.append(order[:min(self.ratio, size)])
        return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)

    def extra_repr(self):
        """The width and how many nodes are kept.

        Returns
        -------
        str
            The layer's settings.
        """
        keep = f"min_score={self.min_score}" if self.min_score is not None else \
            f"ratio={self.ratio}"
        return f"{self.in_features}, {keep}, multiplier={self.multiplier}"
