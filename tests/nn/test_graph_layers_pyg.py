"""Graph layers against PyTorch Geometric's, weights copied, in float64 (skipped
without torch_geometric, which the benchmark environment has)."""

import numpy as np
import pytest

from sklears_neural import nn
from sklears_neural.autograd import Tensor

torch = pytest.importorskip("torch", reason="PyG parity needs torch")
pyg = pytest.importorskip("torch_geometric.nn", reason="PyG parity needs torch_geometric")


def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def _copy(param, value):
    param.data[...] = value.detach().numpy().reshape(param.data.shape)


@pytest.fixture
def graph():
    rng = np.random.default_rng(0)
    n = 9
    edges = rng.integers(0, n, size=(2, 30))
    edges[:, 0] = 4  # a self-loop; node 8 likely isolated in some direction
    return rng.normal(size=(n, 5)), edges, rng.normal(size=(30, 5))


def _compare(ours, theirs, *args_ours, args_theirs):
    out = ours(*args_ours)
    expected = theirs(*args_theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-10)


@pytest.mark.parametrize("concat", [True, False])
def test_gat_matches_pyg(graph, concat):
    x, edges, _ = graph
    theirs = pyg.GATConv(5, 3, heads=2, concat=concat).double()
    ours = nn.GATConv(5, 3, heads=2, concat=concat, dtype="float64")
    _copy(ours.lin.weight, theirs.lin.weight)
    _copy(ours.att_src, theirs.att_src)
    _copy(ours.att_dst, theirs.att_dst)
    torch.nn.init.normal_(theirs.bias)
    _copy(ours.bias, theirs.bias)
    _compare(ours, theirs, Tensor(x), edges, args_theirs=(_t(x), torch.tensor(edges)))


def test_gatv2_matches_pyg(graph):
    x, edges, _ = graph
    theirs = pyg.GATv2Conv(5, 3, heads=2).double()
    ours = nn.GATv2Conv(5, 3, heads=2, dtype="float64")
    for name in ("lin_l", "lin_r"):
        torch.nn.init.normal_(getattr(theirs, name).bias)
        _copy(getattr(ours, name).weight, getattr(theirs, name).weight)
        _copy(getattr(ours, name).bias, getattr(theirs, name).bias)
    _copy(ours.att, theirs.att)
    _compare(ours, theirs, Tensor(x), edges, args_theirs=(_t(x), torch.tensor(edges)))


def test_gcn_and_sage_match_pyg(graph):
    x, edges, _ = graph
    weights = np.random.default_rng(1).uniform(0.5, 2, edges.shape[1])
    theirs = pyg.GCNConv(5, 3).double()
    ours = nn.GCNConv(5, 3, dtype="float64")
    _copy(ours.lin.weight, theirs.lin.weight)
    _compare(ours, theirs, Tensor(x), edges, weights,
             args_theirs=(_t(x), torch.tensor(edges), _t(weights)))
    for aggr in ("mean", "max", "sum"):
        theirs = pyg.SAGEConv(5, 3, aggr=aggr).double()
        ours = nn.SAGEConv(5, 3, aggr=aggr, dtype="float64")
        for name in ("lin_l", "lin_r"):
            _copy(getattr(ours, name).weight, getattr(theirs, name).weight)
        _copy(ours.lin_l.bias, theirs.lin_l.bias)
        _compare(ours, theirs, Tensor(x), edges, args_theirs=(_t(x), torch.tensor(edges)))


def test_gine_matches_pyg(graph):
    x, edges, edge_attr = graph
    theirs = pyg.GINEConv(torch.nn.Linear(5, 3), eps=0.2, edge_dim=2).double()
    theirs.eps.data.fill_(0.2)  # PyG keeps eps in float32 (0.2000000030)
    ours = nn.GINEConv(nn.Linear(5, 3, dtype="float64"), eps=0.2, edge_dim=2, in_features=5,
                       dtype="float64")
    for mine, their in ((ours.nn, theirs.nn), (ours.lin, theirs.lin)):
        _copy(mine.weight, their.weight)
        _copy(mine.bias, their.bias)
    attr = edge_attr[:, :2]
    _compare(ours, theirs, Tensor(x), edges, attr,
             args_theirs=(_t(x), torch.tensor(edges), _t(attr)))


