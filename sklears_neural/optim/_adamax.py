"""Adamax: Adam with the infinity norm (Kingma & Ba 2015, section 7)."""

from sklears_neural._dispatch import kernels_for
from sklears_neural.optim._adam import _check_adam_options
from sklears_neural.optim._optimizer import Optimizer, _ensure_state

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

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 *, maximize=False):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
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
        maximize = bool(group["maximize"])
        for p, grad, state in self._params_with_grad(group):
            _ensure_state(state, p, "exp_avg", "exp_inf")
            step = state["step"] + 1
            kernels_for(p.data).adamax_step(
                p.data, grad, state["exp_avg"], state["exp_inf"], step, lr=lr,
                beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                maximize=maximize,
            )
            state["step"] = step
