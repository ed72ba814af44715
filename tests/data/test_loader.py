"""DataLoader: batching rules, PyTorch's argument errors, min_batch_size, prefetch."""

import gc
import threading

import numpy as np
import pytest
import scipy.sparse as sp

from sklears_neural.data import (
    ArrayDataset,
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequenceDataset,
    SequentialSampler,
    StratifiedBatchSampler,
)


def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, n)


def _as_lists(loader):
    return [tuple(None if a is None else np.array(a) for a in batch) for batch in loader]


def _assert_same_batches(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert len(u) == len(v)
        for p, q in zip(u, v):
            np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (100, 32, False, [32, 32, 32, 4]),
    (100, 32, True, [32, 32, 32]),
    (96, 32, False, [32, 32, 32]),
    (5, 32, False, [5]),
    (5, 32, True, []),
])
def test_batch_counts_len_and_drop_last(n, batch_size, drop_last, sizes):
    X, y = _data(n)
    for shuffle in (False, True):
        loader = DataLoader(ArrayDataset(X, y), batch_size=batch_size, shuffle=shuffle,
                            drop_last=drop_last, generator=0)
        batches = list(loader)
        assert [len(yb) for _, yb in batches] == sizes
        assert len(loader) == len(sizes)
    sequential = list(DataLoader(ArrayDataset(X, y), batch_size=batch_size))
    if not drop_last and sizes:
        np.testing.assert_array_equal(np.concatenate([xb for xb, _ in sequential]), X)


def test_shuffle_visits_every_row_once():
    X, y = _data()
    rows = np.concatenate([yb for _, yb in DataLoader(ArrayDataset(X, np.arange(100)),
                                                      batch_size=7, shuffle=True, generator=3)])
    assert sorted(rows.tolist()) == list(range(100))
    assert rows.tolist() != list(range(100))


@pytest.mark.parametrize("n, batch_size, min_batch_size, sizes", [
    (201, 200, 2, [201]),
    (1, 200, 2, [1]),
    (65, 32, 2, [32, 33]),
    (66, 32, 2, [32, 32, 2]),
    (70, 32, 8, [32, 38]),
    (64, 32, 2, [32, 32]),
])
def test_min_batch_size_merges_a_small_last_batch(n, batch_size, min_batch_size, sizes):
    X, y = _data(n)
    for shuffle in (False, True):
        loader = DataLoader(ArrayDataset(X, np.arange(n)), batch_size=batch_size,
                            shuffle=shuffle, generator=0, min_batch_size=min_batch_size)
        batches = list(loader)
        assert [len(yb) for _, yb in batches] == sizes
        assert len(loader) == len(sizes)
        assert sorted(np.concatenate([yb for _, yb in batches]).tolist()) == list(range(n))
    custom = DataLoader(ArrayDataset(X, y), batch_sampler=StratifiedBatchSampler(
        np.arange(n) % 2, batch_size, generator=0), min_batch_size=min_batch_size)
    assert [len(yb) for _, yb in custom] == sizes
    assert len(custom) == len(sizes)


def test_batch_size_none_yields_items():
    X, y = _data(5)
    items = list(DataLoader(ArrayDataset(X, y), batch_size=None))
    assert len(items) == 5
    np.testing.assert_array_equal(items[3][0], X[3])
    assert items[3][0].shape == (4,)


def test_custom_collate_fn_receives_items():
    X, y = _data(10)
    seen = []

    def collate(items):
        seen.append(len(items))
        return np.stack([x for x, _ in items]).sum(), len(items)

    out = list(DataLoader(ArrayDataset(X, y), batch_size=4, collate_fn=collate))
    assert seen == [4, 4, 2]
    assert out[0][1] == 4
    np.testing.assert_allclose(out[0][0], X[:4].sum())


class _Squares(Dataset):
    def __len__(self):
        return 11

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=float), i % 3


