r"""Learning-rate schedules: the schedulers of ``torch.optim.lr_scheduler``.

A scheduler is bound to one ``Optimizer`` and writes a learning rate into
every one of its ``param_groups`` each time ``step()`` is called. The step
conventions are torch's (2.x):

- constructing a scheduler records ``group["initial_lr"]`` (the base
  learning rate, :math:`\eta_0` below) in each group and performs the
  initial step, so right after construction ``group["lr"]`` holds the
  epoch-0 value and ``last_epoch == 0``;
- ``step()`` advances ``last_epoch`` by one and writes the new value;
  call it after ``optimizer.step()`` -- once per epoch, or once per batch
  for ``CyclicLR`` and ``OneCycleLR`` (see ``scheduler_steps_per_batch``);
- ``get_last_lr()`` returns what the last step wrote; ``state_dict()`` holds
  everything but the optimizer, so training resumes exactly.

Schedules that torch also writes in closed form (``StepLR``,
``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``LinearLR``,
``PolynomialLR``) are computed here from ``last_epoch`` and the base rates
alone, with torch's closed-form expressions: no rounding error accumulates
from step to step, and the values equal torch's chained updates to a few
units in the last place. The others follow torch's own computation.

Estimators take a schedule by name, class or callable through
``make_scheduler``; ``scheduler_steps_per_batch`` and ``needs_metric`` say
how their training loop must step it.

Examples
--------
Five epochs of linear warm-up, then cosine annealing over the remaining 95:

>>> import numpy as np
>>> from sklears_neural.nn import Parameter
>>> from sklears_neural.optim import SGD, lr_scheduler
>>> opt = SGD([Parameter(np.zeros(3))], lr=0.1, momentum=0.9)
>>> warmup = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
>>> cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=95)
>>> sched = lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[5])
>>> lrs = []
>>> for epoch in range(100):
...     lrs.append(opt.param_groups[0]["lr"])
...     opt.step()                      # after the epoch's batches
...     sched.step()
>>> [round(lr, 4) for lr in lrs[:7]]
[0.01, 0.028, 0.046, 0.064, 0.082, 0.1, 0.1]
"""

import copy
import inspect
import math
import numbers
import operator
from bisect import bisect_right

from sklears_neural.optim._optimizer import Optimizer

