"""Schedules with a closed form in the epoch: step, multi-step, exponential, inverse scaling,
cosine annealing, linear and polynomial."""

import math
from bisect import bisect_right

from sklears_neural._specs._scalars import check_int, check_real
from sklears_neural.optim.lr_scheduler._base import LRScheduler
from sklears_neural.optim.lr_scheduler._checks import _check_milestones


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
        self.step_size = check_int("step_size", step_size, minimum=1)
        self.gamma = check_real("gamma", gamma, gt=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            ``eta_0 * gamma ** (last_epoch // step_size)`` for each group.
        """
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
        self.gamma = check_real("gamma", gamma, gt=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            ``eta_0 * gamma ** k`` for each group, ``k`` the milestones passed.
        """
        n_passed = bisect_right(self.milestones, self.last_epoch)
        return [base_lr * self.gamma ** n_passed for base_lr in self.base_lrs]


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
        self.gamma = check_real("gamma", gamma, gt=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            ``eta_0 * gamma ** last_epoch`` for each group.
        """
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
        self.power_t = check_real("power_t", power_t, ge=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            ``eta_0 / (last_epoch + 1) ** power_t`` for each group.
        """
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
        self.T_max = check_int("T_max", T_max, minimum=1)
        self.eta_min = check_real("eta_min", eta_min, ge=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            The cosine-annealed rate of each group.
        """
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
        self.start_factor = check_real("start_factor", start_factor, gt=0, le=1)
        self.end_factor = check_real("end_factor", end_factor, ge=0, le=1)
        self.total_iters = check_int("total_iters", total_iters, minimum=1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            ``eta_0`` times the linearly interpolated factor, for each group.
        """
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
        self.total_iters = check_int("total_iters", total_iters, minimum=1)
        self.power = check_real("power", power, ge=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            ``eta_0 * (1 - min(t, T) / T) ** power`` for each group.
        """
        factor = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return [base_lr * factor for base_lr in self.base_lrs]
