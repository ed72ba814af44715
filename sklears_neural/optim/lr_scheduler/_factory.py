"""How estimators build and step a schedule: ``make_scheduler`` and its helpers."""

import inspect

from sklears_neural.optim.lr_scheduler._base import LRScheduler
from sklears_neural.optim.lr_scheduler._checks import _check_optimizer
from sklears_neural.optim.lr_scheduler._closed_form import (
    CosineAnnealingLR,
    ExponentialLR,
    InverseScalingLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from sklears_neural.optim.lr_scheduler._cyclic import CyclicLR, OneCycleLR
from sklears_neural.optim.lr_scheduler._plateau import ReduceLROnPlateau
from sklears_neural.optim.lr_scheduler._restarts import CosineAnnealingWarmRestarts

_SCHEDULERS = {
    "step": StepLR,
    "multistep": MultiStepLR,
    "exponential": ExponentialLR,
    "cosine": CosineAnnealingLR,
    "cosine_warm_restarts": CosineAnnealingWarmRestarts,
    "linear": LinearLR,
    "cyclic": CyclicLR,
    "onecycle": OneCycleLR,
    "polynomial": PolynomialLR,
    "plateau": ReduceLROnPlateau,
    "invscaling": InverseScalingLR,
}

#: Names accepted by ``make_scheduler`` (e.g. for an estimator's parameter
#: constraints).
SCHEDULER_NAMES = tuple(_SCHEDULERS)


def make_scheduler(spec, optimizer, **kwargs):
    """Build a learning-rate scheduler for ``optimizer`` from a specification.

    This is how estimators turn their ``lr_schedule`` parameter into a
    scheduler once the optimizer exists.

    Parameters
    ----------
    spec : str, LRScheduler subclass, callable, LRScheduler or None
        - a name: ``"step"`` (``StepLR``), ``"multistep"`` (``MultiStepLR``),
          ``"exponential"`` (``ExponentialLR``), ``"cosine"``
          (``CosineAnnealingLR``), ``"cosine_warm_restarts"``
          (``CosineAnnealingWarmRestarts``), ``"linear"`` (``LinearLR``),
          ``"invscaling"`` (``InverseScalingLR``),
          ``"cyclic"`` (``CyclicLR``), ``"onecycle"`` (``OneCycleLR``),
          ``"polynomial"`` (``PolynomialLR``), ``"plateau"``
          (``ReduceLROnPlateau``);
        - a scheduler class, called as ``spec(optimizer, **kwargs)``;
        - any other callable, called as ``spec(optimizer, **kwargs)``, which
          must return a scheduler bound to ``optimizer`` (e.g. one that
          builds a ``SequentialLR`` warm-up);
        - a scheduler already bound to ``optimizer``, returned as is;
        - None: no schedule, None is returned.
    optimizer : Optimizer
        The optimizer to schedule.
    **kwargs
        Arguments of the scheduler (``step_size=10``, ``T_max=50``, ...).

    Returns
    -------
    LRScheduler or None
        The scheduler, after its initial step.

    Raises
    ------
    ValueError
        For an unknown name (the message lists ``SCHEDULER_NAMES``), keyword
        arguments the scheduler does not take or is missing, or a scheduler
        bound to another optimizer.
    TypeError
        When ``spec`` is none of the above, or a callable returns something
        that is not a scheduler.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.nn import Parameter
    >>> from sklears_neural.optim import SGD
    >>> from sklears_neural.optim.lr_scheduler import make_scheduler
    >>> opt = SGD([Parameter(np.zeros(2))], lr=0.1)
    >>> sched = make_scheduler("step", opt, step_size=2, gamma=0.5)
    >>> for _ in range(4):
    ...     sched.step()
    >>> sched.get_last_lr()
    [0.025]
    """
    if spec is None:
        return None
    _check_optimizer(optimizer)
    if isinstance(spec, str):
        if spec not in _SCHEDULERS:
            names = ", ".join(repr(n) for n in SCHEDULER_NAMES)
            raise ValueError(
                f"unknown learning-rate schedule {spec!r}; use one of {names}, a "
                "scheduler class, or a callable f(optimizer) -> scheduler."
            )
        spec = _SCHEDULERS[spec]
    if isinstance(spec, LRScheduler):
        if kwargs:
            raise ValueError(
                "keyword arguments were given with a scheduler that already exists: "
                f"{sorted(kwargs)}; pass its class or name instead."
            )
        scheduler = spec
    elif isinstance(spec, type) and issubclass(spec, LRScheduler):
        try:
            inspect.signature(spec).bind(optimizer, **kwargs)
        except TypeError as exc:
            params = [p for p in inspect.signature(spec).parameters if p != "optimizer"]
            raise ValueError(
                f"{spec.__name__}: {exc}. It takes the keyword arguments "
                f"{', '.join(params)}."
            ) from None
        scheduler = spec(optimizer, **kwargs)
    elif callable(spec):
        scheduler = spec(optimizer, **kwargs)
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(
                f"the schedule callable {spec!r} must return an LRScheduler; it "
                f"returned {type(scheduler).__name__}."
            )
    else:
        raise TypeError(
            "a learning-rate schedule must be a name, an LRScheduler class, a callable "
            f"f(optimizer) -> scheduler, or None; got {type(spec).__name__}."
        )
    if scheduler.optimizer is not optimizer:
        raise ValueError(
            f"the {type(scheduler).__name__} is bound to another optimizer than the one "
            "being scheduled."
        )
    return scheduler


def _scheduler_class(scheduler):
    if isinstance(scheduler, type) and issubclass(scheduler, LRScheduler):
        return scheduler
    if isinstance(scheduler, LRScheduler):
        return type(scheduler)
    raise TypeError(
        f"expected an LRScheduler or LRScheduler class; got {type(scheduler).__name__}."
    )


def scheduler_steps_per_batch(scheduler):
    """Whether a training loop steps ``scheduler`` after every batch.

    Parameters
    ----------
    scheduler : LRScheduler or LRScheduler subclass
        The scheduler, or its class.

    Returns
    -------
    bool
        True for ``CyclicLR`` and ``OneCycleLR`` (and a ``SequentialLR``
        holding one, or any scheduler whose ``step_per_batch`` attribute was
        set to True); False otherwise: the loop steps it once per epoch.
    """
    _scheduler_class(scheduler)
    return bool(scheduler.step_per_batch)


def needs_metric(scheduler):
    """Whether ``scheduler.step`` takes a metric (``ReduceLROnPlateau``).

    Parameters
    ----------
    scheduler : LRScheduler or LRScheduler subclass
        The scheduler, or its class.

    Returns
    -------
    bool
        True when the training loop must call ``scheduler.step(metric)``
        (once per epoch, with e.g. the validation loss), False when it
        calls ``scheduler.step()``.
    """
    return issubclass(_scheduler_class(scheduler), ReduceLROnPlateau)
