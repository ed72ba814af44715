"""The networks of the graph estimators: for graph outputs, graph convolutions and a
readout that pools every layer's node features per graph into linear heads; for
node outputs, a stack of graph convolutions read at the batch's nodes."""

import numpy as np

from sklears_neural.nn import (
    AttentionalAggregation,
    BatchNorm1d,
    Dropout,
    GATConv,
    GATv2Conv,
    GCNConv,
    GINConv,
    GINEConv,
    GlobalPool,
    LayerNorm,
    Linear,
    Module,
    ReLU,
    SAGEConv,
    Sequential,
)
from sklears_neural.nn import functional as F

__all__ = ["CONVOLUTIONS", "GraphNetwork", "NodeNetwork", "make_conv"]

CONVOLUTIONS = ("gin", "gine", "gcn", "sage", "gat", "gatv2")


def make_conv(conv, in_features, out_features, *, heads=1, concat=True, edge_dim=None,
              generator=None):
    """One graph convolution of ``conv``'s kind mapping in_features to out_features.

    Attention layers with ``concat`` split ``out_features`` between the
    heads (it must divide); without, each head has ``out_features`` and
    they are averaged. GINE needs ``edge_dim``, the edge feature width.
    """
    if conv in ("gin", "gine"):
        mlp = _gin_mlp(in_features, out_features, generator)
        if conv == "gin":
            return GINConv(mlp)
        if not edge_dim:
            raise ValueError("conv='gine' reads edge features: the graphs need edge_attr "
                             "(or use conv='gin').")
        return GINEConv(mlp, edge_dim=edge_dim, in_features=in_features, generator=generator)
    if conv == "gcn":
        return GCNConv(in_features, out_features, generator=generator)
    if conv == "sage":
        return SAGEConv(in_features, out_features, generator=generator)
    if concat and out_features % heads:
        raise ValueError(f"conv={conv!r} with heads={heads} concatenates the heads: each "
                         f"width ({out_features}) must be a multiple of heads.")
    attention = GATConv if conv == "gat" else GATv2Conv
    return attention(in_features, out_features // heads if concat else out_features,
                     heads=heads, concat=concat, generator=generator)


