"""Graph kernels: the Cython twin against the ``_xp`` reference on odd graphs
(isolated nodes, self-loops, duplicate edges, one node, no edges, strided
input, an empty segment), every reduction, with and without weights, in both
dtypes and at one and two threads."""

import numpy as np
import pytest

import sklears_neural._kernels as K
import sklears_neural._xp as X

TOL = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}


def _csr(rng, n_targets, n_sources, n_entries):
    """Random incoming edges, sorted by target, with duplicates and empty rows."""
    targets = np.sort(rng.integers(0, n_targets, n_entries))
    indices = rng.integers(0, n_sources, n_entries)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(targets, minlength=n_targets))])
    return indptr.astype(np.int64), indices.astype(np.int64)


GRAPHS = {
    "random": (9, 7, 30),
    "one node, a self-loop": (1, 1, 1),
    "one node, no edge": (1, 1, 0),
    "no edges": (5, 5, 0),
    "duplicates": (3, 2, 12),
}


@pytest.mark.parametrize("graph", list(GRAPHS), ids=list(GRAPHS))
@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_threads", [1, 2])  # small graphs stay serial (see below)
def test_spmm_twins_agree(graph, reduce, dtype, weighted, n_threads):
    rng = np.random.default_rng(hash(graph) % 2**32)
    n_targets, n_sources, n_entries = GRAPHS[graph]
    indptr, indices = _csr(rng, n_targets, n_sources, n_entries)
    x = rng.standard_normal((n_sources, 10)).astype(dtype)[:, ::2]  # strided
    weights = rng.standard_normal(n_entries).astype(dtype) if weighted else None
    out, argmax = K.spmm_forward(indptr, indices, weights, x, reduce, n_threads=n_threads)
    ref, ref_argmax = X.spmm_forward(indptr, indices, weights, x, reduce)
    assert out.dtype == dtype and out.shape == (n_targets, 5)
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    if reduce == "max":
        np.testing.assert_array_equal(argmax, ref_argmax)
    grad = rng.standard_normal(out.shape).astype(dtype)
    gx, gw = K.spmm_backward(indptr, indices, weights, x, grad, reduce, argmax,
                             n_threads=n_threads)
    rx, rw = X.spmm_backward(indptr, indices, weights, x, grad, reduce, ref_argmax)
    np.testing.assert_allclose(gx, rx, **TOL[dtype])
    if weighted:
        np.testing.assert_allclose(gw, rw, **TOL[dtype])
    else:
        assert gw is None and rw is None


def test_spmm_matches_a_dense_product():
    rng = np.random.default_rng(0)
    indptr, indices = _csr(rng, 6, 4, 15)
    weights = rng.standard_normal(15)
    x = rng.standard_normal((4, 3))
    dense = np.zeros((6, 4))
    for i in range(6):
        for e in range(indptr[i], indptr[i + 1]):
            dense[i, indices[e]] += weights[e]
    out, _ = K.spmm_forward(indptr, indices, weights, x, "sum")
    np.testing.assert_allclose(out, dense @ x)
    degree = np.maximum(np.diff(indptr), 1)[:, None]
    np.testing.assert_allclose(K.spmm_forward(indptr, indices, weights, x, "mean")[0],
                               dense @ x / degree)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_segment_reductions(reduce):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 3))
    ptr = np.array([0, 3, 3, 4, 7])  # the second segment is empty
    out, argmax = K.segment_reduce_forward(ptr, x, reduce)
    ref, _ = X.segment_reduce_forward(ptr, x, reduce)
    by_hand = [getattr(np, reduce)(x[a:b], axis=0) if b > a else np.zeros(3)
               for a, b in zip(ptr[:-1], ptr[1:])]
    np.testing.assert_allclose(out, by_hand)
    np.testing.assert_allclose(ref, by_hand)
    grad = rng.standard_normal(out.shape)
    np.testing.assert_allclose(K.segment_reduce_backward(ptr, x, grad, reduce, argmax),
                               X.segment_reduce_backward(ptr, x, grad, reduce, argmax))


