"""LARS: layer-wise adaptive rate scaling (You et al. 2017)."""

from sklears_neural._dispatch import kernels_for
from sklears_neural.backend import get_array_module
from sklears_neural.optim._optimizer import (
    Optimizer,
    _check_nonnegative,
    _check_unit_interval,
)

__all__ = ["LARS"]


class LARS(Optimizer):
    r"""LARS: SGD with momentum and a per-parameter (layer-wise) learning rate.

    For each parameter :math:`\theta` with gradient :math:`g` (You et al.
    2017, "Large Batch Training of Convolutional Networks", Algorithm 1):

    .. math::

        \eta_\ell &= \eta\,\frac{\lVert\theta\rVert}
            {\lVert g\rVert + \beta\lVert\theta\rVert + \epsilon} \\
        v &\leftarrow m\,v + \gamma\,\eta_\ell\,(g + \beta\,\theta), \qquad
        \theta \leftarrow \theta - v

    with :math:`\eta` the trust coefficient, :math:`\beta` the weight decay,
    :math:`\gamma` the learning rate and :math:`m` the momentum;
    :math:`\eta_\ell = 1` when either norm is 0. A parameter group with
    ``lars_exclude=True`` (biases, normalization weights) skips the
    adaptation: :math:`\eta_\ell = 1` and no weight decay, i.e. plain SGD
    with momentum.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``); a
        group may set ``lars_exclude``.
    lr : float
        Learning rate :math:`\gamma` (required).
    momentum : float, default=0.9
        Momentum :math:`m`, in [0, 1).
    weight_decay : float, default=0
        Weight decay :math:`\beta`.
    trust_coefficient : float, default=0.001
        Trust coefficient :math:`\eta`.
    eps : float, default=1e-8
        :math:`\epsilon`, added to the denominator of the local rate.
    lars_exclude : bool, default=False
        Default for groups that do not set it: skip the trust ratio and the
        weight decay.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int) and, with momentum, ``momentum_buffer``.
    """

    def __init__(self, params, lr, momentum=0.9, weight_decay=0, trust_coefficient=0.001,
                 eps=1e-8, *, lars_exclude=False):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "trust_coefficient": trust_coefficient,
            "eps": eps,
            "lars_exclude": lars_exclude,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    @staticmethod
    def _check_options(options):
        _check_nonnegative("lr", options["lr"])
        _check_unit_interval("momentum", options["momentum"])
        _check_nonnegative("weight_decay", options["weight_decay"])
        _check_nonnegative("trust_coefficient", options["trust_coefficient"])
        _check_nonnegative("eps", options["eps"])
        if not isinstance(options["lars_exclude"], bool):
            raise ValueError(
                f"lars_exclude must be True or False; got {options['lars_exclude']!r}.")

    def _step_group(self, group):
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        weight_decay = float(group["weight_decay"])
        trust = float(group["trust_coefficient"])
        eps = float(group["eps"])
        exclude = bool(group["lars_exclude"])
        for p, grad, state in self._params_with_grad(group):
            xp = get_array_module(p.data)
            if "step" not in state:
                state["step"] = 0
            buffer = None
            if momentum:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = xp.zeros_like(p.data)
                buffer = state["momentum_buffer"]
            kernels_for(p.data).lars_step(
                p.data, grad, buffer, lr, momentum=momentum, weight_decay=weight_decay,
                trust_coefficient=trust, eps=eps, exclude_from_adaptation=exclude,
            )
            state["step"] += 1
