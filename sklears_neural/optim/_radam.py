"""RAdam: Adam with a rectified adaptive learning rate (Liu et al. 2020)."""

from sklears_neural._dispatch import kernels_for
from sklears_neural.optim._adam import _check_adam_options
from sklears_neural.optim._optimizer import Optimizer, _ensure_state

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

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    @staticmethod
    def _check_options(options):
        _check_adam_options(options)

    def _step_group(self, group):
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        decoupled = bool(group["decoupled_weight_decay"])
        maximize = bool(group["maximize"])
        for p, grad, state in self._params_with_grad(group):
            _ensure_state(state, p, "exp_avg", "exp_avg_sq")
            step = state["step"] + 1
            kernels_for(p.data).radam_step(
                p.data, grad, state["exp_avg"], state["exp_avg_sq"], step, lr=lr,
                beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                decoupled_weight_decay=decoupled, maximize=maximize,
            )
            state["step"] = step
