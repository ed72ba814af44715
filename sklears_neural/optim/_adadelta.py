"""Adadelta: an adaptive learning rate from running averages (Zeiler 2012)."""

from sklears_neural._dispatch import kernels_for
from sklears_neural.optim._optimizer import (
    Optimizer,
    _check_nonnegative,
    _check_unit_interval,
    _ensure_state,
)

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

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *,
                 maximize=False):
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    @staticmethod
    def _check_options(options):
        _check_nonnegative("lr", options["lr"])
        _check_unit_interval("rho", options["rho"], closed=True)
        _check_nonnegative("eps", options["eps"])
        _check_nonnegative("weight_decay", options["weight_decay"])

    def _step_group(self, group):
        lr = float(group["lr"])
        rho = float(group["rho"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        maximize = bool(group["maximize"])
        for p, grad, state in self._params_with_grad(group):
            _ensure_state(state, p, "square_avg", "acc_delta")
            kernels_for(p.data).adadelta_step(
                p.data, grad, state["square_avg"], state["acc_delta"], lr=lr, rho=rho,
                eps=eps, weight_decay=weight_decay, maximize=maximize,
            )
            state["step"] += 1
