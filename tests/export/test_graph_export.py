"""ONNX export of the graph estimators: onnxruntime, given a batch's node features,
edges and graph ids, gives predict_proba / predict within 1e-5 for every
convolution and pooling that has a mapping, on graphs it was not traced on;
what has no mapping says so."""

import numpy as np
import pytest

import sklears_neural as sn
from sklears_neural.data import Graph, collate_graphs

ort = pytest.importorskip("onnxruntime", reason="onnxruntime runs the exported models")
pytest.importorskip("onnx", reason="the onnx package builds them")
from sklears_neural.export import OnnxExportError, to_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(0)


def _graph(n, loop=True):
    """A path of n nodes both ways (and a self-loop at node 0), 3 random features."""
    path = np.arange(n - 1)
    sources = np.r_[path, path + 1, [0] if loop else []].astype(np.int64)
    targets = np.r_[path + 1, path, [0] if loop else []].astype(np.int64)
    return Graph(RNG.standard_normal((n, 3)), np.vstack([sources, targets]))


GRAPHS = [_graph(3 + k % 6, loop=k % 3 == 0) for k in range(100)]
Y = np.arange(100) % 2


def _run(model, inputs):
    session = ort.InferenceSession(model.SerializeToString())
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, inputs)))


def _feed(graphs, with_batch=True):
    batch = collate_graphs(graphs)
    feed = {"x": batch.x.astype(np.float32), "edge_index": batch.edge_index.astype(np.int64)}
    if with_batch:
        feed["batch"] = batch.batch.astype(np.int64)
    return feed


@pytest.mark.parametrize("conv, pooling", [("gin", "mean"), ("gin", "sum"),
                                           ("gin", "attention"), ("gin", "max"),
                                           ("gcn", "mean"), ("sage", "mean"), ("gat", "mean"),
                                           ("gatv2", "sum")])
def test_graph_classifier_matches_predict(conv, pooling):
    model = sn.GNNGraphClassifier(conv=conv, pooling=pooling, hidden_layer_sizes=(8, 8),
                                  heads=2, max_iter=3, random_state=0).fit(GRAPHS, Y)
    outputs = _run(to_onnx(model, GRAPHS[:2]), _feed(GRAPHS))  # 100 graphs
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(GRAPHS),
                               atol=1e-5)
    np.testing.assert_array_equal(outputs["label"], model.predict(GRAPHS))


def test_graph_regressor_and_the_default_sample():
    model = sn.GNNGraphRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    model.fit(GRAPHS, Y * 1.5)
    outputs = _run(to_onnx(model), _feed(GRAPHS[:7]))
    np.testing.assert_allclose(outputs["variable"].ravel(), model.predict(GRAPHS[:7]),
                               atol=1e-5)


@pytest.mark.parametrize("conv", ["gcn", "gat", "sage", "gin"])
def test_node_classifier_matches_predict_on_another_graph(conv):
    graph = _graph(12)
    labels = np.full(12, -1)
    labels[[0, 11]] = [0, 1]
    model = sn.GNNNodeClassifier(conv=conv, max_iter=5, random_state=0).fit(graph, labels)
    other = _graph(30, loop=False)
    outputs = _run(to_onnx(model, graph), _feed([other], with_batch=False))
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(other),
                               atol=1e-5)
    np.testing.assert_array_equal(outputs["label"], model.predict(other))


def test_gcn_takes_the_graphs_edge_weights_and_sage_max_aggregates():
    weighted = [Graph(g.x, g.edge_index, edge_weight=RNG.uniform(0.5, 2.0,
                                                                 g.edge_index.shape[1]))
                for g in GRAPHS]
    model = sn.GNNGraphClassifier(conv="gcn", hidden_layer_sizes=(8,), max_iter=3,
                                  random_state=0).fit(weighted, Y)
    onnx_model = to_onnx(model, weighted[:2])
    assert [i.name for i in onnx_model.graph.input] == ["x", "edge_index", "edge_weight",
                                                        "batch"]
    feed = _feed(weighted[:9])
    feed["edge_weight"] = collate_graphs(weighted[:9]).edge_weight.astype(np.float32)
    np.testing.assert_allclose(_run(onnx_model, feed)["probabilities"],
                               model.predict_proba(weighted[:9]), atol=1e-5)
    with pytest.raises(OnnxExportError, match="pass X, graphs like those"):
        to_onnx(model)
    from sklears_neural import nn

    class MaxSage(nn.Module):
        def __init__(self, n_features, n_outputs, generator=None):
            super().__init__()
            self.conv = nn.SAGEConv(n_features, 8, aggr="max", generator=generator)
            self.pool = nn.GlobalPool("max")
            self.out = nn.Linear(8, n_outputs, generator=generator)

        def forward(self, x, edge_index, edge_attr=None, edge_weight=None, batch=None,
                    n_graphs=None):
            return self.out(self.pool(self.conv(x, edge_index), batch=batch,
                                      n_graphs=n_graphs))  # keywords are followed too

    own = sn.GNNGraphClassifier(module=MaxSage, max_iter=3, random_state=0).fit(GRAPHS, Y)
    outputs = _run(to_onnx(own, GRAPHS[:2]), _feed(GRAPHS[:11]))
    np.testing.assert_allclose(outputs["probabilities"], own.predict_proba(GRAPHS[:11]),
                               atol=1e-5)


def test_graph_models_without_a_mapping_say_why():
    with pytest.raises(OnnxExportError, match="GINEConv"):
        with_edges = [Graph(g.x, g.edge_index, edge_attr=np.ones((g.edge_index.shape[1], 3)))
                      for g in GRAPHS[:10]]
        to_onnx(sn.GNNGraphClassifier(conv="gine", max_iter=1).fit(with_edges, Y[:10]),
                with_edges[:2])
    from sklears_neural import nn

    class MyGAT(nn.GATConv):
        def _values_and_scores(self, x, indices, targets):
            values, scores = super()._values_and_scores(x, indices, targets)
            return values, scores * 2.0

    class WithMyGAT(nn.Module):
        def __init__(self, n_features, n_outputs, generator=None):
            super().__init__()
            self.conv = MyGAT(n_features, n_outputs, generator=generator)
            self.pool = nn.GlobalPool("mean")

        def forward(self, x, edge_index, edge_attr=None, edge_weight=None, batch=None,
                    n_graphs=None):
            return self.pool(self.conv(x, edge_index), batch, n_graphs)

    subclassed = sn.GNNGraphClassifier(module=WithMyGAT, max_iter=1).fit(GRAPHS[:10], Y[:10])
    with pytest.raises(OnnxExportError, match="MyGAT has no mapping"):
        to_onnx(subclassed, GRAPHS[:2])
    pairs = np.array([[0, 1], [2, 3]])
    link = sn.GNNLinkPredictor(max_iter=1).fit(pairs, graph=_graph(6))
    with pytest.raises(OnnxExportError, match="GNNLinkPredictor has no ONNX export"):
        to_onnx(link)
