"""Argument checks shared by the schedulers."""

from sklears_neural._specs._scalars import check_real, is_int
from sklears_neural.optim._optimizer import Optimizer


def _per_group(name, optimizer, value, **bounds):
    """One value per parameter group: a scalar for all, or a list/tuple of them.

    Each value is checked by ``check_real`` with ``bounds``.
    """
    n_groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n_groups:
            raise ValueError(
                f"{name} must be a number or a list of one number per parameter group "
                f"({n_groups}); got {len(value)} values."
            )
        for i, v in enumerate(value):
            check_real(f"{name}[{i}]", v, **bounds)
        return list(value)
    check_real(name, value, **bounds)
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
        if not is_int(m) or m < minimum:
            raise ValueError(
                f"{name} must be a list of integers >= {minimum}; got {values!r}."
            )
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{name} must be strictly increasing; got {values!r}.")
    return [int(m) for m in values]
