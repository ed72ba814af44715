"""LARS: layer-wise adaptive rate scaling (You et al. 2017)."""

from sklears_neural._specs._scalars import check_bool, check_real
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

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

    _kernel_step = KernelStep(
        "lars_step", buffers=(StateBuffer("momentum_buffer", when="momentum"),),
        options=("lr", "momentum", "weight_decay", "trust_coefficient", "eps", "lars_exclude"),
        flags=("lars_exclude",), step="counted")

    def __init__(self, params, lr, momentum=0.9, weight_decay=0, trust_coefficient=0.001,
                 eps=1e-8, *, lars_exclude=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      trust_coefficient=trust_coefficient, eps=eps,
                                      lars_exclude=lars_exclude))

    @staticmethod
    def _check_options(options):
        check_real("lr", options["lr"], ge=0)
        check_real("momentum", options["momentum"], ge=0, lt=1)
        for name in ("weight_decay", "trust_coefficient", "eps"):
            check_real(name, options[name], ge=0)
        check_bool("lars_exclude", options["lars_exclude"], error=ValueError)
