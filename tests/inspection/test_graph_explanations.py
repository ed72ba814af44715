"""GNNExplainer masks and node-feature attributions of the graph estimators:
receptive fields, completeness, the masked output keeping the prediction, errors."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sklears_neural.data import Graph
from sklears_neural.gnn import GNNGraphClassifier, GNNNodeClassifier, GNNNodeRegressor
from sklears_neural.inspection import gnn_explainer, node_attributions
from sklears_neural.mlp import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _path_of_rings(rng):
    """Two rings of 6 nodes joined by a path of 4: node labels tell the ring."""
    edges = [(i, (i + 1) % 6) for i in range(6)] + [(6 + i, 6 + (i + 1) % 6) for i in range(6)]
    edges += [(0, 12), (12, 13), (13, 14), (14, 15), (15, 6)]
    both = np.array(edges + [(b, a) for a, b in edges]).T
    x = np.hstack([np.eye(16), rng.normal(size=(16, 2))])
    y = np.full(16, -1)
    y[[1, 3]], y[[7, 9]] = 0, 1
    return Graph(x, both), y


def _within(edge_index, node, hops):
    """Nodes within ``hops`` of ``node`` (messages flow source -> target)."""
    reach = {node}
    for _ in range(hops):
        reach |= {s for s, t in edge_index.T if t in reach}
    return reach


@pytest.fixture(scope="module")
def node_model():
    graph, y = _path_of_rings(np.random.default_rng(0))
    return GNNNodeClassifier(random_state=0).fit(graph, y), graph


def test_explainer_keeps_to_the_receptive_field(node_model):
    model, graph = node_model
    explanation = gnn_explainer(model, graph, node=2, random_state=0)
    sources, targets = graph.edge_index
    # a 2-layer GCN's output at node 2 reads edges into nodes within 1 hop of it
    inside = np.isin(targets, list(_within(graph.edge_index, 2, 1)))
    assert (explanation.edge_mask[~inside] == 0).all()
    assert (explanation.edge_mask[inside] > 0).all()
    assert explanation.target == model.predict(graph)[2]
    assert explanation.loss_curve[-1] < explanation.loss_curve[1]  # after the first step
    assert explanation.feature_mask.shape == (18,)
    top = explanation.top_edges(3)
    assert all(t in _within(graph.edge_index, 2, 1) for _, t in top)


def test_node_attributions_saliency_and_completeness(node_model):
    model, graph = node_model
    saliency = node_attributions(model, graph, node=2)
    far = sorted(set(range(16)) - _within(graph.edge_index, 2, 2))
    assert np.abs(saliency.values[far]).max() == 0  # outside two hops nothing matters
    assert np.abs(saliency.values[2]).max() > 0
    integrated = node_attributions(model, graph, node=9, method="integrated_gradients",
                                   n_steps=100)
    gap = integrated.outputs[0] - integrated.baseline_outputs[0]
    assert abs(integrated.delta[0]) < 1e-3 * max(abs(gap), 1e-6) + 1e-4
    times = node_attributions(model, graph, node=9, method="input_x_gradient")
    np.testing.assert_allclose(times.values,
                               node_attributions(model, graph, node=9).values * graph.x,
                               rtol=1e-5, atol=1e-7)


def test_graph_level_explanations(rng):
    graphs = []
    for k in range(30):
        n = 5 + k % 4
        edges = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if k % 2 else [])
        graphs.append(Graph(np.ones((n, 1)), np.array(edges + [(b, a) for a, b in edges]).T))
    y = np.arange(30) % 2
    model = GNNGraphClassifier(hidden_layer_sizes=(8, 8), max_iter=20, random_state=0)
    model.fit(graphs, y)
    explanation = gnn_explainer(model, graphs[1], epochs=30, random_state=0, target=1)
    assert explanation.target == 1 and explanation.node is None
    assert explanation.edge_mask.shape == (graphs[1].n_edges,)
    assert ((explanation.edge_mask > 0) & (explanation.edge_mask < 1)).all()
    attribution = node_attributions(model, graphs[1], method="integrated_gradients")
    assert attribution.values.shape == (graphs[1].n_nodes, 1)


def test_regressor_and_errors(node_model, rng):
    model, graph = node_model
    targets = np.where(np.arange(16) < 6, np.arange(16.0), np.nan)
    regressor = GNNNodeRegressor(max_iter=5, random_state=0).fit(graph, targets)
    assert gnn_explainer(regressor, graph, node=0, epochs=5).target == 0
    with pytest.raises(ValueError, match="predicts per node: pass node="):
        gnn_explainer(model, graph)
    with pytest.raises(ValueError, match=r"node must be in \[0, 16\)"):
        node_attributions(model, graph, node=16)
    with pytest.raises(ValueError, match="target 7 is not one of the classes"):
        node_attributions(model, graph, node=0, target=7)
    with pytest.raises(ValueError, match="baseline has shape"):
        node_attributions(model, graph, node=0, method="integrated_gradients",
                          baseline=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="method must be one of"):
        node_attributions(model, graph, node=0, method="deeplift")
    with pytest.raises(NotFittedError):
        gnn_explainer(GNNNodeClassifier(), graph, node=0)
    with pytest.raises(TypeError, match="not a graph estimator"):
        gnn_explainer(MLPClassifier(), graph)
    with pytest.raises(ValueError, match="predicts per graph: node= does not apply"):
        gnn_explainer(GNNGraphClassifier(max_iter=1).fit([graph, graph], [0, 1]), graph,
                      node=0)
