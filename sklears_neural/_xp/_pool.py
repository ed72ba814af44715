"""Pooling, padding and nearest upsampling on an array namespace (batch norm: ``_norm``).

Layout is PyTorch's: ``(N, C, *spatial)`` with 1 to 3 spatial axes, and the
shapes, index conventions and edge cases are PyTorch's too. The code is plain
array code (loops only over kernel offsets or axes, never over pixels), so it
runs on numpy (the reference of the Cython kernels in
``sklears_neural._kernels._pool``) and on CuPy.

The argument checks and output-shape arithmetic (``pool_geometry``,
``adaptive_bins``, ``pad_geometry``, ...) are namespace-free and shared with
the Cython kernels, so both reject the same inputs with the same messages.
"""

import itertools
import math
import operator

import numpy as np

from sklears_neural._specs._pool import (  # noqa: F401  (shared checks, re-exported)
    PAD_MODES,
    adaptive_bins,
    adaptive_geometry,
    as_tuple,
    batch_norm_channels,
    check_grad_shape,
    check_pool_indices,
    input_shape_tuple,
    pad_geometry,
    pad_source_index,
    pool_geometry,
    pool_indices_error,
    spatial_rank,
    upsample_factors,
)
from sklears_neural._xp._arrays import float_arrays
from sklears_neural.backend import get_array_module

__all__ = [
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "adaptive_avg_pool_forward",
    "adaptive_avg_pool_backward",
    "adaptive_max_pool_forward",
    "pad_forward",
    "pad_backward",
    "upsample_nearest_forward",
    "upsample_nearest_backward",
]

def _window_slices(offsets, k_steps, s, out):
    """Slices of a padded array picking, for every output, its window element
    at the given offsets (``k_steps[i]`` is the offset's step: the dilation)."""
    return (Ellipsis,) + tuple(
        slice(o * st, o * st + (n - 1) * si + 1, si)
        for o, st, si, n in zip(offsets, k_steps, s, out)
    )


def _padded(x, xp, p, extent, s, out, fill):
    """x padded with ``fill``: p before each spatial axis, and after it as far
    as the last window reaches (at least p; more with ceil_mode)."""
    spatial = x.shape[2:]
    after = [max(pi, (o - 1) * si + e - n - pi)
             for n, pi, e, si, o in zip(spatial, p, extent, s, out)]
    shape = x.shape[:2] + tuple(n + pi + a for n, pi, a in zip(spatial, p, after))
    buf = xp.full(shape, fill, dtype=x.dtype)
    buf[(Ellipsis,) + tuple(slice(pi, pi + n) for pi, n in zip(p, spatial))] = x
    return buf


def _broadcast_1d(xp, vectors):
    """Broadcast one 1-D vector per spatial axis against (N, C, *out)."""
    d = len(vectors)
    return [xp.asarray(v).reshape((1, 1) + tuple(-1 if j == i else 1 for j in range(d)))
            for i, v in enumerate(vectors)]


def _plane_strides(spatial):
    strides, acc = [], 1
    for n in reversed(spatial):
        strides.append(acc)
        acc *= n
    return strides[::-1]