__all__ = [
    "SCHEDULER_NAMES",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "InverseScalingLR",
    "LRScheduler",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "make_scheduler",
    "needs_metric",
    "scheduler_steps_per_batch",
]


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Base class
# ---------------------------------------------------------------------------
class LRScheduler:
    r"""Base class of the learning-rate schedulers.

    A subclass computes, in ``get_lr``, the learning rate of every parameter
    group for the current ``last_epoch``; the base class does the stepping,
    the writing into ``optimizer.param_groups`` and the saving.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    last_epoch : int, default=-1
        Index of the last epoch (or batch) seen. ``-1`` starts the schedule:
        each group's current ``lr`` is recorded as ``group["initial_lr"]``
        (unless a scheduler did so before) and the constructor's initial step
        writes the epoch-0 learning rate. A value ``k >= 0`` resumes at epoch
        ``k + 1`` and needs ``initial_lr`` in every group already (restored
        by ``optimizer.load_state_dict``); ``load_state_dict`` on the
        scheduler is the simpler way to resume.

    Attributes
    ----------
    optimizer : Optimizer
        The bound optimizer.
    base_lrs : list of float
        ``group["initial_lr"]`` of each group, :math:`\eta_0` in the formulas.
    last_epoch : int
        Number of steps taken since epoch 0; the schedule's :math:`t`.

    Notes
    -----
    Unlike torch, the scheduler does not wrap ``optimizer.step`` to warn
    when the two are called in the wrong order, and ``step(epoch)`` (which
    sets ``last_epoch = epoch`` and uses the closed form) is supported
    without a deprecation warning. Resuming with ``last_epoch=k`` puts every
    closed-form schedule at its epoch-``k + 1`` value; torch keeps the
    current ``lr`` there for some of them.
    """

    #: Whether the training loop steps this scheduler after every batch
    #: (True) or after every epoch (False); see ``scheduler_steps_per_batch``.
    #: May be overridden on an instance, e.g. for a per-batch cosine schedule.
    step_per_batch = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        _check_int("last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"last_epoch={last_epoch} resumes a schedule, but "
                        f"param_groups[{i}] has no 'initial_lr' (it is set when the "
                        "schedule starts with last_epoch=-1). Load the optimizer's "
                        "state first, or start with last_epoch=-1 and restore the "
                        "scheduler with load_state_dict."
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Reset the step count and take the constructor's step (to epoch 0)."""
        self._step_count = 0
        self.step()

    def get_lr(self):
        """Learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            One learning rate per parameter group. ``step`` writes these into
            the optimizer; to read what was written, use ``get_last_lr``.
        """
        raise NotImplementedError

    def _get_momenta(self):
        """Momenta to write with the learning rates, or None (no cycling)."""
        return None

    def step(self, epoch=None):
        """Advance the schedule by one step and write the new learning rates.

        Parameters
        ----------
        epoch : int, optional
            Jump to this epoch instead (``last_epoch = epoch``); the value is
            the closed form at that epoch. Call ``step()`` without it in
            ordinary training.
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
        else:
            _check_real("epoch", epoch, ge=0)
            self.last_epoch = epoch
        self._write(self.get_lr(), self._get_momenta())

    def _write(self, lrs, momenta=None):
        groups = self.optimizer.param_groups
        if len(lrs) != len(groups):
            raise ValueError(
                f"the optimizer has {len(groups)} parameter group(s) but the scheduler "
                f"was built for {len(lrs)}; a group added after the scheduler was "
                "created is not scheduled. Create the scheduler after all groups."
            )
        if momenta is not None:
            for group, momentum in zip(groups, momenta):
                _set_momentum(group, momentum, self.use_beta1)
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self):
        """Learning rates written by the last step (a new list each call).

        Returns
        -------
        list of float
            One learning rate per parameter group.
        """
        return list(self._last_lr)

    # -- saving and loading --------------------------------------------------
    def state_dict(self):
        """Return the scheduler's state: every attribute but the optimizer.

        Returns
        -------
        dict
            Deep copies of the scheduler's attributes (Python numbers and
            lists), picklable, in the layout of torch's ``state_dict``.
        """
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a state returned by ``state_dict``.

        Parameters
        ----------
        state_dict : dict
            As returned by ``state_dict`` of a scheduler of the same kind. It
            is copied, never aliased.

        Notes
        -----
        Unlike torch's, this also writes the restored learning rates (and,
        for ``CyclicLR`` and ``OneCycleLR``, the cycled momenta) into the
        optimizer's groups, so the optimizer's next step uses the scheduled
        values whether or not ``optimizer.load_state_dict`` ran, and in
        either order (a scheduler created on a fresh optimizer otherwise
        leaves the epoch-0 values there until its next ``step``).
        """
        self._load_attributes(state_dict)
        self._restore_optimizer()

    def _load_attributes(self, state_dict):
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"state_dict must be a dict as returned by {type(self).__name__}."
                f"state_dict(); got {type(state_dict).__name__}."
            )
        self.__dict__.update({key: copy.deepcopy(value) for key, value in state_dict.items()
                              if key != "optimizer"})

    def _restore_optimizer(self):
        """Write the last learning rates (and momenta) into the optimizer's groups."""
        self._write(list(self._last_lr), self._get_momenta())


