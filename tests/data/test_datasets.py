"""ArrayDataset, Subset, SequenceDataset and pad_sequences."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklears_neural.data import (
    ArrayDataset,
    DataLoader,
    Dataset,
    Padded,
    SequenceDataset,
    Subset,
    default_collate,
    pad_sequences,
)


def _xyw(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, n), rng.uniform(size=n)


def test_array_dataset_items_and_batches():
    X, y, w = _xyw()
    ds = ArrayDataset(X, y, w)
    assert len(ds) == 10
    x0, y0, w0 = ds[2]
    np.testing.assert_array_equal(x0, X[2])
    assert (y0, w0) == (y[2], w[2])
    idx = np.array([4, 1, 1])
    xb, yb, wb = ds.__getitems__(idx)
    np.testing.assert_array_equal(xb, X[idx])
    np.testing.assert_array_equal(yb, y[idx])
    np.testing.assert_array_equal(wb, w[idx])
    assert len(ArrayDataset(X)[0]) == 1 and len(ArrayDataset(X, y)[0]) == 2
    xs, ys = ArrayDataset(X, y).__getitems__(slice(2, 5))
    np.testing.assert_array_equal(xs, X[2:5])
    np.testing.assert_array_equal(ys, y[2:5])
    with pytest.raises(IndexError):
        ds[10]


def test_array_dataset_any_ndim_and_subset_class():
    images = np.arange(5 * 2 * 3 * 3.0).reshape(5, 2, 3, 3)
    ds = ArrayDataset(images, np.arange(5))
    (xb, yb) = ds.__getitems__(np.array([3, 0]))
    assert xb.shape == (2, 2, 3, 3)
    sub = ds.subset([4, 2])
    assert type(sub) is ArrayDataset and len(sub) == 2
    np.testing.assert_array_equal(sub.X, images[[4, 2]])
    np.testing.assert_array_equal(sub.y, [4, 2])
    with pytest.raises(ValueError, match="at least one dimension"):
        ArrayDataset(np.float64(3.0))


@pytest.mark.parametrize("name", ["y", "sample_weight"])
def test_array_dataset_length_mismatch_names_the_array(name):
    X, y, w = _xyw()
    kwargs = {"y": y, "sample_weight": w}
    kwargs[name] = kwargs[name][:7]
    with pytest.raises(ValueError, match=rf"{name} has 7 rows \(shape \(7,\)\).*\(10, 3\)"):
        ArrayDataset(X, **kwargs)


@pytest.mark.parametrize("fmt", ["csr", "coo"])
def test_sparse_x_stays_sparse_and_batches_are_dense(fmt):
    X = sp.random(20, 6, density=0.3, format=fmt, random_state=0)
    ds = ArrayDataset(X, np.arange(20))
    assert sp.issparse(ds.X)
    xb, yb = ds.__getitems__(np.array([5, 0, 19]))
    assert isinstance(xb, np.ndarray)
    np.testing.assert_array_equal(xb, X.toarray()[[5, 0, 19]])
    np.testing.assert_array_equal(ds[3][0], X.toarray()[3])
    assert sp.issparse(ds.subset([1, 2]).X)


def test_pandas_inputs_are_converted_once():
    pd = pytest.importorskip("pandas", reason="pandas is not installed")
    X, y, _ = _xyw()
    frame = pd.DataFrame(X, index=np.arange(10) * 3, columns=list("abc"))
    ds = ArrayDataset(frame, pd.Series(y, index=frame.index))
    assert isinstance(ds.X, np.ndarray) and isinstance(ds.y, np.ndarray)
    xb, yb = ds.__getitems__(np.array([0, 9]))
    np.testing.assert_array_equal(xb, X[[0, 9]])
    np.testing.assert_array_equal(yb, y[[0, 9]])


def test_subset_follows_pytorch():
    X, y, _ = _xyw()
    ds = ArrayDataset(X, y)
    sub = Subset(ds, [7, 3, 5])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[1][0], X[3])
    assert len(sub[[0, 2]]) == 2
    xb, yb = sub.__getitems__(np.array([2, 0]))
    np.testing.assert_array_equal(xb, X[[5, 7]])
    np.testing.assert_array_equal(yb, y[[5, 7]])
    nested = Subset(sub, [2])
    np.testing.assert_array_equal(nested.__getitems__(np.array([0]))[0], X[[5]])


class _Squares(Dataset):
    """A plain dataset: only __len__ and __getitem__."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=float), i % 2


def test_plain_dataset_defaults():
    ds = _Squares()
    xb, yb = ds.__getitems__(np.array([2, 3]))
    np.testing.assert_array_equal(xb, [[2, 4], [3, 9]])
    np.testing.assert_array_equal(yb, [0, 1])
    sub = ds.subset([5, 4])
    assert isinstance(sub, Subset)
    np.testing.assert_array_equal(sub.__getitems__(np.arange(2))[0], [[5, 25], [4, 16]])


