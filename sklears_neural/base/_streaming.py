"""Streamed fits: an ``IterableDataset`` of (X, y[, w]) chunks, checked and encoded on the fly."""

import numpy as np
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.validation import _check_sample_weight

from sklears_neural.backend import check_dtype
from sklears_neural.base._trainer import sample_rows
from sklears_neural.data import IterableDataset, Padded

__all__ = ["EncodedStream"]


class EncodedStream(IterableDataset):
    """The chunks of ``stream`` after the estimator's checks, targets encoded for the loss.

    Parameters
    ----------
    net : BaseNeuralNet
        The estimator being fitted; its ``_check_X_y`` reads every chunk.
    stream : IterableDataset
        Yields ``(X, y)`` or ``(X, y, sample_weight)`` chunks; re-iterable.
    reset : bool
        Whether the first chunk sets ``n_features_in_`` (a new model).
    """

    def __init__(self, net, stream, reset):
        self.net = net
        self.stream = stream
        first = next(iter(stream), None)
        if first is None:
            raise ValueError("The stream given as X yielded no chunk: it has no data.")
        if len(first) < 2:
            raise ValueError("A stream given to fit must yield (X, y) or (X, y, sample_weight) "
                             "chunks; its first chunk has no y.")
        _, self._first_y = net._check_X_y(first[0], first[1], reset=reset)
        self.class_weight_ = None

    def balance_classes(self, classes, targets):
        """Use ``class_weight="balanced"`` computed over the whole stream, not per chunk."""
        weights = compute_class_weight("balanced", classes=classes, y=targets)
        self.class_weight_ = dict(zip(classes, weights))

    def first_targets(self):
        """The targets of the first chunk (enough to know a regressor's outputs)."""
        return self._first_y

    def all_targets(self):
        """Every target of the stream, read in one pass over the targets only."""
        if hasattr(self.stream, "iter_targets"):
            chunks = [np.asarray(y) for y in self.stream.iter_targets()]
        else:
            chunks = [np.asarray(chunk[1]) for chunk in self.stream]
        return np.concatenate(chunks)

    def __iter__(self):
        net = self.net
        dtype = check_dtype(net.dtype)
        for i, chunk in enumerate(self.stream):
            if len(chunk) < 2:
                raise ValueError(f"Chunk {i} of the stream has no y.")
            X, y = net._check_X_y(chunk[0], chunk[1], reset=False)
            net._check_targets(y)
            w = None
            if len(chunk) > 2 and chunk[2] is not None:
                w = _check_sample_weight(chunk[2], sample_rows(X), dtype=dtype,
                                         ensure_non_negative=True)
            w = self._weights(y, w, dtype)
            encoded = net._targets.transform(y, dtype)
            if w is not None and not (w > 0).all():  # as in-memory fits: weight-0 rows go
                keep = np.flatnonzero(w > 0)
                if not len(keep):
                    continue
                X, encoded, w = _take_rows(X, keep), encoded[keep], w[keep]
            yield (X, encoded) if w is None else (X, encoded, w)

    def _weights(self, y, sample_weight, dtype):
        if self.class_weight_ is None:
            return self.net._sample_weights(y, sample_weight)
        weights = compute_sample_weight(self.class_weight_, y).astype(dtype)
        return weights if sample_weight is None else weights * sample_weight


def _take_rows(X, rows):
    """Rows ``rows`` of checked estimator input: an array, a sparse matrix or ``Padded``."""
    if isinstance(X, Padded):
        return Padded(X.values[rows], X.lengths[rows])
    return X[rows]
