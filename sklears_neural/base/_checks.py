"""Checks of estimator parameters; every error names the parameter and what it accepts."""

import numbers

import numpy as np

from sklears_neural import optim

__all__ = ["OPTIMIZERS", "check_class_weight", "resolve_optimizer"]

OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD,
              "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad, "nadam": optim.NAdam,
              "adamax": optim.Adamax, "radam": optim.RAdam, "adadelta": optim.Adadelta,
              "lamb": optim.LAMB, "lars": optim.LARS}


def resolve_optimizer(optimizer):
    """Return the optimizer class for a name or class, or raise listing the names."""
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]
    if isinstance(optimizer, type) and issubclass(optimizer, optim.Optimizer):
        return optimizer
    raise ValueError(f"optimizer must be one of {', '.join(sorted(OPTIMIZERS))} or an "
                     f"Optimizer subclass; got {optimizer!r}.")


def check_class_weight(class_weight):
    """``"balanced"``, None, or a dict of finite, non-negative weights per class."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return
    if not isinstance(class_weight, dict):
        raise ValueError("class_weight must be 'balanced', a dict {class: weight} or None; got "
                         f"{class_weight!r}.")
    for label, weight in class_weight.items():
        if not (isinstance(weight, numbers.Real) and np.isfinite(weight) and weight >= 0):
            raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0; got "
                             f"{weight!r}.")
