"""L-BFGS over all parameters at once, through ``scipy.optimize`` (as scikit-learn does)."""

import math

import numpy as np
import scipy.optimize

from sklears_neural._specs._scalars import check_int, check_real
from sklears_neural.autograd import Tensor, enable_grad
from sklears_neural.backend import get_array_module, to_device, to_numpy
from sklears_neural.optim._optimizer import Optimizer

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """Full-batch L-BFGS-B: one ``step(closure)`` minimises the closure's loss.

    Unlike ``torch.optim.LBFGS``, which takes a few iterations of its own per
    ``step``, this hands the whole problem to scipy's L-BFGS-B (Fortran),
    exactly as scikit-learn's MLP does with ``solver="lbfgs"``: all
    parameters are flattened into one float64 vector, the closure gives the
    loss and (through ``backward``) the gradient, and scipy iterates until
    ``tol``, ``max_iter`` or ``max_fun``.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or one parameter group (see ``Optimizer``).
    max_iter : int, default=200
        Maximum L-BFGS iterations per ``step``.
    max_fun : int, default=15000
        Maximum loss evaluations per ``step``.
    tol : float, default=1e-4
        Stop when the largest gradient component is below it (scipy's ``gtol``).
    history_size : int, default=10
        Number of correction pairs kept (scipy's ``maxcor``).

    Attributes
    ----------
    result_ : scipy.optimize.OptimizeResult
        What the last ``step`` ended with (``nit``, ``nfev``, ``status``, …).

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.nn import Parameter
    >>> w = Parameter(np.array([3.0, -2.0]))
    >>> opt = LBFGS([w])
    >>> def closure():
    ...     loss = ((w - 1.0) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> np.allclose(w.data, 1.0)
    True
    """

    def __init__(self, params, max_iter=200, max_fun=15000, tol=1e-4, history_size=10):
        for name, value in (("max_iter", max_iter), ("max_fun", max_fun),
                            ("history_size", history_size)):
            check_int(f"LBFGS: {name}", value, minimum=1)
        check_real("tol", tol, ge=0)
        super().__init__(params, {"max_iter": max_iter, "max_fun": max_fun, "tol": tol,
                                  "history_size": history_size})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS optimizes all parameters together: give one parameter group.")

    def step(self, closure=None):
        """Minimise ``closure``'s loss from the current parameters.

        Parameters
        ----------
        closure : callable
            Recomputes the loss, calls ``backward()`` on it and returns it
            (a scalar tensor or a Python float). Gradients are zeroed before
            each call.

        Returns
        -------
        float
            The final loss.
        """
        if closure is None:
            raise ValueError("LBFGS.step needs a closure that recomputes the loss.")
        group = self.param_groups[0]
        params = group["params"]
        sizes = [p.size for p in params]

        def unpack(theta):
            offset = 0
            for p, size in zip(params, sizes):
                chunk = theta[offset:offset + size].reshape(p.shape).astype(p.dtype)
                p.data[...] = chunk if get_array_module(p.data) is np else to_device(chunk, p.device)
                offset += size

        def loss_and_grad(theta):
            unpack(theta)
            for p in params:
                p.grad = None
            with enable_grad():
                loss = closure()
            value = float(loss.item() if isinstance(loss, Tensor) else loss)
            grad = np.concatenate([np.zeros(size) if p.grad is None else
                                   to_numpy(p.grad).ravel().astype(np.float64)
                                   for p, size in zip(params, sizes)])
            return value, grad

        theta0 = np.concatenate([to_numpy(p.data).ravel().astype(np.float64) for p in params])
        self.result_ = scipy.optimize.minimize(
            loss_and_grad, theta0, method="L-BFGS-B", jac=True,
            options={"maxiter": group["max_iter"], "maxfun": group["max_fun"],
                     "gtol": group["tol"], "maxcor": group["history_size"]})
        unpack(self.result_.x)
        state = self.state.setdefault(params[0], {})
        state["n_iter"] = state.get("n_iter", 0) + int(self.result_.nit)
        state["func_evals"] = state.get("func_evals", 0) + int(self.result_.nfev)
        return float(self.result_.fun) if math.isfinite(self.result_.fun) else self.result_.fun

    def _step_group(self, group):  # pragma: no cover - step() is overridden
        raise NotImplementedError
