"""``DataLoader``: batches from a dataset, optionally gathered one step ahead."""

import numbers
import queue
import threading
from collections.abc import Mapping

import numpy as np

from sklears_neural._specs._scalars import check_bool, check_int
from sklears_neural.data._dataset import ArrayDataset, IterableDataset
from sklears_neural.data._sampler import BatchSampler, RandomSampler, SequentialSampler
from sklears_neural.data._sequence import Padded, SequenceDataset, _pad, _read_list

__all__ = ["DataLoader", "default_collate"]

# Datasets whose own __getitems__ reads a slice: sequential passes hand them
# slices (views) instead of fancy indices (copies).
_SLICE_GETITEMS = (ArrayDataset.__getitems__, SequenceDataset.__getitems__)


def default_collate(items):
    """Stack a list of items into a batch, field by field.

    Parameters
    ----------
    items : list
        Items of one structure: ndarrays are stacked on a new axis 0, numbers
        become an array, tuples / namedtuples / lists / dicts are collated
        field by field (keeping their type), ``Padded`` sequences are zero
        padded to the longest, None fields stay None.

    Returns
    -------
    batch : same structure as an item
        Each field collated over the items.

    Raises
    ------
    ValueError
        If ``items`` is empty or the items have different numbers of fields.
    TypeError
        If a field is None in some items only, or of a type it cannot collate.

    Examples
    --------
    >>> import numpy as np
    >>> xb, yb = default_collate([(np.zeros(3), 1), (np.ones(3), 0)])
    >>> xb.shape, yb
    ((2, 3), array([1, 0]))
    """
    if len(items) == 0:
        raise ValueError("default_collate needs at least one item; got an empty list.")
    elem = items[0]
    if elem is None:
        if any(item is not None for item in items):
            raise TypeError("default_collate: a field is None in some items and not in others.")
        return None
    if isinstance(elem, Padded):
        values = _pad(_read_list([item.values for item in items], "NTC"), None)[0]
        return Padded(values, np.asarray([item.lengths for item in items], dtype=np.int64))
    if isinstance(elem, np.ndarray):
        return np.stack(items)
    if isinstance(elem, (numbers.Number, np.generic)):
        return np.asarray(items)
    if isinstance(elem, (str, bytes)):
        return list(items)
    if isinstance(elem, Mapping):
        return {key: default_collate([item[key] for item in items]) for key in elem}
    if isinstance(elem, (tuple, list)):
        if any(len(item) != len(elem) for item in items):
            raise ValueError("default_collate: the items have different numbers of fields.")
        fields = [default_collate(list(field)) for field in zip(*items)]
        if hasattr(elem, "_fields"):
            return type(elem)(*fields)
        return fields if isinstance(elem, list) else tuple(fields)
    raise TypeError(f"default_collate: items must hold ndarrays, numbers, tuples, lists, dicts or "
                    f"Padded sequences; found {type(elem).__name__}. Pass collate_fn.")


def _rows(batch):
    x = batch[0]
    return len(x.lengths) if isinstance(x, Padded) else len(x)


def _cut(field, start, stop):
    """Rows ``start:stop`` of a batch field (an array, ``Padded``, or None)."""
    if field is None:
        return None
    if isinstance(field, Padded):
        return Padded(field.values[start:stop], field.lengths[start:stop])
    return field[start:stop]


def _join(parts):
    """One batch field from the same field of consecutive batches, in order."""
    if parts[0] is None:
        return None
    if isinstance(parts[0], Padded):  # pad every part to the longest of them
        steps = max(p.values.shape[1] for p in parts)
        values = [np.pad(p.values, ((0, 0), (0, steps - p.values.shape[1]), (0, 0)))
                  for p in parts]
        return Padded(np.concatenate(values), np.concatenate([p.lengths for p in parts]))
    return np.concatenate(parts)


def _concat_batches(a, b):
    return tuple(_join([u, v]) for u, v in zip(a, b))


def _concat_indices(a, b):
    if isinstance(a, slice):
        return slice(a.start, b.stop)
    return np.concatenate([np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)])


def _merge_small_last(batches, min_size, size, merge):
    """``batches`` with a last one smaller than ``min_size`` merged into the one before."""
    none = object()
    prev = cur = none
    for batch in batches:
        if prev is not none:
            yield prev
        prev, cur = cur, batch
    if cur is none:
        return
    if prev is not none and size(cur) < min_size:
        yield merge(prev, cur)
        return
    if prev is not none:
        yield prev
    yield cur


