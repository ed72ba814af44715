"""Stochastic gradient descent with momentum, dampening and Nesterov."""

from sklears_neural._specs._scalars import check_real
from sklears_neural.optim._kernel_step import KernelStep, StateBuffer
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    The update of ``torch.optim.SGD``. For each parameter :math:`\theta`
    with gradient :math:`\nabla` at step :math:`t`:

    .. math::

        g_t &= \pm\nabla + \lambda\,\theta_{t-1}
              \quad (-\nabla \text{ when maximize}) \\
        b_t &= g_t \text{ if } t = 1 \text{ else } \mu\, b_{t-1} + (1 - \tau)\, g_t \\
        d_t &= g_t + \mu\, b_t \text{ (nesterov)}, \quad b_t \text{ (momentum)},
              \quad g_t \text{ (} \mu = 0 \text{)} \\
        \theta_t &= \theta_{t-1} - \gamma\, d_t

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or parameter groups (see ``Optimizer``).
    lr : float, default=1e-3
        Learning rate :math:`\gamma`.
    momentum : float, default=0
        Momentum factor :math:`\mu`.
    dampening : float, default=0
        Dampening :math:`\tau` of the momentum.
    weight_decay : float, default=0
        L2 penalty :math:`\lambda`, added to the gradient.
    nesterov : bool, default=False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    maximize : bool, default=False
        Maximize the objective instead of minimizing it (the gradient is
        negated before weight decay is added).

    Attributes
    ----------
    state : dict
        ``{"momentum_buffer": array}`` per parameter when ``momentum > 0``.

    Examples
    --------
    Minimize :math:`\|w\|^2 / 2`, whose gradient is ``w`` itself:

    >>> import numpy as np
    >>> from sklears_neural.nn._parameter import Parameter
    >>> from sklears_neural.optim import SGD
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     w.grad = w.data.copy()          # normally: loss.backward()
    ...     opt.step()
    >>> w.data
    array([ 0.486, -0.972])
    """

    _kernel_step = KernelStep(
        "sgd_step", buffers=(StateBuffer("momentum_buffer", when="momentum"),),
        options=("lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize"),
        flags=("nesterov", "maximize"), step=None, first_step=True)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    @staticmethod
    def _check_options(options):
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_real(name, options[name], ge=0)
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening == 0; got "
                f"momentum={options['momentum']!r}, dampening={options['dampening']!r}."
            )
