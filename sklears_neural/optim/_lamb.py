"""LAMB: layer-wise adaptive moments for large batches (You et al. 2019)."""

from sklears_neural._dispatch import kernels_for
from sklears_neural.optim._adam import _check_adam_options
from sklears_neural.optim._optimizer import Optimizer, _ensure_state

__all__ = ["LAMB"]


class LAMB(Optimizer):
    r"""LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning", Algorithm 2).

    For each parameter :math:`\theta` (a layer's weight or bias) with
    gradient :math:`g` at step :math:`t` (counted per parameter):

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        r_t &= \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}
              + \lambda\,\theta_{t-1} \\
        \theta_t &= \theta_{t-1} - \gamma\,
              \frac{\lVert\theta_{t-1}\rVert}{\lVert r_t\rVert}\, r_t

    with the scaling function :math:`\phi` the identity, and the trust ratio
    taken as 1 when either norm is 0. Norms are over the whole parameter,
    accumulated in double.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1e-3
        Learning rate :math:`\gamma`.
    betas : tuple of (float, float), default=(0.9, 0.999)
        Decay rates :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float, default=1e-6
        :math:`\epsilon`, added to the denominator.
    weight_decay : float, default=0
        Weight decay :math:`\lambda` (part of the update :math:`r_t`).

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int), ``exp_avg`` and ``exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
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
        for p, grad, state in self._params_with_grad(group):
            _ensure_state(state, p, "exp_avg", "exp_avg_sq")
            step = state["step"] + 1
            kernels_for(p.data).lamb_step(
                p.data, grad, state["exp_avg"], state["exp_avg_sq"], step, lr=lr,
                beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
            )
            state["step"] = step
