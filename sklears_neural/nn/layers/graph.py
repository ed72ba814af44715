"""Graph convolution layers and pooling, with PyTorch Geometric's names and
defaults (differences are said in each docstring).

Every layer is called as ``layer(x, edge_index)`` (``edge_weight`` where the
layer takes one): x of shape (n_nodes, in_features), edge_index of shape
(2, n_edges) with sources in row 0 and targets in row 1; a node aggregates
its incoming edges. A batch of graphs is one block-diagonal graph
(``data.collate_graphs``).
"""

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.autograd import Tensor
from sklears_neural.backend import get_array_module, to_numpy
from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array
from sklears_neural.nn.layers.dense import Linear

__all__ = ["GCNConv", "GINConv", "GINEConv", "GlobalPool", "SAGEConv"]


def _constant(values, like):
    """A numpy array of per-entry values as a constant on ``like``'s device and dtype."""
    xp = get_array_module(like.data)
    return Tensor(xp.asarray(values, dtype=like.dtype))


class GCNConv(Module):
    """Graph convolution of Kipf and Welling (2017), PyG's ``GCNConv``.

    ``out = D^-1/2 (A + I) D^-1/2 x W^T + b``: a self-loop of weight 1 is
    added to every node that has none (``add_self_loops=True``; an existing
    self-loop keeps its weight, as PyG's ``add_remaining_self_loops``), D
    is the weighted in-degree with them, and each edge j -> i weighs
    ``w_ji / sqrt(d_i d_j)``.

    Parameters
    ----------
    in_features, out_features : int
        Widths of the node features in and out.
    bias : bool, default=True
        Add a learned bias (after the aggregation).
    add_self_loops : bool, default=True
        Add each node's own features (weight 1).
    dtype : {"float32", "float64"}, optional
        The parameters' dtype.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights.
    """

    def __init__(self, in_features, out_features, bias=True, add_self_loops=True, *,
                 dtype=None, generator=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.add_self_loops = add_self_loops
        self.lin = Linear(in_features, out_features, bias=False, dtype=dtype,
                          generator=generator)
        if bias:
            zeros = empty_parameter_array((out_features,), dtype, "cpu")
            zeros[...] = 0  # PyG starts the bias at zero
            self.bias = Parameter(zeros)
        else:
            self.register_parameter("bias", None)

    def forward(self, x, edge_index, edge_weight=None):
        """Apply the layer.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, in_features)
            Node features.
        edge_index : int array of shape (2, n_edges)
            Sources and targets.
        edge_weight : array or Tensor of shape (n_edges,), optional
            Edge weights (constants: no gradient reaches them).

        Returns
        -------
        Tensor of shape (n_nodes, out_features)
            The new node features.
        """
        n = x.shape[0]
        edges, weights = _with_self_loops(edge_index, edge_weight, n, self.add_self_loops)
        degree = np.bincount(edges[1], weights=weights, minlength=n)
        inv_sqrt = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1e-300)), 0.0)
        norm = inv_sqrt[edges[0]] * weights * inv_sqrt[edges[1]]
        indptr, indices, order = F.graph_csr(edges, n)
        entry_weights = _constant(norm[order], x)
        n_given = np.shape(edge_index)[1]
        mask = F.edge_mask_for(n_given, n_added=edges.shape[1] - n_given)
        if mask is not None:  # an explainer's mask scales the normalised messages (as PyG)
            entry_weights = entry_weights * F.take_entries(mask, order)
        out = F.graph_aggregate(self.lin(x), indptr, indices, entry_weights, "sum")
        return out if self.bias is None else out + self.bias


def _masked(edge_index, order):
    """An explainer's edge mask (``F.edge_mask``) in CSR order, or None."""
    mask = F.edge_mask_for(np.shape(edge_index)[1])
    return None if mask is None else F.take_entries(mask, order)


