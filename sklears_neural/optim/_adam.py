"""Adam, AMSGrad and AdamW (decoupled weight decay)."""

from sklears_neural._specs._scalars import check_real
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


def check_adam_options(options):
    """Check ``lr``, ``eps``, ``weight_decay`` (>= 0) and ``betas`` (a pair in [0, 1))."""
    for name in ("lr", "eps", "weight_decay"):
        check_real(name, options[name], ge=0)
    betas = options["betas"]
    if (isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__")
            or len(betas) != 2):
        raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}.")
    for i, beta in enumerate(betas):
        check_real(f"betas[{i}]", beta, ge=0, lt=1)


class Adam(Optimizer):
    r"""Adam, optionally with AMSGrad or decoupled weight decay.

    The update of ``torch.optim.Adam``. For each parameter :math:`\theta`
    with gradient :math:`\nabla` at step :math:`t` (counted per parameter):

    .. math::

        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ (amsgrad) else } v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\,
              \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    With ``decoupled_weight_decay`` (``AdamW``) the decay is not added to
    :math:`g_t`; instead :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)\,
    \theta_{t-1}` before the update.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1e-3
        Learning rate :math:`\gamma`.
    betas : tuple of (float, float), default=(0.9, 0.999)
        Decay rates :math:`(\beta_1, \beta_2)` of the moment averages, each
        in [0, 1).
    eps : float, default=1e-8
        :math:`\epsilon`, added to the denominator.
    weight_decay : float, default=0
        Weight decay :math:`\lambda`.
    amsgrad : bool, default=False
        Use the running maximum of the second moment (AMSGrad).
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    decoupled_weight_decay : bool, default=False
        Decay the weights directly, as AdamW does.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int), ``exp_avg``, ``exp_avg_sq`` and, with
        AMSGrad, ``max_exp_avg_sq``.

    See Also
    --------
    AdamW : Adam with decoupled weight decay (default ``weight_decay=1e-2``).
    """

    _kernel_step = KernelStep(
        "adam_step", buffers=(StateBuffer("exp_avg"), StateBuffer("exp_avg_sq"),
                              StateBuffer("max_exp_avg_sq", when="amsgrad")),
        options=("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "amsgrad",
                 "maximize"),
        flags=("decoupled_weight_decay", "amsgrad", "maximize"))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    _check_options = staticmethod(check_adam_options)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter).

    The update of ``torch.optim.AdamW``: the weights are first shrunk,
    :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1}`, then
    the Adam step of ``Adam`` follows with a gradient that carries no decay
    term, so the decay does not pass through the moment estimates.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1e-3
        Learning rate :math:`\gamma`.
    betas : tuple of (float, float), default=(0.9, 0.999)
        Decay rates :math:`(\beta_1, \beta_2)` of the moment averages.
    eps : float, default=1e-8
        :math:`\epsilon`, added to the denominator.
    weight_decay : float, default=1e-2
        Decoupled weight decay :math:`\lambda`.
    amsgrad : bool, default=False
        Use the running maximum of the second moment (AMSGrad).
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """Load a state saved by ``state_dict``; the decay stays decoupled.

        Parameters
        ----------
        state_dict : dict
            As returned by ``state_dict`` (see ``Optimizer.load_state_dict``).
        """
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