def call_conv(conv, h, edge_index, edge_attr, edge_weight):
    """Call a convolution with the edge data it reads (GCN's weights, GINE's features)."""
    if isinstance(conv, GCNConv):
        return conv(h, edge_index, edge_weight)
    if isinstance(conv, GINEConv):
        return conv(h, edge_index, edge_attr)
    return conv(h, edge_index)


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
    conv : {"gin", "gine", "gcn", "sage", "gat", "gatv2"}, default="gin"
        The graph convolution.
    hidden_layer_sizes : tuple of int, default=(64, 64, 64, 64)
        Widths of the convolution layers.
    pooling : {"mean", "sum", "max", "attention"}, default="mean"
        How each graph's nodes are pooled ("attention": a learned gate per
        layer, ``AttentionalAggregation``).
    dropout : float, default=0.5
        Before each linear head.
    heads : int, default=1
        Attention heads of "gat" and "gatv2".
    edge_dim : int, optional
        Edge feature width, for "gine".
    generator : numpy.random.Generator, optional
        Seeds the initial weights.
    """

    def __init__(self, n_features, n_outputs, conv="gin", hidden_layer_sizes=(64, 64, 64, 64),
                 pooling="mean", dropout=0.5, heads=1, edge_dim=None, generator=None):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes]
        self.n_layers = len(hidden_layer_sizes)
        for k, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
            setattr(self, f"conv{k}", make_conv(conv, w_in, w_out, heads=heads,
                                                edge_dim=edge_dim, generator=generator))
            setattr(self, f"norm{k}", BatchNorm1d(w_out))
        for k, width in enumerate(widths):
            setattr(self, f"head{k}", Linear(width, n_outputs, generator=generator))
            if pooling == "attention":
                setattr(self, f"pool{k}", AttentionalAggregation(
                    Linear(width, 1, generator=generator)))
        self.pooling = pooling
        if pooling != "attention":
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
        edge_attr : array of shape (n_edges, edge_dim), optional
            Edge features, read by ``conv="gine"``.
        edge_weight : array of shape (n_edges,), optional
            Edge weights, read by ``conv="gcn"`` (the others, as in PyG,
            take none).
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
        out = self.head0(self.dropout(self._pool(0, x, batch, n_graphs)))
        h = x
        for k in range(self.n_layers):
            h = call_conv(getattr(self, f"conv{k}"), h, edge_index, edge_attr, edge_weight)
            h = F.relu(getattr(self, f"norm{k}")(h))
            pooled = self._pool(k + 1, h, batch, n_graphs)
            out = out + getattr(self, f"head{k + 1}")(self.dropout(pooled))
        return out

    def _pool(self, k, h, batch, n_graphs):
        if self.pooling == "attention":
            return getattr(self, f"pool{k}")(h, batch, n_graphs)
        return self.pool(h, batch, n_graphs)


class NodeNetwork(Module):
    """Graph convolutions with one output row per node (read at the batch's nodes).

    Each hidden layer is dropout, a convolution, optional normalisation, a
    ReLU and, with ``residual``, the layer's input added back (through a
    linear map where the widths differ); the last layer is dropout and a
    convolution to the outputs (for attention, one head).

    Parameters
    ----------
    n_features : int
        Node feature width.
    n_outputs : int
        Width of the output (logits or predictions).
    conv : {"gcn", "gat", "gatv2", "sage", "gin", "gine"}, default="gcn"
        The graph convolution.
    hidden_layer_sizes : tuple of int, default=(16,)
        Widths of the hidden convolution layers (may be empty).
    dropout : float, default=0.5
        Before each convolution.
    heads : int, default=1
        Attention heads of the hidden "gat" and "gatv2" layers (concatenated).
    residual : bool, default=False
        Skip connections around the hidden layers.
    norm : {None, "batch", "layer"}, default=None
        Normalisation of the hidden layers' outputs.
    edge_dim : int, optional
        Edge feature width, for "gine".
    generator : numpy.random.Generator, optional
        Seeds the initial weights and the dropout.
    """

    def __init__(self, n_features, n_outputs, conv="gcn", hidden_layer_sizes=(16,),
                 dropout=0.5, heads=1, residual=False, norm=None, edge_dim=None,
                 generator=None):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes, n_outputs]
        self.n_layers = len(widths) - 1
        self.residual = residual
        for k, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
            last = k == self.n_layers - 1
            setattr(self, f"conv{k}", make_conv(
                conv, w_in, w_out, heads=1 if last else heads, concat=not last,
                edge_dim=edge_dim, generator=generator))
            if last:
                break
            if norm is not None:
                setattr(self, f"norm{k}", BatchNorm1d(w_out) if norm == "batch"
                        else LayerNorm(w_out))
            if residual and w_in != w_out:
                setattr(self, f"skip{k}", Linear(w_in, w_out, bias=False, generator=generator))
        self.norm = norm
        self.dropout = Dropout(dropout, generator=generator)

    def forward(self, x, edge_index, edge_attr=None, edge_weight=None, batch=None,
                n_graphs=None, nodes=None):
        """Node outputs of a batch of graphs (``NodeBatch`` unpacked).

        Parameters
        ----------
        x : Tensor of shape (n_nodes, n_features)
            Node features of every graph.
        edge_index : int array of shape (2, n_edges)
            The batch's edges.
        edge_attr : array of shape (n_edges, edge_dim), optional
            Edge features, read by ``conv="gine"``.
        edge_weight : array of shape (n_edges,), optional
            Edge weights, read by ``conv="gcn"``.
        batch, n_graphs : optional
            Each node's graph and their number (not read: a node's output
            depends on its own graph only through the edges).
        nodes : int array of shape (n_rows,), optional
            The nodes to output (default every node).

        Returns
        -------
        Tensor of shape (n_rows, n_outputs)
            One output row per node asked for.
        """
        h = x
        for k in range(self.n_layers):
            inner = call_conv(getattr(self, f"conv{k}"), self.dropout(h), edge_index,
                              edge_attr, edge_weight)
            if k == self.n_layers - 1:
                h = inner
                break
            if self.norm is not None:
                inner = getattr(self, f"norm{k}")(inner)
            inner = F.relu(inner)
            if self.residual:
                skip = getattr(self, f"skip{k}", None)
                inner = inner + (h if skip is None else skip(h))
            h = inner
        return h if nodes is None else F.gather_rows(h, nodes)