def _with_self_loops(edge_index, edge_weight, n, add):
    """The edges with a self-loop of weight 1 for every node that has none."""
    edges = F.check_edge_index(edge_index, n)
    if isinstance(edge_weight, Tensor):  # constants here (a batch's floats come as Tensors)
        edge_weight = to_numpy(edge_weight.data)
    weights = (np.ones(edges.shape[1]) if edge_weight is None
               else np.asarray(edge_weight, dtype=np.float64).reshape(-1))
    if weights.shape[0] != edges.shape[1]:
        raise ValueError(f"edge_weight has {weights.shape[0]} values for "
                         f"{edges.shape[1]} edges.")
    if add:
        has_loop = np.zeros(n, dtype=bool)
        has_loop[edges[0][edges[0] == edges[1]]] = True
        loops = np.flatnonzero(~has_loop)
        edges = np.hstack([edges, np.vstack([loops, loops])])
        weights = np.concatenate([weights, np.ones(len(loops))])
    return edges, weights


class SAGEConv(Module):
    """GraphSAGE (Hamilton et al. 2017), PyG's ``SAGEConv``.

    ``out = W_1 x_i + W_2 aggr_{j -> i} x_j + b`` with ``aggr`` the mean
    (default), sum or max of the incoming neighbours' features (a node
    without any aggregates 0).

    Parameters
    ----------
    in_features, out_features : int
        Widths of the node features in and out.
    aggr : {"mean", "sum", "max"}, default="mean"
        The neighbourhood aggregation.
    bias : bool, default=True
        A learned bias (on the neighbours' term, as PyG's ``lin_l``).
    dtype : {"float32", "float64"}, optional
        The parameters' dtype.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights.
    """

    def __init__(self, in_features, out_features, aggr="mean", bias=True, *, dtype=None,
                 generator=None):
        super().__init__()
        if aggr not in ("mean", "sum", "max"):
            raise ValueError(f"SAGEConv: aggr must be 'mean', 'sum' or 'max'; got {aggr!r}.")
        self.in_features, self.out_features, self.aggr = in_features, out_features, aggr
        rng = as_generator(generator)  # one stream: the two weights start different
        self.lin_l = Linear(in_features, out_features, bias=bias, dtype=dtype, generator=rng)
        self.lin_r = Linear(in_features, out_features, bias=False, dtype=dtype, generator=rng)

    def forward(self, x, edge_index):
        """Apply the layer.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, in_features)
            Node features.
        edge_index : int array of shape (2, n_edges)
            Sources and targets.

        Returns
        -------
        Tensor of shape (n_nodes, out_features)
            The new node features.
        """
        indptr, indices, order = F.graph_csr(edge_index, x.shape[0])
        neighbours = F.graph_aggregate(x, indptr, indices, _masked(edge_index, order),
                                       self.aggr)
        return self.lin_l(neighbours) + self.lin_r(x)


class GINConv(Module):
    """Graph isomorphism network layer (Xu et al. 2019), PyG's ``GINConv``.

    ``out = nn((1 + eps) x_i + sum_{j -> i} x_j)``.

    Parameters
    ----------
    nn : Module
        Applied to the aggregated features (typically an MLP).
    eps : float, default=0.0
        The weight of a node's own features beyond 1.
    train_eps : bool, default=False
        Learn ``eps``.
    dtype : {"float32", "float64"}, optional
        The dtype of a learned ``eps``.
    """

    def __init__(self, nn, eps=0.0, train_eps=False, *, dtype=None):
        super().__init__()
        self.nn = nn
        self.train_eps = train_eps
        if train_eps:
            value = empty_parameter_array((1,), dtype, "cpu")
            value[...] = eps
            self.eps = Parameter(value)
        else:
            self.eps = float(eps)

    def forward(self, x, edge_index):
        """Apply the layer.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, in_features)
            Node features.
        edge_index : int array of shape (2, n_edges)
            Sources and targets.

        Returns
        -------
        Tensor
            ``nn``'s output for every node.
        """
        indptr, indices, order = F.graph_csr(edge_index, x.shape[0])
        summed = F.graph_aggregate(x, indptr, indices, _masked(edge_index, order), "sum")
        return self.nn(summed + x * (self.eps + 1.0))


