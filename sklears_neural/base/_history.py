"""``History``: the per-epoch (and per-batch) record of a training run.

An estimator's ``history_`` is a list of per-epoch row dicts (keys such as
``epoch``, ``train_loss``, ``valid_loss``, ``valid_score``, ``lr``, ``time``,
plus whatever callbacks record), each holding a ``"batches"`` list of
per-batch row dicts. ``History`` subclasses ``list`` so code that treats
``history_`` as a list keeps working, and adds skorch-style tuple indexing,
``to_frame`` (pandas) and ``plot`` (matplotlib); both libraries are optional
and imported only when those methods are called.
"""

import operator
from collections.abc import Mapping

__all__ = ["History"]

_MISSING = object()


def _rebuild_history(cls, rows, state):
    """Unpickling / deepcopy helper: store ``rows`` as they are (no copy)."""
    history = cls.__new__(cls)
    list.extend(history, rows)
    if state:
        history.__dict__.update(state)
    return history


def _pick(row, key):
    """``row[key]`` (a tuple of values for a tuple of keys), or ``_MISSING``."""
    if isinstance(key, tuple):
        values = tuple(row.get(k, _MISSING) for k in key)
        return _MISSING if any(v is _MISSING for v in values) else values
    return row.get(key, _MISSING)


def _filter(items, key):
    """The values of ``key`` in the rows of ``items`` that have it."""
    return [v for v in (_pick(row, key) for _, row in items) if v is not _MISSING]


def _available(rows):
    """The keys of ``rows``, in first-seen order."""
    return list(dict.fromkeys(k for row in rows for k in row))


def _missing_error(label, row, key):
    keys = key if isinstance(key, tuple) else (key,)
    missing = [k for k in keys if k not in row]
    shown = missing[0] if len(missing) == 1 else tuple(missing)
    return KeyError(f"key {shown!r} is not in {label} of the history; "
                    f"keys available: {list(row)}")


def _none_has_error(items, key, kind):
    labels = f"{items[0][0]}" if len(items) == 1 else f"{items[0][0]} to {items[-1][0]}"
    return KeyError(f"key {key!r} is in none of the {len(items)} selected {kind} rows "
                    f"({labels}) of the history; keys available: "
                    f"{_available(row for _, row in items)}")


def _select(items, key, single, kind):
    """Look ``key`` up in one row (``single``) or in several, skipping rows that
    lack it and raising ``KeyError`` when none of a non-empty selection has it."""
    if single:
        label, row = items[0]
        value = _pick(row, key)
        if value is _MISSING:
            raise _missing_error(label, row, key)
        return value
    values = _filter(items, key)
    if items and not values:
        raise _none_has_error(items, key, kind)
    return values


