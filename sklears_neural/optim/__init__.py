"""Optimizers: the update rules of ``torch.optim``, one fused kernel per parameter.

Each optimizer keeps its options in ``param_groups`` and its per-parameter
state (moment buffers, step counts) in ``state``; ``state_dict()`` saves both
as numpy arrays and Python numbers, so training resumes on any machine.
"""

from sklears_neural.optim._adagrad import Adagrad
from sklears_neural.optim._adam import Adam, AdamW
from sklears_neural.optim._optimizer import Optimizer
from sklears_neural.optim._rmsprop import RMSprop
from sklears_neural.optim._sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop"]
