"""ONNX export of the graph estimators: inputs ``x`` (node features),
``edge_index`` (2, n_edges), ``edge_weight`` (a GCN's, when the example graphs
carry weights) and, for whole-graph estimators, ``batch`` (each node's graph,
0 to n_graphs - 1, as ``data.collate_graphs`` numbers them; the number of
graphs is its maximum plus one); outputs per graph (``GNNGraphClassifier`` /
``GNNGraphRegressor``) or per node (``GNNNodeClassifier`` /
``GNNNodeRegressor``)."""

import numpy as np

from sklears_neural.autograd import Tensor
from sklears_neural.data import Graph, collate_graphs
from sklears_neural.export._graph import OnnxExportError, convert_traces, network_on_cpu
from sklears_neural.export._graph_layers import GRAPH_LAYERS
from sklears_neural.export._ops import CONVERTERS
from sklears_neural.export._trace import trace

__all__ = ["graph_estimator_graph", "graph_input_names", "is_graph_estimator", "sample_graphs"]


def is_graph_estimator(estimator):
    """Whether an estimator reads graphs (its X is a list of ``Graph``).

    Parameters
    ----------
    estimator : estimator
        A fitted estimator.

    Returns
    -------
    bool
        True for the GNN estimators.
    """
    return type(estimator).__name__.startswith("GNN")


def _node_level(estimator):
    return "Node" in type(estimator).__name__


def graph_input_names(estimator, graphs):
    """The ONNX inputs of a graph estimator, in order.

    Parameters
    ----------
    estimator : estimator
        A GNN estimator.
    graphs : list of Graph
        The example graphs (``sample_graphs``).

    Returns
    -------
    list of str
        "x", "edge_index", "edge_weight" (a GCN's, when the graphs carry
        weights) and, for whole graphs, "batch".
    """
    names = ["x", "edge_index"]
    if _reads_weights(estimator) and graphs[0].edge_weight is not None:
        names.append("edge_weight")
    return names if _node_level(estimator) else names + ["batch"]


def _reads_weights(estimator):
    from sklears_neural.nn.layers.graph import GCNConv

    return any(isinstance(m, GCNConv) for m in estimator.module_.modules())


def sample_graphs(estimator, X):
    """The graphs the export traces: X checked as ``predict`` reads it, at least two.

    Parameters
    ----------
    estimator : estimator
        A fitted GNN estimator.
    X : Graph, list of Graph or None
        Example graphs; None for a small path graph (not for a GCN, whose
        model depends on whether graphs carry edge weights).

    Returns
    -------
    list of Graph
        The graphs.
    """
    if type(estimator).__name__ == "GNNLinkPredictor":
        raise OnnxExportError("GNNLinkPredictor has no ONNX export: it scores node pairs of "
                              "a graph given at fit, an input ONNX's graph would need beside "
                              "the pairs.")
    if X is None and _reads_weights(estimator):
        raise OnnxExportError("to_onnx(model, X): a GCN reads edge weights when graphs carry "
                              "them; pass X, graphs like those the model will see, so the "
                              "exported model takes edge weights or not.")
    if X is None:  # a small path graph of the fitted width
        n_features = int(estimator.n_features_in_)
        X = [Graph(np.random.default_rng(0).standard_normal((4, n_features)),
                   np.array([[0, 1, 2, 1, 2, 3], [1, 2, 3, 0, 1, 2]]))]
    checked = estimator._check_X_fast(X)
    graphs = list(getattr(checked, "graphs", checked))
    return graphs if len(graphs) > 1 else graphs * 2


def graph_estimator_graph(estimator, b, names, X=None):
    """Add a graph estimator's network, from its graph inputs to its raw outputs.

    Parameters
    ----------
    estimator : estimator
        A fitted GNN estimator.
    b : GraphBuilder
        Where nodes go.
    names : dict
        "x" (already in the network's float type), "edge_index" and, for
        whole graphs, "batch" -> their graph names.
    X : Graph or list of Graph, optional
        Example graphs (``sample_graphs``).

    Returns
    -------
    str
        The name of the network's outputs (per graph or per node).
    """
    graphs = sample_graphs(estimator, X)
    module = network_on_cpu(estimator)
    traces = []
    for count in (1, 2):  # two batches of different sizes: what follows them is found
        batch = collate_graphs(graphs[:count])
        x = Tensor(np.asarray(batch.x, dtype=b.float_dtype))
        args = (x, batch.edge_index, batch.edge_attr, batch.edge_weight, batch.batch,
                batch.n_graphs) + ((None,) if _node_level(estimator) else ())
        b.graph_inputs[id(batch.edge_index)] = names["edge_index"]
        if "edge_weight" in names and batch.edge_weight is not None:
            b.graph_inputs[id(batch.edge_weight)] = names["edge_weight"]
        if "batch" in names:
            b.graph_inputs[id(batch.batch)] = names["batch"]
        traces.append(trace(module, args, layers=GRAPH_LAYERS))
    (outputs,) = convert_traces(b, *traces, [names["x"]], CONVERTERS)
    return outputs
