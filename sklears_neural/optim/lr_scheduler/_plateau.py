"""``ReduceLROnPlateau``: lower the learning rate when a metric stops improving."""

import math

from sklears_neural._specs._scalars import check_int, check_option, check_real, is_real
from sklears_neural.optim.lr_scheduler._base import LRScheduler
from sklears_neural.optim.lr_scheduler._checks import _check_optimizer, _per_group


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
        if is_real(factor) and factor >= 1.0:
            raise ValueError(
                f"factor must be < 1.0 (new_lr = lr * factor); got {factor!r}."
            )
        self.factor = check_real("factor", factor, ge=0, lt=1)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _per_group("min_lr", optimizer, min_lr, ge=0)
        else:
            self.default_min_lr = check_real("min_lr", min_lr, ge=0)
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = check_int("patience", patience, minimum=0)
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.eps = check_real("eps", eps, ge=0)
        self.last_epoch = 0
        self._step_count = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        self.mode = check_option("mode", mode, ("min", "max"))
        self.threshold = check_real("threshold", threshold, ge=0)
        self.threshold_mode = check_option("threshold_mode", threshold_mode, ("rel", "abs"))
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
        """Return the groups' current learning rates (this schedule has no formula in t).

        Returns
        -------
        list of float
            The ``lr`` of each parameter group, as the last reduction left it.
        """
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