def test_default_collate_structures():
    Pair = __import__("collections").namedtuple("Pair", "a b")
    batch = default_collate([(Pair(np.zeros(2), 1.0), {"k": 3}), (Pair(np.ones(2), 2.0),
                                                                    {"k": 4})])
    assert isinstance(batch, tuple) and isinstance(batch[0], Pair)
    np.testing.assert_array_equal(batch[0].a, [[0, 0], [1, 1]])
    np.testing.assert_array_equal(batch[1]["k"], [3, 4])
    assert default_collate([(1, None), (2, None)])[1] is None
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object()])


# --- sequences -------------------------------------------------------------

LENGTHS = [4, 1, 3, 2]


def _sequence_list(features=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(t, features)) for t in LENGTHS]


def test_sequence_inputs_agree_across_forms_and_layouts():
    seqs = _sequence_list()
    ntc = SequenceDataset(seqs, y=np.arange(4))
    nct = SequenceDataset([s.T for s in seqs], y=np.arange(4), layout="NCT")
    np.testing.assert_array_equal(ntc.values, nct.values)
    np.testing.assert_array_equal(ntc.lengths, LENGTHS)
    assert ntc.lengths.dtype == np.int64 and ntc.values.shape == (4, 4, 2)
    assert ntc.n_features == 2 and nct.layout == "NCT"
    for i, (seq, t) in enumerate(zip(seqs, LENGTHS)):
        np.testing.assert_array_equal(ntc.values[i, :t], seq)
        assert not ntc.values[i, t:].any()
    cube = np.random.default_rng(1).normal(size=(3, 5, 2))
    from_cube = SequenceDataset(cube)
    from_cube_nct = SequenceDataset(cube.transpose(0, 2, 1).copy(), layout="NCT")
    from_list = SequenceDataset(list(cube))
    for other in (from_cube_nct, from_list):
        np.testing.assert_array_equal(other.values, from_cube.values)
        np.testing.assert_array_equal(other.lengths, [5, 5, 5])
    univariate = SequenceDataset([np.arange(3.0), np.arange(2.0)])
    assert univariate.values.shape == (2, 3, 1)


def test_sequence_batches_trim_padding_to_the_batch():
    ds = SequenceDataset(_sequence_list(), y=np.arange(4), sample_weight=np.ones(4))
    (values, lengths), yb, wb = ds.__getitems__(np.array([1, 3]))
    assert values.shape == (2, 2, 2)  # longest in the batch is 2, not 4
    np.testing.assert_array_equal(lengths, [1, 2])
    assert lengths.dtype == np.int64
    np.testing.assert_array_equal(values, ds.values[[1, 3], :2])
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert isinstance(batch[0], Padded) and batch[0].values.shape == (4, 4, 2)
    item = ds[1]
    assert item[0].values.shape == (1, 2) and item[0].lengths == 1
    # the default collate of items pads as __getitems__ does
    collated = ds.collate([ds[1], ds[3]])
    np.testing.assert_array_equal(collated[0].values, values)
    np.testing.assert_array_equal(collated[0].lengths, lengths)


def test_sequence_subset_is_a_sequence_dataset():
    ds = SequenceDataset(_sequence_list(), y=np.arange(4))
    sub = ds.subset([1, 3])
    assert type(sub) is SequenceDataset
    assert sub.values.shape == (2, 2, 2)
    np.testing.assert_array_equal(sub.y, [1, 3])


def test_pad_sequences():
    values, lengths = pad_sequences([[1, 2, 3], [4]], dtype=np.float32)
    assert values.dtype == np.float32 and values.shape == (2, 3, 1)
    np.testing.assert_array_equal(values[:, :, 0], [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1])


def test_sequence_errors():
    seqs = _sequence_list()
    with pytest.raises(ValueError, match=r"X\[2\] has 0 time steps"):
        SequenceDataset(seqs[:2] + [np.zeros((0, 2))])
    with pytest.raises(ValueError, match=r"different numbers of features"):
        SequenceDataset([np.zeros((3, 2)), np.zeros((3, 4))])
    # (F, T_i) sequences read as (T_i, F) disagree; the message names the layout that agrees
    with pytest.raises(ValueError, match=r"layout='NCT'"):
        SequenceDataset([np.zeros((2, 5)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"X\[1\] has shape \(2, 2, 2\) \(ndim 3\)"):
        SequenceDataset([np.zeros((3, 2)), np.zeros((2, 2, 2))])
    with pytest.raises(ValueError, match="y has 3 rows"):
        SequenceDataset(seqs, y=[0, 1, 2])
    with pytest.raises(ValueError, match="layout"):
        SequenceDataset(seqs, layout="TNC")
    with pytest.raises(ValueError, match="3-D"):
        SequenceDataset(np.zeros((3, 4)))
