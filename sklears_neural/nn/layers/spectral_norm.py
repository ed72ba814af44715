"""``SpectralNorm``: a layer whose wrapped weight is divided by its largest singular value."""

from sklears_neural.autograd import no_grad
from sklears_neural.backend import get_array_module
from sklears_neural.nn._module import Module
from sklears_neural._random import as_generator

__all__ = ["SpectralNorm"]


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
        The name of the parameter to normalise.
    n_power_iterations : int, default=1
        Power-method steps per training forward; at least 1.
    eps : float, default=1e-12
        Floor of the norms the singular vectors are divided by.
    generator : numpy.random.Generator, int or None, default=None
        Seed of the initial ``u``.

    Attributes
    ----------
    module : Module
        The wrapped layer; its parameter ``name`` is replaced at each forward by
        the normalised weight.
    weight_orig : Parameter
        The unnormalised weight, the one the optimizer updates.
    u, v : ndarray
        The estimated left and right singular vectors (buffers).
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
        """Return the weight divided by its estimated spectral norm (differentiable).

        Returns
        -------
        Tensor
            ``weight_orig / sigma`` with ``sigma = u^T W v``.
        """
        W = self.weight_orig
        matrix = W.reshape(W.shape[0], -1)
        sigma = (matrix @ self.v.copy()) @ self.u.copy()
        return W / sigma

    def forward(self, *args, **kwargs):
        """Call the wrapped layer with its weight normalised.

        In training mode the power method first updates ``u`` and ``v``.

        Parameters
        ----------
        *args, **kwargs
            The inputs of the wrapped layer.

        Returns
        -------
        object
            What the wrapped layer returns.
        """
        if self.training:
            with no_grad():
                self._power_iteration(self.n_power_iterations)
        object.__setattr__(self.module, self.name, self.normalized_weight())
        return self.module(*args, **kwargs)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The parameter name and the number of power iterations.
        """
        return f"name={self.name!r}, n_power_iterations={self.n_power_iterations}"
