"""Graph neural networks with scikit-learn's API: ``GNNGraphClassifier`` and
``GNNGraphRegressor`` (one prediction per graph; X a list of ``data.Graph``),
``GNNNodeClassifier`` and ``GNNNodeRegressor`` (one prediction per node; X a
graph or a list of them), ``GNNLinkPredictor`` (one probability per node pair)."""

from sklears_neural.gnn._estimators import GNNGraphClassifier, GNNGraphRegressor
from sklears_neural.gnn._link_estimator import GNNLinkPredictor, LinkNetwork
from sklears_neural.gnn._network import GraphNetwork, NodeNetwork
from sklears_neural.gnn._node_estimators import GNNNodeClassifier, GNNNodeRegressor

__all__ = ["GNNGraphClassifier", "GNNGraphRegressor", "GNNLinkPredictor", "GNNNodeClassifier",
           "GNNNodeRegressor", "GraphNetwork", "LinkNetwork", "NodeNetwork"]
