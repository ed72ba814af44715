"""``CosineAnnealingWarmRestarts``: cosine annealing with warm restarts (SGDR)."""

import math

from sklears_neural._specs._scalars import check_int, check_real
from sklears_neural.optim.lr_scheduler._base import LRScheduler


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
        self.T_0 = check_int("T_0", T_0, minimum=1)
        self.T_mult = check_int("T_mult", T_mult, minimum=1)
        self.eta_min = check_real("eta_min", eta_min, ge=0)
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
        """Return the learning rates of all parameter groups at the current ``last_epoch``.

        Returns
        -------
        list of float
            The cosine-annealed rate of each group within the current cycle.
        """
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
            check_real("epoch", epoch, ge=0)
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
