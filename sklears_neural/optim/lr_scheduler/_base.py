"""``LRScheduler``: the base class that does the stepping, state and momentum writes."""

import copy

from sklears_neural._specs._scalars import check_int, check_real
from sklears_neural.optim.lr_scheduler._checks import _check_optimizer, _set_momentum


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
        check_int("last_epoch", last_epoch, minimum=-1)
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
            check_real("epoch", epoch, ge=0)
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
