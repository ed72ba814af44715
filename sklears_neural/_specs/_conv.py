"""Shape rules and argument checks of the convolution kernels, shared by both twins."""

import operator


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
