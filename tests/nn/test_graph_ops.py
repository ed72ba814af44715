"""Message-passing ops: float64 gradient checks, and agreement with the data
layer's adjacency (``Graph.adjacency().T @ x``) and with pooling by hand."""

import numpy as np
import pytest

from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.data import Graph, collate_graphs
from sklears_neural.nn import functional as F


def _graph(rng, n=6, e=14):
    edges = rng.integers(0, n, size=(2, e))
    edges[:, 0] = min(2, n - 1)  # a self-loop; duplicates likely, isolated nodes possible
    return Graph(rng.normal(size=(n, 3)), edges, edge_weight=rng.uniform(0.5, 2.0, e))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_graph_aggregate_gradients(rng, reduce):
    g = _graph(rng)
    indptr, indices, order = F.graph_csr(g.edge_index, g.n_nodes)
    x = Tensor(g.x, requires_grad=True)
    w = Tensor(g.edge_weight, requires_grad=True)
    assert gradcheck(lambda x, w: F.graph_aggregate(x, indptr, indices, w[order], reduce),
                     [x, w])
    assert gradcheck(lambda x: F.graph_aggregate(x, indptr, indices, None, reduce), [x])


def test_graph_aggregate_is_the_adjacency_product(rng):
    g = _graph(rng)
    indptr, indices, order = F.graph_csr(g.edge_index, g.n_nodes)
    out = F.graph_aggregate(Tensor(g.x), indptr, indices, Tensor(g.edge_weight[order]))
    np.testing.assert_allclose(out.numpy(), g.adjacency().T @ g.x)
    mean = F.graph_aggregate(Tensor(g.x), indptr, indices, None, "mean").numpy()
    degree = np.maximum(np.bincount(g.edge_index[1], minlength=g.n_nodes), 1)[:, None]
    np.testing.assert_allclose(mean, g.adjacency(weighted=False).T @ g.x / degree)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_global_pool_over_a_batch_with_an_empty_graph(rng, reduce):
    graphs = [_graph(rng, 4, 6), _graph(rng, 1, 1), _graph(rng, 3, 2)]
    batch = collate_graphs(graphs)
    pooled = F.global_pool(Tensor(batch.x), batch.batch, 4, reduce).numpy()  # 4th: no nodes
    expected = [getattr(np, reduce)(g.x, axis=0) for g in graphs] + [np.zeros(3)]
    np.testing.assert_allclose(pooled, expected)
    x = Tensor(batch.x, requires_grad=True)
    assert gradcheck(lambda x: F.global_pool(x, batch.batch, 4, reduce), [x])
    with pytest.raises(ValueError, match="batch must be non-decreasing"):
        F.global_pool(x, batch.batch[::-1], 4)


def test_gather_scatter_and_segment_softmax_gradients(rng):
    index = np.array([2, 0, 2, 2, 4])
    x = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    assert gradcheck(lambda x: F.gather_rows(x, index), [x])
    src = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    assert gradcheck(lambda s: F.scatter_add_rows(s, index, 6), [src])
    np.testing.assert_allclose(F.scatter_add_rows(src, index, 6).numpy()[2],
                               src.numpy()[[0, 2, 3]].sum(axis=0))
    ptr = np.array([0, 2, 2, 5])
    scores = Tensor(rng.normal(size=(5, 2)), requires_grad=True)
    assert gradcheck(lambda s: F.segment_softmax(s, ptr), [scores])
    flat = Tensor(rng.normal(size=5), requires_grad=True)
    assert gradcheck(lambda s: F.segment_softmax(s, ptr) * Tensor(np.arange(5.0)), [flat])


def test_multi_head_aggregation_gradients(rng):
    g = _graph(rng)
    indptr, indices, order = F.graph_csr(g.edge_index, g.n_nodes)
    x = Tensor(rng.normal(size=(g.n_nodes, 6)), requires_grad=True)
    w = Tensor(rng.normal(size=(g.n_edges, 3)), requires_grad=True)
    for reduce in ("sum", "mean", "max"):
        assert gradcheck(lambda x, w: F.graph_aggregate(x, indptr, indices, w, reduce), [x, w])


@pytest.mark.parametrize("n_nodes", [1, 300, 70_000])  # one digit, and two 16-bit digits
def test_graph_csr_orders_edges_by_target_stably(rng, n_nodes):
    edges = rng.integers(0, n_nodes, size=(2, 5000))
    indptr, indices, order = F.graph_csr(edges, n_nodes)
    np.testing.assert_array_equal(order, np.argsort(edges[1], kind="stable"))
    np.testing.assert_array_equal(indices, edges[0][order])
    np.testing.assert_array_equal(np.diff(indptr), np.bincount(edges[1], minlength=n_nodes))
