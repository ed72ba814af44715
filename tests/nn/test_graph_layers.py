"""Graph layers: GCNConv, SAGEConv, GINConv and GlobalPool against their formulas
with dense matrices, and float64 gradient checks through them."""

import numpy as np
import pytest

from sklears_neural import nn
from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.data import Graph


def _graph(rng, n=7, e=16):
    edges = rng.integers(0, n, size=(2, e))
    edges[:, 0] = 3  # a self-loop of its own weight: GCN adds none to node 3
    return Graph(rng.normal(size=(n, 4)), edges, edge_weight=rng.uniform(0.5, 2.0, e))


def _dense(g, weighted=True):
    return g.adjacency(weighted=weighted).toarray().T  # A[target, source]


def test_gcn_is_the_normalised_adjacency_product(rng):
    g = _graph(rng)
    layer = nn.GCNConv(4, 3, dtype="float64", generator=0)
    layer.bias.data[...] = rng.normal(size=3)
    A = _dense(g)
    A[np.diag_indices(g.n_nodes)] = np.where(np.diag(A) > 0, np.diag(A), 1.0)  # remaining loops
    d = A.sum(axis=1)
    expected = (A / np.sqrt(np.outer(d, d))) @ g.x @ np.asarray(layer.lin.weight.data).T
    expected += np.asarray(layer.bias.data)
    out = layer(Tensor(g.x), g.edge_index, g.edge_weight).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("aggr", ["mean", "sum", "max"])
def test_sage_aggregates_the_neighbours(rng, aggr):
    g = _graph(rng)
    layer = nn.SAGEConv(4, 3, aggr=aggr, dtype="float64", generator=1)
    counts = _dense(g, weighted=False)  # edges from each source into each target
    neighbours = np.zeros_like(g.x)
    for i in range(g.n_nodes):
        sources = np.repeat(np.arange(g.n_nodes), counts[i].astype(int))
        if len(sources):
            rows = g.x[sources]
            neighbours[i] = {"mean": rows.mean(0), "sum": rows.sum(0), "max": rows.max(0)}[aggr]
    W_l, b_l = np.asarray(layer.lin_l.weight.data), np.asarray(layer.lin_l.bias.data)
    W_r = np.asarray(layer.lin_r.weight.data)
    expected = neighbours @ W_l.T + b_l + g.x @ W_r.T
    np.testing.assert_allclose(layer(Tensor(g.x), g.edge_index).numpy(), expected, atol=1e-12)


def test_gin_sums_neighbours_and_self(rng):
    g = _graph(rng)
    mlp = nn.Linear(4, 2, dtype="float64", generator=2)
    layer = nn.GINConv(mlp, eps=0.3)
    inner = _dense(g, weighted=False) @ g.x + 1.3 * g.x
    expected = inner @ np.asarray(mlp.weight.data).T + np.asarray(mlp.bias.data)
    np.testing.assert_allclose(layer(Tensor(g.x), g.edge_index).numpy(), expected, atol=1e-12)


def test_sage_weights_start_different():
    layer = nn.SAGEConv(4, 3, generator=0)
    assert not np.allclose(np.asarray(layer.lin_l.weight.data),
                           np.asarray(layer.lin_r.weight.data))


def test_gradients_through_every_layer(rng):
    g = _graph(rng)
    layers = [nn.GCNConv(4, 3, dtype="float64", generator=0),
              nn.SAGEConv(4, 3, aggr="max", dtype="float64", generator=0),
              nn.GINConv(nn.Linear(4, 3, dtype="float64", generator=0), train_eps=True,
                         dtype="float64")]
    for layer in layers:
        x = Tensor(g.x, requires_grad=True)
        params = list(layer.parameters())
        assert gradcheck(lambda x, *p: layer(x, g.edge_index), [x, *params]), layer
    pool = nn.GlobalPool("sum")
    out = pool(Tensor(g.x), np.zeros(g.n_nodes, dtype=np.int64), 1).numpy()
    np.testing.assert_allclose(out, g.x.sum(axis=0, keepdims=True))
    with pytest.raises(ValueError, match="aggr must be"):
        nn.SAGEConv(2, 2, aggr="min")
