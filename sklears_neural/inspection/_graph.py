"""Explanations of the graph estimators: GNNExplainer's edge and feature masks, and
gradient attributions over node features.

Both run the fitted network on one graph as its estimator does (the graph
collated as a batch of one) and explain one output: a graph's
(``GNNGraphClassifier`` / ``GNNGraphRegressor``) or one node's
(``GNNNodeClassifier`` / ``GNNNodeRegressor``, ``node=``).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from sklears_neural import optim
from sklears_neural._random import as_generator
from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.backend import to_numpy
from sklears_neural.gnn import (
    GNNGraphClassifier,
    GNNGraphRegressor,
    GNNNodeClassifier,
    GNNNodeRegressor,
)
from sklears_neural.inspection._explained import class_targets, explaining, output_targets
from sklears_neural.inspection._integration import integration_rule
from sklears_neural.inspection._result import Attribution
from sklears_neural.nn import functional as F

__all__ = ["GraphExplanation", "gnn_explainer", "node_attributions"]

_GRAPH_LEVEL = (GNNGraphClassifier, GNNGraphRegressor)
_NODE_LEVEL = (GNNNodeClassifier, GNNNodeRegressor)


class GraphExplanation:
    """What ``gnn_explainer`` found: how much each edge and feature matters.

    Parameters
    ----------
    edge_mask : ndarray of shape (n_edges,)
        Each edge's weight in [0, 1], in the order of ``edge_index``.
    feature_mask : ndarray of shape (n_features,)
        Each node feature's weight in [0, 1].
    edge_index : ndarray of int64 of shape (2, n_edges)
        The graph's edges.
    target : object
        The class label (classifiers) or output index (regressors) explained.
    node : int or None
        The node explained (node estimators), or None (a graph's output).
    loss_curve : list of float
        The explainer's objective at each epoch.
    """

    def __init__(self, edge_mask, feature_mask, edge_index, target, node, loss_curve):
        self.edge_mask, self.feature_mask = edge_mask, feature_mask
        self.edge_index, self.target, self.node = edge_index, target, node
        self.loss_curve = loss_curve

    def top_edges(self, k=10):
        """The k edges of largest mask, largest first.

        Parameters
        ----------
        k : int, default=10
            How many.

        Returns
        -------
        ndarray of int64 of shape (k, 2)
            (source, target) of each.
        """
        order = np.argsort(-self.edge_mask, kind="stable")[:k]
        return self.edge_index[:, order].T

    def __repr__(self):
        about = "the graph" if self.node is None else f"node {self.node}"
        return (f"GraphExplanation({about}, target={self.target!r}, "
                f"{len(self.edge_mask)} edges, {len(self.feature_mask)} features)")


def _check(estimator, graph, node, target):
    """The graph as the estimator's batch, the explained output row at its features,
    and the column explained with the target it names: (batch, reference, column,
    label)."""
    if not isinstance(estimator, _GRAPH_LEVEL + _NODE_LEVEL):
        raise TypeError(f"{type(estimator).__name__} is not a graph estimator of this library "
                        "(GNNGraphClassifier, GNNGraphRegressor, GNNNodeClassifier, "
                        "GNNNodeRegressor).")
    check_is_fitted(estimator, "module_")
    node_level = isinstance(estimator, _NODE_LEVEL)
    if node_level and node is None:
        raise ValueError(f"{type(estimator).__name__} predicts per node: pass node=, the "
                         "index of the node to explain.")
    if not node_level and node is not None:
        raise ValueError(f"{type(estimator).__name__} predicts per graph: node= does not "
                         "apply.")
    features = estimator._check_X_fast(graph if node_level else [graph])
    batch = estimator._dataset(features).__getitems__(slice(None))[0]
    if node_level and not 0 <= node < batch.x.shape[0]:
        raise ValueError(f"node must be in [0, {batch.x.shape[0]}); got {node!r}.")
    with explaining(estimator.module_), no_grad():
        reference = to_numpy(_forward(estimator.module_, batch, Tensor(batch.x), node).data)
    column, label = _target_column(estimator, reference, target)
    return batch, reference, column, label


def _target_column(estimator, batch_outputs, target):
    """The output column to explain and the target the result names."""
    if hasattr(estimator, "classes_"):
        predicted = estimator.classes_[[int(np.argmax(batch_outputs))]]
        columns, labels = class_targets(estimator.classes_, target, 1, lambda: predicted)
        return int(columns[0]), labels[0]
    columns, labels = output_targets(batch_outputs.shape[-1], target, 1)
    return int(columns[0]), int(labels[0])


def _forward(module, batch, x, node):
    """The module's output row for the graph (or ``node``), x replacing the features."""
    out = module(x, *batch[1:])
    return out[node] if node is not None else out[0]


def gnn_explainer(estimator, graph, *, node=None, target=None, epochs=100, lr=0.01,
                  edge_size=0.005, edge_ent=1.0, feat_size=1.0, feat_ent=0.1,
                  random_state=None):
    """Find the edges and node features a prediction rests on (GNNExplainer).

    Learns a soft mask over the edges (scaling each edge's messages in every
    layer) and one over the node features, so that the masked graph keeps the
    model's output while the masks stay small and near 0 or 1 (Ying et al.
    2019; PyG's ``GNNExplainer`` objective and defaults). Edges and features
    the output does not depend on (outside a node's receptive field) get 0.

    Parameters
    ----------
    estimator : GNNGraphClassifier, GNNGraphRegressor, GNNNodeClassifier or GNNNodeRegressor
        A fitted graph estimator.
    graph : Graph
        The graph to explain.
    node : int, optional
        The node whose prediction is explained (node estimators; required there).
    target : object, optional
        The class label (default: the predicted one) or a regressor's output
        index (default 0).
    epochs : int, default=100
        Optimisation steps (Adam).
    lr : float, default=0.01
        Their learning rate.
    edge_size, edge_ent, feat_size, feat_ent : float
        Weights of the penalties: the masks' mean size (edge mask: sum) and
        their entropy (pushes each weight to 0 or 1).
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the masks' initial values.

    Returns
    -------
    GraphExplanation
        The edge and feature masks.
    """
    batch, reference, column, label = _check(estimator, graph, node, target)
    module = estimator.module_
    rng = as_generator(random_state)
    x = np.asarray(batch.x)
    n_nodes, n_edges = x.shape[0], batch.edge_index.shape[1]
    std = np.sqrt(2.0) * np.sqrt(2.0 / (2 * max(n_nodes, 1)))  # PyG's initial spread
    edge_logits = Tensor(rng.normal(1.0, std, n_edges).astype(x.dtype), requires_grad=True)
    feat_logits = Tensor(rng.normal(0.1, 0.1, x.shape[1]).astype(x.dtype), requires_grad=True)
    optimizer = optim.Adam([edge_logits, feat_logits], lr=lr)
    classifier = hasattr(estimator, "classes_")
    losses, hard_edges, hard_feats = [], None, None
    with explaining(module):
        for epoch in range(int(epochs)):
            optimizer.zero_grad()
            edges, feats = F.sigmoid(edge_logits), F.sigmoid(feat_logits)
            with F.edge_mask(edges):
                out = _forward(module, batch, Tensor(x) * feats, node)
            if classifier:
                loss = -F.log_softmax(out.reshape(1, -1), dim=1)[0, column]
            else:
                loss = (out[column] - float(reference[column])) ** 2
            if epoch:  # the penalties cover what the output depends on (PyG's hard masks)
                kept_edges = F.take_entries(edges, hard_edges)
                kept_feats = F.take_entries(feats, hard_feats)
                if len(hard_edges):
                    loss = (loss + edge_size * kept_edges.sum()
                            + edge_ent * _entropy(kept_edges))
                if len(hard_feats):
                    loss = (loss + feat_size * kept_feats.mean()
                            + feat_ent * _entropy(kept_feats))
            loss.backward()
            if not epoch:
                hard_edges = np.flatnonzero(to_numpy(edge_logits.grad) != 0)
                hard_feats = np.flatnonzero(to_numpy(feat_logits.grad) != 0)
            optimizer.step()
            losses.append(float(loss.item()))
    edge_mask = np.zeros(n_edges)
    feature_mask = np.zeros(x.shape[1])
    if hard_edges is not None:  # outside them (no gradient at all) the masks are 0
        edge_mask[hard_edges] = to_numpy(F.sigmoid(edge_logits).data)[hard_edges]
        feature_mask[hard_feats] = to_numpy(F.sigmoid(feat_logits).data)[hard_feats]
    return GraphExplanation(edge_mask, feature_mask, batch.edge_index.copy(), label, node,
                            losses)


def _entropy(mask, eps=1e-15):
    """The mean binary entropy of mask values in (0, 1)."""
    return (-(mask * F.log(mask + eps)) - (1.0 - mask) * F.log(1.0 - mask + eps)).mean()


NODE_METHODS = ("saliency", "input_x_gradient", "integrated_gradients")


def node_attributions(estimator, graph, *, method="saliency", node=None, target=None,
                      baseline=None, n_steps=50, integration="gausslegendre"):
    """Attribute a graph's (or a node's) prediction to every node's features.

    Parameters
    ----------
    estimator : GNNGraphClassifier, GNNGraphRegressor, GNNNodeClassifier or GNNNodeRegressor
        A fitted graph estimator.
    graph : Graph
        The graph to explain.
    method : {"saliency", "input_x_gradient", "integrated_gradients"}, default="saliency"
        The gradient, input times gradient, or the gradient integrated from
        ``baseline`` to the features.
    node : int, optional
        The node whose prediction is explained (node estimators; required there).
    target : object, optional
        The class label (default: the predicted one) or a regressor's output
        index (default 0). Classifiers explain their logits.
    baseline : array-like of shape (n_nodes, n_features), optional
        For integrated gradients (default zeros).
    n_steps : int, default=50
        For integrated gradients.
    integration : str, default="gausslegendre"
        For integrated gradients: one of ``INTEGRATION_METHODS``.

    Returns
    -------
    Attribution
        ``values`` of shape (n_nodes, n_features); for integrated gradients
        ``delta`` is the completeness error.
    """
    if method not in NODE_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, NODE_METHODS))}; got "
                         f"{method!r}.")
    batch, reference, column, label = _check(estimator, graph, node, target)
    module = estimator.module_
    x = np.asarray(batch.x)
    if baseline is None:
        baseline = np.zeros_like(x)
    baseline = np.asarray(baseline, dtype=x.dtype)
    if baseline.shape != x.shape:
        raise ValueError(f"baseline has shape {baseline.shape}; the graph's features have "
                         f"{x.shape}.")

    def gradient(values):
        inputs = Tensor(values, requires_grad=True)
        _forward(module, batch, inputs, node)[column].backward()
        return to_numpy(inputs.grad)

    with explaining(module):
        if method == "integrated_gradients":
            alphas, weights = integration_rule(integration, n_steps)
            total = sum(w * gradient((baseline + a * (x - baseline)).astype(x.dtype))
                        for a, w in zip(alphas, weights))
            values = (x - baseline) * total
        else:
            values = gradient(x) * (x if method == "input_x_gradient" else 1.0)
        with no_grad():
            start = float(to_numpy(_forward(module, batch, Tensor(baseline), node).data)[column])
    output = float(reference[column])
    integrated = method == "integrated_gradients"
    return Attribution(values.astype(np.float64), method=method, target=np.array([label]),
                       output="logits" if hasattr(estimator, "classes_") else "outputs",
                       space="node features", outputs=np.array([output]),
                       delta=np.array([values.sum() - (output - start)]) if integrated else None,
                       baseline_outputs=np.array([start]) if integrated else None)
