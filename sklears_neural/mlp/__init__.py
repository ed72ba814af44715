"""Multi-layer perceptrons with scikit-learn's API: ``MLPClassifier``, ``MLPRegressor``."""

from sklears_neural.mlp._mlp import MLPClassifier, MLPRegressor
from sklears_neural.mlp._network import MLPNetwork

__all__ = ["MLPClassifier", "MLPNetwork", "MLPRegressor"]
