"""Adagrad with learning-rate decay."""

from sklears_neural._specs._scalars import check_real
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: per-coordinate steps scaled by the accumulated squared gradient.

    The update of ``torch.optim.Adagrad``. For each parameter :math:`\theta`
    with gradient :math:`\nabla` at step :math:`t` (counted per parameter),
    starting from :math:`s_0 = \tau` (``initial_accumulator_value``):

    .. math::

        \tilde\gamma_t &= \gamma / (1 + (t - 1)\,\eta) \\
        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        s_t &= s_{t-1} + g_t^2 \\
        \theta_t &= \theta_{t-1} - \tilde\gamma_t\, g_t / (\sqrt{s_t} + \epsilon)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1e-2
        Learning rate :math:`\gamma`.
    lr_decay : float, default=0
        Learning-rate decay :math:`\eta`.
    weight_decay : float, default=0
        L2 penalty :math:`\lambda`, added to the gradient.
    initial_accumulator_value : float, default=0
        Starting value :math:`\tau` of the sum of squared gradients.
    eps : float, default=1e-10
        :math:`\epsilon`, added to the denominator.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int) and ``sum``.
    """

    _kernel_step = KernelStep(
        "adagrad_step", buffers=(StateBuffer("sum", fill="initial_accumulator_value"),),
        options=("lr", "lr_decay", "weight_decay", "eps", "maximize"), flags=("maximize",))

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    @staticmethod
    def _check_options(options):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_real(name, options[name], ge=0)
