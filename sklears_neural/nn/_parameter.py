"""``Parameter``: a tensor a ``Module`` owns and an optimizer updates."""

from sklears_neural.autograd import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor registered as a learnable parameter of a ``Module``.

    Parameters
    ----------
    data : array
        The initial value (kept as is: no copy, no dtype change).
    requires_grad : bool, default=True
        Whether backward computes a gradient for this parameter.
    """

    def __init__(self, data, requires_grad=True):
        super().__init__(data.data if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad)

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype}, device={self.device})"
