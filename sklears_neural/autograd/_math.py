"""Elementary differentiable operations behind ``Tensor``'s operators.

Each is a small ``Function`` on raw arrays; gradients of broadcast inputs
are summed back to the input's shape.
"""

import numpy as np

from sklears_neural.autograd._function import Function
from sklears_neural.backend import get_array_module

__all__ = [
    "add", "sub", "mul", "div", "matmul", "pow", "neg", "exp", "log",
    "sum", "mean", "reshape", "transpose", "getitem", "astype",
]


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach it."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1
    )
    g = g.sum(axis=axes, keepdims=True) if axes else g
    return g.reshape(shape)


def _broadcast_shape(op, a, b):
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together."
        ) from None


class _Binary(Function):
    """Shared input handling of the broadcasting binary ops."""

    name = ""

    def forward(self, a, b):
        _broadcast_shape(self.name, a, b)
        self.shapes = (a.shape, b.shape)
        return self.compute(a, b)


class Add(_Binary):
    name = "add"

    def compute(self, a, b):
        return a + b

    def backward(self, gy):
        sa, sb = self.shapes
        return (unbroadcast(gy, sa) if self.needs_input_grad[0] else None,
                unbroadcast(gy, sb) if self.needs_input_grad[1] else None)


class Sub(_Binary):
    name = "sub"

    def compute(self, a, b):
        return a - b

    def backward(self, gy):
        sa, sb = self.shapes
        return (unbroadcast(gy, sa) if self.needs_input_grad[0] else None,
                unbroadcast(-gy, sb) if self.needs_input_grad[1] else None)


class Mul(_Binary):
    name = "mul"

    def compute(self, a, b):
        self.save_for_backward(b if self.needs_input_grad[0] else None,
                               a if self.needs_input_grad[1] else None)
        return a * b

    def backward(self, gy):
        b, a = self.saved
        sa, sb = self.shapes
        return (unbroadcast(gy * b, sa) if self.needs_input_grad[0] else None,
                unbroadcast(gy * a, sb) if self.needs_input_grad[1] else None)


class Div(_Binary):
    name = "div"

    def compute(self, a, b):
        y = a / b
        self.save_for_backward(b, y)
        return y

    def backward(self, gy):
        b, y = self.saved
        sa, sb = self.shapes
        ga = gy / b
        return (unbroadcast(ga, sa) if self.needs_input_grad[0] else None,
                unbroadcast(-ga * y, sb) if self.needs_input_grad[1] else None)


class Pow(_Binary):
    name = "pow"

    def compute(self, a, b):
        xp = get_array_module(a)
        y = xp.power(a, b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b, y = self.saved
        sa, sb = self.shapes
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(gy * b * xp.power(a, b - 1), sa)
        if self.needs_input_grad[1]:
            safe_log = xp.log(xp.where(a > 0, a, 1))
            gb = unbroadcast(gy * y * safe_log, sb)
        return ga, gb


class PowScalar(Function):
    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, a):
        self.save_for_backward(a)
        return a**self.exponent

    def backward(self, gy):
        (a,) = self.saved
        return gy * (self.exponent * a ** (self.exponent - 1))


class MatMul(Function):
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: both operands need at least one dimension; "
                             f"got shapes {a.shape} and {b.shape}.")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                             f"({k_a} != {k_b}).")
        self.save_for_backward(a if self.needs_input_grad[1] else None,
                               b if self.needs_input_grad[0] else None)
        self.shapes = (a.shape, b.shape)
        return a @ b

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b = self.saved
        sa, sb = self.shapes
        a_vec, b_vec = len(sa) == 1, len(sb) == 1
        if a_vec and b_vec:
            g = gy.reshape(1, 1)
        elif a_vec:
            g = xp.expand_dims(gy, -2)
        elif b_vec:
            g = xp.expand_dims(gy, -1)
        else:
            g = gy
        ga = gb = None
        if self.needs_input_grad[0]:
            b2 = b[:, None] if b_vec else b
            ga = g @ xp.swapaxes(b2, -1, -2)
            ga = unbroadcast(ga, (1,) + sa if a_vec else sa).reshape(sa)
        if self.needs_input_grad[1]:
            a2 = a[None, :] if a_vec else a
            gb = xp.swapaxes(a2, -1, -2) @ g
            gb = unbroadcast(gb, sb + (1,) if b_vec else sb).reshape(sb)
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


class Exp(Function):
    def forward(self, a):
        y = get_array_module(a).exp(a)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * y


class Log(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return get_array_module(a).log(a)

    def backward(self, gy):
        (a,) = self.saved
        return gy / a


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"axis {ax} is out of range for an array of {ndim} dimensions.")
    return tuple(sorted(ax % ndim for ax in axes)) if ndim else ()


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, a):
        self.axes = _normalize_axes(self.axis, a.ndim)
        self.shape = a.shape
        return a.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        if not self.keepdims:
            gy = xp.expand_dims(gy, self.axes) if self.axes else gy
        return xp.broadcast_to(gy, self.shape).copy()


