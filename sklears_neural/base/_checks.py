"""Checks of estimator parameters; every error names the parameter and what it accepts."""

import math
import numbers

import numpy as np

from sklears_neural import optim

__all__ = ["OPTIMIZERS", "check_class_weight", "check_number", "one_of", "resolve_optimizer"]

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


def check_number(name, value, low=None, high=None, integer=False, low_open=False,
                 high_open=False, allow_none=False):
    """Validate one numeric hyperparameter; NaN is rejected, the error names the range."""
    if value is None and allow_none:
        return
    kind = "an integer" if integer else "a number"
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = isinstance(value, numbers.Integral) and real if integer else real
    ok = ok and not math.isnan(value)
    if ok:
        ok = not (low is not None and (value < low or (low_open and value == low)))
        ok = ok and not (high is not None and (value > high or (high_open and value == high)))
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        span = f" in {lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ValueError(f"{name} must be {kind}{span}; got {value!r}.")


def one_of(name, value, allowed):
    """Raise unless ``value`` is one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}.")


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
