"""RMSprop, optionally centered and with momentum."""

from sklears_neural._specs._scalars import check_real
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), optionally centered (Graves) and with momentum.

    The update of ``torch.optim.RMSprop``. For each parameter :math:`\theta`
    with gradient :math:`\nabla`:

    .. math::

        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        v_t &= \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2, \qquad
        \tilde v_t = v_t - \bar g_t^2 \text{ (centered, }
              \bar g_t = \alpha\,\bar g_{t-1} + (1 - \alpha)\, g_t\text{) else } v_t \\
        b_t &= \mu\, b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \gamma\, b_t \quad (\mu > 0) \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t / (\sqrt{\tilde v_t} + \epsilon)
              \quad (\mu = 0)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1e-2
        Learning rate :math:`\gamma`.
    alpha : float, default=0.99
        Smoothing constant :math:`\alpha` of the squared-gradient average,
        in [0, 1].
    eps : float, default=1e-8
        :math:`\epsilon`, added to the denominator.
    weight_decay : float, default=0
        L2 penalty :math:`\lambda`, added to the gradient.
    momentum : float, default=0
        Momentum factor :math:`\mu`.
    centered : bool, default=False
        Normalize by an estimate of the gradient's variance instead of its
        uncentered second moment.
    maximize : bool, default=False
        Maximize the objective instead of minimizing it.

    Attributes
    ----------
    state : dict
        Per parameter: ``step`` (int), ``square_avg``, and ``momentum_buffer``
        (when ``momentum > 0``) and ``grad_avg`` (when ``centered``).
    """

    _kernel_step = KernelStep(
        "rmsprop_step",
        buffers=(StateBuffer("square_avg"), StateBuffer("grad_avg", when="centered"),
                 StateBuffer("momentum_buffer", when="momentum")),
        options=("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"),
        flags=("centered", "maximize"), step="counted")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    @staticmethod
    def _check_options(options):
        for name in ("lr", "eps", "weight_decay", "momentum"):
            check_real(name, options[name], ge=0)
        check_real("alpha", options["alpha"], ge=0, le=1)
