"""Convolutions (1-D, 2-D, 3-D) on an array namespace: im2col + GEMM.

Layout is PyTorch's: ``x`` is (N, C, *spatial) and a conv weight is
(C_out, C_in // groups, *kernel); a transposed-conv weight is
(C_in, C_out // groups, *kernel). The spatial rank d (1, 2 or 3) is
``x.ndim - 2``; ``stride``, ``padding``, ``dilation`` (and
``output_padding``) are ints or tuples of d ints.

Everything is written once with ``xp = get_array_module(x)``: with numpy it
is the readable reference the Cython kernels (``sklears_neural._kernels._conv``)
are tested against, with CuPy it is the GPU path (cuBLAS through
``xp.matmul``). The only Python loops are over the prod(kernel) kernel
offsets, never over samples or pixels:

* ``im2col`` takes one strided slice of the zero-padded input per kernel
  offset and stacks them: cols (N, C * prod(K), prod(out)), rows ordered
  channel-major then kernel offsets, so ``weight.reshape(C_out, -1) @ cols[n]``
  is the convolution of sample n.
* ``col2im`` is its adjoint: each kernel offset's slab is added back into the
  same strided slice of a zero-padded buffer (within one offset the slice
  positions are distinct, so ``+=`` on the slice is exact), then cropped.
* A transposed convolution is the input gradient of a convolution (and its
  backward is a convolution plus a weight gradient), so both directions use
  the same three pieces.

The argument checks (``conv_geometry``, ``transpose_geometry`` and the dtype
rule ``float_dtype``) are shared with the Cython kernels so both accept the
same inputs and raise the same ``ValueError`` messages.
"""

import itertools
import math
import operator

from sklears_neural._specs._conv import (  # noqa: F401  (shared checks, re-exported)
    check_grad_shape,
    conv_geometry,
    im2col_geometry,
    transpose_geometry,
)
from sklears_neural._xp._arrays import float_arrays
from sklears_neural.backend import get_array_module

__all__ = [
    "col2im",
    "conv_backward",
    "conv_forward",
    "conv_transpose_backward",
    "conv_transpose_forward",
    "im2col",
]


def _offset_slices(kernel, out, stride, dilation):
    """For each kernel offset (row-major), the strided slices of the padded
    input that its taps read, one per spatial dimension."""
    for offs in itertools.product(*(range(k) for k in kernel)):
        yield (Ellipsis,) + tuple(
            slice(o * dl, o * dl + st * (n - 1) + 1, st)
            for o, dl, st, n in zip(offs, dilation, stride, out)
        )


def _pad(xp, x, padding):
    if not any(padding):
        return x
    return xp.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))


def _im2col(xp, x, kernel, out, stride, padding, dilation):
    n, c = x.shape[:2]
    xp_ = _pad(xp, x, padding)
    taps = [xp_[sl] for sl in _offset_slices(kernel, out, stride, dilation)]
    cols = xp.stack(taps, axis=2)  # (N, C, prod(K), *out)
    return cols.reshape(n, c * math.prod(kernel), math.prod(out))


def _col2im(xp, cols, shape, kernel, out, stride, padding, dilation):
    n, c = shape[:2]
    spatial = shape[2:]
    padded = xp.zeros((n, c) + tuple(s + 2 * p for s, p in zip(spatial, padding)),
                      dtype=cols.dtype)
    cols = cols.reshape((n, c, math.prod(kernel)) + tuple(out))
    for i, sl in enumerate(_offset_slices(kernel, out, stride, dilation)):
        padded[sl] += cols[:, :, i]
    crop = (Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(padding, spatial))
    return xp.ascontiguousarray(padded[crop])


# ---------------------------------------------------------------------------
# The three products of a convolution, on a geometry dict
# ---------------------------------------------------------------------------

def _sizes(g):
    """(groups, C_out per group, column rows per group, output positions);
    explicit because reshape(-1) fails on empty arrays."""
    groups = g["groups"]
    return (groups, g["c_out"] // groups, g["c_in"] // groups * math.prod(g["kernel"]),
            math.prod(g["out"]))


def _conv(xp, x, weight, g):
    """y (N, C_out, *out) = conv(x, weight) with the geometry ``g``."""
    n = x.shape[0]
    groups, cog, ck, L = _sizes(g)
    cols = _im2col(xp, x, g["kernel"], g["out"], g["stride"], g["padding"], g["dilation"])
    cols = cols.reshape(n, groups, ck, L)
    w = weight.reshape(groups, cog, ck)
    y = xp.matmul(w, cols)  # (N, G, C_out/G, L)
    return y.reshape((n, g["c_out"]) + tuple(g["out"]))


