"""Neural architecture search as scikit-learn meta-estimators.

``NASClassifier`` / ``NASRegressor`` search a space of an estimator's
parameters (``SearchSpace`` of ``Choice``, ``IntRange`` and ``FloatRange``;
``default_space`` per family) with random search, regularized evolution or
Hyperband, score candidates by cross-validation after a number of epochs, and
refit the best; ``cv_results_`` has ``GridSearchCV``'s keys. ``strategy="darts"``
learns a convolutional cell (``CellNetwork``) by first-order DARTS and
retrains the cell it derives (``discretise``).
"""

from sklears_neural.nas._darts import OPERATIONS, CellNetwork, discretise
from sklears_neural.nas._search import NASClassifier, NASRegressor, pareto_front
from sklears_neural.nas._space import Choice, FloatRange, IntRange, SearchSpace, default_space

__all__ = ["OPERATIONS", "CellNetwork", "Choice", "FloatRange", "IntRange", "NASClassifier",
           "NASRegressor", "SearchSpace", "default_space", "discretise", "pareto_front"]
