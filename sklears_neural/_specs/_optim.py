"""Argument checks of the optimizer steps, shared by both twins.

A step updates ``param`` and its state arrays in place, so those must be
writeable arrays of one float dtype (float32 or float64) and of ``param``'s
shape; ``grad`` follows ``float_dtype``'s rule (an integer gradient takes
``param``'s dtype, a float one of the other precision is refused).
"""

import numpy as np

from sklears_neural._specs._arrays import check_writeable, float_dtype

__all__ = ["check_step", "momentum_state", "step_states"]


def step_states(kernel, *entries):
    """The states a step uses, raising for one it needs but did not get.

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    *entries : (str, array or None, reason)
        ``(name, array, reason)``: with a reason (what needs the state: a
        string such as ``"Adam"`` or ``"centered=True"``, or an
        ``(option, value)`` pair, written ``option=value`` in the message),
        the state is used and must not be None; with ``reason=None`` it is
        unused and dropped (whatever was passed).

    Returns
    -------
    list of (str, array or None)
        The states in the order given, None where unused.
    """
    states = []
    for name, a, reason in entries:
        if reason is None:
            a = None
        elif a is None:
            if not isinstance(reason, str):
                reason = "{}={!r}".format(*reason)
            raise ValueError(
                f"{kernel}: {name} is None, but {reason} needs it; pass an array of "
                "param's shape (zeros before the first step)."
            )
        states.append((name, a))
    return states


def momentum_state(buffer, momentum):
    """The ``step_states`` entry of a momentum buffer: used when ``momentum != 0``."""
    return ("momentum_buffer", buffer, ("momentum", float(momentum)) if momentum else None)


def _check_shape(kernel, name, shape, param):
    if tuple(shape) != tuple(param.shape):
        raise ValueError(
            f"{kernel}: param has shape {tuple(param.shape)} but {name} has shape "
            f"{tuple(shape)}; they must be equal."
        )


def check_step(kernel, param, grad, states):
    """Check a step's arrays; return their float dtype.

    Parameters
    ----------
    kernel : str
        Kernel name, for messages.
    param : array
        Updated in place: a writeable float32 or float64 array.
    grad : array-like
        Any numeric array of param's shape (cast to param's dtype).
    states : list of (str, array or None)
        From ``step_states``; the arrays are updated in place and must have
        param's dtype and shape.

    Returns
    -------
    numpy.dtype
        param's dtype.
    """
    check_writeable(kernel, "param", param)
    named = [("param", param), ("grad", grad)]
    named += [(name, a) for name, a in states if a is not None]
    dtype = float_dtype(kernel, *named)
    if param.dtype != dtype:
        raise ValueError(
            f"{kernel}: param has dtype {param.dtype}; it must be float32 or float64."
        )
    _check_shape(kernel, "grad", np.shape(grad), param)
    for name, a in states:
        if a is None:
            continue
        check_writeable(kernel, name, a)
        if a.dtype != dtype:
            raise ValueError(
                f"{kernel}: {name} has dtype {a.dtype} but param has dtype {dtype}."
            )
        _check_shape(kernel, name, a.shape, param)
    return dtype
