"""Schedules stepped per batch: ``CyclicLR`` and ``OneCycleLR``."""

import math

from sklears_neural._specs._scalars import check_int, check_option, check_real
from sklears_neural.optim.lr_scheduler._base import LRScheduler
from sklears_neural.optim.lr_scheduler._checks import (
    _check_optimizer,
    _momentum_key,
    _per_group,
    _set_momentum,
)


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
        base_lrs = _per_group("base_lr", optimizer, base_lr, ge=0)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr, ge=0)
        step_size_up = float(check_int("step_size_up", step_size_up, minimum=1))
        step_size_down = (float(check_int("step_size_down", step_size_down, minimum=1))
                          if step_size_down is not None else step_size_up)
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if scale_fn is None:
            check_option("mode", mode, ("triangular", "triangular2", "exp_range"))
        elif not callable(scale_fn):
            raise ValueError(f"scale_fn must be callable or None; got {scale_fn!r}.")
        self.mode = mode
        self.gamma = check_real("gamma", gamma, gt=0)
        self.scale_mode = check_option("scale_mode", scale_mode, ("cycle", "iterations"))
        self._scale_fn_custom = scale_fn
        self._init_scale_fn()
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer)
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum, ge=0)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum, ge=0)
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
        """Return the amplitude scale :math:`\\sigma(x)` of the current mode.

        Parameters
        ----------
        x : int or float
            The cycle number :math:`c` or the batch count :math:`t`, per
            ``scale_mode``.

        Returns
        -------
        float
            1 (``"triangular"``), ``2 ** -(x - 1)`` (``"triangular2"``),
            ``gamma ** x`` (``"exp_range"``), or the custom ``scale_fn(x)``.
        """
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
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            The rate of each group at the current position in the cycle.
        """
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
        """Return the scheduler's state (a custom ``scale_fn`` is left out).

        Returns
        -------
        dict
            Deep copies of the scheduler's attributes but the optimizer and the
            custom ``scale_fn`` (a function is not part of the saved state).
        """
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
            self.total_steps = check_int("total_steps", total_steps, minimum=1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (check_int("epochs", epochs, minimum=1)
                                * check_int("steps_per_epoch", steps_per_epoch, minimum=1))
        else:
            raise ValueError(
                "OneCycleLR needs total_steps, or both epochs and steps_per_epoch; got "
                f"total_steps={total_steps!r}, epochs={epochs!r}, "
                f"steps_per_epoch={steps_per_epoch!r}."
            )
        check_real("pct_start", pct_start, ge=0, le=1)
        self.three_phase = bool(three_phase)
        if self.three_phase and pct_start > 0.5:
            raise ValueError(
                f"pct_start must be <= 0.5 with three_phase=True; got {pct_start!r}."
            )
        self._anneal_func_type = check_option("anneal_strategy", anneal_strategy,
                                              ("cos", "linear"))
        check_real("div_factor", div_factor, gt=0)
        check_real("final_div_factor", final_div_factor, gt=0)
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

        max_lrs = _per_group("max_lr", optimizer, max_lr, gt=0)
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
            max_momentums = _per_group("max_momentum", optimizer, max_momentum, ge=0)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum, ge=0)
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
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            The rate of each group, annealed within the current phase.
        """
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
