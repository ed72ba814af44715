"""Map-style datasets over arrays, and streams (iterable datasets) over chunks.

An item, and a collated batch, is a tuple ``(input,)``, ``(input, y)`` or
``(input, y, sample_weight)``. ``Dataset.__getitems__`` returns an already
collated batch for an int array of indices: array datasets answer it with one
fancy index per array, so the cost of a batch does not grow with Python work
per row.
"""

import inspect
import operator

import numpy as np
import scipy.sparse as sp

__all__ = ["ArrayDataset", "ArrayStream", "Dataset", "GeneratorStream", "IterableDataset",
           "Subset"]


def _is_pandas(obj):
    """True for a pandas object, without importing pandas."""
    return type(obj).__module__.split(".")[0] == "pandas" and hasattr(obj, "to_numpy")


def _as_rows(a, name):
    """``a`` as an ndarray with rows on axis 0 (pandas converted once); None stays None."""
    if a is None:
        return None
    a = a.to_numpy() if _is_pandas(a) else np.asarray(a)
    if a.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (rows on axis 0); got a "
                         f"scalar {a!r}.")
    return a


def _check_rows(n, shape_x, a, name):
    if a is not None and a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} rows (shape {tuple(a.shape)}) but X has {n} "
                         f"(shape {tuple(shape_x)}); they must have the same number of rows.")


def _item(fields):
    """``(input,)``, ``(input, y)`` or ``(input, y, w)`` from the three fields."""
    x, y, w = fields
    if w is not None:
        return (x, y, w)
    return (x,) if y is None else (x, y)