def _conv_input_grad(xp, gy, weight, g):
    """The adjoint of ``_conv`` in x: (N, C_in, *spatial) from gy (N, C_out, *out)."""
    n = gy.shape[0]
    groups, cog, ck, L = _sizes(g)
    w = weight.reshape(groups, cog, ck)
    gy = gy.reshape(n, groups, cog, L)
    gcols = xp.matmul(w.transpose(0, 2, 1), gy).reshape(n, groups * ck, L)
    return _col2im(xp, gcols, (n, g["c_in"]) + tuple(g["spatial"]), g["kernel"],
                   g["out"], g["stride"], g["padding"], g["dilation"])


def _conv_weight_grad(xp, gy, x, g):
    """Gradient of ``_conv`` in weight: (C_out, C_in // groups, *kernel)."""
    n = x.shape[0]
    groups, cog, ck, L = _sizes(g)
    cols = _im2col(xp, x, g["kernel"], g["out"], g["stride"], g["padding"], g["dilation"])
    cols = cols.reshape(n, groups, ck, L)
    gy = gy.reshape(n, groups, cog, L)
    gw = xp.matmul(gy, cols.transpose(0, 1, 3, 2)).sum(axis=0)  # (G, C_out/G, Cg*K)
    return gw.reshape((g["c_out"], g["c_in"] // groups) + tuple(g["kernel"]))


def _add_bias(y, bias, d):
    if bias is not None:
        y += bias.reshape((-1,) + (1,) * d)
    return y


def _bias_grad(gy):
    return gy.sum(axis=(0,) + tuple(range(2, gy.ndim)))


# ---------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------

def conv_forward(x, weight, bias, stride, padding, dilation, groups):
    """Forward of a 1-D, 2-D or 3-D convolution (cross-correlation).

    Parameters
    ----------
    x : array of shape (N, C_in, *S)
    weight : array of shape (C_out, C_in // groups, *K)
    bias : array of shape (C_out,) or None
    stride, padding, dilation : int or tuple of d ints
        ``stride >= 1``, symmetric zero ``padding >= 0``, ``dilation >= 1``.
    groups : int
        Divides both C_in and C_out.

    Returns
    -------
    y : array of shape (N, C_out, *out)
        ``out = (S + 2 * padding - dilation * (K - 1) - 1) // stride + 1``,
        C-contiguous, dtype of ``x``.
    """
    kernel = "conv_forward"
    _, (x, weight, bias) = float_arrays(kernel, ("x", x), ("weight", weight), ("bias", bias))
    xp = get_array_module(x)
    g = conv_geometry(kernel, x.shape, weight.shape,
                      None if bias is None else bias.shape,
                      stride, padding, dilation, groups)
    y = xp.ascontiguousarray(_conv(xp, x, weight, g))
    return _add_bias(y, bias, g["d"])


def conv_backward(grad_y, x, weight, stride, padding, dilation, groups,
                  need_input=True, need_weight=True, need_bias=True):
    """Backward of ``conv_forward``.

    Parameters
    ----------
    grad_y : array of shape (N, C_out, *out)
    x, weight : the forward inputs
    stride, padding, dilation, groups : as in the forward
    need_input, need_weight, need_bias : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    grad_x, grad_weight, grad_bias : arrays or None
    """
    kernel = "conv_backward"
    _, (grad_y, x, weight) = float_arrays(kernel, ("grad_y", grad_y), ("x", x),
                                          ("weight", weight))
    xp = get_array_module(grad_y)
    g = conv_geometry(kernel, x.shape, weight.shape, None, stride, padding, dilation,
                      groups)
    check_grad_shape(kernel, grad_y, (g["n"], g["c_out"]) + g["out"])
    gx = _conv_input_grad(xp, grad_y, weight, g) if need_input else None
    gw = _conv_weight_grad(xp, grad_y, x, g) if need_weight else None
    gb = _bias_grad(grad_y) if need_bias else None
    return gx, gw, gb


def conv_transpose_forward(x, weight, bias, stride, padding, output_padding,
                           dilation, groups):
    """Forward of a transposed convolution (PyTorch's ``ConvTranspose``).

    Parameters
    ----------
    x : array of shape (N, C_in, *S)
    weight : array of shape (C_in, C_out // groups, *K)
    bias : array of shape (C_out,) or None
    stride, padding, output_padding, dilation : int or tuple of d ints
        ``output_padding`` must be smaller than ``stride`` or ``dilation``.
    groups : int

    Returns
    -------
    y : array of shape (N, C_out, *out)
        ``out = (S - 1) * stride - 2 * padding + dilation * (K - 1)
        + output_padding + 1``, C-contiguous.
    """
    kernel = "conv_transpose_forward"
    _, (x, weight, bias) = float_arrays(kernel, ("x", x), ("weight", weight), ("bias", bias))
    xp = get_array_module(x)
    g = transpose_geometry(kernel, x.shape, weight.shape,
                           None if bias is None else bias.shape,
                           stride, padding, output_padding, dilation, groups)
    y = _conv_input_grad(xp, x, weight, g)
    return _add_bias(y, bias, g["d"])


def conv_transpose_backward(grad_y, x, weight, stride, padding, output_padding,
                            dilation, groups, need_input=True, need_weight=True,
                            need_bias=True):
    """Backward of ``conv_transpose_forward``.

    Parameters
    ----------
    grad_y : array of shape (N, C_out, *out)
    x, weight : the forward inputs
    stride, padding, output_padding, dilation, groups : as in the forward
    need_input, need_weight, need_bias : bool

    Returns
    -------
    grad_x, grad_weight, grad_bias : arrays or None
    """
    kernel = "conv_transpose_backward"
    _, (grad_y, x, weight) = float_arrays(kernel, ("grad_y", grad_y), ("x", x),
                                          ("weight", weight))
    xp = get_array_module(grad_y)
    g = transpose_geometry(kernel, x.shape, weight.shape, None, stride, padding,
                           output_padding, dilation, groups)
    check_grad_shape(kernel, grad_y, (g["n"], g["c_in"]) + g["spatial"])
    gx = xp.ascontiguousarray(_conv(xp, grad_y, weight, g)) if need_input else None
    # The underlying conv maps grad_y's space to x's: its weight gradient pairs
    # "its input" grad_y with "its output gradient" x.
    gw = _conv_weight_grad(xp, x, grad_y, g) if need_weight else None
    gb = _bias_grad(grad_y) if need_bias else None
    return gx, gw, gb


def im2col(x, kernel_size, stride, padding, dilation):
    """Unfold the sliding windows of ``x`` into columns.

    Parameters
    ----------
    x : array of shape (N, C, *S)
    kernel_size, stride, padding, dilation : int or tuple of d ints

    Returns
    -------
    cols : array of shape (N, C * prod(K), prod(out))
        Rows are ordered channel-major, then kernel offsets (C, k1, k2, ...);
        columns are the output positions in C order. Padding reads zeros.
    """
    _, (x,) = float_arrays("im2col", ("x", x))
    xp = get_array_module(x)
    _, k, out, stride, padding, dilation = im2col_geometry(
        "im2col", x.shape, kernel_size, stride, padding, dilation)
    return xp.ascontiguousarray(_im2col(xp, x, k, out, stride, padding, dilation))


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    """Fold columns back into an image, summing overlapping contributions.

    The adjoint of ``im2col``: ``col2im(im2col(x)) `` multiplies each input
    element by the number of windows that read it.

    Parameters
    ----------
    cols : array of shape (N, C * prod(K), prod(out))
    input_shape : tuple (N, C, *S)
    kernel_size, stride, padding, dilation : int or tuple of d ints

    Returns
    -------
    x : array of shape ``input_shape``
    """
    kernel = "col2im"
    _, (cols,) = float_arrays(kernel, ("cols", cols))
    xp = get_array_module(cols)
    input_shape = tuple(operator.index(s) for s in input_shape)
    _, k, out, stride, padding, dilation = im2col_geometry(
        kernel, input_shape, kernel_size, stride, padding, dilation)
    expected = (input_shape[0], input_shape[1] * math.prod(k), math.prod(out))
    if tuple(cols.shape) != expected:
        raise ValueError(
            f"{kernel}: cols has shape {tuple(cols.shape)} but input_shape "
            f"{input_shape} with kernel_size {k} needs cols of shape {expected}."
        )
    return _col2im(xp, cols, input_shape, k, out, stride, padding, dilation)
