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


def _attention_by_hand(layer, x, edges):
    """GATConv's output from dense per-edge loops (self-loops replaced by one per node)."""
    n, heads, width = x.shape[0], layer.heads, layer.out_features
    keep = edges[0] != edges[1]
    pairs = list(zip(edges[0][keep], edges[1][keep])) + [(i, i) for i in range(n)]
    h = (x @ np.asarray(layer.lin.weight.data).T).reshape(n, heads, width)
    a_src, a_dst = np.asarray(layer.att_src.data)[0], np.asarray(layer.att_dst.data)[0]
    out = np.zeros((n, heads, width))
    for i in range(n):
        sources = [j for j, t in pairs if t == i]
        scores = np.array([(h[j] * a_src).sum(1) + (h[i] * a_dst).sum(1) for j in sources])
        scores = np.where(scores > 0, scores, 0.2 * scores)
        alpha = np.exp(scores - scores.max(0)) / np.exp(scores - scores.max(0)).sum(0)
        out[i] = sum(alpha[k][:, None] * h[j] for k, j in enumerate(sources))
    return out.reshape(n, -1)


def test_gat_is_softmax_attention_over_incoming_edges(rng):
    g = _graph(rng)
    layer = nn.GATConv(4, 3, heads=2, dtype="float64", generator=3)
    out, (edges, alpha) = layer(Tensor(g.x), g.edge_index, return_attention_weights=True)
    np.testing.assert_allclose(out.numpy(), _attention_by_hand(layer, g.x, g.edge_index),
                               atol=1e-12)
    sums = np.zeros((g.n_nodes, 2))
    np.add.at(sums, edges[1], alpha.numpy())
    np.testing.assert_allclose(sums, 1.0)  # every node has its self-loop


def test_gine_adds_relu_messages_with_edge_features(rng):
    g = _graph(rng)
    attr = rng.normal(size=(g.n_edges, 4))
    layer = nn.GINEConv(nn.Identity(), eps=0.5)
    expected = 1.5 * g.x
    for (j, i), e in zip(g.edge_index.T, attr):
        expected[i] += np.maximum(g.x[j] + e, 0)
    np.testing.assert_allclose(layer(Tensor(g.x), g.edge_index, attr).numpy(), expected)
    with pytest.raises(ValueError, match="edge_attr has 2 features and the nodes 4"):
        layer(Tensor(g.x), g.edge_index, attr[:, :2])
    with pytest.raises(ValueError, match="GINEConv needs edge_attr"):
        layer(Tensor(g.x), g.edge_index, None)


def test_gradients_through_attention_and_learned_pooling(rng):
    g = _graph(rng)
    attr = rng.normal(size=(g.n_edges, 2))
    batch = np.array([0, 0, 0, 2, 2, 2, 2])  # graph 1 empty
    f64 = {"dtype": "float64"}
    gine = nn.GINEConv(nn.Linear(4, 3, **f64, generator=0), train_eps=True, edge_dim=2,
                       in_features=4, **f64, generator=1)
    cases = [
        (nn.GATConv(4, 3, heads=2, **f64, generator=0), lambda m, x: m(x, g.edge_index)),
        (nn.GATConv(4, 3, heads=3, concat=False, add_self_loops=False, **f64, generator=0),
         lambda m, x: m(x, g.edge_index)),
        (nn.GATv2Conv(4, 2, heads=2, **f64, generator=0), lambda m, x: m(x, g.edge_index)),
        (nn.GATv2Conv(4, 2, share_weights=True, **f64, generator=0),
         lambda m, x: m(x, g.edge_index)),
        (gine, lambda m, x: m(x, g.edge_index, attr)),
        (nn.AttentionalAggregation(nn.Linear(4, 1, **f64, generator=0)),
         lambda m, x: m(x, batch, 3)),
        (nn.TopKPooling(4, ratio=0.6, **f64, generator=0),
         lambda m, x: m(x, g.edge_index, None, batch, 3)[0]),
        (nn.TopKPooling(4, min_score=0.2, **f64, generator=0),
         lambda m, x: m(x, g.edge_index, None, batch, 3)[0]),
    ]
    for layer, call in cases:
        x = Tensor(g.x, requires_grad=True)
        params = list(layer.parameters())
        assert gradcheck(lambda x, *p: call(layer, x), [x, *params]), layer


def test_topk_keeps_the_best_nodes_of_each_graph_and_their_edges(rng):
    g = _graph(rng)
    batch = np.array([0, 0, 0, 1, 1, 1, 1])
    pool = nn.TopKPooling(4, ratio=2, dtype="float64", generator=0)
    x, edges, _, new_batch, perm, score = pool(Tensor(g.x), g.edge_index, None, batch, 2)
    w = np.asarray(pool.weight.data)[:, 0]
    raw = g.x @ w / np.linalg.norm(w)
    for graph, nodes in ((0, [0, 1, 2]), (1, [3, 4, 5, 6])):
        best = sorted(nodes, key=lambda i: -raw[i])[:2]
        assert list(perm[new_batch == graph]) == best
    np.testing.assert_allclose(x.numpy(), g.x[perm] * np.tanh(raw[perm])[:, None])
    kept = {(a, b) for a, b in g.edge_index.T if a in perm and b in perm}
    assert {(perm[a], perm[b]) for a, b in edges.T} == kept
    with pytest.raises(ValueError, match="ratio must be a float in"):
        nn.TopKPooling(4, ratio=1.5)


def test_edge_masks_get_gradients_in_every_layer(rng):
    from sklears_neural.nn import functional as F

    g = _graph(rng)
    attr = rng.normal(size=(g.n_edges, 4))
    f64 = {"dtype": "float64"}
    layers = [(nn.GCNConv(4, 3, **f64, generator=0), (g.edge_weight,)),
              (nn.SAGEConv(4, 3, aggr="mean", **f64, generator=0), ()),
              (nn.GINConv(nn.Linear(4, 3, **f64, generator=0)), ()),
              (nn.GINEConv(nn.Linear(4, 3, **f64, generator=0)), (attr,)),
              (nn.GATConv(4, 3, heads=2, **f64, generator=0), ()),
              (nn.GATv2Conv(4, 3, **f64, generator=0), ())]
    mask = Tensor(rng.uniform(0.2, 1.0, g.n_edges), requires_grad=True)
    for layer, extra in layers:
        def masked(m, layer=layer, extra=extra):
            with F.edge_mask(m):
                return layer(Tensor(g.x), g.edge_index, *extra)
        assert gradcheck(masked, [mask]), layer
        ones = masked(Tensor(np.ones(g.n_edges))).numpy()
        np.testing.assert_allclose(ones, layer(Tensor(g.x), g.edge_index, *extra).numpy())
    with pytest.raises(ValueError, match="edge_mask has shape"):
        with F.edge_mask(Tensor(np.ones(3))):
            layers[1][0](Tensor(g.x), g.edge_index)
