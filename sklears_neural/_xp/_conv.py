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

The argument checks (``conv_geometry``, ``transpose_geometry``,
``check_float_dtype``) are shared with the Cython kernels so both raise the
same ``ValueError`` messages.
"""

import itertools
import math
import operator

from sklears_neural.backend import get_array_module

__all__ = [
    "col2im",
    "conv_backward",
    "conv_forward",
    "conv_transpose_backward",
    "conv_transpose_forward",
    "im2col",
]


# ---------------------------------------------------------------------------
# Argument checks (shared with the Cython kernels)
# ---------------------------------------------------------------------------

def check_float_dtype(kernel, *named):
    """Return the one float dtype (float32 or float64) of the named arrays.

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    *named : (str, array or None)
        None entries are skipped.

    Raises
    ------
    ValueError
        If an array is not float32/float64 or two arrays differ in dtype.
    """
    found_name = found = None
    for name, a in named:
        if a is None:
            continue
        dt = getattr(a, "dtype", None)
        if dt is None or dt.kind != "f" or dt.itemsize not in (4, 8):
            raise ValueError(
                f"{kernel}: {name} has dtype {dt}; the kernels take float32 or "
                "float64 arrays only."
            )
        if found is None:
            found_name, found = name, dt
        elif dt != found:
            raise ValueError(
                f"{kernel}: {found_name} has dtype {found} but {name} has dtype "
                f"{dt}; float32 and float64 are never mixed silently. Cast one of "
                "them (e.g. with .astype) first."
            )
    return found


def _spatial_rank(kernel, name, shape):
    if len(shape) not in (3, 4, 5):
        raise ValueError(
            f"{kernel}: {name} must be 3-D, 4-D or 5-D (N, C, *spatial) for a "
            f"1-D, 2-D or 3-D convolution; got shape {tuple(shape)}."
        )
    return len(shape) - 2


def _tuple(kernel, name, value, d, minimum):
    """``value`` (an int or d ints) as a tuple of d Python ints >= minimum."""
    try:
        if isinstance(value, bool):
            raise TypeError
        values = (operator.index(value),) * d
    except TypeError:
        try:
            values = tuple(operator.index(v) for v in value)
        except TypeError:
            raise ValueError(
                f"{kernel}: {name} must be an int or a tuple of {d} ints; "
                f"got {value!r}."
            ) from None
    if len(values) != d:
        raise ValueError(
            f"{kernel}: {name} must have {d} entries for a {d}-D convolution; "
            f"got {value!r}."
        )
    if any(v < minimum for v in values):
        raise ValueError(f"{kernel}: {name} must be >= {minimum}; got {value!r}.")
    return values


def _groups(kernel, groups):
    try:
        if isinstance(groups, bool):
            raise TypeError
        groups = operator.index(groups)
    except TypeError:
        raise ValueError(f"{kernel}: groups must be an int; got {groups!r}.") from None
    if groups < 1:
        raise ValueError(f"{kernel}: groups must be >= 1; got {groups}.")
    return groups


def _out_sizes(kernel, in_shape, k_shape, stride, padding, dilation):
    out = []
    for s, k, st, p, dl in zip(in_shape, k_shape, stride, padding, dilation):
        span = dl * (k - 1) + 1
        if span > s + 2 * p:
            raise ValueError(
                f"{kernel}: the (dilated) kernel {tuple(k_shape)} with dilation "
                f"{tuple(dilation)} spans {span} but the padded input is "
                f"{s + 2 * p} (input spatial shape {tuple(in_shape)}, padding "
                f"{tuple(padding)}); the kernel must fit in the padded input."
            )
        out.append((s + 2 * p - span) // st + 1)
    return tuple(out)


def conv_geometry(kernel, x_shape, w_shape, b_shape, stride, padding, dilation, groups):
    """Check a convolution's arguments and return its geometry.

    Returns
    -------
    dict
        ``d, n, c_in, c_out, groups, spatial, kernel, out, stride, padding,
        dilation`` (tuples of Python ints).
    """
    d = _spatial_rank(kernel, "x", x_shape)
    if len(w_shape) != d + 2:
        raise ValueError(
            f"{kernel}: x has shape {tuple(x_shape)} but weight has shape "
            f"{tuple(w_shape)}; weight must be {d + 2}-D (C_out, C_in // groups, "
            f"*kernel) for a {d}-D convolution."
        )
    stride = _tuple(kernel, "stride", stride, d, 1)
    padding = _tuple(kernel, "padding", padding, d, 0)
    dilation = _tuple(kernel, "dilation", dilation, d, 1)
    groups = _groups(kernel, groups)
    n, c_in = x_shape[0], x_shape[1]
    c_out = w_shape[0]
    if c_in % groups:
        raise ValueError(
            f"{kernel}: groups={groups} does not divide the {c_in} input channels "
            f"of x (shape {tuple(x_shape)})."
        )
    if c_out % groups:
        raise ValueError(
            f"{kernel}: groups={groups} does not divide the {c_out} output channels "
            f"of weight (shape {tuple(w_shape)})."
        )
    if w_shape[1] * groups != c_in:
        raise ValueError(
            f"{kernel}: x has shape {tuple(x_shape)} but weight has shape "
            f"{tuple(w_shape)}; with groups={groups}, weight.shape[1] * groups "
            f"must equal the {c_in} input channels x.shape[1]."
        )
    if b_shape is not None and tuple(b_shape) != (c_out,):
        raise ValueError(
            f"{kernel}: bias has shape {tuple(b_shape)} but weight has shape "
            f"{tuple(w_shape)}; bias must have shape ({c_out},)."
        )
    spatial = tuple(x_shape[2:])
    k = tuple(w_shape[2:])
    if any(v < 1 for v in k):
        raise ValueError(f"{kernel}: weight has shape {tuple(w_shape)}; kernel sizes "
                         "must be >= 1.")
    out = _out_sizes(kernel, spatial, k, stride, padding, dilation)
    return dict(d=d, n=n, c_in=c_in, c_out=c_out, groups=groups, spatial=spatial,
                kernel=k, out=out, stride=stride, padding=padding, dilation=dilation)


def transpose_geometry(kernel, x_shape, w_shape, b_shape, stride, padding,
                       output_padding, dilation, groups):
    """Check a transposed convolution's arguments and return its geometry.

    The geometry is that of the underlying convolution (the adjoint): its
    input is the transposed conv's output (``spatial``, ``c_in`` = C_out of
    the transposed conv) and its output is the transposed conv's input
    (``out``, ``c_out`` = C_in of the transposed conv).
    """
    d = _spatial_rank(kernel, "x", x_shape)
    if len(w_shape) != d + 2:
        raise ValueError(
            f"{kernel}: x has shape {tuple(x_shape)} but weight has shape "
            f"{tuple(w_shape)}; weight must be {d + 2}-D (C_in, C_out // groups, "
            f"*kernel) for a {d}-D transposed convolution."
        )
    stride = _tuple(kernel, "stride", stride, d, 1)
    padding = _tuple(kernel, "padding", padding, d, 0)
    output_padding = _tuple(kernel, "output_padding", output_padding, d, 0)
    dilation = _tuple(kernel, "dilation", dilation, d, 1)
    groups = _groups(kernel, groups)
    n, c_in = x_shape[0], x_shape[1]
    if w_shape[0] != c_in:
        raise ValueError(
            f"{kernel}: x has shape {tuple(x_shape)} but weight has shape "
            f"{tuple(w_shape)}; weight.shape[0] must equal the {c_in} input "
            "channels x.shape[1]."
        )
    if c_in % groups:
        raise ValueError(
            f"{kernel}: groups={groups} does not divide the {c_in} input channels "
            f"of x (shape {tuple(x_shape)})."
        )
    c_out = w_shape[1] * groups
    if b_shape is not None and tuple(b_shape) != (c_out,):
        raise ValueError(
            f"{kernel}: bias has shape {tuple(b_shape)} but the output has {c_out} "
            f"channels (weight shape {tuple(w_shape)}, groups={groups}); bias must "
            f"have shape ({c_out},)."
        )
    for op, st, dl in zip(output_padding, stride, dilation):
        if op >= max(st, dl):
            raise ValueError(
                f"{kernel}: output_padding {output_padding} must be smaller than "
                f"stride {stride} or dilation {dilation} in every dimension."
            )
    k = tuple(w_shape[2:])
    if any(v < 1 for v in k):
        raise ValueError(f"{kernel}: weight has shape {tuple(w_shape)}; kernel sizes "
                         "must be >= 1.")
    s_in = tuple(x_shape[2:])
    spatial = tuple(
        (s - 1) * st - 2 * p + dl * (kk - 1) + op + 1
        for s, st, p, dl, kk, op in zip(s_in, stride, padding, dilation, k, output_padding)
    )
    if any(v < 1 for v in spatial):
        raise ValueError(
            f"{kernel}: x has shape {tuple(x_shape)}, weight {tuple(w_shape)}, "
            f"padding {padding}: the output spatial shape {spatial} is empty."
        )
    return dict(d=d, n=n, c_in=c_out, c_out=c_in, groups=groups, spatial=spatial,
                kernel=k, out=s_in, stride=stride, padding=padding, dilation=dilation,
                output_padding=output_padding)


def check_grad_shape(kernel, grad_y, expected):
    """Raise unless ``grad_y`` has the forward output's shape."""
    if tuple(grad_y.shape) != tuple(expected):
        raise ValueError(
            f"{kernel}: grad_y has shape {tuple(grad_y.shape)} but the forward "
            f"output has shape {tuple(expected)}; they must be equal."
        )


