"""Convolutional network estimators: images (``CNNClassifier``, ``CNNRegressor``) and
signals (``CNN1DClassifier``, ``CNN1DRegressor``)."""

from sklears_neural.cnn._augment import Augmenter
from sklears_neural.cnn._cnn import CNNClassifier, CNNRegressor
from sklears_neural.cnn._cnn1d import CNN1DClassifier, CNN1DRegressor
from sklears_neural.cnn._network import CNNNetwork

__all__ = ["Augmenter", "CNN1DClassifier", "CNN1DRegressor", "CNNClassifier", "CNNNetwork",
           "CNNRegressor"]
