"""Graph attention layers, PyTorch Geometric's ``GATConv`` and ``GATv2Conv``.

Each edge j -> i gets a score per head, the scores of each node's incoming
edges go through a softmax (``segment_softmax`` over the CSR rows), and a
node's output is its neighbours' transformed features weighted by them
(``graph_aggregate`` with one weight per edge and head).
"""

import math

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.nn import functional as F
from sklears_neural.nn import init
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array
from sklears_neural.nn.layers.dense import Linear

__all__ = ["GATConv", "GATv2Conv"]

_PARAMETERS_DOC = """
    Parameters
    ----------
    in_features, out_features : int
        Widths of the node features in and of each head's output.
    heads : int, default=1
        Attention heads.
    concat : bool, default=True
        Concatenate the heads' outputs (width ``heads * out_features``);
        False averages them (width ``out_features``).
    negative_slope : float, default=0.2
        Of the leaky ReLU on the scores.
    dropout : float in [0, 1), default=0.0
        Drop attention weights in training (each node then sees a random
        subset of its neighbours).
    add_self_loops : bool, default=True
        Replace the graph's self-loops by one per node, so that a node
        attends to itself (as PyG does).
    bias : bool, default=True
        A learned bias on the output, starting at zero.
    dtype : {"float32", "float64"}, optional
        The parameters' dtype.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights and the attention dropout.

    Notes
    -----
    PyG's ``edge_dim`` (edge features in the scores) and ``residual`` are
    not offered.
"""


def _check(name, heads, dropout):
    if not isinstance(heads, (int, np.integer)) or isinstance(heads, bool) or heads < 1:
        raise ValueError(f"{name}: heads must be a positive integer; got {heads!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{name}: dropout must be in [0, 1); got {dropout!r}.")


def _glorot_parameter(shape, dtype, rng):
    """A parameter drawn as PyG's ``glorot`` draws it (fans: the last two sizes)."""
    bound = math.sqrt(6.0 / (shape[-2] + shape[-1]))
    data = empty_parameter_array(shape, dtype, "cpu")
    data[...] = rng.uniform(-bound, bound, size=shape)
    return Parameter(data)


def _attention_edges(edge_index, n, add_self_loops):
    """The CSR structure of the edges (self-loops replaced by one per node when asked),
    each entry's target, and an explainer's edge mask in CSR order (or None):
    (indptr, sources, targets, mask)."""
    edges = F.check_edge_index(edge_index, n)
    keep, n_added = None, 0
    if add_self_loops:
        keep, n_added, loops = edges[0] != edges[1], n, np.arange(n)
        edges = np.hstack([edges[:, keep], np.vstack([loops, loops])])
    indptr, indices, order = F.graph_csr(edges, n)
    mask = F.edge_mask_for(np.shape(edge_index)[1], keep, n_added)
    return (indptr, indices, np.repeat(np.arange(n), np.diff(indptr)),
            None if mask is None else F.take_entries(mask, order))


class _GraphAttention(Module):
    """What GATConv and GATv2Conv share: checks, bias, dropout, aggregation, heads."""

    def _setup(self, name, in_features, out_features, heads, concat, negative_slope, dropout,
               add_self_loops, bias, dtype, generator):
        _check(name, heads, dropout)
        self.in_features, self.out_features, self.heads = in_features, out_features, heads
        self.concat, self.negative_slope = concat, negative_slope
        self.dropout, self.add_self_loops = dropout, add_self_loops
        self.generator = as_generator(generator)
        if bias:
            zeros = empty_parameter_array((heads * out_features if concat else out_features,),
                                          dtype, "cpu")
            zeros[...] = 0
            self.bias = Parameter(zeros)
        else:
            self.register_parameter("bias", None)

    def forward(self, x, edge_index, return_attention_weights=False):
        """Apply the layer.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, in_features)
            Node features.
        edge_index : int array of shape (2, n_edges)
            Sources and targets.
        return_attention_weights : bool, default=False
            Also return the edges attended over (with the self-loops) and
            their weights.

        Returns
        -------
        out : Tensor of shape (n_nodes, heads * out_features) or (n_nodes, out_features)
            The new node features.
        (edge_index, alpha) : (int array of shape (2, E), Tensor of shape (E, heads))
            With ``return_attention_weights``: each edge's attention per head
            (before dropout).
        """
        n = x.shape[0]
        indptr, indices, targets, mask = _attention_edges(edge_index, n, self.add_self_loops)
        values, scores = self._values_and_scores(x, indices, targets)
        return self._attend(values, scores, indptr, indices, targets, mask, n,
                            return_attention_weights)

    def _values_and_scores(self, x, indices, targets):
        """The messages to aggregate and each entry's scores (entries in CSR order)."""
        raise NotImplementedError

    def _attend(self, values, scores, indptr, indices, targets, mask, n,
                return_attention_weights):
        """Softmax the scores over each node's incoming edges, aggregate the sources'
        ``values`` with them, and combine the heads."""
        alpha = F.segment_softmax(scores, indptr)
        weights = F.dropout(alpha, self.dropout, self.training, self.generator)
        if mask is not None:  # an explainer's mask scales the messages (as PyG)
            weights = weights * mask.reshape(-1, 1)
        out = F.graph_aggregate(values, indptr, indices, weights, "sum")
        if not self.concat:
            out = out.reshape(n, self.heads, self.out_features).mean(axis=1)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (np.vstack([indices, targets]), alpha)
        return out

    def extra_repr(self):
        """The sizes, heads and how they combine.

        Returns
        -------
        str
            The layer's settings.
        """
        return (f"{self.in_features}, {self.out_features}, heads={self.heads}, "
                f"concat={self.concat}")