def im2col_geometry(kernel, shape, kernel_size, stride, padding, dilation):
    """Check im2col/col2im arguments; return (d, kernel, out, stride, padding,
    dilation)."""
    d = _spatial_rank(kernel, "the input", shape)
    k = _tuple(kernel, "kernel_size", kernel_size, d, 1)
    stride = _tuple(kernel, "stride", stride, d, 1)
    padding = _tuple(kernel, "padding", padding, d, 0)
    dilation = _tuple(kernel, "dilation", dilation, d, 1)
    out = _out_sizes(kernel, tuple(shape[2:]), k, stride, padding, dilation)
    return d, k, out, stride, padding, dilation


# ---------------------------------------------------------------------------
# im2col / col2im with an explicit number of windows per dimension
# ---------------------------------------------------------------------------

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
    xp = get_array_module(x)
    check_float_dtype(kernel, ("x", x), ("weight", weight), ("bias", bias))
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
    xp = get_array_module(grad_y, x)
    check_float_dtype(kernel, ("grad_y", grad_y), ("x", x), ("weight", weight))
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
    xp = get_array_module(x)
    check_float_dtype(kernel, ("x", x), ("weight", weight), ("bias", bias))
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
    xp = get_array_module(grad_y, x)
    check_float_dtype(kernel, ("grad_y", grad_y), ("x", x), ("weight", weight))
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
    xp = get_array_module(x)
    check_float_dtype("im2col", ("x", x))
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
    xp = get_array_module(cols)
    check_float_dtype(kernel, ("cols", cols))
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
