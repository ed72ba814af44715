"""Utilities on parameters: gradient clipping, weight constraints, ``spectral_norm``."""

import math

from sklears_neural.backend import get_array_module
from sklears_neural.nn._parameter import Parameter

__all__ = ["clip_grad_norm_", "clip_grad_value_", "max_norm_", "spectral_norm"]


def _grads(parameters):
    parameters = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, eps=1e-6):
    """Rescale gradients in place so their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    parameters : iterable of Parameter (or one Parameter)
        The parameters whose gradients are clipped; those without a gradient are
        skipped.
    max_norm : float > 0
        The largest global norm allowed.
    eps : float, default=1e-6
        Added to the norm in the scale ``max_norm / (norm + eps)``, as PyTorch.

    Returns
    -------
    float
        The global norm before clipping.

    Raises
    ------
    ValueError
        If ``max_norm`` is not positive.
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
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place.

    Parameters
    ----------
    parameters : iterable of Parameter (or one Parameter)
        The parameters whose gradients are clipped; those without a gradient are
        skipped.
    clip_value : float > 0
        The largest absolute value allowed.

    Raises
    ------
    ValueError
        If ``clip_value`` is not positive.
    """
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value_: clip_value must be positive; got {clip_value!r}.")
    for g in _grads(parameters):
        g.clip(-clip_value, clip_value, out=g)


def max_norm_(weight, max_norm, axis=1):
    """Max-norm constraint: rescale each row (``axis=1`` norms) to norm <= ``max_norm``.

    With PyTorch's (out_features, in_features) layout, ``axis=1`` bounds the
    incoming weight vector of every unit (Srivastava et al., 2014). Applied
    in place to the parameter's data, typically after each optimizer step.

    Parameters
    ----------
    weight : Parameter
        The weight to constrain, in place.
    max_norm : float > 0
        The largest norm allowed.
    axis : int or tuple of int, default=1
        The axes the norms are taken over.

    Returns
    -------
    Parameter
        ``weight`` itself.

    Raises
    ------
    ValueError
        If ``max_norm`` is not positive.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm_: max_norm must be positive; got {max_norm!r}.")
    data = weight.data
    xp = get_array_module(data)
    norms = xp.sqrt((data * data).sum(axis=axis, keepdims=True))
    data *= xp.minimum(1.0, max_norm / xp.maximum(norms, 1e-12)).astype(data.dtype)
    return weight


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, generator=None):
    """Return ``SpectralNorm(module, ...)``: the layer with a spectrally normalised weight.

    As ``torch.nn.utils.spectral_norm``; the wrapper layer itself is
    ``nn.SpectralNorm`` (``nn/layers/spectral_norm.py``).

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

    Returns
    -------
    SpectralNorm
        The wrapper layer; call it instead of ``module``.
    """
    from sklears_neural.nn.layers.spectral_norm import SpectralNorm

    return SpectralNorm(module, name, n_power_iterations, eps, generator)


def __getattr__(name):
    # nn.utils.SpectralNorm moved to nn.SpectralNorm (a layer, not a utility).
    if name == "SpectralNorm":
        import warnings

        from sklears_neural.nn.layers.spectral_norm import SpectralNorm

        warnings.warn("nn.utils.SpectralNorm moved to nn.SpectralNorm; the old name will be "
                      "removed in the next release.", FutureWarning, stacklevel=2)
        return SpectralNorm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