class Mean(Sum):
    def forward(self, a):
        y = super().forward(a)
        count = 1
        for ax in self.axes:
            count *= a.shape[ax]
        self.count = count
        return y / count if count else y

    def backward(self, gy):
        return super().backward(gy / self.count)


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        self.input_shape = a.shape
        try:
            return a.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape an array of shape {a.shape} "
                             f"into shape {self.shape}.") from None

    def backward(self, gy):
        return gy.reshape(self.input_shape)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, a):
        xp = get_array_module(a)
        axes = tuple(reversed(range(a.ndim))) if self.axes is None else tuple(self.axes)
        if sorted(ax % max(a.ndim, 1) for ax in axes) != list(range(a.ndim)):
            raise ValueError(f"transpose: axes {axes} do not match an array of shape {a.shape}.")
        self.axes = axes
        return xp.transpose(a, axes)

    def backward(self, gy):
        inverse = tuple(int(i) for i in np.argsort([ax % gy.ndim for ax in self.axes]))
        return get_array_module(gy).transpose(gy, inverse)


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, a):
        self.input_shape = a.shape
        return a[self.index]

    def backward(self, gy):
        xp = get_array_module(gy)
        g = xp.zeros(self.input_shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            g[self.index] = gy
        elif xp.__name__ == "numpy":
            xp.add.at(g, self.index, gy)
        else:
            import cupyx

            cupyx.scatter_add(g, self.index, gy)
        return g


class AsType(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        self.input_dtype = a.dtype
        return a.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.input_dtype)


def add(a, b):
    """``a + b`` with broadcasting.

    Parameters
    ----------
    a, b : Tensor or array-like
        The operands; arrays and numbers are wrapped as constant tensors. Their shapes
        must broadcast together.

    Returns
    -------
    Tensor
        The sums.
    """
    return Add().apply(a, b)


def sub(a, b):
    """``a - b`` with broadcasting.

    Parameters
    ----------
    a, b : Tensor or array-like
        The operands; arrays and numbers are wrapped as constant tensors. Their shapes
        must broadcast together.

    Returns
    -------
    Tensor
        The differences.
    """
    return Sub().apply(a, b)


def mul(a, b):
    """``a * b`` with broadcasting.

    Parameters
    ----------
    a, b : Tensor or array-like
        The operands; arrays and numbers are wrapped as constant tensors. Their shapes
        must broadcast together.

    Returns
    -------
    Tensor
        The products.
    """
    return Mul().apply(a, b)


def div(a, b):
    """``a / b`` with broadcasting.

    Parameters
    ----------
    a, b : Tensor or array-like
        The operands; arrays and numbers are wrapped as constant tensors. Their shapes
        must broadcast together.

    Returns
    -------
    Tensor
        The quotients.
    """
    return Div().apply(a, b)


def pow(a, exponent):
    """``a ** exponent``; ``exponent`` is a Python number or a tensor.

    Parameters
    ----------
    a : Tensor or array-like
        The base.
    exponent : int, float, Tensor or array-like
        The power: a Python number, or a tensor that broadcasts with ``a`` (then
        differentiable too).

    Returns
    -------
    Tensor
        The powers.
    """
    if isinstance(exponent, (int, float)):
        return PowScalar(exponent).apply(a)
    return Pow().apply(a, exponent)


def matmul(a, b):
    """Matrix product with numpy's ``@`` semantics (1-D, 2-D and batched).

    Parameters
    ----------
    a, b : Tensor or array-like
        The operands.

    Returns
    -------
    Tensor
        ``a @ b``.
    """
    return MatMul().apply(a, b)


def neg(a):
    """``-a``.

    Parameters
    ----------
    a : Tensor or array-like
        The operand.

    Returns
    -------
    Tensor
        The negation.
    """
    return Neg().apply(a)


def exp(a):
    """Elementwise ``e ** a``.

    Parameters
    ----------
    a : Tensor or array-like
        The exponents.

    Returns
    -------
    Tensor
        The exponentials.
    """
    return Exp().apply(a)


def log(a):
    """Elementwise natural logarithm.

    Parameters
    ----------
    a : Tensor or array-like
        The operand.

    Returns
    -------
    Tensor
        The logarithms.
    """
    return Log().apply(a)


def sum(a, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy's name
    """Sum over ``axis`` (all axes when None).

    Parameters
    ----------
    a : Tensor or array-like
        The operand.
    axis : int, tuple of int or None, default=None
        The axes to sum over.
    keepdims : bool, default=False
        Keep the summed axes with length one.

    Returns
    -------
    Tensor
        The sums.

    Raises
    ------
    ValueError
        If an axis is out of range.
    """
    return Sum(axis, keepdims).apply(a)


def mean(a, axis=None, keepdims=False):
    """Mean over ``axis`` (all axes when None).

    Parameters
    ----------
    a : Tensor or array-like
        The operand.
    axis : int, tuple of int or None, default=None
        The axes to average over.
    keepdims : bool, default=False
        Keep the averaged axes with length one.

    Returns
    -------
    Tensor
        The means.

    Raises
    ------
    ValueError
        If an axis is out of range.
    """
    return Mean(axis, keepdims).apply(a)


def reshape(a, shape):
    """Reshape to ``shape``.

    Parameters
    ----------
    a : Tensor or array-like
        The operand.
    shape : tuple of int
        The new shape; one entry may be -1.

    Returns
    -------
    Tensor
        The reshaped tensor.

    Raises
    ------
    ValueError
        If ``a`` cannot be reshaped to ``shape``.
    """
    return Reshape(shape).apply(a)


def transpose(a, axes=None):
    """Permute axes (reverse them when ``axes`` is None).

    Parameters
    ----------
    a : Tensor or array-like
        The operand.
    axes : tuple of int or None, default=None
        The new order of the axes.

    Returns
    -------
    Tensor
        The transposed tensor.

    Raises
    ------
    ValueError
        If ``axes`` is not a permutation of the axes of ``a``.
    """
    return Transpose(axes).apply(a)


def getitem(a, index):
    """``a[index]`` with basic or advanced (integer array) indexing."""
    return GetItem(index).apply(a)


def astype(a, dtype):
    """Cast to ``dtype``; the gradient is cast back."""
    return AsType(dtype).apply(a)