class History(list):
    """Training history: a list of per-epoch row dicts with per-batch rows.

    Each epoch row is a dict (``epoch``, ``train_loss``, ``valid_loss``,
    ``valid_score``, ``lr``, ``time``, plus any key a callback records) whose
    ``"batches"`` entry is a list of per-batch row dicts. ``History`` is a
    ``list`` subclass, so ``len``, integer indexing, iteration, ``append``,
    ``list(h)``, pickling and ``copy.deepcopy`` behave as for a list; a plain
    slice ``h[1:3]`` returns a ``History`` holding the same row dicts.

    Rows stored by ``append``, ``extend``, ``insert``, item assignment or the
    constructor are shallow copies of the given mappings, with
    ``"batches": []`` added when missing; the caller's dict is never changed
    (so write further values through ``h[-1]`` or :meth:`record`).

    Parameters
    ----------
    rows : iterable of dict, default=()
        Initial epoch rows.

    Notes
    -----
    Tuple indices select values, as in skorch; up to four parts,
    ``h[epochs, key, batches, batch_key]``:

    - ``h[i, key]`` with an integer ``i``: the value of ``key`` in epoch row
      ``i``; ``KeyError`` (naming the key, the epoch and the keys available)
      if that row lacks it.
    - ``h[s, key]`` with a slice ``s``: a list over the selected epochs. Rows
      lacking ``key`` are skipped; ``KeyError`` if none of the selected rows
      has it. An empty selection (empty history, out-of-range slice) gives
      ``[]`` (skorch raises ``KeyError`` on an empty history).
    - ``key`` may be a tuple of keys: the values come as tuples and a row
      counts as lacking the key when it lacks any of them.
    - ``h[i, "batches", j]`` and ``h[i, "batches", j, batch_key]``: the same
      rules one level down, over the batch rows of the selected epochs. Over
      several epochs, epochs without batch ``j`` (integer ``j``) or without
      any batch having ``batch_key`` are skipped, so ``h[:, "batches", :,
      "loss"]`` is a list (per epoch that recorded ``"loss"``) of lists (per
      batch). Only the key ``"batches"`` can be indexed further.

    Examples
    --------
    >>> from sklears_neural.base._history import History
    >>> h = History()
    >>> for epoch, loss in enumerate([0.9, 0.5, 0.4], start=1):
    ...     h.new_epoch(epoch=epoch, train_loss=loss)
    ...     for batch_loss in (2 * loss, loss / 2):
    ...         h.new_batch()
    ...         h.record_batch("loss", batch_loss)
    >>> h.record("valid_loss", 0.45)
    >>> len(h), h[-1]["train_loss"]
    (3, 0.4)
    >>> h[:, "train_loss"]
    [0.9, 0.5, 0.4]
    >>> h[:, ("train_loss", "valid_loss")]
    [(0.4, 0.45)]
    >>> h[-1, "batches", -1, "loss"]
    0.2
    >>> len(h[:, "batches", :, "loss"])
    3
    """

    def __init__(self, rows=()):
        super().__init__(self._as_row(row) for row in rows)

    @staticmethod
    def _as_row(row):
        if not isinstance(row, Mapping):
            raise TypeError(f"history rows are dicts, got {type(row).__name__}")
        row = dict(row)
        row.setdefault("batches", [])
        return row

    # -- list behaviour ----------------------------------------------------
    def append(self, row):
        """Append an epoch row (a shallow copy, with ``"batches"`` added).

        Parameters
        ----------
        row : mapping
            The epoch row: ``epoch``, ``train_loss``, ... entries.

        Raises
        ------
        TypeError
            If ``row`` is not a mapping.
        """
        super().append(self._as_row(row))

    def extend(self, rows):
        """Append several epoch rows (see :meth:`append`).

        Parameters
        ----------
        rows : iterable of mapping
            The epoch rows.

        Raises
        ------
        TypeError
            If a row is not a mapping.
        """
        super().extend([self._as_row(row) for row in rows])

    def insert(self, index, row):
        """Insert an epoch row (see :meth:`append`).

        Parameters
        ----------
        index : int
            The position, as for ``list.insert``.
        row : mapping
            The epoch row: ``epoch``, ``train_loss``, ... entries.

        Raises
        ------
        TypeError
            If ``row`` is not a mapping.
        """
        super().insert(index, self._as_row(row))

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            value = [self._as_row(row) for row in value]
        else:
            value = self._as_row(value)
        super().__setitem__(index, value)

    def __iadd__(self, rows):
        self.extend(rows)
        return self

    def __add__(self, rows):
        new = self.copy()
        new.extend(rows)
        return new

    def copy(self):
        """Return a shallow copy: a new ``History`` holding the same row dicts.

        Returns
        -------
        History
            The copy, of the same class.
        """
        return _rebuild_history(type(self), list(self), None)

    def __reduce__(self):
        return _rebuild_history, (type(self), list(self), getattr(self, "__dict__", None))

    def __repr__(self):
        return f"{type(self).__name__}({list.__repr__(self)})"

    # -- writing -------------------------------------------------------------
    def new_epoch(self, **values):
        """Start a new epoch row holding ``values`` and an empty ``"batches"`` list.

        Parameters
        ----------
        **values
            Initial entries of the row, e.g. ``epoch=3``.
        """
        self.append(values)

    def new_batch(self, **values):
        """Start a new batch row in the current (last) epoch row.

        Parameters
        ----------
        **values
            Initial entries of the batch row.

        Raises
        ------
        ValueError
            If there is no epoch row yet.
        """
        if not self:
            raise ValueError("Call new_epoch before new_batch.")
        list.__getitem__(self, -1).setdefault("batches", []).append(dict(values))

    def record(self, key, value):
        """Set ``key`` to ``value`` in the current (last) epoch row.

        Parameters
        ----------
        key : str
            The entry.
        value : object
            Its value.

        Raises
        ------
        ValueError
            If there is no epoch row yet.
        """
        if not self:
            raise ValueError("Call new_epoch before recording for the first time.")
        list.__getitem__(self, -1)[key] = value

    def record_batch(self, key, value):
        """Set ``key`` to ``value`` in the current (last) batch row.

        Parameters
        ----------
        key : str
            The entry.
        value : object
            Its value.

        Raises
        ------
        ValueError
            If there is no epoch row, or the last epoch row has no batch row yet.
        """
        if not self:
            raise ValueError("Call new_epoch and new_batch before record_batch.")
        batches = list.__getitem__(self, -1).get("batches")
        if not batches:
            raise ValueError("Call new_batch before record_batch.")
        batches[-1][key] = value

    # -- reading -------------------------------------------------------------
    def _epoch_label(self, pos, row):
        epoch = row.get("epoch")
        return f"epoch {epoch} (row {pos})" if epoch is not None else f"row {pos}"

    def _epoch_of(self, pos, row):
        epoch = row.get("epoch")
        return pos + 1 if epoch is None else epoch

    def __getitem__(self, index):
        if isinstance(index, slice):
            return _rebuild_history(type(self), list.__getitem__(self, index), None)
        if not isinstance(index, tuple):
            return list.__getitem__(self, index)
        if not 1 <= len(index) <= 4:
            raise IndexError(f"History takes 1 to 4 indices, got {len(index)}.")
        if len(index) == 1:
            return self[index[0]]
        i_e, k_e, *rest = index
        if rest and k_e != "batches":
            raise KeyError(f"Only the key 'batches' can be indexed further, got {k_e!r}.")

        n = len(self)
        if isinstance(i_e, slice):
            single, positions = False, range(n)[i_e]
        else:
            try:
                pos = operator.index(i_e)
            except TypeError:
                raise TypeError("The epoch index of a History is an integer or a slice, "
                                f"got {type(i_e).__name__}.") from None
            if pos < 0:
                pos += n
            if not 0 <= pos < n:
                raise IndexError(f"epoch index {i_e} is out of range for a history "
                                 f"of {n} epochs")
            single, positions = True, [pos]
        rows = [list.__getitem__(self, pos) for pos in positions]
        items = [(self._epoch_label(pos, row), row) for pos, row in zip(positions, rows)]
        if not rest:
            return _select(items, k_e, single, "epoch")

        # batch level: (label, batch list) per selected epoch that has one
        if single:
            groups = [(items[0][0], _select(items, "batches", True, "epoch"))]
        else:
            groups = [(label, row["batches"]) for label, row in items if "batches" in row]
        i_b, k_b = rest[0], (rest[1] if len(rest) == 2 else _MISSING)

        if not isinstance(i_b, slice):
            j = operator.index(i_b)
            batch_items = []
            for label, batches in groups:
                jj = j + len(batches) if j < 0 else j
                if 0 <= jj < len(batches):
                    batch_items.append((f"batch {jj} of {label}", batches[jj]))
                elif single:
                    raise IndexError(f"batch index {j} is out of range for {label}, "
                                     f"which has {len(batches)} batches")
            if groups and not batch_items:
                raise IndexError(f"batch index {j} is out of range for all "
                                 f"{len(groups)} selected epochs")
            if k_b is _MISSING:
                return batch_items[0][1] if single else [b for _, b in batch_items]
            return _select(batch_items, k_b, single, "batch")

        per_epoch = [[(f"batch {jj} of {label}", batches[jj])
                      for jj in range(len(batches))[i_b]] for label, batches in groups]
        if k_b is _MISSING:
            lists = [[b for _, b in batch_items] for batch_items in per_epoch]
            return lists[0] if single else lists
        if single:
            return _select(per_epoch[0], k_b, False, "batch")
        values = [v for v in (_filter(batch_items, k_b) for batch_items in per_epoch) if v]
        all_items = [item for batch_items in per_epoch for item in batch_items]
        if all_items and not values:
            raise _none_has_error(all_items, k_b, "batch")
        return values

    # -- export --------------------------------------------------------------
    def to_frame(self, batches=False):
        """The history as a pandas DataFrame.

        Parameters
        ----------
        batches : bool, default=False
            If False, one row per epoch, with every epoch key except
            ``"batches"``. If True, one row per batch: an ``epoch`` column
            (the epoch row's ``"epoch"``, else its 1-based position) followed
            by the batch keys.

        Returns
        -------
        frame : pandas.DataFrame
            Keys missing from some rows show as missing values.

        Raises
        ------
        ImportError
            If pandas is not installed.

        Examples
        --------
        >>> h = History([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}])
        >>> h.to_frame()["train_loss"].tolist()
        [0.5, 0.25]
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("History.to_frame needs pandas: pip install pandas") from exc
        if not batches:
            return pd.DataFrame([{k: v for k, v in row.items() if k != "batches"}
                                 for row in self])
        records = []
        for pos, row in enumerate(self):
            epoch = self._epoch_of(pos, row)
            for batch in row.get("batches", ()):
                record = {"epoch": epoch}
                record.update((k, v) for k, v in batch.items() if k != "epoch")
                records.append(record)
        return pd.DataFrame(records) if records else pd.DataFrame(columns=["epoch"])

    def plot(self, keys=("train_loss", "valid_loss"), score_key="valid_score", ax=None):
        """Plot loss curves against the epoch, and the score on a twin y-axis.

        Parameters
        ----------
        keys : str or sequence of str, default=("train_loss", "valid_loss")
            Epoch keys drawn on ``ax``, one line each, labelled with the key.
            Keys whose values are all None (or missing) are skipped; single
            missing or None values are drawn as gaps (NaN).
        score_key : str or None, default="valid_score"
            Key drawn on a twin y-axis (``ax.twinx()``, found in
            ``ax.figure.axes``), if present and not all None. None draws no score.
        ax : matplotlib.axes.Axes, default=None
            Where to draw; a new figure is created if None.

        Returns
        -------
        ax : matplotlib.axes.Axes
            The axes holding the loss curves (x label ``"epoch"``) and the legend
            of all lines.

        Raises
        ------
        ImportError
            If matplotlib is not installed (it is an optional dependency).

        Examples
        --------
        >>> h = History([{"epoch": 1, "train_loss": 0.5, "valid_score": 0.7},
        ...              {"epoch": 2, "train_loss": 0.25, "valid_score": 0.8}])
        >>> ax = h.plot()  # doctest: +SKIP
        """
        try:
            import matplotlib  # noqa: F401
            from matplotlib.ticker import MaxNLocator
        except ImportError as exc:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib") from exc
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots()
        if isinstance(keys, str):
            keys = (keys,)
        x = [self._epoch_of(pos, row) for pos, row in enumerate(self)]

        def column(key):
            values = [row.get(key) for row in self]
            if all(v is None for v in values):
                return None
            return [float("nan") if v is None else float(v) for v in values]

        lines, plotted = [], []
        for key in keys:
            y = column(key)
            if y is not None:
                lines += ax.plot(x, y, marker="o", markersize=3, label=key)
                plotted.append(key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if plotted:
            ax.set_ylabel("loss" if all("loss" in k for k in plotted) else ", ".join(plotted))

        y = column(score_key) if score_key is not None else None
        if y is not None:
            ax2 = ax.twinx()
            lines += ax2.plot(x, y, marker="s", markersize=3, linestyle="--",
                              color=f"C{len(plotted)}", label=score_key)
            ax2.set_ylabel(score_key)
            # keep the loss axes (and its legend) above the twin's lines
            ax.set_zorder(ax2.get_zorder() + 1)
            ax.patch.set_visible(False)
        if lines:
            ax.legend(lines, [line.get_label() for line in lines])
        return ax