class GATConv(_GraphAttention):
    __doc__ = """Graph attention (Velickovic et al. 2018), PyG's ``GATConv``.

    Per head, ``h = W x``; edge j -> i scores
    ``leaky_relu(a_src . h_j + a_dst . h_i)``; the scores of i's incoming
    edges are softmaxed into ``alpha``, and ``out_i = sum_j alpha_ji h_j``.
""" + _PARAMETERS_DOC

    def __init__(self, in_features, out_features, heads=1, concat=True, negative_slope=0.2,
                 dropout=0.0, add_self_loops=True, bias=True, *, dtype=None, generator=None):
        super().__init__()
        self._setup("GATConv", in_features, out_features, heads, concat, negative_slope,
                    dropout, add_self_loops, bias, dtype, generator)
        self.lin = Linear(in_features, heads * out_features, bias=False, dtype=dtype)
        init.xavier_uniform_(self.lin.weight, generator=self.generator)
        self.att_src = _glorot_parameter((1, heads, out_features), dtype, self.generator)
        self.att_dst = _glorot_parameter((1, heads, out_features), dtype, self.generator)

    def _values_and_scores(self, x, indices, targets):
        h = self.lin(x)
        per_head = h.reshape(x.shape[0], self.heads, self.out_features)
        score_src = (per_head * self.att_src).sum(axis=2)
        score_dst = (per_head * self.att_dst).sum(axis=2)
        scores = F.leaky_relu(F.gather_rows(score_src, indices)
                              + F.gather_rows(score_dst, targets), self.negative_slope)
        return h, scores


class GATv2Conv(_GraphAttention):
    __doc__ = """Dynamic graph attention (Brody et al. 2022), PyG's ``GATv2Conv``.

    Edge j -> i scores ``a . leaky_relu(W_l x_j + W_r x_i)`` per head (the
    nonlinearity before the attention vector makes the ranking of
    neighbours depend on the target); ``out_i = sum_j alpha_ji W_l x_j``.
""" + _PARAMETERS_DOC.replace(
        "    bias : bool, default=True\n",
        "    share_weights : bool, default=False\n"
        "        One matrix for sources and targets (``W_l = W_r``).\n"
        "    bias : bool, default=True\n")

    def __init__(self, in_features, out_features, heads=1, concat=True, negative_slope=0.2,
                 dropout=0.0, add_self_loops=True, share_weights=False, bias=True, *,
                 dtype=None, generator=None):
        super().__init__()
        self._setup("GATv2Conv", in_features, out_features, heads, concat, negative_slope,
                    dropout, add_self_loops, bias, dtype, generator)
        self.share_weights = share_weights
        self.lin_l = self._linear(dtype)
        if not share_weights:
            self.lin_r = self._linear(dtype)
        self.att = _glorot_parameter((1, heads, out_features), dtype, self.generator)

    def _linear(self, dtype):
        lin = Linear(self.in_features, self.heads * self.out_features, dtype=dtype)
        init.xavier_uniform_(lin.weight, generator=self.generator)
        init.zeros_(lin.bias)
        return lin

    def _values_and_scores(self, x, indices, targets):
        x_l = self.lin_l(x)
        x_r = x_l if self.share_weights else self.lin_r(x)
        pair = F.leaky_relu(F.gather_rows(x_l, indices) + F.gather_rows(x_r, targets),
                            self.negative_slope)
        scores = (pair.reshape(len(indices), self.heads, self.out_features)
                  * self.att).sum(axis=2)
        return x_l, scores
