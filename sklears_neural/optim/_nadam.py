"""NAdam: Adam with Nesterov momentum (Dozat 2016), as ``torch.optim.NAdam``."""

import warnings

from sklears_neural._specs._scalars import check_real
from sklears_neural.optim._adam import check_adam_options
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["NAdam", "Nadam"]


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum and a momentum schedule.

    The update of ``torch.optim.NAdam``. For each parameter :math:`\theta`
    with gradient :math:`\nabla` at step :math:`t` (counted per parameter):

    .. math::

        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        \mu_t &= \beta_1 \left(1 - \tfrac12\, 0.96^{t\psi}\right), \qquad
        \Pi_t = \textstyle\prod_{i \le t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        d_t &= \sqrt{v_t / (1 - \beta_2^t)} + \epsilon \\
        \theta_t &= \theta_{t-1}
            - \gamma \frac{1 - \mu_t}{1 - \Pi_t} \frac{g_t}{d_t}
            - \gamma \frac{\mu_{t+1}}{1 - \Pi_t \mu_{t+1}} \frac{m_t}{d_t}

    With ``decoupled_weight_decay`` (NAdamW) the decay is not added to
    :math:`g_t`; instead :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)\,
    \theta_{t-1}` before the update.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=2e-3
        Learning rate :math:`\gamma`.
    betas : tuple of (float, float), default=(0.9, 0.999)
        Decay rates :math:`(\beta_1, \beta_2)` of the moment averages, each
        in [0, 1).
    eps : float, default=1e-8
        :math:`\epsilon`, added to the denominator.
    weight_decay : float, default=0
        Weight decay :math:`\lambda`.
    momentum_decay : float, default=4e-3
        :math:`\psi`, the rate of the momentum schedule.
    decoupled_weight_decay : bool, default=False
        Decay the weights directly, as AdamW does.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int), ``mu_product`` (float), ``exp_avg``
        and ``exp_avg_sq``.
    """

    _kernel_step = KernelStep(
        "nadam_step", buffers=(StateBuffer("exp_avg"), StateBuffer("exp_avg_sq")),
        options=("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize"),
        flags=("decoupled_weight_decay", "maximize"), scalars={"mu_product": 1.0})

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    @staticmethod
    def _check_options(options):
        check_adam_options(options)
        check_real("momentum_decay", options["momentum_decay"], ge=0)

    def _schedule(self, group):
        """The momentum schedule: ``mu`` of this step and the next, and their running product."""
        beta1 = float(group["betas"][0])
        momentum_decay = float(group["momentum_decay"])

        def scheduled(state, step):
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            mu_product = float(state["mu_product"]) * mu
            return (mu, mu_next, mu_product), {"mu_product": mu_product}

        return scheduled


class Nadam(NAdam):
    """Deprecated alias of ``NAdam`` (PyTorch's name); it will be removed in the next release."""

    def __init__(self, *args, **kwargs):
        warnings.warn("optim.Nadam is a deprecated alias of optim.NAdam (PyTorch's name) and "
                      "will be removed in the next release; use NAdam.", FutureWarning,
                      stacklevel=2)
        super().__init__(*args, **kwargs)
