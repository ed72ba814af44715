"""Variable-length sequences: padded once, trimmed per batch.

A ``SequenceDataset`` stores every sequence zero-padded to the longest one,
time-major per sample, ``values`` of shape (n, T_max, F), with their
``lengths``. A batch's input is ``Padded(values, lengths)`` with ``values``
trimmed to the longest sequence of that batch, so a batch of short sequences
does not pay for the longest one in the data.
"""

from collections import namedtuple

import numpy as np

from sklears_neural.data._dataset import Dataset, _as_rows, _check_rows, _item

__all__ = ["LAYOUTS", "Padded", "SequenceDataset", "pad_sequences"]

LAYOUTS = ("NTC", "NCT")

Padded = namedtuple("Padded", ["values", "lengths"])
Padded.__doc__ = """A batch of zero-padded sequences.

A model receives it unpacked, ``module(values, lengths)``. The fields are
read back as attributes of the same names.

Parameters
----------
values : ndarray of shape (batch, T, F)
    Zero padded after each sequence's end; T is the batch's longest length.
lengths : ndarray of int64 of shape (batch,)
    The number of valid steps of each sequence.
"""


def _form(layout):
    return "(T_i, F)" if layout == "NTC" else "(F, T_i)"


def _read_list(sequences, layout):
    """Each sequence as a (T_i, F) array, with errors that name ``X[i]``."""
    out = []
    for i, seq in enumerate(sequences):
        try:
            seq = np.asarray(seq)
        except ValueError:
            raise ValueError(f"X[{i}] is ragged; each sequence must be a {_form(layout)} array "
                             "(or 1-D for one feature).") from None
        if seq.ndim not in (1, 2):
            raise ValueError(f"X[{i}] has shape {seq.shape} (ndim {seq.ndim}); each sequence "
                             f"must be a {_form(layout)} array (or 1-D for one feature) with "
                             f"layout='{layout}'.")
        if seq.dtype.kind not in "biuf":
            raise ValueError(f"X[{i}] must hold numbers; got dtype {seq.dtype}.")
        seq = seq.reshape(-1, 1) if seq.ndim == 1 else (seq if layout == "NTC" else seq.T)
        if seq.shape[0] == 0:
            raise ValueError(f"X[{i}] has 0 time steps (shape {np.shape(sequences[i])}); every "
                             "sequence needs at least one.")
        out.append(seq)
    widths = sorted({seq.shape[1] for seq in out})
    if len(widths) > 1:
        raise ValueError(_mismatch_message(sequences, widths, layout))
    return out


def _mismatch_message(sequences, widths, layout):
    shapes = [np.shape(seq) for seq in sequences]
    other = "NCT" if layout == "NTC" else "NTC"
    hint = ""
    if all(len(s) == 2 for s in shapes):
        other_widths = {s[0] if layout == "NTC" else s[1] for s in shapes}
        if len(other_widths) == 1:
            hint = f" They agree when read as {_form(other)}: pass layout='{other}'."
    more = ", ..." if len(shapes) > 4 else ""
    return (f"The sequences have different numbers of features ({widths}) when read as "
            f"{_form(layout)} with layout='{layout}' (shapes "
            f"{', '.join(map(str, shapes[:4]))}{more}).{hint}")


def pad_sequences(sequences, dtype=None):
    """Zero-pad a list of (T_i, F) sequences into one (n, T_max, F) array.

    Parameters
    ----------
    sequences : list of array-like
        Each of shape (T_i, F), or (T_i,) for one feature; T_i >= 1.
    dtype : dtype, default=None
        Dtype of ``values``; None takes the sequences' common dtype.

    Returns
    -------
    values : ndarray of shape (n, T_max, F)
        ``values[i, :lengths[i]]`` is sequence i, zeros after it.
    lengths : ndarray of int64 of shape (n,)
        The length T_i of each sequence.

    Raises
    ------
    ValueError
        If there is no sequence, or a sequence is empty, ragged, not numeric or
        of another number of features.

    Examples
    --------
    >>> values, lengths = pad_sequences([[1.0, 2.0, 3.0], [4.0]])
    >>> values[..., 0]
    array([[1., 2., 3.],
           [4., 0., 0.]])
    >>> lengths
    array([3, 1])
    """
    if len(sequences) == 0:
        raise ValueError("pad_sequences needs at least one sequence; got none.")
    seqs = _read_list(sequences, "NTC")
    return _pad(seqs, dtype)


def _pad(seqs, dtype):
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if dtype is None:
        dtype = np.result_type(*(s.dtype for s in seqs))
    values = np.zeros((len(seqs), int(lengths.max()), seqs[0].shape[1]), dtype=dtype)
    for i, seq in enumerate(seqs):
        values[i, :len(seq)] = seq
    return values, lengths


