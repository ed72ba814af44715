"""Samplers: the order in which a loader visits rows (PyTorch's names and rules).

Iterating a sampler yields Python ints, as PyTorch's do. Every sampler also
has ``indices()``, the whole epoch's order as one int64 array, which
``BatchSampler`` cuts into slices: an epoch costs one draw, not a Python
loop over rows. A seeded ``generator`` makes the sequence of epochs
reproducible; each epoch draws afresh from it.
"""

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural._specs._scalars import check_bool, check_int

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "StratifiedBatchSampler", "WeightedRandomSampler"]


class Sampler:
    """Base class of samplers.

    A subclass implements ``indices()`` (the epoch's order as an int64
    array) or ``__iter__``; the other one follows.

    Parameters
    ----------
    data_source : sized, default=None
        What is sampled; only its length is used.
    """

    def __init__(self, data_source=None):
        self.data_source = data_source

    def indices(self):
        """Return the whole epoch's order, drawn afresh.

        The base class collects ``__iter__``.

        Returns
        -------
        indices : ndarray of int64
            The row indices, in the order the epoch visits them.

        Raises
        ------
        NotImplementedError
            If the subclass implements neither ``indices`` nor ``__iter__``.
        """
        if type(self).__iter__ is Sampler.__iter__:
            raise NotImplementedError(f"{type(self).__name__} must implement indices() or "
                                      "__iter__.")
        return np.fromiter(iter(self), dtype=np.int64)

    def __iter__(self):
        if type(self).indices is Sampler.indices:
            raise NotImplementedError(f"{type(self).__name__} must implement indices() or "
                                      "__iter__.")
        return iter(self.indices().tolist())


