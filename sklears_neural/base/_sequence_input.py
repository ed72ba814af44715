"""Read every sequence input form into padded (n, T, F) values and lengths.

Shared by the estimators that take sequences: the recurrent and Transformer
ones (``sklears_neural.rnn``) and, for lists of variable-length series,
``CNN1DClassifier`` / ``CNN1DRegressor``.

The sequence estimators take a 3-D array (n, T, F) — or (n, F, T) with
``layout="NCT"``, aeon/sktime's convention —, flat rows (n, T*F) with
``input_shape``, or a list of variable-length sequences. Every form becomes
time-major values zero-padded to the longest sequence plus the length of
each, which a ``SequenceDataset`` holds and batches; the network masks the
padding with the lengths.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_X_y, column_or_1d

from sklears_neural.base._shapes import as_shape_spec, fill_shape
from sklears_neural.data import SequenceDataset

__all__ = ["LAYOUTS", "SCALES", "channel_statistics", "check_layout", "check_sample_shape",
           "check_scale", "check_sequence_targets", "flat_to_values", "read_sequences",
           "resolve_input_shape", "scale_values", "scale_values_backward",
           "to_input_form", "to_training_dtype"]

LAYOUTS = ("NTC", "NCT")
SCALES = (None, "series", "channel")


def check_layout(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'NTC' (samples, time steps, features) or 'NCT' "
                         f"(samples, features, time steps; aeon/sktime's); got {layout!r}.")


def _sequence_form(layout):
    return "(T_i, F)" if layout == "NTC" else "(F, T_i)"


def read_sequences(X, layout):
    """Padded (n, T, F) values and lengths for 3-D arrays and lists of sequences.

    Returns None for anything else (flat rows, frames, sparse matrices),
    which scikit-learn's validation reads as a 2-D table. A ``SequenceDataset``
    gives its values and lengths as they are (already time-major).
    """
    if isinstance(X, SequenceDataset):
        return X.values, X.lengths
    if isinstance(X, np.ndarray):
        if X.dtype == object and X.ndim == 1 and X.size and not np.isscalar(X.flat[0]):
            raise ValueError(
                "X is a 1-D object array of sequences (a ragged array). Pass variable-length "
                f"sequences as a Python list of {_sequence_form(layout)} arrays; they are "
                "padded and masked internally.")
        if X.ndim == 3:
            return _from_array(X, layout)
        if X.ndim > 3:
            raise ValueError(f"X has {X.ndim} dimensions; expected (n, T, F), (n, F, T) with "
                             "layout='NCT', flat (n, T*F) rows, or a list of sequences.")
        return None
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return None
    try:
        array = np.asarray(X)
    except ValueError:  # ragged: numpy refuses to stack the sequences
        return _from_list(X, layout)
    if array.dtype == object and array.ndim == 1:
        return _from_list(X, layout)
    return _from_array(array, layout) if array.ndim == 3 else None


def _check_finite(values, where):
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{where} must hold numbers; got dtype {values.dtype}.")
    if not np.isfinite(values).all():
        raise ValueError(f"{where} contains NaN or infinity. Sequence values must be finite; "
                         "for variable-length sequences pass a list of arrays instead of "
                         "NaN padding.")


def _from_array(X, layout):
    if X.dtype == object:
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("X must hold numbers; got an object array that does not convert "
                             "to float.") from None
    _check_finite(X, "X")
    values = X if layout == "NTC" else X.transpose(0, 2, 1)
    n, steps, features = values.shape
    if n == 0:
        raise ValueError("X has 0 samples.")
    if steps == 0:
        raise ValueError(f"X has shape {X.shape}: its sequences have 0 time steps.")
    if features == 0:
        raise ValueError(f"X has shape {X.shape}: its sequences have 0 features.")
    return values, np.full(n, steps, dtype=np.int64)


def _from_list(X, layout):
    """Padded values and lengths of a list of sequences (read by the data layer)."""
    data = SequenceDataset(X, layout=layout)
    values = data.values
    if values.dtype.kind not in "biuf":
        raise ValueError(f"X must hold numbers; got dtype {values.dtype}.")
    finite = np.isfinite(values).all(axis=(1, 2))
    if not finite.all():
        _check_finite(np.asarray(X[int(np.argmin(finite))]), f"X[{int(np.argmin(finite))}]")
    return values, data.lengths


def resolve_input_shape(input_shape, n_features, layout):
    """(T, F) of flat rows with ``n_features`` values, from ``input_shape`` in ``layout`` order."""
    if input_shape is None:
        return n_features, 1  # a flat row is one univariate series
    form = "(T, F)" if layout == "NTC" else "(F, T)"
    shape = as_shape_spec(input_shape, (2,))
    if shape is None:
        raise ValueError(f"input_shape must be a pair {form} of positive ints (one may be -1, "
                         f"inferred) for layout='{layout}'; got {input_shape!r}.")
    shape = fill_shape(shape, n_features, input_shape)
    steps, features = shape if layout == "NTC" else shape[::-1]
    return steps, features


def check_sample_shape(values, input_shape, layout):
    """A 3-D X must agree with an explicit ``input_shape`` and look like ``layout``."""
    n, steps, features = values.shape
    seen = (steps, features) if layout == "NTC" else (features, steps)
    if input_shape is not None:
        expected = resolve_input_shape(input_shape, steps * features, layout)
        if expected != (steps, features):
            flipped = " (its reverse: check layout)" if tuple(input_shape) == seen[::-1] else ""
            raise ValueError(f"input_shape={tuple(input_shape)!r} contradicts X, whose samples "
                             f"have shape {seen} with layout='{layout}'{flipped}.")
        return
    if steps == 1 and features > 1:
        other = "NCT" if layout == "NTC" else "NTC"
        raise ValueError(
            f"With layout='{layout}', X's samples of shape {seen} are sequences of 1 time step "
            f"with {features} features, which looks like the other layout: pass "
            f"layout='{other}' (aeon/sktime return (n, channels, length), i.e. 'NCT'), or "
            f"input_shape={seen} to confirm one step.")


def to_training_dtype(values, dtype):
    """``values`` cast to the training dtype; values beyond its range are an error."""
    cast = values.astype(dtype, copy=False)
    if cast is not values and not np.isfinite(cast).all():
        big = float(np.abs(values).max())
        raise ValueError(f"X has values up to {big:.3g}, beyond the range of {np.dtype(dtype)} "
                         "(the training dtype): scale X (e.g. StandardScaler) or pass "
                         "dtype='float64'.")
    return cast


def flat_to_values(X, steps, features, layout):
    """(n, T, F) view of validated flat rows."""
    if sp.issparse(X):
        raise TypeError("Sparse data was passed for X, but dense data is required: sequence "
                        "models read every time step (use X.toarray()).")
    n = X.shape[0]
    if layout == "NTC":
        return X.reshape(n, steps, features)
    return X.reshape(n, features, steps).transpose(0, 2, 1)


def check_sequence_targets(estimator, values, y, reset):
    """scikit-learn's checks of y (and the dtype of X) for padded sequence values.

    Sets ``n_features_in_`` (the padded values' flat width) when ``reset``.
    Returns the values and the checked y.
    """
    flat = values.reshape(values.shape[0], -1)
    flat, y = check_X_y(flat, y, dtype="numeric", multi_output=True,
                        y_numeric=not estimator._is_classifier(), ensure_all_finite=False)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)  # scikit-learn's DataConversionWarning
    if reset:
        estimator.n_features_in_ = flat.shape[1]
        estimator.__dict__.pop("feature_names_in_", None)
    return flat.reshape(values.shape), y


def check_scale(scale):
    if not (scale is None or (isinstance(scale, str) and scale in SCALES)):
        raise ValueError(f"scale must be None (the values as given), 'series' (each series "
                         f"standardised over its own steps) or 'channel' (each feature "
                         f"standardised with the training set's mean and std); got {scale!r}.")


def _valid_steps(values, lengths):
    """(n, T, 1) of 1.0 at each sequence's valid steps, 0.0 at its padding."""
    return (np.arange(values.shape[1]) < lengths[:, None])[:, :, None].astype(np.float64)


def _moments(values, valid, count, axis):
    """Mean and std over the valid steps (``axis``); the std of a feature that is
    constant up to rounding is 1 (centred, not divided by noise), by scikit-learn's
    test for constant features."""
    mean = (values * valid).sum(axis=axis, keepdims=True) / count
    variance = (((values - mean) * valid) ** 2).sum(axis=axis, keepdims=True) / count
    eps = np.finfo(np.float64).eps
    constant = variance <= count * eps * variance + (count * mean * eps) ** 2
    return mean, np.where(constant, 1.0, np.sqrt(variance)), constant


def channel_statistics(values, lengths):
    """Mean and std of each feature over the valid steps of every sequence: (F,), (F,)."""
    valid = _valid_steps(values, lengths)
    mean, std, _ = _moments(np.asarray(values, dtype=np.float64), valid, valid.sum(),
                            axis=(0, 1))
    return mean.reshape(-1), std.reshape(-1)


def _series_moments(values, lengths, valid):
    """Each sequence's per-feature mean, std and constancy, and its step count."""
    count = np.maximum(lengths, 1)[:, None, None]
    return _moments(values, valid, count, axis=1), count


def scale_values(values, lengths, scale, statistics=None):
    """A standardised copy of padded (n, T, F) ``values`` (float64); padding stays 0.

    ``scale="series"`` centres and scales each feature of each sequence by its
    own valid steps; ``"channel"`` by ``statistics``, the training set's
    ``channel_statistics``. None returns ``values`` as they are.
    """
    if scale is None:
        return values
    valid = _valid_steps(values, lengths)
    values = np.asarray(values, dtype=np.float64)
    if scale == "series":
        (mean, std, _), _ = _series_moments(values, lengths, valid)
    else:
        mean, std = statistics
    return (values - mean) / std * valid


def scale_values_backward(grad, values, lengths, scale, statistics=None):
    """The gradient with respect to ``values`` of ``scale_values``' output, given ``grad``.

    For "series", the z-normalisation's own backward: with z the scaled
    values and s the std of each feature of a sequence over its valid steps,
    ``(grad - mean(grad) - z * mean(grad * z)) / s`` (a constant feature, s
    taken as 1: ``grad - mean(grad)``).
    """
    if scale is None:
        return grad
    valid = _valid_steps(values, lengths)
    if scale == "channel":
        return grad / statistics[1] * valid
    values = np.asarray(values, dtype=np.float64)
    (mean, std, constant), count = _series_moments(values, lengths, valid)
    z = (values - mean) / std * valid * ~constant
    grad = grad * valid
    grad_mean = grad.sum(axis=1, keepdims=True) / count
    z_mean = (grad * z).sum(axis=1, keepdims=True) / count
    return (grad - grad_mean - z * z_mean) / std * valid


def to_input_form(grad, X, lengths, layout, flat):
    """An array over padded (n, T, F) values (a gradient) in the form X was given.

    Flat (n, T*F) rows ordered as ``layout`` reads them when ``flat``; else
    the values themselves for a ``SequenceDataset``, a list of each
    sequence's valid steps for a list, a 3-D array in ``layout`` otherwise.
    """
    if isinstance(X, SequenceDataset):
        return grad
    in_layout = grad if layout == "NTC" else grad.transpose(0, 2, 1)
    if flat:
        return in_layout.reshape(len(grad), -1)
    if isinstance(X, (list, tuple)):
        series = [grad[i, :length] for i, length in enumerate(lengths)]
        # each in its own form: (T_i, F), (F, T_i) or a univariate (T_i,)
        return [(steps if layout == "NTC" else steps.T).reshape(np.shape(X[i]))
                for i, steps in enumerate(series)]
    return in_layout
