"""Adadelta: an adaptive learning rate from running averages (Zeiler 2012)."""

from sklears_neural._specs._scalars import check_real
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta.

    The update of ``torch.optim.Adadelta``. For each parameter
    :math:`\theta` with gradient :math:`\nabla`:

    .. math::

        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        v_t &= \rho v_{t-1} + (1 - \rho)\, g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t,
            \qquad u_t = \rho u_{t-1} + (1 - \rho)\, \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \Delta_t

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1.0
        Coefficient :math:`\gamma` that scales :math:`\Delta_t`.
    rho : float, default=0.9
        Decay rate :math:`\rho` of both running averages, in [0, 1].
    eps : float, default=1e-6
        :math:`\epsilon`, added inside both square roots.
    weight_decay : float, default=0
        Weight decay :math:`\lambda`.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int), ``square_avg`` and ``acc_delta``.
    """

    _kernel_step = KernelStep(
        "adadelta_step", buffers=(StateBuffer("square_avg"), StateBuffer("acc_delta")),
        options=("lr", "rho", "eps", "weight_decay", "maximize"), flags=("maximize",),
        step="counted")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    @staticmethod
    def _check_options(options):
        check_real("lr", options["lr"], ge=0)
        check_real("rho", options["rho"], ge=0, le=1)
        check_real("eps", options["eps"], ge=0)
        check_real("weight_decay", options["weight_decay"], ge=0)
