"""Graph neural networks with scikit-learn's API: ``GNNGraphClassifier`` and
``GNNGraphRegressor`` (one prediction per graph; X a list of ``data.Graph``)."""

from sklears_neural.gnn._estimators import GNNGraphClassifier, GNNGraphRegressor
from sklears_neural.gnn._network import GraphNetwork

__all__ = ["GNNGraphClassifier", "GNNGraphRegressor", "GraphNetwork"]
