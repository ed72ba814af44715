"""``SequentialLR``: hand over from one scheduler to the next at milestones."""

import copy
from bisect import bisect_right

from sklears_neural.optim.lr_scheduler._base import LRScheduler
from sklears_neural.optim.lr_scheduler._checks import _check_milestones, _check_optimizer
from sklears_neural.optim.lr_scheduler._plateau import ReduceLROnPlateau


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
        """Return the learning rates of the scheduler now in charge.

        Returns
        -------
        list of float
            That scheduler's ``get_lr()``, one rate per parameter group.
        """
        return self._schedulers[bisect_right(self._milestones, self.last_epoch)].get_lr()

    def state_dict(self):
        """Return the state, with each sub-scheduler's under ``"_schedulers"``.

        Returns
        -------
        dict
            Deep copies of the attributes but the optimizer, and the list of the
            sub-schedulers' ``state_dict()``.
        """
        state = {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        """Restore a state returned by ``state_dict``, sub-schedulers included.

        Parameters
        ----------
        state_dict : dict
            As returned by ``state_dict`` of a ``SequentialLR`` with as many
            sub-schedulers.

        Raises
        ------
        TypeError
            If ``state_dict`` is not such a dict.
        ValueError
            If it holds a different number of sub-schedulers.
        """
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
