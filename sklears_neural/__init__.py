"""sklears-neural: scikit-learn-compatible neural networks on a small, fast engine.

Estimators (``MLPClassifier``, ``CNNClassifier``, ``RNNClassifier``,
``NeuralNetClassifier``, …) sit on one training loop (``sklears_neural.base``) over the engine: ``nn`` and
``optim``, ``autograd``, kernels (Cython on the CPU, portable array code on
the GPU) and ``backend`` (numpy or CuPy).
"""

from sklears_neural import autograd, backend, nn, optim
from sklears_neural._show_versions import show_versions
from sklears_neural._versions import __version__
from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.base import NeuralNetClassifier, NeuralNetRegressor
from sklears_neural.cnn import CNN1DClassifier, CNN1DRegressor, CNNClassifier, CNNRegressor
from sklears_neural.gnn import (
    GNNGraphClassifier,
    GNNGraphRegressor,
    GNNLinkPredictor,
    GNNNodeClassifier,
    GNNNodeRegressor,
)
from sklears_neural.mlp import MLPClassifier, MLPRegressor
from sklears_neural.rnn import (
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)

__all__ = [
    "CNN1DClassifier",
    "CNN1DRegressor",
    "CNNClassifier",
    "CNNRegressor",
    "GNNGraphClassifier",
    "GNNGraphRegressor",
    "GNNLinkPredictor",
    "GNNNodeClassifier",
    "GNNNodeRegressor",
    "MLPClassifier",
    "MLPRegressor",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "RNNClassifier",
    "RNNForecaster",
    "RNNRegressor",
    "Tensor",
    "TransformerClassifier",
    "TransformerRegressor",
    "__version__",
    "autograd",
    "backend",
    "nn",
    "no_grad",
    "optim",
    "show_versions",
]
