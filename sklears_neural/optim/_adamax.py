"""Adamax: Adam with the infinity norm (Kingma & Ba 2015, section 7)."""

from sklears_neural.optim._adam import check_adam_options
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax, the infinity-norm variant of Adam.

    The update of ``torch.optim.Adamax``. For each parameter :math:`\theta`
    with gradient :math:`\nabla` at step :math:`t` (counted per parameter):

    .. math::

        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\,\frac{m_t}{u_t}

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=2e-3
        Learning rate :math:`\gamma`.
    betas : tuple of (float, float), default=(0.9, 0.999)
        Decay rates :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float, default=1e-8
        :math:`\epsilon`, added to :math:`|g_t|`.
    weight_decay : float, default=0
        Weight decay :math:`\lambda`.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int), ``exp_avg`` and ``exp_inf``.
    """

    _kernel_step = KernelStep(
        "adamax_step", buffers=(StateBuffer("exp_avg"), StateBuffer("exp_inf")),
        options=("lr", "betas", "eps", "weight_decay", "maximize"), flags=("maximize",))

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    _check_options = staticmethod(check_adam_options)