def test_pooling_matches_pyg(graph):
    x, edges, _ = graph
    batch = np.array([0, 0, 0, 0, 2, 2, 2, 2, 2])  # graph 1 has no nodes
    gate, value = torch.nn.Linear(5, 1).double(), torch.nn.Linear(5, 4).double()
    theirs = pyg.AttentionalAggregation(gate, value)
    ours = nn.AttentionalAggregation(nn.Linear(5, 1, dtype="float64"),
                                     nn.Linear(5, 4, dtype="float64"))
    for mine, their in ((ours.gate_nn, gate), (ours.nn, value)):
        _copy(mine.weight, their.weight)
        _copy(mine.bias, their.bias)
    _compare(ours, theirs, Tensor(x), batch, 3,
             args_theirs=(_t(x), torch.tensor(batch), None, 3))
    for options in ({"ratio": 0.5}, {"min_score": 0.2}):
        theirs = pyg.TopKPooling(5, **options).double()
        ours = nn.TopKPooling(5, **options, dtype="float64")
        _copy(ours.weight, theirs.select.weight)
        mine = ours(Tensor(x), edges, None, batch, 3)
        their = theirs(_t(x), torch.tensor(edges), None, torch.tensor(batch))
        np.testing.assert_allclose(mine[0].numpy(), their[0].detach().numpy(), atol=1e-10)
        np.testing.assert_array_equal(mine[1], their[1].numpy())
        np.testing.assert_array_equal(mine[4], their[4].numpy())


def test_edge_masks_match_pyg_explain_mode(graph):
    from sklears_neural.nn import functional as F

    set_masks = pytest.importorskip("torch_geometric.explain.algorithm.utils").set_masks
    x, edges, _ = graph
    # without self-loops: PyG's explain mode drops a graph's own self-loops from the mask
    # (its GCN keeps them as messages, so the mask would shift by one); ours keeps each
    # edge's own entry
    edges = edges[:, edges[0] != edges[1]]
    mask = np.random.default_rng(2).uniform(0, 1, edges.shape[1])
    pairs = [(pyg.GCNConv(5, 3), nn.GCNConv(5, 3, dtype="float64"), {"lin": "lin"}),
             (pyg.GATConv(5, 3, heads=2), nn.GATConv(5, 3, heads=2, dtype="float64"),
              {"lin": "lin", "att_src": None, "att_dst": None}),
             (pyg.SAGEConv(5, 3, aggr="max"), nn.SAGEConv(5, 3, aggr="max", dtype="float64"),
              {"lin_l": "lin_l", "lin_r": "lin_r"}),
             (pyg.GINConv(torch.nn.Linear(5, 3)), nn.GINConv(nn.Linear(5, 3, dtype="float64")),
              {"nn": "nn"})]
    for theirs, ours, names in pairs:
        theirs = theirs.double()
        for mine, their in names.items():
            if their is None:
                _copy(getattr(ours, mine), getattr(theirs, mine))
                continue
            _copy(getattr(ours, mine).weight, getattr(theirs, their).weight)
            if getattr(getattr(theirs, their), "bias", None) is not None:
                _copy(getattr(ours, mine).bias, getattr(theirs, their).bias)
        set_masks(theirs, torch.nn.Parameter(_t(mask)), torch.tensor(edges), apply_sigmoid=False)
        with F.edge_mask(Tensor(mask)):
            _compare(ours, theirs, Tensor(x), edges, args_theirs=(_t(x), torch.tensor(edges)))
