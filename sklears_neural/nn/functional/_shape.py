"""Joining tensors: ``cat`` and ``stack``."""

from sklears_neural.autograd import Function, Tensor
from sklears_neural.backend import get_array_module

__all__ = ["cat", "stack"]


class _Cat(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        self.sizes = [a.shape[self.axis] for a in arrays]
        return get_array_module(arrays[0]).concatenate(arrays, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        bounds = list(xp.cumsum(xp.asarray(self.sizes))[:-1]) if len(self.sizes) > 1 else []
        pieces = xp.split(gy, [int(b) for b in bounds], axis=self.axis)
        return tuple(p if need else None for p, need in zip(pieces, self.needs_input_grad))


def _tensors(name, tensors):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors.")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def cat(tensors, dim=0):
    """Concatenate tensors along an existing dimension, as ``torch.cat``.

    Parameters
    ----------
    tensors : sequence of Tensor
        Same shape except along ``dim``; arrays are wrapped as constant tensors.
    dim : int, default=0
        The dimension to join along; negative counts from the end.

    Returns
    -------
    Tensor
        The concatenation.

    Raises
    ------
    ValueError
        If ``tensors`` is empty or their shapes differ outside ``dim``.
    """
    tensors = _tensors("cat", tensors)
    ndim = tensors[0].ndim
    axis = dim % ndim
    for t in tensors:
        if t.ndim != ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, tensors[0].shape))
                                 if i != axis):
            raise ValueError(f"cat: shapes {[tuple(x.shape) for x in tensors]} differ outside "
                             f"dim={dim}.")
    return _Cat(axis).apply(*tensors)


def stack(tensors, dim=0):
    """Stack same-shape tensors along a new dimension, as ``torch.stack``.

    Parameters
    ----------
    tensors : sequence of Tensor
        Tensors of one shape; arrays are wrapped as constant tensors.
    dim : int, default=0
        The position of the new dimension in the result; negative counts from the end.

    Returns
    -------
    Tensor
        The stacked tensors, with one more dimension.

    Raises
    ------
    ValueError
        If ``tensors`` is empty or their shapes differ.
    """
    tensors = _tensors("stack", tensors)
    shape = tuple(tensors[0].shape)
    if any(tuple(t.shape) != shape for t in tensors):
        raise ValueError(f"stack: all tensors need one shape; got "
                         f"{[tuple(t.shape) for t in tensors]}.")
    axis = dim % (len(shape) + 1)
    expanded = [t.reshape(*shape[:axis], 1, *shape[axis:]) for t in tensors]
    return _Cat(axis).apply(*expanded)
