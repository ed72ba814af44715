"""RAdam: Adam with a rectified adaptive learning rate (Liu et al. 2020)."""

from sklears_neural.optim._adam import check_adam_options
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam: Adam whose adaptive step is switched on once its variance is tractable.

    The update of ``torch.optim.RAdam``. For each parameter :math:`\theta`
    with gradient :math:`\nabla` at step :math:`t` (counted per parameter):

    .. math::

        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \rho_\infty &= \frac{2}{1 - \beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                          {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\, m_t \cdot
            \begin{cases}
              r_t \sqrt{1 - \beta_2^t} / (\sqrt{v_t} + \epsilon) & \rho_t > 5 \\
              1 & \text{otherwise}
            \end{cases}

    With ``decoupled_weight_decay`` the decay is not added to :math:`g_t`;
    instead :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1}`
    before the update.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1e-3
        Learning rate :math:`\gamma`.
    betas : tuple of (float, float), default=(0.9, 0.999)
        Decay rates :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float, default=1e-8
        :math:`\epsilon`, added to the denominator.
    weight_decay : float, default=0
        Weight decay :math:`\lambda`.
    decoupled_weight_decay : bool, default=False
        Decay the weights directly, as AdamW does.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int), ``exp_avg`` and ``exp_avg_sq``.
    """

    _kernel_step = KernelStep(
        "radam_step", buffers=(StateBuffer("exp_avg"), StateBuffer("exp_avg_sq")),
        options=("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize"),
        flags=("decoupled_weight_decay", "maximize"))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    _check_options = staticmethod(check_adam_options)