class Dataset:
    """Base class of map-style datasets: rows you can index.

    A subclass implements ``__len__`` and ``__getitem__(i)`` (one item, a
    tuple ``(input,)``, ``(input, y)`` or ``(input, y, sample_weight)``).
    ``__getitems__`` and ``collate`` then work by default; a fast dataset
    overrides ``__getitems__`` with one vectorised fancy index.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__.")

    def __getitem__(self, i):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__.")

    def __getitems__(self, indices):
        """The collated batch of the rows ``indices``.

        Parameters
        ----------
        indices : ndarray of int
            Row indices.

        Returns
        -------
        batch : tuple
            ``self.collate([self[i] for i in indices])``.
        """
        return self.collate([self[i] for i in np.asarray(indices).tolist()])

    def collate(self, items):
        """Collate a list of items into a batch (``default_collate`` by default).

        Parameters
        ----------
        items : list of tuple
            Items as returned by ``__getitem__``.

        Returns
        -------
        batch : tuple
            One stacked array (or ``Padded`` input) per field of the items.
        """
        from sklears_neural.data._loader import default_collate

        return default_collate(items)

    def subset(self, indices):
        """Return a dataset over the rows ``indices`` (here a ``Subset`` view).

        Parameters
        ----------
        indices : array-like of int
            The rows, in order.

        Returns
        -------
        dataset : Dataset
            The dataset of those rows.
        """
        return Subset(self, indices)


class ArrayDataset(Dataset):
    """Rows of an array, with optional targets and sample weights.

    Parameters
    ----------
    X : ndarray, scipy sparse matrix, pandas DataFrame or array-like
        Inputs, rows on axis 0 (any ndim >= 1). Sparse input stays sparse;
        each batch is densified. pandas input is converted once.
    y : array-like or pandas Series, default=None
        Targets, one per row.
    sample_weight : array-like, default=None
        Weights, one per row.

    Attributes
    ----------
    X, y, sample_weight : ndarray or sparse matrix (X), ndarray or None
        The inputs, targets and weights as stored (CSR or CSC when sparse).

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.data import ArrayDataset, DataLoader
    >>> ds = ArrayDataset(np.zeros((10, 3)), np.arange(10))
    >>> [xb.shape for xb, yb in DataLoader(ds, batch_size=4)]
    [(4, 3), (4, 3), (2, 3)]
    """

    def __init__(self, X, y=None, sample_weight=None):
        if sp.issparse(X):
            X = X if X.format in ("csr", "csc") else X.tocsr()
        else:
            X = _as_rows(X, "X")
        self.X = X
        self.y = _as_rows(y, "y")
        self.sample_weight = _as_rows(sample_weight, "sample_weight")
        n = X.shape[0]
        _check_rows(n, X.shape, self.y, "y")
        _check_rows(n, X.shape, self.sample_weight, "sample_weight")
        self._sparse = sp.issparse(X)

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        i = operator.index(i)
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a dataset of {n} rows.")
        i = i + n if i < 0 else i
        x = self.X[i:i + 1].toarray()[0] if self._sparse else self.X[i]
        y = None if self.y is None else self.y[i]
        w = None if self.sample_weight is None else self.sample_weight[i]
        return _item((x, y, w))

    def __getitems__(self, indices):
        """The batch of rows ``indices``: one fancy index per array.

        Parameters
        ----------
        indices : ndarray of int or slice

        Returns
        -------
        batch : tuple
            ``(X[indices],)``, ``(X[indices], y[indices])`` or with weights;
            sparse X is densified.
        """
        x = self.X[indices]
        if self._sparse:
            x = x.toarray()
        y = None if self.y is None else self.y[indices]
        w = None if self.sample_weight is None else self.sample_weight[indices]
        return _item((x, y, w))

    def subset(self, indices):
        """Return a new ``ArrayDataset`` over the rows ``indices`` (copied).

        Parameters
        ----------
        indices : array-like of int
            The rows, in order.

        Returns
        -------
        ArrayDataset
            A dataset holding copies of those rows of ``X``, ``y`` and
            ``sample_weight``.
        """
        indices = np.asarray(indices, dtype=np.int64)
        new = type(self).__new__(type(self))
        new.X = self.X[indices]
        new.y = None if self.y is None else self.y[indices]
        new.sample_weight = None if self.sample_weight is None else self.sample_weight[indices]
        new._sparse = self._sparse
        return new


class Subset(Dataset):
    """The rows ``indices`` of ``dataset`` (PyTorch's ``Subset``).

    Parameters
    ----------
    dataset : Dataset
        The dataset to take rows from.
    indices : array-like of int
        The rows, in order.

    Attributes
    ----------
    dataset : Dataset
        The underlying dataset.
    indices : ndarray of int64
        The rows, flattened.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        if isinstance(i, (list, np.ndarray)):
            return [self.dataset[int(j)] for j in self.indices[i]]
        return self.dataset[int(self.indices[i])]

    def __getitems__(self, indices):
        """The batch of rows ``indices`` of the subset (delegated to ``dataset``)."""
        rows = self.indices[indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(rows)
        return self.collate([self.dataset[j] for j in rows.tolist()])

    def collate(self, items):
        """Collate as ``dataset`` does.

        Parameters
        ----------
        items : list of tuple
            Items as returned by ``__getitem__``.

        Returns
        -------
        batch : tuple
            The batch, from the underlying dataset's ``collate``.
        """
        if hasattr(self.dataset, "collate"):
            return self.dataset.collate(items)
        return super().collate(items)


class IterableDataset(Dataset):
    """Base class of streams: data read chunk by chunk, never whole.

    ``__iter__`` yields chunk tuples with a batch's structure,
    ``(X_chunk, y_chunk[, w_chunk])``, and must start over on every call
    (``DataLoader`` calls ``iter()`` once per epoch). ``iter_targets()``
    yields only the y chunks.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__.")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} does not know its number of rows.")

    def __getitem__(self, i):
        raise TypeError(f"{type(self).__name__} is a stream: iterate it (or pass it to "
                        "DataLoader); it cannot be indexed.")

    def __getitems__(self, indices):
        return self[indices]

    def subset(self, indices):
        """Refuse: a stream has no subsets.

        Parameters
        ----------
        indices : array-like of int
            Ignored.

        Raises
        ------
        TypeError
            Always.
        """
        raise TypeError(f"{type(self).__name__} is a stream and has no subsets.")

    def iter_targets(self):
        """Yield the y chunk of every chunk, in order.

        Yields
        ------
        y_chunk : ndarray
            The targets of one chunk.

        Raises
        ------
        ValueError
            If a chunk holds no targets.
        """
        for k, chunk in enumerate(self):
            if len(chunk) < 2 or chunk[1] is None:
                raise ValueError(f"{type(self).__name__} has no targets (chunk {k} holds no y).")
            yield chunk[1]


def _read(a, start, stop):
    """Rows start:stop of an array-like as an ndarray (dask computed, sparse densified)."""
    part = a.iloc[start:stop] if _is_pandas(a) else a[start:stop]
    if hasattr(part, "compute"):
        part = part.compute()
    if sp.issparse(part):
        return part.toarray()
    return part.to_numpy() if _is_pandas(part) else np.asarray(part)


def _as_sliceable(a, name):
    if a is None or hasattr(a, "shape"):
        if a is not None and len(a.shape) == 0:
            raise ValueError(f"{name} must have rows on axis 0; got a scalar.")
        return a
    return _as_rows(a, name)


class ArrayStream(IterableDataset):
    """Stream an on-disk or lazy array chunk by chunk.

    Parameters
    ----------
    X : array-like with ``.shape`` and row slicing
        ``np.memmap``, an h5py dataset, a dask array (each slice is
        ``.compute()``-d), a sparse matrix (each chunk densified) or an
        ndarray. Only ``X[a:b]`` slices are read; X is never loaded whole.
    y, sample_weight : array-like, default=None
        Read the same way, chunk by chunk.
    chunk_size : int, default=1024
        Rows per chunk.

    Attributes
    ----------
    n_samples : int
        Number of rows (also ``len(stream)``).
    n_features : int or None
        ``X.shape[1]`` for 2-D X, else None.
    """

    def __init__(self, X, y=None, sample_weight=None, chunk_size=1024):
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
                or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int; got {chunk_size!r}.")
        self.X = _as_sliceable(X, "X")
        self.y = _as_sliceable(y, "y")
        self.sample_weight = _as_sliceable(sample_weight, "sample_weight")
        self.chunk_size = int(chunk_size)
        shape = tuple(self.X.shape)
        self.n_samples = int(shape[0])
        self.n_features = int(shape[1]) if len(shape) == 2 else None
        for a, name in ((self.y, "y"), (self.sample_weight, "sample_weight")):
            if a is not None and int(a.shape[0]) != self.n_samples:
                raise ValueError(f"{name} has {a.shape[0]} rows (shape {tuple(a.shape)}) but X "
                                 f"has {self.n_samples} (shape {shape}); they must have the "
                                 "same number of rows.")

    def __len__(self):
        return self.n_samples

    def __iter__(self):
        for start in range(0, self.n_samples, self.chunk_size):
            stop = min(start + self.chunk_size, self.n_samples)
            yield _item(tuple(None if a is None else _read(a, start, stop)
                              for a in (self.X, self.y, self.sample_weight)))

    def iter_targets(self):
        """Yield y chunk by chunk, reading only y.

        Yields
        ------
        y_chunk : ndarray
            The targets of one chunk of ``chunk_size`` rows (fewer for the last).

        Raises
        ------
        ValueError
            If the stream has no targets.
        """
        if self.y is None:
            raise ValueError("ArrayStream has no targets (y=None).")
        for start in range(0, self.n_samples, self.chunk_size):
            yield _read(self.y, start, min(start + self.chunk_size, self.n_samples))


def _chunk_array(a):
    """A chunk field as an ndarray; a ragged list of sequences stays a list."""
    if a is None:
        return None
    if sp.issparse(a):
        return a.toarray()
    try:
        return np.asarray(a)
    except ValueError:
        if isinstance(a, (list, tuple)):
            return list(a)
        raise


class GeneratorStream(IterableDataset):
    """Stream the chunks a generator function makes, afresh every epoch.

    Parameters
    ----------
    make_chunks : callable
        Called with no argument, returns a new iterator of ``(X_chunk,)``,
        ``(X_chunk, y_chunk)`` or ``(X_chunk, y_chunk, w_chunk)`` tuples
        (typically a generator function). Chunks are converted with
        ``np.asarray``.

    Notes
    -----
    A generator object can be read only once; pass the function that creates
    it so that every epoch re-reads the data. ``iter_targets`` runs
    ``make_chunks`` once more and keeps the y chunks.

    Examples
    --------
    >>> import numpy as np
    >>> def chunks():
    ...     for k in range(3):
    ...         yield np.full((4, 2), k), np.arange(4)
    >>> stream = GeneratorStream(chunks)
    >>> [x.shape for x, y in stream]
    [(4, 2), (4, 2), (4, 2)]
    """

    def __init__(self, make_chunks):
        if inspect.isgenerator(make_chunks) or hasattr(make_chunks, "__next__"):
            raise TypeError(
                "GeneratorStream got a generator (or iterator) object, which can be read only "
                "once; pass the function that creates it (e.g. GeneratorStream(read_chunks), "
                "not GeneratorStream(read_chunks())) so that every epoch can re-read the data.")
        if not callable(make_chunks):
            raise TypeError("make_chunks must be a zero-argument callable returning an iterator "
                            f"of chunk tuples; got {type(make_chunks).__name__}.")
        self.make_chunks = make_chunks

    def __iter__(self):
        width, row_shape = None, None
        for k, chunk in enumerate(self.make_chunks()):
            if not isinstance(chunk, (tuple, list)) or not 1 <= len(chunk) <= 3:
                raise ValueError(f"chunk {k} must be a tuple (X_chunk, y_chunk) or (X_chunk, "
                                 f"y_chunk, w_chunk); got {type(chunk).__name__}.")
            fields = [_chunk_array(a) for a in chunk]
            x = fields[0]
            if isinstance(x, list):  # variable-length sequences: the estimator reads them
                rows, shape = len(x), ("variable",)
            elif x.ndim == 0:
                raise ValueError(f"chunk {k}: X_chunk must have rows on axis 0; got a scalar.")
            else:
                # Sequences (ndim >= 3) may change their length from chunk to chunk.
                rows, shape = x.shape[0], x.shape[1:] if x.ndim == 2 else (x.ndim,)
            for a, name in zip(fields[1:], ("y_chunk", "w_chunk")):
                if a is not None and (a.ndim == 0 or a.shape[0] != rows):
                    raise ValueError(f"chunk {k}: {name} has shape {a.shape} but X_chunk has "
                                     f"{rows} rows; they must have the same number of rows.")
            if width is None:
                width, row_shape = len(fields), shape
            elif len(fields) != width or shape != row_shape:
                raise ValueError(f"chunk {k} has {len(fields)} arrays with X_chunk rows of shape "
                                 f"{shape}; chunk 0 had {width} with rows of shape "
                                 f"{row_shape}.")
            yield tuple(fields)
