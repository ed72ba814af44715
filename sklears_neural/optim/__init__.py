"""Optimizers: the update rules of ``torch.optim``, one fused kernel per parameter.

Each optimizer keeps its options in ``param_groups`` and its per-parameter
state (moment buffers, step counts) in ``state``; ``state_dict()`` saves both
as numpy arrays and Python numbers, so training resumes on any machine.
"""

from sklears_neural.optim._adadelta import Adadelta
from sklears_neural.optim._adagrad import Adagrad
from sklears_neural.optim._adam import Adam, AdamW
from sklears_neural.optim._adamax import Adamax
from sklears_neural.optim._groups import is_bias_or_norm, param_groups
from sklears_neural.optim._lamb import LAMB
from sklears_neural.optim._lars import LARS
from sklears_neural.optim._lbfgs import LBFGS
from sklears_neural.optim._nadam import NAdam, Nadam  # noqa: F401  (Nadam: deprecated alias)
from sklears_neural.optim._optimizer import Optimizer
from sklears_neural.optim._radam import RAdam
from sklears_neural.optim._rmsprop import RMSprop
from sklears_neural.optim._sgd import SGD
from sklears_neural.optim import lr_scheduler

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LAMB",
    "LARS",
    "LBFGS",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "is_bias_or_norm",
    "lr_scheduler",
    "param_groups",
]