def _rebatch(chunks, batch_size, drop_last):
    """Chunk tuples re-cut into batches of ``batch_size`` rows, in order."""
    held, held_rows = [], 0
    for chunk in chunks:
        chunk = tuple(chunk)
        n, start = _rows(chunk), 0
        if held_rows:
            need = batch_size - held_rows
            if n < need:
                held.append(chunk)
                held_rows += n
                continue
            held.append(tuple(_cut(a, 0, need) for a in chunk))
            yield tuple(_join(list(a)) for a in zip(*held))
            held, held_rows, start = [], 0, need
        while n - start >= batch_size:
            yield tuple(_cut(a, start, start + batch_size) for a in chunk)
            start += batch_size
        if start < n:
            held, held_rows = [tuple(_cut(a, start, n) for a in chunk)], n - start
    if held_rows and not drop_last:
        yield tuple(_join(list(a)) for a in zip(*held))


_BATCH, _END, _ERROR = 0, 1, 2


def _prefetched(work, fetch):
    """Yield ``fetch(w)`` for ``w`` in ``work``, computed one step ahead on a thread.

    A daemon thread fills a queue of two; a consumer that stops early sets
    the stop event and joins the thread when this generator closes; an
    exception in the thread is raised in the consumer.
    """
    out = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(message):
        while not stop.is_set():
            try:
                out.put(message, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def run():
        try:
            for w in work:
                if stop.is_set() or not put((_BATCH, fetch(w))):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_ERROR, exc))

    thread = threading.Thread(target=run, name="DataLoader-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = out.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


class DataLoader:
    """Iterate a dataset in batches (PyTorch's ``DataLoader`` in the main process).

    Parameters
    ----------
    dataset : Dataset, IterableDataset or sized indexable
        Map-style datasets are read with ``dataset.__getitems__(indices)``
        (one collated batch); an ``IterableDataset``'s chunks are re-cut into
        batches of ``batch_size`` rows in order, the remainder carried
        across chunks.
    batch_size : int or None, default=1
        Rows per batch; None turns batching off (items, or chunks of a
        stream, are yielded as they come).
    shuffle : bool, default=False
        Draw a new random order every epoch (map-style datasets only).
    sampler : Sampler or iterable of int, default=None
        The order of rows; excludes ``shuffle``.
    batch_sampler : iterable of index arrays, default=None
        Yields whole batches of indices; excludes ``batch_size``,
        ``shuffle``, ``sampler`` and ``drop_last``.
    num_workers : int, default=0
        Only 0: loading runs in the main process (see ``prefetch``).
    collate_fn : callable, default=None
        Turns a list of items into a batch. None reads batches with the
        dataset's ``__getitems__`` (``default_collate`` for plain datasets).
    drop_last : bool, default=False
        Drop the last batch if it has fewer than ``batch_size`` rows.
    generator : numpy.random.Generator, int or None, default=None
        Randomness of ``shuffle``; a seed makes the epochs reproducible.
    prefetch : bool, default=False
        Gather and collate the next batch on one background thread while the
        caller works on the current one. Batches are the same as without it
        (the epoch's order is drawn in the caller's thread first).
    min_batch_size : int, default=1
        A last batch with fewer rows than this is merged into the batch
        before it (when there is one; a lone small batch is kept), so that,
        with ``min_batch_size=2``, a last batch of one row never reaches
        batch normalisation. Applies to map-style and iterable datasets;
        ignored when ``batch_size=None``.

    Notes
    -----
    ``prefetch`` defaults to False because it does not pay for in-memory
    data. ``benchmarks/bench_data.py`` on the 2-core development machine,
    BLAS on one thread, ms per shuffled epoch whose every batch runs a numpy
    F-256-128-10 forward + backward + SGD arithmetic (fetch alone in
    brackets), prefetch off / on:

    ==============================  ===========  ===========  ======
    data                            off          on           on/off
    ==============================  ===========  ===========  ======
    digits 1797x64, batch 32        7.6 (0.1)    8.5 (1.2)    1.11
    digits, batch 128               5.4 (0.1)    5.6 (0.4)    1.04
    20k x 784 f32, batch 32         260 (5.9)    264 (10.6)   1.01
    20k x 784 f32, batch 128        196 (5.4)    191 (7.2)    0.97
    20k x 784 f32, batch 512        178 (6.7)    177 (8.4)    0.99
    2k sequences T 10..60, b 32     258 (0.5)    259 (1.7)    1.00
    2k sequences, batch 128         362 (0.2)    365 (0.5)    1.01
    Python-item rows*, batch 32     290 (19.2)   268 (33.0)   0.92
    Python-item rows*, batch 128    219 (17.5)   199 (23.3)   0.91
    ==============================  ===========  ===========  ======

    (*) the 20k x 784 rows behind a plain ``Dataset`` with a per-row
    ``__getitem__``, batched by ``default_collate``.

    Gathering a batch of arrays costs microseconds, under 3% of an epoch,
    and the hand-over between threads costs about as much; with BLAS on two
    threads prefetch was 3-9% slower on the 784-feature arrays (the thread
    competes for the cores). It paid (~8%) only when fetching is slow Python
    (a per-row ``__getitem__``); I/O-bound datasets, not measured here,
    are the other case where it should.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.data import ArrayDataset
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    >>> loader = DataLoader(ArrayDataset(X, y), batch_size=4, shuffle=True, generator=0)
    >>> len(loader), [len(yb) for xb, yb in loader]
    (3, [4, 4, 2])
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, drop_last=False, generator=None,
                 prefetch=False, min_batch_size=1):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers != 0:
            raise ValueError(
                f"num_workers must be 0; got num_workers={num_workers!r}. Loading runs in the "
                "main process: use prefetch=True to gather and collate the next batch on a "
                "background thread while the current one is computed.")
        if shuffle is None:
            shuffle = False
        shuffle = check_bool("shuffle", shuffle)
        drop_last = check_bool("drop_last", drop_last)
        self.prefetch = check_bool("prefetch", prefetch)
        self.min_batch_size = check_int("min_batch_size", min_batch_size, minimum=1)
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value, unset in (("shuffle", shuffle, False), ("sampler", sampler, None),
                                       ("batch_sampler", batch_sampler, None)):
                if value is not unset:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is "
                                 "mutually exclusive with drop_last")
        else:
            batch_size = check_int("batch_size", batch_size, minimum=1)
            if self.min_batch_size > batch_size:
                raise ValueError(f"min_batch_size={self.min_batch_size} must not exceed "
                                 f"batch_size={batch_size}.")
        if not self._iterable:
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle \
                    else SequentialSampler(dataset)
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = 0
        self.collate_fn = collate_fn
        self.generator = generator

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    def _merging(self):
        return self.min_batch_size > 1 and (self._auto_collation or
                                            (self._iterable and self.batch_size is not None))

    def _index_batches(self):
        """The epoch's index batches (slices for a sequential pass over array data)."""
        bs = self.batch_sampler
        if (type(bs) is BatchSampler and type(bs.sampler) is SequentialSampler
                and getattr(type(self.dataset), "__getitems__", None) in _SLICE_GETITEMS
                and self.collate_fn is None):
            n, b = len(self.dataset), bs.batch_size
            stop = n // b * b if bs.drop_last else n
            batches = (slice(s, min(s + b, stop)) for s in range(0, stop, b))
        else:
            batches = iter(bs)
        if self._merging():
            batches = _merge_small_last(batches, self.min_batch_size, _index_len,
                                        _concat_indices)
        return batches

    def _fetcher(self):
        dataset, collate_fn = self.dataset, self.collate_fn
        if not self._auto_collation:
            if collate_fn is None:
                return dataset.__getitem__
            return lambda i: collate_fn(dataset[i])
        if collate_fn is None and hasattr(dataset, "__getitems__"):
            getitems = dataset.__getitems__

            def fetch(idx):
                if not isinstance(idx, (np.ndarray, slice)):
                    idx = np.asarray(idx, dtype=np.int64)
                return getitems(idx)
            return fetch
        collate = default_collate if collate_fn is None else collate_fn
        return lambda idx: collate([dataset[i] for i in np.asarray(idx).tolist()])

    def _stream_batches(self):
        chunks = iter(self.dataset)
        if self.batch_size is None:
            return chunks
        batches = _rebatch(chunks, self.batch_size, self.drop_last)
        if self.min_batch_size > 1:
            batches = _merge_small_last(batches, self.min_batch_size, _rows, _concat_batches)
        return batches

    def __iter__(self):
        if self._iterable:
            batches = self._stream_batches()
            return _prefetched(batches, _identity) if self.prefetch else batches
        work = self._index_batches() if self._auto_collation else iter(self.sampler)
        fetch = self._fetcher()
        if self.prefetch:
            return _prefetched(list(work), fetch)  # the epoch's draws, in this thread
        return map(fetch, work)

    def __len__(self):
        """Number of batches per epoch."""
        if self._iterable:
            return self._stream_len()
        if not self._auto_collation:
            return len(self.sampler)
        n_batches = len(self.batch_sampler)
        last = getattr(self.batch_sampler, "_last_batch_size", None)
        if self._merging() and n_batches > 1 and last is not None \
                and last() < self.min_batch_size:
            n_batches -= 1
        return n_batches

    def _stream_len(self):
        try:
            n = len(self.dataset)
        except TypeError:
            raise TypeError(f"len() of a DataLoader over a {type(self.dataset).__name__} is "
                            "unknown: the stream does not know its number of rows.") from None
        if self.batch_size is None:
            chunk = getattr(self.dataset, "chunk_size", None)
            if chunk is None:
                raise TypeError("len() of a DataLoader with batch_size=None over a stream is "
                                "its number of chunks, which this stream does not know.")
            return -(-n // chunk)
        b = self.batch_size
        n_batches, rest = (n // b, 0) if self.drop_last else (-(-n // b), n % b)
        if self.min_batch_size > 1 and n_batches > 1 and 0 < rest < self.min_batch_size:
            n_batches -= 1
        return n_batches


def _identity(x):
    return x


def _index_len(idx):
    if isinstance(idx, slice):
        return idx.stop - idx.start
    return len(idx)
