"""What every estimator shares: the training loop, callbacks and the generic
``NeuralNetClassifier`` / ``NeuralNetRegressor``."""

from sklears_neural.base._callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LRScheduler,
    ProgressBar,
)
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.base._history import History
from sklears_neural.base._neural_net import NeuralNetClassifier, NeuralNetRegressor

__all__ = ["BaseNeuralNet", "Callback", "Checkpoint", "EarlyStopping", "GradientClipping",
           "History", "LRScheduler", "NeuralNetClassifier", "NeuralNetRegressor", "ProgressBar"]
