"""The network of the graph estimators: graph convolutions, a readout that pools
every layer's node features per graph, and a linear head."""

import numpy as np

from sklears_neural.nn import (
    BatchNorm1d,
    Dropout,
    GCNConv,
    GINConv,
    GlobalPool,
    Linear,
    Module,
    ReLU,
    SAGEConv,
    Sequential,
)
from sklears_neural.nn import functional as F

__all__ = ["CONVOLUTIONS", "GraphNetwork"]

CONVOLUTIONS = ("gin", "gcn", "sage")


def _gin_mlp(in_features, out_features, generator):
    """The GIN paper's two-layer MLP with batch norm (Xu et al. 2019)."""
    return Sequential(Linear(in_features, out_features, generator=generator),
                      BatchNorm1d(out_features), ReLU(),
                      Linear(out_features, out_features, generator=generator))


class GraphNetwork(Module):
    """Graph convolutions and a readout of every layer's pooled node features.

    Each layer's node features (and the input's) are pooled per graph and
    go through a linear head of their own; the heads' outputs add up (the
    GIN paper's readout).

    Parameters
    ----------
    n_features : int
        Node feature width.
    n_outputs : int
        Width of the output (logits or predictions).
    conv : {"gin", "gcn", "sage"}, default="gin"
        The graph convolution.
    hidden_layer_sizes : tuple of int, default=(64, 64, 64, 64)
        Widths of the convolution layers.
    pooling : {"mean", "sum", "max"}, default="mean"
        How each graph's nodes are pooled.
    dropout : float, default=0.5
        Before each linear head.
    generator : numpy.random.Generator, optional
        Seeds the initial weights.
    """

    def __init__(self, n_features, n_outputs, conv="gin", hidden_layer_sizes=(64, 64, 64, 64),
                 pooling="mean", dropout=0.5, generator=None):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes]
        self.n_layers = len(hidden_layer_sizes)
        for k, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
            if conv == "gin":
                layer = GINConv(_gin_mlp(w_in, w_out, generator))
            elif conv == "gcn":
                layer = GCNConv(w_in, w_out, generator=generator)
            else:
                layer = SAGEConv(w_in, w_out, generator=generator)
            setattr(self, f"conv{k}", layer)
            setattr(self, f"norm{k}", BatchNorm1d(w_out))
        for k, width in enumerate(widths):
            setattr(self, f"head{k}", Linear(width, n_outputs, generator=generator))
        self.pool = GlobalPool(pooling)
        self.dropout = Dropout(dropout, generator=generator)

    def forward(self, x, edge_index, edge_attr=None, edge_weight=None, batch=None,
                n_graphs=None):
        """Graph-level outputs of a batch of graphs (``GraphBatch`` unpacked).

        Parameters
        ----------
        x : Tensor of shape (n_nodes, n_features)
            Node features of every graph.
        edge_index : int array of shape (2, n_edges)
            The batch's edges.
        edge_attr : optional
            Not read by these convolutions.
        edge_weight : array of shape (n_edges,), optional
            Edge weights, read by ``conv="gcn"`` (GIN and GraphSAGE, as in
            PyG, take none).
        batch : int array of shape (n_nodes,)
            Each node's graph.
        n_graphs : int
            The number of graphs.

        Returns
        -------
        Tensor of shape (n_graphs, n_outputs)
            One output row per graph.
        """
        if batch is None:
            batch, n_graphs = np.zeros(x.shape[0], dtype=np.int64), 1
        out = self.head0(self.dropout(self.pool(x, batch, n_graphs)))
        h = x
        for k in range(self.n_layers):
            conv = getattr(self, f"conv{k}")
            h = conv(h, edge_index, edge_weight) if isinstance(conv, GCNConv) else conv(
                h, edge_index)
            h = F.relu(getattr(self, f"norm{k}")(h))
            out = out + getattr(self, f"head{k + 1}")(self.dropout(self.pool(h, batch, n_graphs)))
        return out
