"""Argument checks and workspace layout of the recurrent kernels, shared by both twins."""

import numpy as np

from sklears_neural._specs._arrays import float_dtype
from sklears_neural.backend import to_numpy

N_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
NONLINEARITIES = ("tanh", "relu")


# ---------------------------------------------------------------------------
# Argument checks (shared with the Cython kernels)
# ---------------------------------------------------------------------------

def _shape(a):
    return tuple(int(s) for s in a.shape)


def check_nonlinearity(kernel, nonlinearity):
    """Raise unless ``nonlinearity`` is "tanh" or "relu"."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"{kernel}: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}."
        )


def check_lengths(kernel, lengths, T, N, x_shape):
    """Return ``lengths`` as a numpy int64 array (N,) with values in [1, T].

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    lengths : None or integer array-like (numpy or cupy)
    T, N : int
        Sequence length and batch size of ``x``.
    x_shape : tuple
        For messages.

    Returns
    -------
    None or numpy.ndarray of int64
        None when every sequence has the full length T (``lengths`` None).
    """
    if lengths is None:
        return None
    lens = to_numpy(lengths)
    if lens.dtype.kind not in "iu":
        raise ValueError(
            f"{kernel}: lengths must be an integer array; got dtype {lens.dtype}."
        )
    if lens.shape != (N,):
        raise ValueError(
            f"{kernel}: lengths has shape {lens.shape} but x has shape {x_shape}; "
            f"lengths needs one entry per sequence, shape ({N},)."
        )
    lens = np.ascontiguousarray(lens, dtype=np.int64)
    if lens.size and (lens.min() < 1 or lens.max() > T):
        raise ValueError(
            f"{kernel}: lengths must lie in [1, T] = [1, {T}] for x of shape "
            f"{x_shape}; got values from {int(lens.min())} to {int(lens.max())}."
        )
    return lens


def _check_shape(kernel, name, a, expected, ref_name, ref_shape, what):
    if a is not None and _shape(a) != expected:
        raise ValueError(
            f"{kernel}: {name} has shape {_shape(a)} but {ref_name} has shape "
            f"{ref_shape}; {name} must have shape {expected} ({what})."
        )


def rnn_arguments(kernel, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths):
    """Check a recurrent kernel's arguments and return its sizes.

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    mode : {"lstm", "gru", "rnn"}
    x, h0, c0, w_ih, w_hh, b_ih, b_hh : arrays (h0, c0, biases may be None)
        ``c0`` is None for the GRU and the RNN. Their one float dtype
        follows ``float_dtype`` (integer arrays take it).
    lengths : None or integer array (N,)

    Returns
    -------
    dict
        ``T, N, F, H, G`` (Python ints; G the number of gates), ``dtype``
        and ``lengths`` (None or a numpy int64 array).
    """
    dtype = float_dtype(kernel, ("x", x), ("h0", h0), ("c0", c0), ("w_ih", w_ih),
                        ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh))
    G = N_GATES[mode]
    xs = _shape(x)
    if len(xs) != 3:
        raise ValueError(
            f"{kernel}: x must be 3-D (T, N, F), time-major; got shape {xs}."
        )
    T, N, F = xs
    if T < 1 or N < 1 or F < 1:
        raise ValueError(
            f"{kernel}: x has shape {xs}; the sequence length T, the batch size N "
            "and the number of features F must all be >= 1."
        )
    ws = _shape(w_ih)
    if len(ws) != 2 or ws[0] % G or ws[0] == 0:
        raise ValueError(
            f"{kernel}: w_ih has shape {ws}; it must be 2-D ({G} * hidden_size, F) "
            f"with hidden_size >= 1."
        )
    H = ws[0] // G
    if ws[1] != F:
        raise ValueError(
            f"{kernel}: x has shape {xs} (F = {F}) but w_ih has shape {ws} "
            f"({ws[1]} columns); w_ih must have F columns."
        )
    _check_shape(kernel, "w_hh", w_hh, (G * H, H), "w_ih", ws,
                 f"{G} * hidden_size rows, hidden_size = {H} columns")
    _check_shape(kernel, "b_ih", b_ih, (G * H,), "w_ih", ws, "one value per row of w_ih")
    _check_shape(kernel, "b_hh", b_hh, (G * H,), "w_hh", _shape(w_hh),
                 "one value per row of w_hh")
    _check_shape(kernel, "h0", h0, (N, H), "x", xs, f"(N, hidden_size), hidden_size = {H}")
    _check_shape(kernel, "c0", c0, (N, H), "x", xs, f"(N, hidden_size), hidden_size = {H}")
    lens = check_lengths(kernel, lengths, T, N, xs)
    return dict(T=T, N=N, F=F, H=H, G=G, dtype=dtype, lengths=lens)


def rnn_grad_arguments(kernel, d, workspace, shapes, **grads):
    """Check the output gradients and the workspace of a backward call.

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    d : dict
        From ``rnn_arguments``.
    workspace : tuple
        As returned by the forward.
    shapes : tuple of tuples
        The expected shapes of the workspace's arrays.
    **grads : arrays or None
        ``grad_y`` (T, N, H) and the state gradients (N, H); integer ones
        take x's dtype, as in ``float_dtype``.
    """
    float_dtype(kernel, *grads.items())
    for name, g in grads.items():
        if g is None:
            continue
        found = g.dtype
        if found.kind == "f" and found != d["dtype"]:
            raise ValueError(
                f"{kernel}: x has dtype {d['dtype']} but {name} has dtype {found}; "
                "float32 and float64 are never mixed silently."
            )
        if name == "grad_y":
            expected = (d["T"], d["N"], d["H"])
            what = "(T, N, hidden_size), as y"
        else:
            expected = (d["N"], d["H"])
            what = "(N, hidden_size), as the final state"
        _check_shape(kernel, name, g, expected, "x", (d["T"], d["N"], d["F"]), what)
    if not isinstance(workspace, tuple) or len(workspace) != len(shapes):
        raise ValueError(
            f"{kernel}: workspace must be the tuple of {len(shapes)} arrays returned "
            "by the forward; got "
            f"{type(workspace).__name__} of length {len(workspace) if isinstance(workspace, (tuple, list)) else '?'}."
        )
    for i, (a, expected) in enumerate(zip(workspace, shapes)):
        found = _shape(a) if hasattr(a, "shape") else None
        if found != expected or getattr(a, "dtype", None) != d["dtype"]:
            raise ValueError(
                f"{kernel}: workspace[{i}] has shape {found} and dtype "
                f"{getattr(a, 'dtype', None)} but x of shape "
                f"{(d['T'], d['N'], d['F'])} with hidden_size {d['H']} needs shape "
                f"{expected} and dtype {d['dtype']}; pass the workspace returned by "
                "the forward of the same call."
            )


def workspace_shapes(mode, T, N, H):
    """The shapes of the arrays of a forward's workspace."""
    hs = (T + 1, N, H)
    if mode == "lstm":
        return ((T, N, 4 * H), hs, hs)
    if mode == "gru":
        return ((T, N, 3 * H), (T, N, H), hs)
    return (hs,)
