"""``input_shape``: how estimators read each flat row of X as an array."""

import math
import numbers

__all__ = ["as_shape_spec", "fill_shape"]


def as_shape_spec(input_shape, lengths):
    """``input_shape`` as a tuple if it has one of ``lengths`` entries, each a
    positive int or -1 (at most one -1); None otherwise."""
    shape = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else None
    ok = (shape is not None and len(shape) in lengths
          and all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                  and (s >= 1 or s == -1) for s in shape)
          and shape.count(-1) <= 1)
    return shape if ok else None


def fill_shape(shape, n_features, given):
    """Infer a -1 entry of ``shape`` from ``n_features`` and check the total.

    ``given`` is the user's ``input_shape``, named in the errors.
    """
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if n_features % known:
            raise ValueError(f"input_shape={given!r} cannot hold the {n_features} features "
                             "of X.")
        shape = tuple(n_features // known if s == -1 else s for s in shape)
    if math.prod(shape) != n_features:
        raise ValueError(f"input_shape={given!r} holds {math.prod(shape)} values per sample "
                         f"but X has {n_features} features.")
    return tuple(int(s) for s in shape)
