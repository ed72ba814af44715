"""What every estimator shares: the training loop, callbacks and the generic
``NeuralNetClassifier`` / ``NeuralNetRegressor``."""

from sklears_neural.base._callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LearningRateSchedule,
    ProgressBar,
)
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.base._history import History
from sklears_neural.base._neural_net import NeuralNetClassifier, NeuralNetRegressor

__all__ = ["BaseNeuralNet", "Callback", "Checkpoint", "EarlyStopping", "GradientClipping",
           "History", "LearningRateSchedule", "NeuralNetClassifier", "NeuralNetRegressor",
           "ProgressBar"]


def __getattr__(name):
    if name == "LRScheduler":  # deprecated name, resolved (with its warning) by _callbacks
        from sklears_neural.base import _callbacks

        return _callbacks.LRScheduler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