class GINEConv(GINConv):
    """GIN with edge features (Hu et al. 2020), PyG's ``GINEConv``.

    ``out = nn((1 + eps) x_i + sum_{j -> i} relu(x_j + e_ji))``, with
    ``e_ji`` the edge's features, first mapped to the node width by a
    linear layer when ``edge_dim`` is given.

    Parameters
    ----------
    nn : Module
        Applied to the aggregated features (typically an MLP).
    eps : float, default=0.0
        The weight of a node's own features beyond 1.
    train_eps : bool, default=False
        Learn ``eps``.
    edge_dim : int, optional
        The edge feature width, when it differs from the node feature
        width (``in_features``, then required).
    in_features : int, optional
        The node feature width (for the edge features' linear layer).
    dtype : {"float32", "float64"}, optional
        The dtype of the learned parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the edge features' linear layer.
    """

    def __init__(self, nn, eps=0.0, train_eps=False, edge_dim=None, in_features=None, *,
                 dtype=None, generator=None):
        super().__init__(nn, eps, train_eps, dtype=dtype)
        if edge_dim is not None:
            if in_features is None:
                raise ValueError("GINEConv: edge_dim needs in_features (the node feature "
                                 "width the edge features are mapped to).")
            self.lin = Linear(edge_dim, in_features, dtype=dtype, generator=generator)
        else:
            self.lin = None

    def forward(self, x, edge_index, edge_attr):
        """Apply the layer.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, in_features)
            Node features.
        edge_index : int array of shape (2, n_edges)
            Sources and targets.
        edge_attr : array or Tensor of shape (n_edges, edge_dim)
            Edge features (``edge_dim`` = ``in_features`` without ``edge_dim``).

        Returns
        -------
        Tensor
            ``nn``'s output for every node.
        """
        n = x.shape[0]
        source, target = F.check_edge_index(edge_index, n)
        if edge_attr is None:
            raise ValueError("GINEConv needs edge_attr, the edge features (use GINConv for a "
                             "graph without them).")
        edges = edge_attr if isinstance(edge_attr, Tensor) else _constant(edge_attr, x)
        if edges.ndim != 2 or edges.shape[0] != len(source):
            raise ValueError(f"GINEConv: edge_attr has shape {tuple(edges.shape)}; it needs "
                             f"one row per edge, ({len(source)}, edge_dim).")
        if self.lin is not None:
            edges = self.lin(edges)
        elif edges.shape[1] != x.shape[1]:
            raise ValueError(f"GINEConv: edge_attr has {edges.shape[1]} features and the "
                             f"nodes {x.shape[1]}; give edge_dim and in_features to map them.")
        messages = F.relu(F.gather_rows(x, source) + edges)
        mask = F.edge_mask_for(len(source))
        if mask is not None:
            messages = messages * mask.reshape(-1, 1)
        summed = F.scatter_add_rows(messages, target, n)
        return self.nn(summed + x * (self.eps + 1.0))


class GlobalPool(Module):
    """Pool each graph's nodes into one row (PyG's global pools as a layer).

    ``reduce`` "sum", "mean" and "max" are PyG's ``global_add_pool``,
    ``global_mean_pool`` and ``global_max_pool``.

    Parameters
    ----------
    reduce : {"mean", "sum", "max"}, default="mean"
        How the nodes of a graph are pooled.
    """

    def __init__(self, reduce="mean"):
        super().__init__()
        if reduce not in ("mean", "sum", "max"):
            raise ValueError(f"GlobalPool: reduce must be 'mean', 'sum' or 'max'; got "
                             f"{reduce!r}.")
        self.reduce = reduce

    def forward(self, x, batch, n_graphs):
        """Pool.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, F)
            Node features, each graph's nodes together.
        batch : int array of shape (n_nodes,)
            Each node's graph.
        n_graphs : int
            The number of graphs.

        Returns
        -------
        Tensor of shape (n_graphs, F)
            One row per graph.
        """
        return F.global_pool(x, batch, n_graphs, self.reduce)
