"""Streams: ArrayStream over a memmap, GeneratorStream, re-batching through DataLoader."""

import numpy as np
import pytest

from sklears_neural.data import (
    ArrayDataset,
    ArrayStream,
    DataLoader,
    GeneratorStream,
    IterableDataset,
)

N, BATCH = 203, 32


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 5)).astype(np.float32)
    return X, rng.integers(0, 3, N), rng.uniform(size=N)


@pytest.fixture
def memmap(tmp_path, data):
    X = data[0]
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def _reference(X, y, w=None, **kwargs):
    return list(DataLoader(ArrayDataset(X, y, w), batch_size=BATCH, shuffle=False, **kwargs))


def _assert_same(batches, reference):
    assert len(batches) == len(reference)
    for b, r in zip(batches, reference):
        assert len(b) == len(r)
        for u, v in zip(b, r):
            assert isinstance(u, np.ndarray)
            np.testing.assert_array_equal(u, v)


def _generator_stream(X, y, w, chunk):
    def chunks():
        for start in range(0, len(X), chunk):
            stop = start + chunk
            if w is None:
                yield X[start:stop], list(y[start:stop])
            else:
                yield X[start:stop], y[start:stop], w[start:stop]
    return GeneratorStream(chunks)


@pytest.mark.parametrize("chunk", [7, 32, 64, 1000])
@pytest.mark.parametrize("kwargs", [{}, {"drop_last": True}, {"min_batch_size": 12},
                                    {"prefetch": True}])
def test_streams_give_the_batches_of_an_array_dataset(data, memmap, chunk, kwargs):
    X, y, w = data
    reference = _reference(X, y, **kwargs)
    stream = ArrayStream(memmap, y, chunk_size=chunk)
    loader = DataLoader(stream, batch_size=BATCH, **kwargs)
    _assert_same(list(loader), reference)
    _assert_same(list(loader), reference)  # a second epoch re-reads the file
    assert len(loader) == len(reference)
    gen = DataLoader(_generator_stream(X, y, None, chunk), batch_size=BATCH, **kwargs)
    _assert_same(list(gen), reference)
    _assert_same(list(gen), reference)
    weighted = DataLoader(_generator_stream(X, y, w, chunk), batch_size=BATCH, **kwargs)
    _assert_same(list(weighted), _reference(X, y, w, **kwargs))


def test_min_batch_size_merges_the_streams_last_rows(data):
    X, y, _ = data
    stream = ArrayStream(X[:65], y[:65], chunk_size=10)
    sizes = [len(yb) for _, yb in DataLoader(stream, batch_size=32, min_batch_size=2)]
    assert sizes == [32, 33]
    single = ArrayStream(X[:1], y[:1])
    assert [len(yb) for _, yb in DataLoader(single, batch_size=32, min_batch_size=2)] == [1]


def test_array_stream_reads_chunks_and_targets(data, memmap):
    X, y, w = data
    stream = ArrayStream(memmap, y, w, chunk_size=50)
    assert len(stream) == stream.n_samples == N and stream.n_features == 5
    chunks = list(stream)
    assert [len(c[0]) for c in chunks] == [50, 50, 50, 50, 3]
    assert all(type(c[0]) is np.ndarray for c in chunks)
    np.testing.assert_array_equal(np.concatenate([c[2] for c in chunks]), w)
    np.testing.assert_array_equal(np.concatenate(list(stream.iter_targets())), y)
    assert isinstance(stream, IterableDataset)
    assert [c[0].shape for c in DataLoader(ArrayStream(X), batch_size=None)] == [(N, 5)]
    with pytest.raises(ValueError, match="y has 5 rows"):
        ArrayStream(memmap, y[:5])
    with pytest.raises(ValueError, match="no targets"):
        next(ArrayStream(X).iter_targets())


def test_array_stream_never_reads_x_whole(data):
    X, y, _ = data

    class Recorder:
        """Only .shape and row slices, and it records which slices were read."""

        shape = X.shape

        def __init__(self):
            self.reads = []

        def __getitem__(self, key):
            assert isinstance(key, slice)
            self.reads.append(key.stop - key.start)
            return X[key]

    rec = Recorder()
    batches = list(DataLoader(ArrayStream(rec, y, chunk_size=40), batch_size=BATCH))
    _assert_same(batches, _reference(X, y))
    assert max(rec.reads) == 40
    list(ArrayStream(rec, y, chunk_size=40).iter_targets())
    assert sum(rec.reads) == N  # iter_targets read no X


def test_generator_stream_rejects_a_generator_object(data):
    X, y, _ = data

    def chunks():
        yield X, y

    with pytest.raises(TypeError, match="pass the function that creates it"):
        GeneratorStream(chunks())
    with pytest.raises(TypeError, match="callable"):
        GeneratorStream(X)
    np.testing.assert_array_equal(np.concatenate(list(GeneratorStream(chunks).iter_targets())),
                                  y)


def test_generator_stream_chunk_errors_name_the_chunk(data):
    X, y, _ = data

    def bad_rows():
        yield X[:10], y[:10]
        yield X[10:20], y[10:15]

    with pytest.raises(ValueError, match=r"chunk 1: y_chunk has shape \(5,\)"):
        list(GeneratorStream(bad_rows))

    def bad_width():
        yield X[:10], y[:10]
        yield X[10:20, :3], y[10:20]

    with pytest.raises(ValueError, match="chunk 1 has 2 arrays with X_chunk rows of shape"):
        list(DataLoader(GeneratorStream(bad_width), batch_size=4))


@pytest.mark.parametrize("kwargs, name", [(dict(shuffle=True), "shuffle"),
                                          (dict(sampler=[0, 1]), "sampler"),
                                          (dict(batch_sampler=[[0]]), "batch_sampler")])
def test_stream_loader_errors(data, kwargs, name):
    X, y, _ = data
    with pytest.raises(ValueError, match=f"IterableDataset: expected unspecified {name}"):
        DataLoader(ArrayStream(X, y), **kwargs)


def test_generator_stream_has_no_len(data):
    X, y, _ = data
    with pytest.raises(TypeError, match="unknown"):
        len(DataLoader(_generator_stream(X, y, None, 10), batch_size=8))


def test_dask_array_stream(data):
    da = pytest.importorskip("dask.array", reason="dask is not installed")
    X, y, _ = data
    stream = ArrayStream(da.from_array(X, chunks=(50, 5)), da.from_array(y, chunks=50),
                         chunk_size=64)
    _assert_same(list(DataLoader(stream, batch_size=BATCH)), _reference(X, y))
