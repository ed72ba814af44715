"""Argument checks shared by the schedulers."""

import math
import numbers
import operator

from sklears_neural.optim._optimizer import Optimizer


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and not math.isnan(value))


def _check_int(name, value, minimum):
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def _check_real(name, value, *, gt=None, ge=None, lt=None, le=None):
    """Raise ValueError unless ``value`` is a real number (not NaN) within the bounds."""
    bounds = [(op, bound) for op, bound in ((">", gt), (">=", ge), ("<", lt), ("<=", le))
              if bound is not None]
    if not _is_real(value) or not all(_COMPARE[op](value, b) for op, b in bounds):
        where = " and ".join(f"{op} {bound}" for op, bound in bounds)
        raise ValueError(f"{name} must be a number{' ' + where if where else ''}; "
                         f"got {value!r}.")
    return value


def _check_nonnegative(name, value):
    return _check_real(name, value, ge=0)


def _check_positive(name, value):
    return _check_real(name, value, gt=0)


def _check_option(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}.")
    return value


def _per_group(name, optimizer, value, check):
    """One value per parameter group: a scalar for all, or a list/tuple of them."""
    n_groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n_groups:
            raise ValueError(
                f"{name} must be a number or a list of one number per parameter group "
                f"({n_groups}); got {len(value)} values."
            )
        for i, v in enumerate(value):
            check(f"{name}[{i}]", v)
        return list(value)
    check(name, value)
    return [value] * n_groups


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer must be a sklears_neural.optim.Optimizer; got "
            f"{type(optimizer).__name__}."
        )


def _momentum_key(optimizer):
    """Whether momentum cycling writes ``betas[0]`` (True) or ``momentum`` (False)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            "cycle_momentum=True needs an optimizer with a 'momentum' option (SGD, "
            f"RMSprop) or 'betas' (Adam, AdamW); {type(optimizer).__name__} has "
            "neither. Pass cycle_momentum=False."
        )
    return "betas" in optimizer.defaults


def _set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _check_milestones(name, milestones, minimum):
    if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
        raise ValueError(f"{name} must be a list of integers; got {milestones!r}.")
    values = list(milestones)
    for m in values:
        if not _is_int(m) or m < minimum:
            raise ValueError(
                f"{name} must be a list of integers >= {minimum}; got {values!r}."
            )
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{name} must be strictly increasing; got {values!r}.")
    return [int(m) for m in values]
