"""Shape rules and argument checks of the pooling, normalisation, padding and upsampling
kernels, shared by both twins."""

import operator

import numpy as np

PAD_MODES = ("constant", "reflect", "replicate", "circular")


# ---------------------------------------------------------------------------
# Shared argument checks and geometry (plain Python on shapes)
# ---------------------------------------------------------------------------

def spatial_rank(kernel, shape, name="x"):
    """Return d = len(shape) - 2 for an (N, C, *spatial) array, 1 <= d <= 3."""
    d = len(shape) - 2
    if d not in (1, 2, 3):
        raise ValueError(
            f"{kernel}: {name} must be 3-D, 4-D or 5-D (N, C, *spatial) with 1 to 3 "
            f"spatial axes; got shape {tuple(shape)}."
        )
    return d


def as_tuple(kernel, name, value, d, minimum):
    """``value`` (an int or a sequence of d ints) as a tuple of d ints >= minimum."""
    try:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            values = (operator.index(value),) * d
        else:
            values = tuple(operator.index(v) for v in value)
            if len(values) == 1 and d > 1:
                values = values * d
    except TypeError:
        raise ValueError(
            f"{kernel}: {name} must be an int or a tuple of {d} ints; got {value!r}."
        ) from None
    if len(values) != d:
        raise ValueError(
            f"{kernel}: {name} must have one entry per spatial axis ({d}); got {value!r}."
        )
    if any(v < minimum for v in values):
        raise ValueError(f"{kernel}: {name} must be >= {minimum}; got {value!r}.")
    return values


