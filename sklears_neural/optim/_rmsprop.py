"""RMSprop, optionally centered and with momentum."""

from sklears_neural._dispatch import kernels_for
from sklears_neural.backend import get_array_module
from sklears_neural.optim._optimizer import (
    Optimizer,
    _check_nonnegative,
    _check_unit_interval,
)

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

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    @staticmethod
    def _check_options(options):
        for name in ("lr", "eps", "weight_decay", "momentum"):
            _check_nonnegative(name, options[name])
        _check_unit_interval("alpha", options["alpha"], closed=True)

    def _step_group(self, group):
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = bool(group["centered"])
        maximize = bool(group["maximize"])
        for p, grad, state in self._params_with_grad(group):
            xp = get_array_module(p.data)
            if "step" not in state:
                state["step"] = 0
                state["square_avg"] = xp.zeros_like(p.data)
            momentum_buffer = grad_avg = None
            if momentum > 0:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = xp.zeros_like(p.data)
                momentum_buffer = state["momentum_buffer"]
            if centered:
                if "grad_avg" not in state:
                    state["grad_avg"] = xp.zeros_like(p.data)
                grad_avg = state["grad_avg"]
            kernels_for(p.data).rmsprop_step(
                p.data, grad, state["square_avg"], grad_avg, momentum_buffer, lr=lr,
                alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                centered=centered, maximize=maximize,
            )
            state["step"] += 1
