"""LAMB: layer-wise adaptive moments for large batches (You et al. 2019)."""

from sklears_neural.optim._adam import check_adam_options
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

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

    _kernel_step = KernelStep(
        "lamb_step", buffers=(StateBuffer("exp_avg"), StateBuffer("exp_avg_sq")),
        options=("lr", "betas", "eps", "weight_decay"))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    _check_options = staticmethod(check_adam_options)
