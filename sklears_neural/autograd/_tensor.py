"""``Tensor``: an array that remembers the operation that made it."""

import numpy as np

from sklears_neural.autograd import _math
from sklears_neural.autograd._engine import run_backward
from sklears_neural.backend import (
    device_of,
    get_array_module,
    is_cupy_array,
    to_device,
    to_numpy,
)

__all__ = ["Tensor", "as_tensor", "check_compatible"]


def _as_array(data, dtype):
    if isinstance(data, np.ndarray) or is_cupy_array(data):
        return data if dtype is None else data.astype(dtype, copy=False)
    if isinstance(data, np.generic):  # numpy scalars (reductions) keep their dtype
        return np.asarray(data, dtype=dtype)
    if dtype is None and isinstance(data, (float, list, tuple)):
        array = np.asarray(data)
        # Python floats become float32, the library's default, as in PyTorch.
        return array.astype(np.float32) if array.dtype == np.float64 else array
    return np.asarray(data, dtype=dtype)


class Tensor:
    """An array (numpy or cupy) with an optional gradient and graph link.

    Parameters
    ----------
    data : array-like
        The values. Numpy and cupy arrays are wrapped without a copy and keep
        their dtype; Python floats and lists of floats become float32.
    requires_grad : bool, default=False
        Whether backward should compute a gradient for this tensor.
    dtype : dtype-like, optional
        Cast the data to this dtype first.

    Attributes
    ----------
    data : ndarray
        The values, a numpy or cupy array.
    requires_grad : bool
        Whether backward computes a gradient for this tensor.
    grad : ndarray or None
        Accumulated gradient, same shape, dtype and device as ``data``.
    grad_fn : Function or None
        The operation that produced this tensor (None for leaves).
    """

    # Make ``ndarray + Tensor`` call ``Tensor.__radd__`` instead of numpy's ufunc.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise ValueError(
                f"only floating-point tensors can require gradients; got dtype {self.data.dtype}."
            )
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = None
        self.output_index = 0

    # -- array facts -------------------------------------------------------
    @property
    def shape(self):
        """The shape of ``data``, a tuple of int."""
        return self.data.shape

    @property
    def dtype(self):
        """The dtype of ``data``."""
        return self.data.dtype

    @property
    def ndim(self):
        """The number of dimensions of ``data``."""
        return self.data.ndim

    @property
    def size(self):
        """The number of elements of ``data``."""
        return self.data.size

    @property
    def device(self):
        """The device of ``data``: ``"cpu"`` or ``"cuda:N"``."""
        return device_of(self.data)

    @property
    def is_leaf(self):
        """Whether no recorded operation produced this tensor (``grad_fn`` is None)."""
        return self.grad_fn is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = f", grad_fn={self.grad_fn!r}" if self.grad_fn is not None else (
            ", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({self.data!r}{grad})"

    # -- conversion --------------------------------------------------------
    def numpy(self):
        """Return the data as a numpy array (copied from the GPU if needed).

        Returns
        -------
        numpy.ndarray
            ``data`` itself on the CPU, a host copy of it on a GPU.
        """
        return to_numpy(self.data)

    def item(self):
        """Return the value of a one-element tensor as a Python number.

        Returns
        -------
        float or int
            The single element of ``data``.
        """
        return self.data.item()

    def detach(self):
        """Return a new leaf tensor sharing this one's data, outside the graph.

        Returns
        -------
        Tensor
            A tensor on the same array that does not require grad.
        """
        return Tensor(self.data)

    def to(self, device):
        """Return a leaf copy of this tensor on ``device`` (the same tensor if already there).

        Parameters
        ----------
        device : str
            ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

        Returns
        -------
        Tensor
            ``self`` when its data already lives on ``device``, else a new leaf
            tensor with the data copied there and the same ``requires_grad``.
        """
        if device_of(self.data) == device or (device == "cuda" and self.device == "cuda:0"):
            return self
        moved = Tensor(to_device(self.data, device), requires_grad=self.requires_grad)
        return moved

    def astype(self, dtype):
        """Cast to ``dtype``, differentiably (the gradient is cast back).

        Parameters
        ----------
        dtype : dtype-like
            The dtype of the result.

        Returns
        -------
        Tensor
            The cast tensor.
        """
        return _math.astype(self, dtype)

    # -- autograd ----------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Compute gradients of this tensor with respect to every leaf.

        Parameters
        ----------
        grad : array-like, optional
            Gradient of some scalar with respect to this tensor. Required
            unless the tensor holds a single element.
        retain_graph : bool, default=False
            Keep the graph so backward can run through it again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad())."
            )
        xp = get_array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a single-element output; this "
                    f"tensor has shape {self.shape}. Reduce it first (e.g. .sum()) or pass "
                    "grad= with the same shape."
                )
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else grad
            if get_array_module(grad) is not xp:
                grad = to_device(grad, self.device)
            grad = xp.asarray(grad)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(): grad has shape {grad.shape}, the tensor has shape {self.shape}."
                )
            if grad.dtype != self.dtype:
                raise ValueError(
                    f"backward(): grad has dtype {grad.dtype}, the tensor has dtype {self.dtype}."
                )
        run_backward(self, grad, retain_graph=retain_graph)

    # -- operators ---------------------------------------------------------
    def _other(self, other):
        """Wrap a Python number in this tensor's dtype, so float32 stays float32."""
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            xp = get_array_module(self.data)
            return Tensor(xp.asarray(other, dtype=self.dtype))
        return other

    def __add__(self, other):
        return _math.add(self, self._other(other))

    def __radd__(self, other):
        return _math.add(self._other(other), self)

    def __sub__(self, other):
        return _math.sub(self, self._other(other))

    def __rsub__(self, other):
        return _math.sub(self._other(other), self)

    def __mul__(self, other):
        return _math.mul(self, self._other(other))

    def __rmul__(self, other):
        return _math.mul(self._other(other), self)

    def __truediv__(self, other):
        return _math.div(self, self._other(other))

    def __rtruediv__(self, other):
        return _math.div(self._other(other), self)

    def __matmul__(self, other):
        return _math.matmul(self, other)

    def __rmatmul__(self, other):
        return _math.matmul(other, self)

    def __pow__(self, exponent):
        return _math.pow(self, exponent)

    def __rpow__(self, base):
        return _math.pow(self._other(base), self)

    def __neg__(self):
        return _math.neg(self)

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return _math.getitem(self, index)

    # -- methods -----------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (all when None).

        Parameters
        ----------
        axis : int, tuple of int or None, default=None
            The axes to sum over; None sums over all of them.
        keepdims : bool, default=False
            Keep the summed axes with length one.

        Returns
        -------
        Tensor
            The sums.
        """
        return _math.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (all when None).

        Parameters
        ----------
        axis : int, tuple of int or None, default=None
            The axes to average over; None averages over all of them.
        keepdims : bool, default=False
            Keep the averaged axes with length one.

        Returns
        -------
        Tensor
            The means.
        """
        return _math.mean(self, axis, keepdims)

    def reshape(self, *shape):
        """Reshape; takes ``reshape(2, 3)`` or ``reshape((2, 3))``.

        Parameters
        ----------
        *shape : int or tuple of int
            The new shape, as separate ints or one tuple; one entry may be -1.

        Returns
        -------
        Tensor
            The reshaped tensor.
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _math.reshape(self, shape)

    def transpose(self, *axes):
        """Permute axes (reverse them when none are given).

        Parameters
        ----------
        *axes : int or tuple of int
            The new order of the axes, as separate ints or one tuple.

        Returns
        -------
        Tensor
            The transposed tensor.
        """
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _math.transpose(self, axes or None)

    @property
    def T(self):
        """The tensor with its axes reversed (differentiable)."""
        return _math.transpose(self)

    def exp(self):
        """Elementwise ``e ** self``.

        Returns
        -------
        Tensor
            The exponentials.
        """
        return _math.exp(self)

    def log(self):
        """Elementwise natural logarithm.

        Returns
        -------
        Tensor
            The logarithms.
        """
        return _math.log(self)


def as_tensor(x):
    """Return ``x`` if it is a Tensor, else wrap it as a constant Tensor.

    Parameters
    ----------
    x : Tensor or array-like
        A tensor, or data that ``Tensor`` takes.

    Returns
    -------
    Tensor
        ``x`` itself, or a new tensor that does not require grad.
    """
    return x if isinstance(x, Tensor) else Tensor(x)


def check_compatible(op, tensors):
    """Raise if the tensors of one op live on different devices or mix float dtypes."""
    devices = {t.device for t in tensors if t is not None}
    if len(devices) > 1:
        raise ValueError(
            f"{op}: inputs are on different devices ({', '.join(sorted(devices))}); "
            "move them to one device with .to(device) first."
        )
    float_dtypes = {t.dtype for t in tensors if t is not None and t.dtype.kind == "f"}
    if len(float_dtypes) > 1:
        names = " and ".join(sorted(str(d) for d in float_dtypes))
        raise ValueError(
            f"{op}: inputs mix {names}; cast explicitly (x.astype(...)) instead of "
            "relying on silent upcasting."
        )