def _pooled_size(n, k, s, p, dil, ceil_mode):
    # PyTorch's pooling_output_shape.
    span = n + 2 * p - dil * (k - 1) - 1 + ((s - 1) if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window must start inside the input or left padding
    return out


def pool_geometry(kernel, shape, kernel_size, stride, padding, dilation, ceil_mode,
                  dilated=True):
    """Check pooling arguments against an input shape, PyTorch's way.

    Returns
    -------
    k, s, p, dil, out : tuples of d ints
        Kernel, stride (``None`` means the kernel size), padding, dilation
        and output spatial shape.
    """
    d = spatial_rank(kernel, shape)
    k = as_tuple(kernel, "kernel_size", kernel_size, d, 1)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else as_tuple(kernel, "stride", stride, d, 1)
    p = as_tuple(kernel, "padding", padding, d, 0)
    dil = as_tuple(kernel, "dilation", dilation, d, 1) if dilated else (1,) * d
    spatial = tuple(shape[2:])
    out = []
    for n, ki, si, pi, di in zip(spatial, k, s, p, dil):
        extent = di * (ki - 1) + 1
        if 2 * pi > extent:
            raise ValueError(
                f"{kernel}: padding {p} must be at most half of the "
                f"{'dilated ' if di > 1 else ''}kernel size (kernel_size={k}"
                f"{f', dilation={dil}' if dilated else ''}), as in PyTorch."
            )
        o = _pooled_size(n, ki, si, pi, di, bool(ceil_mode))
        if o < 1:
            raise ValueError(
                f"{kernel}: the {'dilated ' if di > 1 else ''}kernel {k} is larger than "
                f"the padded input: input spatial shape {spatial}, padding {p}"
                f"{f', dilation {dil}' if dilated else ''}; the output would be empty."
            )
        out.append(o)
    return k, s, p, dil, tuple(out)


def adaptive_bins(n, o):
    """PyTorch's adaptive pooling bins of an axis: start, end lists (end exclusive)."""
    starts = [(i * n) // o for i in range(o)]
    ends = [-((-(i + 1) * n) // o) for i in range(o)]
    return starts, ends


def adaptive_geometry(kernel, shape, output_size):
    """Check an adaptive pool's output size; returns it as a tuple of d ints.

    ``None`` entries keep the input size, as in PyTorch.
    """
    d = spatial_rank(kernel, shape)
    spatial = tuple(shape[2:])
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * d
    output_size = tuple(n if o is None else o for o, n in zip(output_size, spatial)) \
        if len(output_size) == d else output_size
    out = as_tuple(kernel, "output_size", output_size, d, 1)
    if any(n < 1 for n in spatial):
        raise ValueError(f"{kernel}: input spatial shape {spatial} must not be empty.")
    return out


def check_grad_shape(kernel, grad_y, expected, what):
    if tuple(grad_y.shape) != tuple(expected):
        raise ValueError(
            f"{kernel}: grad_y has shape {tuple(grad_y.shape)} but {what} gives an "
            f"output of shape {tuple(expected)}."
        )


def input_shape_tuple(kernel, input_shape):
    shape = tuple(operator.index(n) for n in input_shape)
    spatial_rank(kernel, shape, "input_shape")
    if any(n < 0 for n in shape):
        raise ValueError(f"{kernel}: input_shape {shape} has a negative size.")
    return shape


def check_pool_indices(kernel, grad_y, indices, shape):
    """Raise unless ``indices`` are integers of grad_y's shape, which has the
    ``(N, C)`` of the input ``shape``."""
    if tuple(indices.shape) != tuple(grad_y.shape) or tuple(grad_y.shape[:2]) != shape[:2]:
        raise ValueError(
            f"{kernel}: grad_y {tuple(grad_y.shape)} and indices {tuple(indices.shape)} "
            f"must have the same shape, with input_shape's {shape[:2]} leading axes."
        )
    if indices.dtype.kind not in "iu":
        raise ValueError(f"{kernel}: indices must be integers; got dtype {indices.dtype}.")


def pool_indices_error(kernel, bad, shape):
    """The error for ``bad`` indices outside the planes of the input ``shape``."""
    plane = 1
    for n in shape[2:]:
        plane *= n
    return ValueError(f"{kernel}: {bad} indices are outside the input planes of shape "
                      f"{tuple(shape[2:])} (valid: 0 to {plane - 1}, or -1).")


def batch_norm_channels(kernel, x, gamma, beta, *more):
    """Check x (N, C, *S) and the per-channel arrays; returns (C, count)."""
    if x.ndim < 2:
        raise ValueError(
            f"{kernel}: x must be (N, C) or (N, C, *spatial); got shape {tuple(x.shape)}."
        )
    c = x.shape[1]
    for name, a in (("gamma", gamma), ("beta", beta)) + tuple(more):
        if a is not None and tuple(a.shape) != (c,):
            raise ValueError(
                f"{kernel}: {name} has shape {tuple(a.shape)} but x has shape "
                f"{tuple(x.shape)}; {name} needs one value per channel, shape ({c},)."
            )
    return c, (x.size // c if c else 0)


def pad_geometry(kernel, shape, pad, mode):
    """Check ``pad`` (torch.nn.functional.pad's format) for an input shape.

    Returns
    -------
    mode : str
    pairs : list of (before, after) for every axis of the input (0, 0 for
        unpadded leading axes).
    out_shape : tuple
    """
    if mode not in PAD_MODES:
        raise ValueError(f"{kernel}: mode must be one of {PAD_MODES}; got {mode!r}.")
    try:
        pad = tuple(operator.index(v) for v in pad)
    except TypeError:
        raise ValueError(f"{kernel}: pad must be a sequence of ints; got {pad!r}.") from None
    ndim = len(shape)
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(
            f"{kernel}: pad must hold pairs (before, after) for at most {ndim} "
            f"trailing axes; got {pad} for an input of shape {tuple(shape)}."
        )
    k = len(pad) // 2
    if mode != "constant":
        d = spatial_rank(kernel, shape)
        if k != d:
            raise ValueError(
                f"{kernel}: {mode} padding of a {len(shape)}-D input (N, C, *spatial) "
                f"needs {2 * d} pad values (the spatial axes); got {pad}."
            )
        if any(v < 0 for v in pad):
            raise ValueError(
                f"{kernel}: negative pads crop and are supported in constant mode "
                f"only; got {pad} with mode={mode!r}."
            )
    pairs = [(0, 0)] * (ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]
    out_shape = []
    for axis, (n, (before, after)) in enumerate(zip(shape, pairs)):
        if mode == "reflect" and (before >= n or after >= n) and (before or after):
            raise ValueError(
                f"{kernel}: reflect padding {(before, after)} of axis {axis} must be "
                f"smaller than its size {n} (input shape {tuple(shape)})."
            )
        if mode == "circular" and (before > n or after > n):
            raise ValueError(
                f"{kernel}: circular padding {(before, after)} of axis {axis} must be "
                f"at most its size {n} (input shape {tuple(shape)})."
            )
        if mode == "replicate" and n == 0 and (before or after):
            raise ValueError(
                f"{kernel}: replicate padding needs a non-empty axis {axis} "
                f"(input shape {tuple(shape)})."
            )
        size = n + before + after
        if size < 0 or (size == 0 and n > 0 and (before or after)):
            raise ValueError(
                f"{kernel}: pad {pad} crops axis {axis} of size {n} to {size}; the "
                "output must not be empty."
            )
        out_shape.append(size)
    return mode, pairs, tuple(out_shape)


def pad_source_index(n, before, after, mode):
    """For one padded axis: the input index that each output index reads."""
    j = np.arange(-before, n + after)
    if mode == "reflect":
        period = 2 * (n - 1) if n > 1 else 1
        j = np.abs(j) % period
        j = np.where(j >= n, period - j, j)
    elif mode == "replicate":
        j = np.clip(j, 0, n - 1)
    else:  # circular
        j = j % n
    return j


def upsample_factors(kernel, shape, scale_factor):
    d = spatial_rank(kernel, shape)
    return as_tuple(kernel, "scale_factor", scale_factor, d, 1)
