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

from sklears_neural.optim.lr_scheduler._base import LRScheduler
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
from sklears_neural.optim.lr_scheduler._factory import (
    SCHEDULER_NAMES,
    make_scheduler,
    needs_metric,
    scheduler_steps_per_batch,
)
from sklears_neural.optim.lr_scheduler._plateau import ReduceLROnPlateau
from sklears_neural.optim.lr_scheduler._restarts import CosineAnnealingWarmRestarts
from sklears_neural.optim.lr_scheduler._sequential import SequentialLR

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