class SequenceDataset(Dataset):
    """Sequences (equal or variable length) with optional targets and weights.

    Parameters
    ----------
    sequences : ndarray of shape (n, T, F) or list of array-like
        A 3-D array, (n, F, T) with ``layout="NCT"``, or a list of (T_i, F)
        arrays ((F, T_i) with ``layout="NCT"``; 1-D means one feature).
    y : array-like, default=None
        Targets, one per sequence.
    sample_weight : array-like, default=None
        Weights, one per sequence.
    layout : {"NTC", "NCT"}, default="NTC"
        How ``sequences`` orders time and features. Stored ``values`` are
        always (n, T_max, F).

    Attributes
    ----------
    values : ndarray of shape (n, T_max, F)
        Zero padded after each sequence's end.
    lengths : ndarray of int64 of shape (n,)
    y, sample_weight : ndarray or None
    layout : str
    n_features : int

    Notes
    -----
    A batch is ``(Padded(values, lengths), y[, sample_weight])`` with
    ``values`` trimmed to the batch's longest sequence.

    Examples
    --------
    >>> ds = SequenceDataset([[1.0, 2.0, 3.0], [4.0], [5.0, 6.0]], y=[0, 1, 0])
    >>> (values, lengths), y = ds.__getitems__(np.array([1, 2]))
    >>> values.shape, lengths
    ((2, 2, 1), array([1, 2]))
    """

    def __init__(self, sequences, y=None, sample_weight=None, layout="NTC"):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be 'NTC' (samples, time steps, features) or 'NCT' "
                             f"(samples, features, time steps); got {layout!r}.")
        values, lengths = self._read(sequences, layout)
        y = _as_rows(y, "y")
        sample_weight = _as_rows(sample_weight, "sample_weight")
        _check_rows(len(lengths), values.shape, y, "y")
        _check_rows(len(lengths), values.shape, sample_weight, "sample_weight")
        self._set(values, lengths, y, sample_weight, layout)

    @classmethod
    def from_padded(cls, values, lengths, y=None, sample_weight=None, layout="NTC"):
        """Return a dataset over already padded time-major values, without copying them.

        Parameters
        ----------
        values : ndarray of shape (n, T, F)
            Sequence ``i`` is ``values[i, :lengths[i]]``; the rest is padding.
        lengths : ndarray of int of shape (n,)
            Steps of each sequence, in [1, T].
        y : array-like of shape (n, ...), default=None
            Targets, one per sequence.
        sample_weight : array-like of shape (n,), default=None
            Weights, one per sequence.
        layout : {"NTC", "NCT"}, default="NTC"
            Recorded as the layout the values came from (they are time-major).

        Returns
        -------
        SequenceDataset
            The dataset, holding ``values`` itself.

        Raises
        ------
        ValueError
            If the shapes do not match or a length is out of [1, T].
        """
        values = np.asarray(values)
        lengths = np.asarray(lengths, dtype=np.int64)
        if values.ndim != 3 or lengths.shape != (values.shape[0],):
            raise ValueError(f"from_padded needs values of shape (n, T, F) and one length per "
                             f"sequence; got {values.shape} and {lengths.shape}.")
        if len(lengths) and (lengths.min() < 1 or lengths.max() > values.shape[1]):
            raise ValueError(f"lengths must lie in [1, {values.shape[1]}]; got values from "
                             f"{lengths.min()} to {lengths.max()}.")
        y = _as_rows(y, "y")
        sample_weight = _as_rows(sample_weight, "sample_weight")
        _check_rows(len(lengths), values.shape, y, "y")
        _check_rows(len(lengths), values.shape, sample_weight, "sample_weight")
        new = cls.__new__(cls)
        new._set(values, lengths, y, sample_weight, layout)
        return new

    @staticmethod
    def _read(sequences, layout):
        if isinstance(sequences, np.ndarray) and sequences.dtype == object \
                and sequences.ndim == 1:
            sequences = list(sequences)
        if isinstance(sequences, (list, tuple)):
            if len(sequences) == 0:
                raise ValueError("sequences is empty; a SequenceDataset needs at least one "
                                 "sequence.")
            return _pad(_read_list(sequences, layout), None)
        X = np.asarray(sequences)
        if X.ndim != 3:
            raise ValueError(f"sequences must be a 3-D array (n, T, F) ((n, F, T) with "
                             f"layout='NCT') or a list of {_form(layout)} sequences; got an "
                             f"array of shape {X.shape}.")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"sequences must hold numbers; got dtype {X.dtype}.")
        values = X if layout == "NTC" else np.ascontiguousarray(X.transpose(0, 2, 1))
        if values.shape[0] == 0:
            raise ValueError("sequences has 0 samples.")
        if values.shape[1] == 0:
            raise ValueError(f"sequences has shape {X.shape}: X[0] has 0 time steps; every "
                             "sequence needs at least one.")
        return values, np.full(values.shape[0], values.shape[1], dtype=np.int64)

    def _set(self, values, lengths, y, sample_weight, layout):
        self.values = values
        self.lengths = lengths
        self.y = y
        self.sample_weight = sample_weight
        self.layout = layout
        self.n_features = int(values.shape[2])

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, i):
        length = self.lengths[i]
        x = Padded(self.values[i, :length], length)
        return _item((x, None if self.y is None else self.y[i],
                      None if self.sample_weight is None else self.sample_weight[i]))

    def __getitems__(self, indices):
        """The batch of sequences ``indices``, padding trimmed to its longest one.

        Parameters
        ----------
        indices : ndarray of int or slice

        Returns
        -------
        batch : tuple
            ``(Padded(values, lengths), y[, sample_weight])``.
        """
        lengths = self.lengths[indices]
        steps = int(lengths.max()) if len(lengths) else 0
        x = Padded(self.values[indices, :steps], lengths)
        return _item((x, None if self.y is None else self.y[indices],
                      None if self.sample_weight is None else self.sample_weight[indices]))

    def subset(self, indices):
        """Return a new ``SequenceDataset`` over the sequences ``indices`` (copied).

        Parameters
        ----------
        indices : array-like of int
            The sequences, in order.

        Returns
        -------
        SequenceDataset
            A dataset holding copies of those sequences, padded to the longest of
            them, and of their targets and weights.
        """
        indices = np.asarray(indices, dtype=np.int64)
        lengths = self.lengths[indices]
        steps = int(lengths.max()) if len(lengths) else 0
        new = type(self).__new__(type(self))
        new._set(self.values[indices, :steps], lengths,
                 None if self.y is None else self.y[indices],
                 None if self.sample_weight is None else self.sample_weight[indices],
                 self.layout)
        return new
