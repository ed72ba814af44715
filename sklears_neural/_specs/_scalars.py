"""Checks of scalar parameters (hyperparameters, options), with one wording for every layer.

Each check returns the value or raises an error that names the parameter,
says what is allowed and shows what it got::

    lr must be a real number >= 0; got -0.1.
    betas[0] must be a real number in [0, 1); got 1.0.
    batch_size must be an integer >= 1; got 0.
    mode must be one of 'min', 'max'; got 'minimum'.
    drop_last must be True or False; got 'no'.

Booleans are not numbers here (``True`` is no learning rate), and NaN fails
every real check. A caller that wants its own context puts it in ``name``
(``"normal_: std"``). The errors are ``ValueError``, except ``check_bool``'s,
a ``TypeError`` unless the caller asks otherwise.
"""

import math
import numbers
import operator

import numpy as np

__all__ = ["check_bool", "check_int", "check_option", "check_real", "is_int", "is_real"]

_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def is_int(value):
    """Whether ``value`` is an integer (Python or numpy), a bool not counted."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value):
    """Whether ``value`` is a real number other than NaN, a bool not counted."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and not math.isnan(value))


def check_int(name, value, *, minimum=None):
    """Return ``int(value)``; raise ValueError unless it is an integer ``>= minimum``."""
    if not is_int(value) or (minimum is not None and value < minimum):
        where = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} must be an integer{where}; got {value!r}.")
    return int(value)


def check_real(name, value, *, gt=None, ge=None, lt=None, le=None):
    """Return ``value``; raise ValueError unless it is a real number within the bounds.

    Give at most one lower bound (``gt`` or ``ge``) and one upper bound
    (``lt`` or ``le``); two bounds read as an interval, ``in [0, 1)``.
    """
    bounds = [(op, bound) for op, bound in ((">", gt), (">=", ge), ("<", lt), ("<=", le))
              if bound is not None]
    if is_real(value) and all(_COMPARE[op](value, bound) for op, bound in bounds):
        return value
    if len(bounds) == 2:
        (low_op, low), (high_op, high) = bounds
        where = f" in {'(' if low_op == '>' else '['}{low}, {high}{')' if high_op == '<' else ']'}"
    else:
        where = "".join(f" {op} {bound}" for op, bound in bounds)
    raise ValueError(f"{name} must be a real number{where}; got {value!r}.")


def check_bool(name, value, *, error=TypeError):
    """Return ``bool(value)``; raise ``error`` unless it is a bool (or a numpy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_option(name, value, allowed):
    """Return ``value``; raise ValueError unless it is one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; "
                         f"got {value!r}.")
    return value