class _Duck:
    """Not a Dataset at all: just __len__ and __getitem__."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full(2, i), i


def test_plain_python_datasets():
    batches = list(DataLoader(_Squares(), batch_size=4, shuffle=True, generator=0))
    assert [len(yb) for _, yb in batches] == [4, 4, 3]
    rows = np.concatenate([xb for xb, _ in batches])
    np.testing.assert_array_equal(rows[:, 1], rows[:, 0] ** 2)
    assert sorted(rows[:, 0]) == list(range(11))
    duck = list(DataLoader(_Duck(), batch_size=2))
    np.testing.assert_array_equal(duck[2][0], [[4, 4]])


def test_sparse_and_pandas_inputs_through_the_loader():
    X = sp.random(30, 5, density=0.2, format="csr", random_state=0)
    dense = np.concatenate([xb for (xb,) in DataLoader(ArrayDataset(X), batch_size=8)])
    np.testing.assert_array_equal(dense, X.toarray())
    pd = pytest.importorskip("pandas", reason="pandas is not installed")
    Xd, y = _data(30)
    frame = pd.DataFrame(Xd)
    loader = DataLoader(ArrayDataset(frame, pd.Series(y)), batch_size=8, shuffle=True,
                        generator=0)
    reference = DataLoader(ArrayDataset(Xd, y), batch_size=8, shuffle=True, generator=0)
    _assert_same_batches(_as_lists(loader), _as_lists(reference))


def test_sequence_dataset_through_the_loader():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(t, 3)) for t in rng.integers(1, 20, 50)]
    ds = SequenceDataset(seqs, y=np.arange(50))
    for (values, lengths), yb in DataLoader(ds, batch_size=8, shuffle=True, generator=0):
        assert values.shape[1] == lengths.max()
        for v, t, i in zip(values, lengths, yb):
            np.testing.assert_array_equal(v[:t], seqs[i])


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), "batch_sampler option is mutually exclusive"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
    (dict(num_workers=2), "num_workers must be 0.*prefetch=True"),
    (dict(batch_size=0), "batch_size must be an integer >= 1; got 0"),
    (dict(batch_size=4, min_batch_size=5), "min_batch_size=5 must not exceed batch_size=4"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(ArrayDataset(*_data(10)), **kwargs)


def test_explicit_sampler_and_batch_sampler():
    X, y = _data(10)
    ds = ArrayDataset(X, np.arange(10))
    loader = DataLoader(ds, batch_size=3, sampler=[9, 8, 7, 6])
    assert [yb.tolist() for _, yb in loader] == [[9, 8, 7], [6]]
    batches = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 4, False))
    assert [yb.tolist() for _, yb in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    listed = DataLoader(ds, batch_sampler=[[1, 2], [0]])
    assert [yb.tolist() for _, yb in listed] == [[1, 2], [0]]


def test_seeded_generator_reproduces_epochs():
    X, y = _data(50)

    def run(seed):
        loader = DataLoader(ArrayDataset(X, y), batch_size=8, shuffle=True, generator=seed)
        return _as_lists(loader) + _as_lists(loader)  # two epochs

    _assert_same_batches(run(5), run(5))
    first, other = run(5), run(6)
    assert not np.array_equal(first[0][0], other[0][0])
    assert not np.array_equal(first[0][0], first[len(first) // 2][0])  # epochs differ


@pytest.mark.parametrize("make", [
    lambda X, y: ArrayDataset(X, y, np.linspace(0, 1, len(y))),
    lambda X, y: SequenceDataset([x[:1 + i % 4].reshape(-1, 1) for i, x in enumerate(X)], y),
    lambda X, y: _Squares(),
])
@pytest.mark.parametrize("batch_size, min_batch_size", [(8, 1), (7, 3)])
def test_prefetch_gives_the_same_batches(make, batch_size, min_batch_size):
    X, y = _data(45)
    ds = make(X, y)

    def run(prefetch, shuffle):
        loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=11,
                            prefetch=prefetch, min_batch_size=min_batch_size)
        return [_flatten(b) for epoch in range(2) for b in loader]

    for shuffle in (False, True):
        off, on = run(False, shuffle), run(True, shuffle)
        _assert_same_batches(off, on)


def _flatten(batch):
    out = []
    for a in batch:
        out.extend(a if isinstance(a, tuple) else (a,))
    return tuple(np.array(a) for a in out)


class _Failing(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        if i == 13:
            raise KeyError("row 13 is broken")
        return np.zeros(2), 0


def test_prefetch_raises_the_workers_exception():
    before = threading.active_count()
    loader = DataLoader(_Failing(), batch_size=4, prefetch=True)
    seen = []
    with pytest.raises(KeyError, match="row 13 is broken"):
        for xb, _ in loader:
            seen.append(len(xb))
    assert seen == [4, 4, 4]
    gc.collect()
    assert threading.active_count() == before


def test_prefetch_early_break_leaves_no_thread():
    X, y = _data(1000)
    loader = DataLoader(ArrayDataset(X, y), batch_size=10, shuffle=True, generator=0,
                        prefetch=True)
    before = threading.active_count()
    for epoch in range(3):
        for k, _ in enumerate(loader):
            if k == 2:
                break
    gc.collect()
    assert threading.active_count() == before
    it = iter(loader)
    next(it)
    assert threading.active_count() == before + 1
    it.close()
    assert threading.active_count() == before


def test_random_sampler_passed_in_is_reused_across_epochs():
    X, y = _data(20)
    ds = ArrayDataset(X, np.arange(20))
    loader = DataLoader(ds, batch_size=20, sampler=RandomSampler(ds, generator=1))
    first, second = [yb for _, yb in loader], [yb for _, yb in loader]
    assert sorted(first[0].tolist()) == list(range(20))
    assert first[0].tolist() != second[0].tolist()