def max_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Max pooling over the spatial axes of ``x`` (N, C, *spatial).

    Parameters
    ----------
    x : array of shape (N, C, L), (N, C, H, W) or (N, C, D, H, W)
    kernel_size, stride, padding, dilation : tuple of d ints
        ``stride=None`` means ``kernel_size``. Padding counts as ``-inf``
        (it is never selected) and may be at most half the dilated kernel.
    ceil_mode : bool
        Round the output size up (windows may run into the right padding).

    Returns
    -------
    y : array of shape (N, C, *out), x's dtype
    indices : int64 array of shape (N, C, *out)
        Flat index of each maximum within its (n, c) input plane. A NaN in a
        window wins (the last one, as in PyTorch); ties keep the first.
        A window that holds no input element (only possible with dilation)
        gives ``-inf`` and index -1.
    """
    kernel = "max_pool_forward"
    _, (x,) = float_arrays(kernel, ("x", x))
    xp = get_array_module(x)
    k, s, p, dil, out = pool_geometry(kernel, x.shape, kernel_size, stride, padding,
                                      dilation, ceil_mode)
    spatial = tuple(x.shape[2:])
    extent = [di * (ki - 1) + 1 for ki, di in zip(k, dil)]
    buf = _padded(x, xp, p, extent, s, out, -np.inf)
    strides = _plane_strides(spatial)
    # Start index of each window (per axis) and its first in-bounds element:
    # the index a window of -inf reports, as PyTorch.
    starts = [np.arange(o) * si - pi for o, si, pi in zip(out, s, p)]
    first = [np.where(st < 0, st + (-st + di - 1) // di * di, st) for st, di in zip(starts, dil)]
    empty = np.zeros((), dtype=bool)
    flat0 = np.zeros((), dtype=np.int64)
    for axis, (f, st, n, ki, di) in enumerate(zip(first, starts, spatial, k, dil)):
        shape = tuple(-1 if j == axis else 1 for j in range(len(k)))
        empty = empty | ((f >= n) | (f > st + (ki - 1) * di)).reshape(shape)
        flat0 = flat0 + (f * strides[axis]).reshape(shape)
    flat0 = np.where(empty, -1, flat0)
    best = xp.full(x.shape[:2] + out, -np.inf, dtype=x.dtype)
    index = xp.broadcast_to(xp.asarray(flat0, dtype=np.int64)[None, None], best.shape).copy()
    for offsets in itertools.product(*(range(ki) for ki in k)):
        v = buf[_window_slices(offsets, dil, s, out)]
        flat = sum(_broadcast_1d(xp, [(st + o * di) * sd for st, o, di, sd
                                      in zip(starts, offsets, dil, strides)]))
        take = (v > best) | xp.isnan(v)  # padding is -inf: never taken
        best = xp.where(take, v, best)
        index = xp.where(take, flat, index)
    return xp.ascontiguousarray(best), xp.ascontiguousarray(index)


def max_pool_backward(grad_y, indices, input_shape):
    """Gradient of a max pool: ``grad_y`` scatter-added through ``indices``.

    Parameters
    ----------
    grad_y : array of shape (N, C, *out)
    indices : int array of shape (N, C, *out)
        From ``max_pool_forward`` or ``adaptive_max_pool_forward``; -1 entries
        contribute nothing.
    input_shape : tuple (N, C, *spatial)

    Returns
    -------
    grad_x : array of shape ``input_shape``, grad_y's dtype
    """
    kernel = "max_pool_backward"
    _, (grad_y,) = float_arrays(kernel, ("grad_y", grad_y))
    xp = get_array_module(grad_y)
    indices = xp.asarray(indices)
    shape = input_shape_tuple(kernel, input_shape)
    check_pool_indices(kernel, grad_y, indices, shape)
    planes = shape[0] * shape[1]
    plane = math.prod(shape[2:])
    idx = indices.reshape(planes, -1).astype(np.int64)
    if grad_y.size and planes * plane:  # as the Cython twin: -1 is no index
        bad = int(((idx != -1) & ((idx < 0) | (idx >= plane))).sum())
        if bad:
            raise pool_indices_error(kernel, bad, shape)
    keep = idx >= 0
    flat = xp.where(keep, idx + xp.arange(planes, dtype=np.int64)[:, None] * plane, 0)
    weights = xp.where(keep, grad_y.reshape(planes, -1), 0)
    grad = xp.bincount(flat.ravel(), weights=weights.ravel(), minlength=planes * plane)
    return grad.astype(grad_y.dtype).reshape(shape)


def adaptive_max_pool_forward(x, output_size):
    """Adaptive max pooling to ``output_size`` (PyTorch's bins).

    Parameters
    ----------
    x : array of shape (N, C, *spatial)
    output_size : tuple of d ints

    Returns
    -------
    y, indices : as ``max_pool_forward``; use ``max_pool_backward`` for the
        gradient.
    """
    kernel = "adaptive_max_pool_forward"
    _, (x,) = float_arrays(kernel, ("x", x))
    xp = get_array_module(x)
    out = adaptive_geometry(kernel, x.shape, output_size)
    spatial = tuple(x.shape[2:])
    strides = _plane_strides(spatial)
    bins = [adaptive_bins(n, o) for n, o in zip(spatial, out)]
    starts = [np.array(b[0]) for b in bins]
    ends = [np.array(b[1]) for b in bins]
    longest = [int((e - st).max()) for st, e in zip(starts, ends)]
    best = xp.full(x.shape[:2] + out, -np.inf, dtype=x.dtype)
    index = xp.broadcast_to(
        sum(_broadcast_1d(xp, [st * sd for st, sd in zip(starts, strides)])),
        best.shape).astype(np.int64)
    for offsets in itertools.product(*(range(m) for m in longest)):
        pos = [np.minimum(st + o, e - 1) for st, o, e in zip(starts, offsets, ends)]
        v = x
        for axis, ps in enumerate(pos):
            v = xp.take(v, xp.asarray(ps), axis=2 + axis)
        valid = _broadcast_1d(xp, [st + o < e for st, o, e in zip(starts, offsets, ends)])
        flat = sum(_broadcast_1d(xp, [ps * sd for ps, sd in zip(pos, strides)]))
        take = (v > best) | xp.isnan(v)
        for m in valid:
            take = take & m
        best = xp.where(take, v, best)
        index = xp.where(take, flat, index)
    return xp.ascontiguousarray(best), xp.ascontiguousarray(index)


# ---------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------

def _avg_divisor(xp, spatial, k, s, p, out, count_include_pad, divisor_override, dtype):
    """The divisor of every output window, broadcastable to (N, C, *out)."""
    if divisor_override is not None:
        return float(divisor_override)
    sizes = []
    for n, ki, si, pi, o in zip(spatial, k, s, p, out):
        start = np.arange(o) * si - pi
        end = np.minimum(start + ki, n + pi)
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(np.minimum(end, n) - np.maximum(start, 0))
    div = 1
    for v in _broadcast_1d(np, sizes):
        div = div * v
    return xp.asarray(div, dtype=dtype)


def _check_divisor(kernel, divisor_override):
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{kernel}: divisor_override must be non-zero; got 0.")


def avg_pool_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override=None):
    """Average pooling over the spatial axes of ``x`` (N, C, *spatial).

    Parameters
    ----------
    x : array of shape (N, C, *spatial), 1 to 3 spatial axes
    kernel_size, stride, padding : tuple of d ints
        Zero padding, at most half the kernel size; ``stride=None`` means
        ``kernel_size``.
    ceil_mode : bool
    count_include_pad : bool
        Whether padded zeros count in the divisor (the part of a ceil-mode
        window beyond the padding never counts).
    divisor_override : int, optional
        Divide every window sum by this instead.

    Returns
    -------
    y : array of shape (N, C, *out)
    """
    kernel = "avg_pool_forward"
    _, (x,) = float_arrays(kernel, ("x", x))
    xp = get_array_module(x)
    _check_divisor(kernel, divisor_override)
    k, s, p, _, out = pool_geometry(kernel, x.shape, kernel_size, stride, padding, 1,
                                    ceil_mode, dilated=False)
    buf = _padded(x, xp, p, k, s, out, 0)
    total = xp.zeros(x.shape[:2] + out, dtype=x.dtype)
    for offsets in itertools.product(*(range(ki) for ki in k)):
        total += buf[_window_slices(offsets, (1,) * len(k), s, out)]
    div = _avg_divisor(xp, x.shape[2:], k, s, p, out, count_include_pad, divisor_override,
                       x.dtype)
    return xp.ascontiguousarray(total / div).astype(x.dtype, copy=False)


def avg_pool_backward(grad_y, input_shape, kernel_size, stride, padding, ceil_mode,
                      count_include_pad, divisor_override=None):
    """Gradient of ``avg_pool_forward`` with respect to its input.

    Parameters
    ----------
    grad_y : array of shape (N, C, *out)
    input_shape : tuple (N, C, *spatial)
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override :
        as in the forward.

    Returns
    -------
    grad_x : array of shape ``input_shape``
    """
    kernel = "avg_pool_backward"
    _, (grad_y,) = float_arrays(kernel, ("grad_y", grad_y))
    xp = get_array_module(grad_y)
    _check_divisor(kernel, divisor_override)
    shape = input_shape_tuple(kernel, input_shape)
    k, s, p, _, out = pool_geometry(kernel, shape, kernel_size, stride, padding, 1,
                                    ceil_mode, dilated=False)
    check_grad_shape(kernel, grad_y, shape[:2] + out, f"input_shape {shape}")
    div = _avg_divisor(xp, shape[2:], k, s, p, out, count_include_pad, divisor_override,
                       grad_y.dtype)
    g = (grad_y / div).astype(grad_y.dtype, copy=False)
    buf = _padded(xp.zeros(shape, dtype=grad_y.dtype), xp, p, k, s, out, 0)
    for offsets in itertools.product(*(range(ki) for ki in k)):
        buf[_window_slices(offsets, (1,) * len(k), s, out)] += g
    inner = (Ellipsis,) + tuple(slice(pi, pi + n) for pi, n in zip(p, shape[2:]))
    return xp.ascontiguousarray(buf[inner])


# ---------------------------------------------------------------------------
# Adaptive average pooling: one averaging matrix per axis
# ---------------------------------------------------------------------------

def _bin_matrix(n, o, dtype):
    """(n, o) matrix whose column i averages bin i of an axis of size n."""
    m = np.zeros((n, o))
    for i, (a, b) in enumerate(zip(*adaptive_bins(n, o))):
        m[a:b, i] = 1.0 / (b - a)
    return m.astype(dtype)


def _along_axes(xp, a, matrices, transpose):
    for axis, m in enumerate(matrices):
        m = xp.asarray(m.T if transpose else m)
        a = xp.moveaxis(xp.moveaxis(a, 2 + axis, -1) @ m, -1, 2 + axis)
    return xp.ascontiguousarray(a)


def adaptive_avg_pool_forward(x, output_size):
    """Adaptive average pooling to ``output_size`` (PyTorch's bins).

    Parameters
    ----------
    x : array of shape (N, C, *spatial)
    output_size : tuple of d ints (``None`` entries keep the input size)

    Returns
    -------
    y : array of shape (N, C, *output_size)
    """
    kernel = "adaptive_avg_pool_forward"
    _, (x,) = float_arrays(kernel, ("x", x))
    xp = get_array_module(x)
    out = adaptive_geometry(kernel, x.shape, output_size)
    if all(o == 1 for o in out):
        axes = tuple(range(2, x.ndim))
        return x.mean(axis=axes, keepdims=True, dtype=np.float64).astype(x.dtype)
    mats = [_bin_matrix(n, o, x.dtype) for n, o in zip(x.shape[2:], out)]
    return _along_axes(xp, x, mats, False)


def adaptive_avg_pool_backward(grad_y, input_shape):
    """Gradient of ``adaptive_avg_pool_forward``; the output size is grad_y's.

    Parameters
    ----------
    grad_y : array of shape (N, C, *output_size)
    input_shape : tuple (N, C, *spatial)

    Returns
    -------
    grad_x : array of shape ``input_shape``
    """
    kernel = "adaptive_avg_pool_backward"
    _, (grad_y,) = float_arrays(kernel, ("grad_y", grad_y))
    xp = get_array_module(grad_y)
    shape = input_shape_tuple(kernel, input_shape)
    out = adaptive_geometry(kernel, shape, tuple(grad_y.shape[2:]))
    check_grad_shape(kernel, grad_y, shape[:2] + out, f"input_shape {shape}")
    mats = [_bin_matrix(n, o, grad_y.dtype) for n, o in zip(shape[2:], out)]
    return _along_axes(xp, grad_y, mats, True)


# ---------------------------------------------------------------------------
# Padding
# ---------------------------------------------------------------------------

def _crop_slices(pairs, shape):
    """Slices of the input that survive (negative pads crop)."""
    return tuple(slice(max(0, -b), n - max(0, -a)) for (b, a), n in zip(pairs, shape))


def _place_slices(pairs, out_shape):
    """Slices of the output that hold the (cropped) input."""
    return tuple(slice(max(0, b), n - max(0, a)) for (b, a), n in zip(pairs, out_shape))


def pad_forward(x, pad, mode="constant", value=0.0):
    """Pad ``x`` as ``torch.nn.functional.pad`` does.

    Parameters
    ----------
    x : array
        Any shape for constant mode; (N, C, *spatial) with 1 to 3 spatial
        axes for the other modes.
    pad : tuple of ints
        ``(left, right, top, bottom, front, back)``: pairs for the last axes,
        last axis first. Negative values crop (constant mode only).
    mode : {"constant", "reflect", "replicate", "circular"}
    value : float
        Fill value of constant mode.

    Returns
    -------
    y : array, x's dtype
    """
    kernel = "pad_forward"
    _, (x,) = float_arrays(kernel, ("x", x))
    xp = get_array_module(x)
    mode, pairs, out_shape = pad_geometry(kernel, x.shape, pad, mode)
    if mode == "constant":
        y = xp.full(out_shape, value, dtype=x.dtype)
        y[_place_slices(pairs, out_shape)] = x[_crop_slices(pairs, x.shape)]
        return y
    y = x
    for axis in range(2, x.ndim):
        before, after = pairs[axis]
        if before or after:
            src = pad_source_index(x.shape[axis], before, after, mode)
            y = xp.take(y, xp.asarray(src), axis=axis)
    return xp.ascontiguousarray(y)


def pad_backward(grad_y, input_shape, pad, mode="constant"):
    """Gradient of ``pad_forward`` with respect to its input.

    Padded positions of reflect/replicate/circular modes read input elements
    that also appear elsewhere, so their gradients are accumulated.

    Parameters
    ----------
    grad_y : array of the padded shape
    input_shape : tuple
    pad, mode : as in the forward

    Returns
    -------
    grad_x : array of shape ``input_shape``
    """
    kernel = "pad_backward"
    _, (grad_y,) = float_arrays(kernel, ("grad_y", grad_y))
    xp = get_array_module(grad_y)
    shape = tuple(operator.index(n) for n in input_shape)
    mode, pairs, out_shape = pad_geometry(kernel, shape, pad, mode)
    check_grad_shape(kernel, grad_y, out_shape, f"pad {tuple(pad)} of input_shape {shape}")
    if mode == "constant":
        g = xp.zeros(shape, dtype=grad_y.dtype)
        g[_crop_slices(pairs, shape)] = grad_y[_place_slices(pairs, out_shape)]
        return g
    g = grad_y
    for axis in range(2, len(shape)):
        before, after = pairs[axis]
        if before or after:
            src = pad_source_index(shape[axis], before, after, mode)
            onehot = np.zeros((src.size, shape[axis]), dtype=grad_y.dtype)
            onehot[np.arange(src.size), src] = 1
            g = xp.moveaxis(xp.moveaxis(g, axis, -1) @ xp.asarray(onehot), -1, axis)
    return xp.ascontiguousarray(g)


# ---------------------------------------------------------------------------
# Nearest-neighbour upsampling by integer factors
# ---------------------------------------------------------------------------

def upsample_nearest_forward(x, scale_factor):
    """Nearest-neighbour upsampling of the spatial axes by integer factors.

    Parameters
    ----------
    x : array of shape (N, C, *spatial)
    scale_factor : tuple of d positive ints

    Returns
    -------
    y : array of shape (N, C, *(n * f for n, f in zip(spatial, scale_factor)))
    """
    kernel = "upsample_nearest_forward"
    _, (x,) = float_arrays(kernel, ("x", x))
    xp = get_array_module(x)
    f = upsample_factors(kernel, x.shape, scale_factor)
    spatial = x.shape[2:]
    # (N, C, n1, 1, n2, 1, ...) broadcast to (N, C, n1, f1, n2, f2, ...)
    expanded = x.reshape(x.shape[:2] + sum(((n, 1) for n in spatial), ()))
    expanded = xp.broadcast_to(expanded, x.shape[:2] + sum(((n, fi) for n, fi in zip(spatial, f)), ()))
    return xp.ascontiguousarray(expanded).reshape(
        x.shape[:2] + tuple(n * fi for n, fi in zip(spatial, f)))


def upsample_nearest_backward(grad_y, scale_factor):
    """Gradient of ``upsample_nearest_forward``: sums over each f-block.

    Parameters
    ----------
    grad_y : array of shape (N, C, *(n * f))
    scale_factor : tuple of d positive ints (dividing grad_y's spatial sizes)

    Returns
    -------
    grad_x : array of shape (N, C, *spatial)
    """
    kernel = "upsample_nearest_backward"
    _, (grad_y,) = float_arrays(kernel, ("grad_y", grad_y))
    f = upsample_factors(kernel, grad_y.shape, scale_factor)
    spatial = grad_y.shape[2:]
    if any(m % fi for m, fi in zip(spatial, f)):
        raise ValueError(f"{kernel}: grad_y's spatial shape {tuple(spatial)} is not a "
                         f"multiple of scale_factor {f}.")
    blocks = grad_y.reshape(grad_y.shape[:2] + sum(((m // fi, fi) for m, fi in zip(spatial, f)), ()))
    axes = tuple(3 + 2 * i for i in range(len(f)))
    return blocks.sum(axis=axes).astype(grad_y.dtype, copy=False)