# ---------------------------------------------------------------------------
# Closed-form schedules
# ---------------------------------------------------------------------------
class StepLR(LRScheduler):
    r"""Decay the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math::

        \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    with :math:`\eta_0` the group's initial learning rate, :math:`s` =
    ``step_size`` and :math:`t` = ``last_epoch``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    step_size : int
        Period :math:`s` of the decay, in epochs; >= 1.
    gamma : float, default=0.1
        Multiplicative factor :math:`\gamma` of the decay; > 0.
    last_epoch : int, default=-1
        See ``LRScheduler``.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _check_int("step_size", step_size, 1)
        self.gamma = _check_real("gamma", gamma, gt=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Decay the learning rate by ``gamma`` at each milestone epoch.

    .. math::

        \eta_t = \eta_0\, \gamma^{\,|\{m \in \text{milestones} : m \le t\}|}

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    milestones : list of int
        Epochs at which the learning rate is multiplied by ``gamma``;
        non-negative and strictly increasing.
    gamma : float, default=0.1
        Multiplicative factor :math:`\gamma` of the decay; > 0.
    last_epoch : int, default=-1
        See ``LRScheduler``.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = _check_milestones("milestones", milestones, minimum=0)
        self.gamma = _check_real("gamma", gamma, gt=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        n_passed = bisect_right(self.milestones, self.last_epoch)
        return [base_lr * self.gamma ** n_passed for base_lr in self.base_lrs]


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


class ExponentialLR(LRScheduler):
    r"""Decay the learning rate by ``gamma`` every epoch.

    .. math::

        \eta_t = \eta_0\, \gamma^{t}

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    gamma : float
        Multiplicative factor :math:`\gamma` per epoch; > 0.
    last_epoch : int, default=-1
        See ``LRScheduler``.
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _check_real("gamma", gamma, gt=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class InverseScalingLR(LRScheduler):
    r"""Inverse scaling: scikit-learn's ``learning_rate="invscaling"``.

    .. math::

        \eta_t = \frac{\eta_0}{(t + 1)^{p}}

    with :math:`p` = ``power_t``. scikit-learn measures :math:`t` in
    training samples seen, not in epochs: an estimator calls
    ``step(t)`` with that count after each epoch (``step()`` without it
    counts steps instead, like the other schedules).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    power_t : float, default=0.5
        Exponent :math:`p`; >= 0.
    last_epoch : int, default=-1
        See ``LRScheduler``.
    """

    def __init__(self, optimizer, power_t=0.5, last_epoch=-1):
        self.power_t = _check_real("power_t", power_t, ge=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr / (self.last_epoch + 1) ** self.power_t for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial learning rate down to ``eta_min``.

    .. math::

        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    The learning rate reaches :math:`\eta_{\min}` at :math:`t = T_{\max}`;
    stepped further it rises again along the same cosine (period
    :math:`2 T_{\max}`), as torch's does. For restarts use
    ``CosineAnnealingWarmRestarts``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    T_max : int
        Half period :math:`T_{\max}`, in epochs; >= 1.
    eta_min : float, default=0
        Minimum learning rate :math:`\eta_{\min}`; >= 0.
    last_epoch : int, default=-1
        See ``LRScheduler``.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _check_int("T_max", T_max, 1)
        self.eta_min = _check_real("eta_min", eta_min, ge=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    r"""Scale the learning rate by a factor that changes linearly (warm-up).

    .. math::

        \eta_t = \eta_0 \left(f_s + (f_e - f_s)\,
                 \frac{\min(t, T)}{T}\right)

    with :math:`f_s` = ``start_factor``, :math:`f_e` = ``end_factor`` and
    :math:`T` = ``total_iters``; constant after :math:`T` steps.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    start_factor : float, default=1/3
        Factor :math:`f_s` at epoch 0; in (0, 1].
    end_factor : float, default=1.0
        Factor :math:`f_e` from epoch ``total_iters`` on; in [0, 1].
    total_iters : int, default=5
        Number of steps :math:`T` of the linear change; >= 1.
    last_epoch : int, default=-1
        See ``LRScheduler``.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        self.start_factor = _check_real("start_factor", start_factor, gt=0, le=1)
        self.end_factor = _check_real("end_factor", end_factor, ge=0, le=1)
        self.total_iters = _check_int("total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = (self.start_factor + (self.end_factor - self.start_factor)
                  * min(self.total_iters, self.last_epoch) / self.total_iters)
        return [base_lr * factor for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Polynomial decay of the learning rate to zero in ``total_iters`` steps.

    .. math::

        \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}

    with :math:`T` = ``total_iters`` and :math:`p` = ``power``; zero from
    step :math:`T` on.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    total_iters : int, default=5
        Number of steps :math:`T` of the decay; >= 1.
    power : float, default=1.0
        Power :math:`p` of the polynomial; >= 0.
    last_epoch : int, default=-1
        See ``LRScheduler``.
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = _check_int("total_iters", total_iters, 1)
        self.power = _check_real("power", power, ge=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return [base_lr * factor for base_lr in self.base_lrs]


# ---------------------------------------------------------------------------
# Cosine annealing with warm restarts (SGDR)
# ---------------------------------------------------------------------------
class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter).

    .. math::

        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi T_{cur}}{T_i}\right)

    where :math:`T_i = T_0 T_{mult}^{\,i}` is the length of the current
    cycle :math:`i` and :math:`T_{cur}` the (possibly fractional) number of
    epochs since its start. Cycle :math:`i` starts at epoch
    :math:`T_0 (T_{mult}^{\,i} - 1) / (T_{mult} - 1)` (:math:`i T_0` when
    :math:`T_{mult} = 1`); at each start the rate jumps back to
    :math:`\eta_0`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    T_0 : int
        Length of the first cycle, in epochs; >= 1.
    T_mult : int, default=1
        Factor by which each cycle is longer than the one before; >= 1.
    eta_min : float, default=0
        Minimum learning rate :math:`\eta_{\min}`; >= 0.
    last_epoch : int, default=-1
        See ``LRScheduler``.

    Attributes
    ----------
    T_i : int
        Length of the current cycle.
    T_cur : float
        Epochs since the start of the current cycle.

    Notes
    -----
    ``step(epoch)`` accepts a fractional epoch, to step once per batch:
    ``scheduler.step(epoch + i / n_batches)``. A following ``step()`` adds 1
    to both ``T_cur`` and ``last_epoch`` (which is ``floor(epoch)``), as in
    torch. The cycle of a given epoch is found with exact integer
    boundaries; torch rounds a logarithm there and misplaces a few epochs
    that fall exactly on a restart (e.g. ``T_mult=10`` at epoch ``111 T_0``).
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = _check_int("T_0", T_0, 1)
        self.T_mult = _check_int("T_mult", T_mult, 1)
        self.eta_min = _check_real("eta_min", eta_min, ge=0)
        self.T_i = self.T_0
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def _initial_step(self):
        if self.last_epoch >= 0:
            self._step_count = 0
            self.step(self.last_epoch + 1)
        else:
            super()._initial_step()

    def _cycle_start(self, n):
        return self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)

    def _cycle_index(self, epoch):
        """The cycle ``n`` with ``start(n) <= epoch < start(n + 1)`` (T_mult > 1)."""
        n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        while self._cycle_start(n + 1) <= epoch:
            n += 1
        while n > 0 and self._cycle_start(n) > epoch:
            n -= 1
        return n

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance by one epoch, or jump to ``epoch`` (which may be fractional).

        Parameters
        ----------
        epoch : float, optional
            The epoch to jump to, >= 0; ``epoch + i / n_batches`` steps the
            schedule within an epoch.
        """
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            _check_real("epoch", epoch, ge=0)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = self._cycle_index(epoch)
                    self.T_cur = epoch - self._cycle_start(n)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._write(self.get_lr())


# ---------------------------------------------------------------------------
# Per-batch cyclic schedules (with momentum cycling)
# ---------------------------------------------------------------------------
class CyclicLR(LRScheduler):
    r"""Cyclical learning rate (Smith, 2017), stepped after every batch.

    With :math:`S` = ``step_size_up + step_size_down``, :math:`r` =
    ``step_size_up / S`` and :math:`t` = ``last_epoch`` (batches):

    .. math::

        c &= \lfloor 1 + t / S \rfloor, \qquad x = 1 + t / S - c \\
        h &= x / r \ \text{ if } x \le r \ \text{ else } \ (x - 1) / (r - 1) \\
        \eta_t &= \eta_{base} + (\eta_{max} - \eta_{base})\, h\, \sigma \\
        m_t &= m_{max} - (m_{max} - m_{base})\, h\, \sigma

    with the scale :math:`\sigma` = 1 (``"triangular"``),
    :math:`2^{-(c - 1)}` (``"triangular2"``, amplitude halved each cycle),
    :math:`\gamma^{t}` (``"exp_range"``), or ``scale_fn(c)`` /
    ``scale_fn(t)`` per ``scale_mode``. The momentum :math:`m_t` moves
    opposite to the rate and is written into each group's ``momentum``
    (SGD, RMSprop) or ``betas[0]`` (Adam, AdamW).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    base_lr : float or list of float
        Lower bound :math:`\eta_{base}` of the cycle (per group with a
        list); it also replaces each group's ``lr`` at construction.
    max_lr : float or list of float
        Upper bound :math:`\eta_{max}` of the cycle.
    step_size_up : int, default=2000
        Batches in the increasing half of a cycle; >= 1.
    step_size_down : int, optional
        Batches in the decreasing half; ``step_size_up`` when None.
    mode : {"triangular", "triangular2", "exp_range"}, default="triangular"
        Amplitude policy; ignored when ``scale_fn`` is given.
    gamma : float, default=1.0
        Base of the ``"exp_range"`` scale :math:`\gamma^t`; > 0.
    scale_fn : callable, optional
        Custom scale :math:`\sigma(x)`, with values in [0, 1] for x >= 0;
        replaces ``mode``. It is not part of ``state_dict``.
    scale_mode : {"cycle", "iterations"}, default="cycle"
        Whether ``scale_fn`` takes the cycle number :math:`c` or the batch
        count :math:`t`. The built-in modes set it themselves.
    cycle_momentum : bool, default=True
        Cycle the momentum between ``base_momentum`` and ``max_momentum``.
        The optimizer must have a ``momentum`` or ``betas`` option.
    base_momentum : float or list of float, default=0.8
        Lower momentum bound :math:`m_{base}` (reached at ``max_lr``).
    max_momentum : float or list of float, default=0.9
        Upper momentum bound :math:`m_{max}` (at ``base_lr``).
    last_epoch : int, default=-1
        Index of the last batch; see ``LRScheduler``.
    """

    step_per_batch = True

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer)
        base_lrs = _per_group("base_lr", optimizer, base_lr, _check_nonnegative)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr, _check_nonnegative)
        step_size_up = float(_check_int("step_size_up", step_size_up, 1))
        step_size_down = (float(_check_int("step_size_down", step_size_down, 1))
                          if step_size_down is not None else step_size_up)
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if scale_fn is None:
            _check_option("mode", mode, ("triangular", "triangular2", "exp_range"))
        elif not callable(scale_fn):
            raise ValueError(f"scale_fn must be callable or None; got {scale_fn!r}.")
        self.mode = mode
        self.gamma = _check_real("gamma", gamma, gt=0)
        self.scale_mode = _check_option("scale_mode", scale_mode, ("cycle", "iterations"))
        self._scale_fn_custom = scale_fn
        self._init_scale_fn()
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer)
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum, _check_nonnegative)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum, _check_nonnegative)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
            if self.cycle_momentum:
                for group, b_m, m_m in zip(optimizer.param_groups, self.base_momentums,
                                           self.max_momentums):
                    _set_momentum(group, m_m, self.use_beta1)
                    group["max_momentum"] = m_m
                    group["base_momentum"] = b_m
        # The cycle's lower bounds; ``base_lrs`` (set from ``initial_lr`` by the
        # base class) is made equal to them afterwards, as in torch.
        self._cycle_base_lrs = base_lrs
        super().__init__(optimizer, last_epoch)
        self.base_lrs = list(base_lrs)

    def _init_scale_fn(self):
        if self._scale_fn_custom is not None:
            return
        # The built-in modes fix their scale_mode, as torch's do.
        self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """The amplitude scale :math:`\\sigma(x)` of the current mode."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def _position(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        return scale_factor, scale

    def get_lr(self):
        scale_factor, scale = self._position()
        return [base_lr + (max_lr - base_lr) * scale_factor * scale
                for base_lr, max_lr in zip(self._cycle_base_lrs, self.max_lrs)]

    def _get_momenta(self):
        if not self.cycle_momentum:
            return None
        scale_factor, scale = self._position()
        return [max_m - (max_m - base_m) * scale_factor * scale
                for base_m, max_m in zip(self.base_momentums, self.max_momentums)]

    def state_dict(self):
        """Return the scheduler's state (a custom ``scale_fn`` is left out)."""
        state = super().state_dict()
        state["_scale_fn_custom"] = None
        return state

    def _load_attributes(self, state_dict):
        scale_fn = self._scale_fn_custom
        super()._load_attributes(state_dict)
        self._scale_fn_custom = scale_fn
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy (Smith & Topin, 2018), stepped after every batch.

    With :math:`N` = ``total_steps``, :math:`\eta_{max}` = ``max_lr``,
    :math:`\eta_0 = \eta_{max} / d` (``div_factor``) and
    :math:`\eta_{min} = \eta_0 / d_f` (``final_div_factor``), the rate is
    annealed through phases :math:`k` that end at steps :math:`e_k`:

    - two phases (default): :math:`\eta_0 \to \eta_{max}` until
      :math:`e_1 = p N - 1`, then :math:`\eta_{max} \to \eta_{min}` until
      :math:`e_2 = N - 1`;
    - ``three_phase``: :math:`\eta_0 \to \eta_{max}` until :math:`pN - 1`,
      :math:`\eta_{max} \to \eta_0` until :math:`2pN - 2`, then
      :math:`\eta_0 \to \eta_{min}` until :math:`N - 1`.

    In phase :math:`k`, from :math:`a` to :math:`b`, at step :math:`t`
    with :math:`\rho = (t - e_{k-1}) / (e_k - e_{k-1})` (:math:`e_0 = 0`):

    .. math::

        \text{cos:}\quad \eta_t = b + \tfrac12 (a - b)(1 + \cos \pi\rho),
        \qquad
        \text{linear:}\quad \eta_t = a + (b - a)\rho

    The momentum follows the same phases in the opposite direction,
    ``max_momentum`` :math:`\to` ``base_momentum`` :math:`\to`
    ``max_momentum`` (held in the third phase), written into ``momentum``
    or ``betas[0]``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    max_lr : float or list of float
        Peak learning rate :math:`\eta_{max}` (per group with a list).
    total_steps : int, optional
        Number of steps :math:`N` in the cycle; else
        ``epochs * steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
        Give :math:`N` when ``total_steps`` is None.
    pct_start : float, default=0.3
        Fraction :math:`p` of the cycle spent increasing the rate; in [0, 1]
        (at most 0.5 with ``three_phase``).
    anneal_strategy : {"cos", "linear"}, default="cos"
        Shape of each phase.
    cycle_momentum : bool, default=True
        Cycle the momentum between ``base_momentum`` and ``max_momentum``.
        The optimizer must have a ``momentum`` or ``betas`` option.
    base_momentum : float or list of float, default=0.85
        Momentum at the peak learning rate.
    max_momentum : float or list of float, default=0.95
        Momentum at the start and end of the cycle.
    div_factor : float, default=25.0
        :math:`d`, with :math:`\eta_0 = \eta_{max} / d`; > 0.
    final_div_factor : float, default=1e4
        :math:`d_f`, with :math:`\eta_{min} = \eta_0 / d_f`; > 0.
    three_phase : bool, default=False
        Use the three-phase schedule of the original paper.
    last_epoch : int, default=-1
        Index of the last batch; see ``LRScheduler``.

    Notes
    -----
    As in torch, the values are stored in each parameter group
    (``initial_lr``, ``max_lr``, ``min_lr`` and, with momentum cycling,
    ``max_momentum``, ``base_momentum``), so they travel with the
    optimizer's ``state_dict``. ``step()`` may be called ``total_steps``
    times; one more raises ValueError.
    """

    step_per_batch = True

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None,
                 steps_per_epoch=None, pct_start=0.3, anneal_strategy="cos",
                 cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(optimizer)
        if total_steps is not None:
            self.total_steps = _check_int("total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_check_int("epochs", epochs, 1)
                                * _check_int("steps_per_epoch", steps_per_epoch, 1))
        else:
            raise ValueError(
                "OneCycleLR needs total_steps, or both epochs and steps_per_epoch; got "
                f"total_steps={total_steps!r}, epochs={epochs!r}, "
                f"steps_per_epoch={steps_per_epoch!r}."
            )
        _check_real("pct_start", pct_start, ge=0, le=1)
        self.three_phase = bool(three_phase)
        if self.three_phase and pct_start > 0.5:
            raise ValueError(
                f"pct_start must be <= 0.5 with three_phase=True; got {pct_start!r}."
            )
        self._anneal_func_type = _check_option("anneal_strategy", anneal_strategy,
                                               ("cos", "linear"))
        _check_real("div_factor", div_factor, gt=0)
        _check_real("final_div_factor", final_div_factor, gt=0)
        end_up = float(pct_start * self.total_steps) - 1
        if self.three_phase:
            self._schedule_phases = [
                {"end_step": end_up, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * self.total_steps) - 2,
                 "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "initial_lr",
                 "end_lr": "min_lr", "start_momentum": "max_momentum",
                 "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": end_up, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "max_lr",
                 "end_lr": "min_lr", "start_momentum": "base_momentum",
                 "end_momentum": "max_momentum"},
            ]
        start = 0.0
        for phase in self._schedule_phases:
            if phase["end_step"] == start:
                raise ValueError(
                    f"pct_start={pct_start!r} with total_steps={self.total_steps} gives "
                    "a phase of zero steps (its lr would divide by zero); change "
                    "pct_start or total_steps."
                )
            start = phase["end_step"]

        max_lrs = _per_group("max_lr", optimizer, max_lr, _check_positive)
        if last_epoch == -1:
            for m_lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = m_lr / div_factor
                group["max_lr"] = m_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if last_epoch != -1:
            keys = ("initial_lr", "max_lr", "min_lr") + (
                ("max_momentum", "base_momentum") if self.cycle_momentum else ())
            for i, group in enumerate(optimizer.param_groups):
                missing = [k for k in keys if k not in group]
                if missing:
                    raise ValueError(
                        f"last_epoch={last_epoch} resumes a OneCycleLR, but "
                        f"param_groups[{i}] lacks {missing}; load the optimizer's state "
                        "first, or restore the scheduler with load_state_dict."
                    )
        if self.cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer)
            max_momentums = _per_group("max_momentum", optimizer, max_momentum, _check_nonnegative)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum, _check_nonnegative)
            if last_epoch == -1:
                for m_m, b_m, group in zip(max_momentums, base_momentums,
                                           optimizer.param_groups):
                    _set_momentum(group, m_m, self.use_beta1)
                    group["max_momentum"] = m_m
                    group["base_momentum"] = b_m
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _annealing_cos(start, end, pct):
        cos_out = math.cos(math.pi * pct) + 1
        return end + (start - end) / 2.0 * cos_out

    @staticmethod
    def _annealing_linear(start, end, pct):
        return (end - start) * pct + start

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        return self._annealing_linear(start, end, pct)

    def _phase(self):
        """The current phase and the fraction ``pct`` of it that has passed."""
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"OneCycleLR was stepped {step_num} times; total_steps is "
                f"{self.total_steps}. Create it with a larger total_steps (or "
                "epochs * steps_per_epoch)."
            )
        start_step = 0.0
        for i, phase in enumerate(self._schedule_phases):
            end_step = phase["end_step"]
            if step_num <= end_step or i == len(self._schedule_phases) - 1:
                return phase, (step_num - start_step) / (end_step - start_step)
            start_step = phase["end_step"]

    def get_lr(self):
        phase, pct = self._phase()
        return [self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                for group in self.optimizer.param_groups]

    def _get_momenta(self):
        if not self.cycle_momentum:
            return None
        phase, pct = self._phase()
        return [self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]],
                             pct)
                for group in self.optimizer.param_groups]


# ---------------------------------------------------------------------------
# Metric-driven schedule
# ---------------------------------------------------------------------------
class ReduceLROnPlateau(LRScheduler):
    r"""Reduce the learning rate when a monitored metric stops improving.

    ``step(metric)`` is called once per epoch with, e.g., the validation
    loss. A metric :math:`a` improves on the best so far, :math:`a^*`, when

    .. math::

        a < a^*(1 - \tau) \ \ (\text{min, rel}), \quad
        a < a^* - \tau \ \ (\text{min, abs}), \quad
        a > a^*(1 + \tau) \ \ (\text{max, rel}), \quad
        a > a^* + \tau \ \ (\text{max, abs})

    with :math:`\tau` = ``threshold``. After more than ``patience``
    consecutive epochs without improvement (epochs in cooldown do not
    count), each group's rate becomes

    .. math::

        \eta \leftarrow \max(\eta\, f, \eta_{min}) \quad\text{if}\quad
        \eta - \max(\eta\, f, \eta_{min}) > \epsilon

    (:math:`f` = ``factor``, :math:`\eta_{min}` = that group's ``min_lr``,
    :math:`\epsilon` = ``eps``; else it is left as it is), the bad-epoch
    count restarts and ``cooldown`` epochs follow in which nothing is
    counted.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    mode : {"min", "max"}, default="min"
        Whether the metric should decrease (a loss) or increase (a score).
    factor : float, default=0.1
        Factor :math:`f` of a reduction; in [0, 1).
    patience : int, default=10
        Epochs without improvement tolerated before a reduction; >= 0.
    threshold : float, default=1e-4
        Threshold :math:`\tau` of a significant improvement; >= 0.
    threshold_mode : {"rel", "abs"}, default="rel"
        Whether :math:`\tau` is relative to the best value or absolute.
    cooldown : int, default=0
        Epochs after a reduction during which bad epochs are not counted.
    min_lr : float or list of float, default=0
        Lower bound of the learning rate, for all groups or per group.
    eps : float, default=1e-8
        Reductions smaller than this are skipped; >= 0.

    Attributes
    ----------
    best : float
        Best metric so far (``inf`` / ``-inf`` before the first step).
    num_bad_epochs : int
        Consecutive epochs without improvement.
    cooldown_counter : int
        Epochs of cooldown left.
    last_epoch : int
        Number of ``step`` calls.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        _check_optimizer(optimizer)
        if _is_real(factor) and factor >= 1.0:
            raise ValueError(
                f"factor must be < 1.0 (new_lr = lr * factor); got {factor!r}."
            )
        self.factor = _check_real("factor", factor, ge=0, lt=1)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _per_group("min_lr", optimizer, min_lr, _check_nonnegative)
        else:
            self.default_min_lr = _check_nonnegative("min_lr", min_lr)
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = _check_int("patience", patience, 0)
        self.cooldown = _check_int("cooldown", cooldown, 0)
        self.eps = _check_real("eps", eps, ge=0)
        self.last_epoch = 0
        self._step_count = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        self.mode = _check_option("mode", mode, ("min", "max"))
        self.threshold = _check_real("threshold", threshold, ge=0)
        self.threshold_mode = _check_option("threshold_mode", threshold_mode, ("rel", "abs"))
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        """Whether the scheduler is in its cooldown after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        """Whether metric ``a`` improves significantly on ``best``."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def get_lr(self):
        """The groups' current learning rates (this schedule has no formula in t)."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, metrics):
        """Record one epoch's metric and reduce the learning rates if it stalled.

        Parameters
        ----------
        metrics : float
            The monitored quantity (a number or 0-d array).
        """
        current = float(metrics)
        self._step_count += 1
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(
                    f"the optimizer has {len(groups)} parameter groups but min_lr was "
                    f"given for {len(self.min_lrs)}; set min_lrs to one value per group."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def _load_attributes(self, state_dict):
        super()._load_attributes(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


# ---------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------
class SequentialLR(LRScheduler):
    r"""Run schedulers one after another, switching at milestone epochs.

    With milestones :math:`m_1 < \dots < m_{k}` and schedulers
    :math:`S_0, \dots, S_k`, epoch :math:`t` is handled by :math:`S_j`,
    :math:`j = |\{i : m_i \le t\}|`, at its own epoch :math:`t - m_j`
    (:math:`m_0 = 0`): at a milestone the next scheduler restarts from its
    epoch 0. A warm-up followed by a cosine decay over :math:`T` epochs:

    .. math::

        \eta_t = \begin{cases}
            \eta_0 \left(f_s + (1 - f_s)\, t / m_1\right) & t < m_1 \\
            \tfrac12\, \eta_0 \left(1 + \cos\frac{\pi (t - m_1)}{T}\right)
                & t \ge m_1
        \end{cases}

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled; every scheduler
        must be bound to it.
    schedulers : list of LRScheduler
        The schedulers, created on ``optimizer`` just before; not
        ``ReduceLROnPlateau`` nor ``SequentialLR``.
    milestones : list of int
        Epochs (>= 1, strictly increasing) at which the next scheduler takes
        over; one fewer than ``schedulers``.
    last_epoch : int, default=-1
        Only -1 (a new schedule); resume with ``load_state_dict``.

    Notes
    -----
    As in torch, creating the sequence resets each group's ``lr`` to its
    ``initial_lr``, rewinds the sub-schedulers and takes the first one's
    initial step; afterwards only ``SequentialLR.step`` should be called.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer(optimizer)
        if last_epoch != -1:
            raise ValueError(
                f"SequentialLR supports only last_epoch=-1; got {last_epoch!r}. Resume "
                "a sequence with load_state_dict."
            )
        schedulers = list(schedulers)
        if len(schedulers) < 1:
            raise ValueError("schedulers must hold at least one scheduler; got none.")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(
                    f"schedulers[{i}] must be an LRScheduler; got "
                    f"{type(scheduler).__name__}."
                )
            if isinstance(scheduler, (ReduceLROnPlateau, SequentialLR)):
                raise ValueError(
                    f"schedulers[{i}] is a {type(scheduler).__name__}, which SequentialLR "
                    "cannot run (a plateau schedule needs a metric; nest sequences by "
                    "flattening them)."
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"schedulers[{i}] ({type(scheduler).__name__}) is bound to another "
                    "optimizer; all schedulers must be bound to SequentialLR's optimizer."
                )
        milestones = _check_milestones("milestones", milestones, minimum=1)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"milestones must have one entry fewer than schedulers; got "
                f"{len(milestones)} milestone(s) for {len(schedulers)} scheduler(s)."
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.optimizer = optimizer
        self.last_epoch = last_epoch + 1
        self.step_per_batch = any(s.step_per_batch for s in schedulers)
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        """Advance by one epoch, handing over to the next scheduler at a milestone."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler.step(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def get_lr(self):
        """Learning rates of the scheduler now in charge."""
        return self._schedulers[bisect_right(self._milestones, self.last_epoch)].get_lr()

    def state_dict(self):
        """Return the state, with each sub-scheduler's under ``"_schedulers"``."""
        state = {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        """Restore a state returned by ``state_dict``, sub-schedulers included."""
        if not isinstance(state_dict, dict) or "_schedulers" not in state_dict:
            raise TypeError(
                "state_dict must be a dict as returned by SequentialLR.state_dict()."
            )
        sub_states = state_dict["_schedulers"]
        if len(sub_states) != len(self._schedulers):
            raise ValueError(
                f"the loaded state holds {len(sub_states)} scheduler(s); this "
                f"SequentialLR has {len(self._schedulers)}."
            )
        self._load_attributes({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for scheduler, sub_state in zip(self._schedulers, sub_states):
            scheduler._load_attributes(sub_state)
        # Only the scheduler in charge writes into the optimizer (one not yet
        # started has no meaningful momentum to restore).
        self._schedulers[bisect_right(self._milestones, self.last_epoch)]._restore_optimizer()


# ---------------------------------------------------------------------------
# Factory for estimators
# ---------------------------------------------------------------------------
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

    Returns
    -------
    bool
        True when the training loop must call ``scheduler.step(metric)``
        (once per epoch, with e.g. the validation loss), False when it
        calls ``scheduler.step()``.
    """
    return issubclass(_scheduler_class(scheduler), ReduceLROnPlateau)