def test_graph_kernel_errors_are_the_same_in_both_twins():
    x = np.zeros((3, 2))
    for kernels in (K, X):
        with pytest.raises(ValueError, match="argmax holds entries outside their rows"):
            kernels.spmm_backward(np.array([0, 1]), np.array([0]), None, np.ones((1, 1)),
                                  np.ones((1, 1)), "max", np.array([[1 << 40]]))
        with pytest.raises(ValueError, match=r"indices must be source nodes in \[0, 3\)"):
            kernels.spmm_forward(np.array([0, 1]), np.array([3]), None, x, "sum")
        with pytest.raises(ValueError, match="indptr must start at 0"):
            kernels.spmm_forward(np.array([0, 2]), np.array([0]), None, x, "sum")
        with pytest.raises(ValueError, match="reduce must be one of 'sum', 'mean', 'max'"):
            kernels.spmm_forward(np.array([0, 1]), np.array([0]), None, x, "min")
        with pytest.raises(ValueError, match="ptr must start at 0"):
            kernels.segment_reduce_forward(np.array([0, 2]), x, "sum")


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_threads_split_rows_and_columns_without_changing_a_bit(reduce):
    rng = np.random.default_rng(2)
    indptr, indices = _csr(rng, 500, 400, 3000)  # 3000 entries x 40 features: parallel
    x = rng.standard_normal((400, 40)).astype(np.float32)
    weights = rng.standard_normal(3000).astype(np.float32)
    one = K.spmm_forward(indptr, indices, weights, x, reduce, n_threads=1)
    two = K.spmm_forward(indptr, indices, weights, x, reduce, n_threads=2)
    np.testing.assert_array_equal(one[0], two[0])
    grad = rng.standard_normal(one[0].shape).astype(np.float32)
    backward = [K.spmm_backward(indptr, indices, weights, x, grad, reduce, one[1], n_threads=n)
                for n in (1, 2)]
    np.testing.assert_array_equal(backward[0][0], backward[1][0])
    np.testing.assert_array_equal(backward[0][1], backward[1][1])
    ref = X.spmm_backward(indptr, indices, weights, x, grad, reduce, one[1])
    np.testing.assert_allclose(backward[1][0], ref[0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("graph", list(GRAPHS), ids=list(GRAPHS))
@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_multi_head_weights_scale_their_own_columns(graph, reduce, dtype, n_threads):
    rng = np.random.default_rng(hash(graph) % 2**31 + 1)
    n_targets, n_sources, n_entries = GRAPHS[graph]
    indptr, indices = _csr(rng, n_targets, n_sources, n_entries)
    x = rng.standard_normal((n_sources, 12)).astype(dtype)[:, ::2]  # 6 columns, 3 heads
    weights = rng.standard_normal((n_entries, 3)).astype(dtype)
    out, argmax = K.spmm_forward(indptr, indices, weights, x, reduce, n_threads=n_threads)
    ref, ref_argmax = X.spmm_forward(indptr, indices, weights, x, reduce)
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    for h in range(3):  # each head alone: one weight per entry on its two columns
        one, _ = X.spmm_forward(indptr, indices, weights[:, h], x[:, 2 * h:2 * h + 2], reduce)
        np.testing.assert_allclose(out[:, 2 * h:2 * h + 2], one, **TOL[dtype])
    grad = rng.standard_normal(out.shape).astype(dtype)
    gx, gw = K.spmm_backward(indptr, indices, weights, x, grad, reduce, argmax,
                             n_threads=n_threads)
    rx, rw = X.spmm_backward(indptr, indices, weights, x, grad, reduce, ref_argmax)
    assert gw.shape == weights.shape
    np.testing.assert_allclose(gx, rx, **TOL[dtype])
    np.testing.assert_allclose(gw, rw, **TOL[dtype])


def test_heads_must_split_the_columns_evenly():
    for kernels in (K, X):
        with pytest.raises(ValueError, match="2 heads of weights do not split the 3"):
            kernels.spmm_forward(np.array([0, 1]), np.array([0]), np.ones((1, 2)),
                                 np.ones((1, 3)), "sum")
        with pytest.raises(ValueError, match=r"per entry and head, \(1, heads\)"):
            kernels.spmm_forward(np.array([0, 1]), np.array([0]), np.ones(2),
                                 np.ones((1, 3)), "sum")


INDICES = {"repeats": [3, 0, 3, 3, 1], "one": [2], "empty": []}


@pytest.mark.parametrize("case", list(INDICES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_gather_and_scatter_are_each_others_transpose(case, dtype, n_threads):
    rng = np.random.default_rng(3)
    index = np.array(INDICES[case], dtype=np.int64)
    x = rng.standard_normal((4, 10)).astype(dtype)[:, ::3]  # strided, 4 columns
    out = K.gather_rows(x, index, n_threads=n_threads)
    np.testing.assert_array_equal(out, X.gather_rows(x, index))
    np.testing.assert_array_equal(out, x[index])
    src = rng.standard_normal((len(index), 4)).astype(dtype)
    scattered = K.scatter_add_rows(src, index, 4, n_threads=n_threads)
    np.testing.assert_allclose(scattered, X.scatter_add_rows(src, index, 4), **TOL[dtype])
    # <gather(x), src> == <x, scatter(src)>
    np.testing.assert_allclose((out * src).sum(), (x * scattered).sum(), **TOL[dtype])


def test_scatter_threads_do_not_change_a_bit():
    rng = np.random.default_rng(4)
    index = rng.integers(0, 300, 5000)
    src = rng.standard_normal((5000, 32)).astype(np.float32)
    np.testing.assert_array_equal(K.scatter_add_rows(src, index, 300, n_threads=1),
                                  K.scatter_add_rows(src, index, 300, n_threads=2))


SEGMENTS = {"odd": [0, 3, 3, 4, 9], "one entry": [0, 1], "empty": [0], "all empty": [0, 0, 0]}


@pytest.mark.parametrize("case", list(SEGMENTS))
@pytest.mark.parametrize("heads", [None, 1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_segment_softmax_twins_agree(case, heads, dtype, n_threads):
    rng = np.random.default_rng(5)
    ptr = np.array(SEGMENTS[case], dtype=np.int64)
    shape = (ptr[-1],) if heads is None else (ptr[-1], heads)
    scores = (10 * rng.standard_normal(shape)).astype(dtype)
    out = K.segment_softmax_forward(ptr, scores, n_threads=n_threads)
    ref = X.segment_softmax_forward(ptr, scores)
    assert out.shape == shape and out.dtype == dtype
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    by_hand = np.concatenate([np.exp(scores[a:b] - scores[a:b].max(axis=0))
                              / np.exp(scores[a:b] - scores[a:b].max(axis=0)).sum(axis=0)
                              for a, b in zip(ptr[:-1], ptr[1:]) if b > a] or [scores])
    np.testing.assert_allclose(out, by_hand, **TOL[dtype])
    grad = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(K.segment_softmax_backward(ptr, out, grad, n_threads=n_threads),
                               X.segment_softmax_backward(ptr, ref, grad), **TOL[dtype])


def test_index_errors_are_the_same_in_both_twins():
    for kernels in (K, X):
        with pytest.raises(ValueError, match=r"gather_rows: index must hold rows in \[0, 2\)"):
            kernels.gather_rows(np.ones((2, 1)), np.array([2]))
        with pytest.raises(ValueError, match=r"scatter_add_rows: index must hold rows"):
            kernels.scatter_add_rows(np.ones((1, 1)), np.array([-1]), 3)
        with pytest.raises(ValueError, match="index must be a 1-D integer array"):
            kernels.gather_rows(np.ones((2, 1)), np.array([0.0]))
        with pytest.raises(ValueError, match="index has 2 entries for 1 rows of src"):
            kernels.scatter_add_rows(np.ones((1, 1)), np.array([0, 1]), 3)
        with pytest.raises(ValueError, match="ptr must start at 0"):
            kernels.segment_softmax_forward(np.array([0, 2]), np.ones(3))
        with pytest.raises(ValueError, match="grad_out has shape"):
            kernels.segment_softmax_backward(np.array([0, 2]), np.ones(2), np.ones(3))


def test_weights_gradient_can_be_skipped():
    rng = np.random.default_rng(6)
    indptr, indices = _csr(rng, 5, 4, 12)
    x, w, g = rng.standard_normal((4, 3)), rng.standard_normal(12), rng.standard_normal((5, 3))
    for kernels in (K, X):
        full = kernels.spmm_backward(indptr, indices, w, x, g, "sum", None)
        grad_x, grad_w = kernels.spmm_backward(indptr, indices, w, x, g, "sum", None,
                                               weights_grad=False)
        np.testing.assert_array_equal(grad_x, full[0])
        assert grad_w is None and full[1] is not None


@pytest.mark.parametrize("heads", [5, 8, 40])  # head widths 8, 5 and 1 against blocks of 20
@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_threads_split_columns_through_heads(heads, reduce):
    rng = np.random.default_rng(7)
    indptr, indices = _csr(rng, 500, 400, 3000)  # parallel: 3000 entries x 40 features
    x = rng.standard_normal((400, 40))
    weights = rng.standard_normal((3000, heads))
    out, argmax = K.spmm_forward(indptr, indices, weights, x, reduce, n_threads=2)
    ref, ref_argmax = X.spmm_forward(indptr, indices, weights, x, reduce)
    np.testing.assert_allclose(out, ref, **TOL[np.float64])
    grad = rng.standard_normal(out.shape)
    gx, gw = K.spmm_backward(indptr, indices, weights, x, grad, reduce, argmax, n_threads=2)
    rx, rw = X.spmm_backward(indptr, indices, weights, x, grad, reduce, ref_argmax)
    np.testing.assert_allclose(gx, rx, **TOL[np.float64])
    np.testing.assert_allclose(gw, rw, **TOL[np.float64])
