"""Utilities on parameters: gradient clipping, weight constraints, spectral norm."""

import math

from sklears_neural.autograd import no_grad
from sklears_neural.backend import get_array_module
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural._random import as_generator

__all__ = ["clip_grad_norm_", "clip_grad_value_", "max_norm_", "SpectralNorm", "spectral_norm"]


def _grads(parameters):
    parameters = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, eps=1e-6):
    """Rescale gradients in place so their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    parameters : iterable of Parameter (or one Parameter)
    max_norm : float > 0
    eps : float
        Added to the norm in the scale ``max_norm / (norm + eps)``, as PyTorch.

    Returns
    -------
    float
        The global norm before clipping.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be positive; got {max_norm!r}.")
    grads = _grads(parameters)
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if total > max_norm:
        factor = max_norm / (total + eps)
        for g in grads:
            g *= factor
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place."""
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value_: clip_value must be positive; got {clip_value!r}.")
    for g in _grads(parameters):
        g.clip(-clip_value, clip_value, out=g)


def max_norm_(weight, max_norm, axis=1):
    """Max-norm constraint: rescale each row (``axis=1`` norms) to norm <= ``max_norm``.

    With PyTorch's (out_features, in_features) layout, ``axis=1`` bounds the
    incoming weight vector of every unit (Srivastava et al., 2014). Applied
    in place to the parameter's data, typically after each optimizer step.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm_: max_norm must be positive; got {max_norm!r}.")
    data = weight.data
    xp = get_array_module(data)
    norms = xp.sqrt((data * data).sum(axis=axis, keepdims=True))
    data *= xp.minimum(1.0, max_norm / xp.maximum(norms, 1e-12)).astype(data.dtype)
    return weight


class SpectralNorm(Module):
    """Wrap a layer so its weight is divided by its largest singular value.

    Each training forward runs ``n_power_iterations`` of the power method
    on the weight (as a matrix: first axis × the rest) to update the
    singular vectors ``u``, ``v`` (kept as buffers), then uses
    ``W / sigma`` with ``sigma = u^T W v``; the gradient flows through
    ``sigma`` with ``u`` and ``v`` held fixed, as in Miyato et al. (2018)
    and ``torch.nn.utils.spectral_norm``.

    Parameters
    ----------
    module : Module
        A layer with a ``weight`` Parameter (e.g. ``Linear``).
    name : str, default="weight"
    n_power_iterations : int, default=1
    eps : float, default=1e-12
    generator : seed for the initial ``u``
    """

    def __init__(self, module, name="weight", n_power_iterations=1, eps=1e-12, generator=None):
        super().__init__()
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"SpectralNorm: {type(module).__name__} has no parameter {name!r}.")
        if n_power_iterations < 1:
            raise ValueError(f"SpectralNorm: n_power_iterations must be >= 1; got {n_power_iterations}.")
        del module._parameters[name]
        self.module = module
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.eps = eps
        self.weight_orig = weight
        xp = get_array_module(weight.data)
        rows = weight.shape[0]
        u = as_generator(generator).standard_normal(rows).astype(weight.dtype)
        u = xp.asarray(u)
        self.register_buffer("u", u / max(float(xp.linalg.norm(u)), eps))
        self.register_buffer("v", xp.zeros(weight.size // rows, dtype=weight.dtype))
        self._power_iteration(self.n_power_iterations)

    def _matrix(self):
        return self.weight_orig.data.reshape(self.weight_orig.shape[0], -1)

    def _power_iteration(self, steps):
        xp = get_array_module(self.u)
        W = self._matrix()
        u, v = self.u, self.v
        for _ in range(steps):
            v[...] = W.T @ u
            v /= max(float(xp.linalg.norm(v)), self.eps)
            u[...] = W @ v
            u /= max(float(xp.linalg.norm(u)), self.eps)

    def normalized_weight(self):
        """The weight divided by its estimated spectral norm (differentiable)."""
        W = self.weight_orig
        matrix = W.reshape(W.shape[0], -1)
        sigma = (matrix @ self.v.copy()) @ self.u.copy()
        return W / sigma

    def forward(self, *args, **kwargs):
        if self.training:
            with no_grad():
                self._power_iteration(self.n_power_iterations)
        object.__setattr__(self.module, self.name, self.normalized_weight())
        return self.module(*args, **kwargs)

    def extra_repr(self):
        return f"name={self.name!r}, n_power_iterations={self.n_power_iterations}"


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, generator=None):
    """Return ``SpectralNorm(module, ...)``: the layer with a spectrally normalised weight."""
    return SpectralNorm(module, name, n_power_iterations, eps, generator)