class SequentialSampler(Sampler):
    """Rows in order, ``0, 1, ..., len(data_source) - 1``.

    Parameters
    ----------
    data_source : sized
        What is sampled; only its length is used.
    """

    def indices(self):
        """Return the whole epoch's order, drawn afresh.

        Returns
        -------
        indices : ndarray of int64
            ``0, 1, ..., len(data_source) - 1``.
        """
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Rows in random order, with or without replacement.

    Parameters
    ----------
    data_source : sized
        What is sampled; only its length is used.
    replacement : bool, default=False
        Draw with replacement.
    num_samples : int, default=None
        Rows per epoch; default ``len(data_source)``. Without replacement,
        more than ``len(data_source)`` concatenates permutations.
    generator : numpy.random.Generator, int or None, default=None
        Source of randomness; an int seeds one, None makes a fresh one.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        super().__init__(data_source)
        self.replacement = check_bool("replacement", replacement)
        self._num_samples = num_samples
        self.generator = as_generator(generator)
        check_int("num_samples", self.num_samples, minimum=1)

    @property
    def num_samples(self):
        """Rows per epoch: ``num_samples``, or ``len(data_source)`` when it is None."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def indices(self):
        """Return the whole epoch's order, drawn afresh.

        Returns
        -------
        indices : ndarray of int64
            ``num_samples`` rows in random order (repeats only with ``replacement``,
            or when more rows than ``len(data_source)`` are asked for).
        """
        n, size = len(self.data_source), self.num_samples
        rng = self.generator
        if self.replacement:
            return rng.integers(0, n, size=size, dtype=np.int64)
        reps = -(-size // n)
        order = np.concatenate([rng.permutation(n) for _ in range(reps)]) if reps > 1 \
            else rng.permutation(n)
        return order[:size].astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """Rows drawn with probabilities proportional to ``weights``.

    Parameters
    ----------
    weights : array-like of shape (n,)
        Non-negative, finite, not all zero; need not sum to one.
    num_samples : int
        Rows per epoch.
    replacement : bool, default=True
        Without replacement, a row appears at most once per epoch (so
        ``num_samples`` may not exceed the number of non-zero weights).
    generator : numpy.random.Generator, int or None, default=None
        Source of randomness; an int seeds one, None makes a fresh one.

    Raises
    ------
    ValueError
        If the weights are invalid, or too few are non-zero to draw
        ``num_samples`` rows without replacement.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0:
            raise ValueError(f"weights should be a non-empty 1-D sequence; got shape "
                             f"{weights.shape}.")
        if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError("weights should be finite, non-negative and not all zero.")
        self.weights = weights
        self.num_samples = check_int("num_samples", num_samples, minimum=1)
        self.replacement = check_bool("replacement", replacement)
        self.generator = as_generator(generator)
        nonzero = int(np.count_nonzero(weights))
        if not self.replacement and self.num_samples > nonzero:
            raise ValueError(f"cannot draw num_samples={self.num_samples} rows without "
                             f"replacement from {nonzero} non-zero weights.")
        super().__init__(None)

    def indices(self):
        """Return the whole epoch's order, drawn afresh.

        Returns
        -------
        indices : ndarray of int64
            ``num_samples`` rows drawn with probabilities proportional to ``weights``.
        """
        p = self.weights / self.weights.sum()
        return self.generator.choice(len(p), size=self.num_samples, replace=self.replacement,
                                     p=p).astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Cut another sampler's order into batches of ``batch_size``.

    Parameters
    ----------
    sampler : Sampler or iterable of int
        A sampler with ``indices()`` is drawn once per epoch and sliced.
    batch_size : int
        Rows per batch.
    drop_last : bool
        Drop the last batch if it is smaller than ``batch_size``.

    Yields
    ------
    batch : ndarray of int64
        (PyTorch's yields lists; an array indexes numpy data directly.)
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.drop_last = check_bool("drop_last", drop_last)
        self.sampler = sampler
        super().__init__(None)

    def indices(self):
        """Return the whole epoch's order, drawn afresh.

        Returns
        -------
        indices : ndarray of int64
            The rows of all the epoch's batches, concatenated.
        """
        order = self.sampler.indices() if hasattr(self.sampler, "indices") \
            else np.fromiter(iter(self.sampler), dtype=np.int64)
        if self.drop_last:
            order = order[:len(order) // self.batch_size * self.batch_size]
        return order

    def __iter__(self):
        order = self.indices()
        b = self.batch_size
        for start in range(0, len(order), b):
            yield order[start:start + b]

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _last_batch_size(self):
        """Rows in the last batch (for ``DataLoader.__len__``)."""
        rest = len(self.sampler) % self.batch_size
        return self.batch_size if rest == 0 or self.drop_last else rest


class StratifiedBatchSampler(Sampler):
    """Batches that keep the class proportions of ``labels``.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Class of each row (any values ``np.unique`` sorts).
    batch_size : int
        Rows per batch.
    shuffle : bool, default=True
        Shuffle each class's rows, which batch gets a class's extra row,
        and the order within each batch; False gives a fixed order.
    drop_last : bool, default=False
        Drop the last batch if it is smaller than ``batch_size``.
    generator : numpy.random.Generator, int or None, default=None
        Source of randomness; an int seeds one, None makes a fresh one.

    Yields
    ------
    batch : ndarray of int64
        The rows of one batch.

    Notes
    -----
    With m = n // batch_size full batches and p_c = n_c / n, class c has
    b p_c = q_c + r_c rows per batch in the ideal (q_c its integer part).
    Every full batch gets q_c rows of class c, plus one for R = sum_c r_c
    classes (an integer). Class c gets e_c of these m R extra rows, the
    apportionment of m r_c by largest remainders; the extras are dealt
    round-robin over the batches (a class's run of e_c <= m extras lands in
    e_c different batches), so every full batch holds ``floor(b p_c)`` or
    ``ceil(b p_c)`` rows of every class: less than one row from the ideal.
    Rows left over (fewer than ``batch_size``) form the last batch.
    """

    def __init__(self, labels, batch_size, shuffle=True, drop_last=False, generator=None):
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError(f"labels should be a non-empty 1-D array; got shape {labels.shape}.")
        self.labels = labels
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.shuffle = check_bool("shuffle", shuffle)
        self.drop_last = check_bool("drop_last", drop_last)
        self.generator = as_generator(generator)
        _, codes = np.unique(labels, return_inverse=True)
        codes = codes.reshape(-1)
        self._members = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
        super().__init__(None)

    def _counts(self):
        """(m, K) rows of each class in each full batch."""
        n, b = len(self.labels), self.batch_size
        m = n // b
        sizes = np.array([len(idx) for idx in self._members], dtype=np.int64)
        ideal = b * sizes / n
        q = np.floor(ideal).astype(np.int64)
        extra_per_batch = b - int(q.sum())
        total_extra = m * extra_per_batch
        target = m * (ideal - q)
        e = np.floor(target + 1e-9).astype(np.int64)
        short = total_extra - int(e.sum())
        if short > 0:
            e[np.argsort(-(target - e), kind="stable")[:short]] += 1
        counts = np.tile(q, (m, 1))
        if total_extra:
            classes = np.repeat(np.arange(len(sizes)), e)
            np.add.at(counts, (np.arange(total_extra) % m, classes), 1)
        return counts

    def _batches(self):
        rng = self.generator
        counts = self._counts()
        m = counts.shape[0]
        if self.shuffle and m > 1:
            counts = counts[rng.permutation(m)]
        members = [rng.permutation(idx) if self.shuffle else idx for idx in self._members]
        taken = counts.sum(axis=0)
        rows = np.concatenate([idx[:t] for idx, t in zip(members, taken)])
        batch_of = np.concatenate([np.repeat(np.arange(m), counts[:, c])
                                   for c in range(len(members))])
        if self.shuffle:
            perm = rng.permutation(len(rows))
            rows, batch_of = rows[perm], batch_of[perm]
            rows = rows[np.argsort(batch_of, kind="stable")]
        else:
            rows = rows[np.lexsort((rows, batch_of))]
        batches = list(rows.astype(np.int64, copy=False).reshape(m, self.batch_size)) if m \
            else []
        rest = np.concatenate([idx[t:] for idx, t in zip(members, taken)])
        if len(rest) and not self.drop_last:
            rest = rng.permutation(rest) if self.shuffle else np.sort(rest)
            batches.append(rest.astype(np.int64, copy=False))
        return batches

    def indices(self):
        """Return the whole epoch's order, drawn afresh.

        Returns
        -------
        indices : ndarray of int64
            The rows of all the epoch's batches, concatenated.
        """
        batches = self._batches()
        return np.concatenate(batches) if batches else np.empty(0, dtype=np.int64)

    def __iter__(self):
        return iter(self._batches())

    def __len__(self):
        n, b = len(self.labels), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _last_batch_size(self):
        rest = len(self.labels) % self.batch_size
        return self.batch_size if rest == 0 or self.drop_last else rest
