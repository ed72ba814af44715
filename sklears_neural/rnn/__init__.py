"""Sequence models: recurrent (``RNNClassifier``, ``RNNRegressor``) and Transformer
(``TransformerClassifier``, ``TransformerRegressor``) estimators, and the
``RNNForecaster`` for time series."""

from sklears_neural.rnn._estimators import (
    RNNClassifier,
    RNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)
from sklears_neural.rnn._forecaster import RNNForecaster
from sklears_neural.rnn._network import RecurrentNetwork, TransformerNetwork

__all__ = ["RNNClassifier", "RNNForecaster", "RNNRegressor", "RecurrentNetwork", "TransformerClassifier",
           "TransformerNetwork", "TransformerRegressor"]
