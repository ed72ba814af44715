"""Pooling, batch norm, padding and upsampling kernels.

Each Cython kernel (``_kernels._pool``, ``_kernels._norm``) is checked against
the portable one (``_xp._pool``, ``_xp._norm``), and both against naive
per-element loops written here; every backward is checked by finite
differences in float64.
"""

import itertools

import numpy as np
import pytest

# The twins' packages: pooling, padding and upsampling (_pool) and batch norm (_norm).
from sklears_neural import _kernels as K
from sklears_neural import _xp as X

from conftest import TOLERANCES, with_layout

IMPLS = [K, X]
IMPL_IDS = ["cython", "xp"]


# ---------------------------------------------------------------------------
# Naive references: one output element at a time
# ---------------------------------------------------------------------------

def _out_size(n, k, s, p, dl, ceil):
    span = n + 2 * p - dl * (k - 1) - 1
    o = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def naive_max_pool(x, k, s, p, dl, ceil):
    spatial = x.shape[2:]
    out = tuple(_out_size(*a, ceil) for a in zip(spatial, k, s, p, dl))
    y = np.empty(x.shape[:2] + out, dtype=x.dtype)
    ind = np.empty(x.shape[:2] + out, dtype=np.int64)
    for n, c in itertools.product(*map(range, x.shape[:2])):
        plane = x[n, c]
        for o in itertools.product(*map(range, out)):
            best, bi = -np.inf, -1
            for j in itertools.product(*map(range, k)):
                pos = tuple(oi * si - pi + ji * di
                            for oi, si, pi, ji, di in zip(o, s, p, j, dl))
                if all(0 <= q < m for q, m in zip(pos, spatial)):
                    v = plane[pos]
                    if bi == -1:
                        bi = np.ravel_multi_index(pos, spatial)
                    if v > best or np.isnan(v):
                        best, bi = v, np.ravel_multi_index(pos, spatial)
            y[(n, c) + o] = best
            ind[(n, c) + o] = bi
    return y, ind


def naive_avg_pool(x, k, s, p, ceil, include_pad, divisor=None):
    spatial = x.shape[2:]
    out = tuple(_out_size(*a, 1, ceil) for a in zip(spatial, k, s, p))
    y = np.empty(x.shape[:2] + out, dtype=np.float64)
    for n, c in itertools.product(*map(range, x.shape[:2])):
        for o in itertools.product(*map(range, out)):
            total, pool, valid = 0.0, 1, 1
            for oi, si, pi, ki, m in zip(o, s, p, k, spatial):
                start = oi * si - pi
                end = min(start + ki, m + pi)
                pool *= end - start
                valid *= min(end, m) - max(start, 0)
            for j in itertools.product(*map(range, k)):
                pos = tuple(oi * si - pi + ji for oi, si, pi, ji in zip(o, s, p, j))
                if all(0 <= q < m for q, m in zip(pos, spatial)):
                    total += x[(n, c) + pos]
            y[(n, c) + o] = total / (divisor or (pool if include_pad else valid))
    return y.astype(x.dtype)


def naive_adaptive(x, out, op):
    spatial = x.shape[2:]
    y = np.empty(x.shape[:2] + out, dtype=x.dtype)
    ind = np.empty(x.shape[:2] + out, dtype=np.int64)
    for n, c in itertools.product(*map(range, x.shape[:2])):
        for o in itertools.product(*map(range, out)):
            box = tuple(slice(i * m // d, -(-(i + 1) * m // d))
                        for i, m, d in zip(o, spatial, out))
            block = x[(n, c) + box]
            if op == "avg":
                y[(n, c) + o] = block.astype(np.float64).mean()
            else:
                flat = block.ravel()
                nan = np.flatnonzero(np.isnan(flat))
                j = nan[-1] if nan.size else int(np.argmax(flat))
                y[(n, c) + o] = flat[j]
                local = np.unravel_index(j, block.shape)
                ind[(n, c) + o] = np.ravel_multi_index(
                    tuple(b.start + q for b, q in zip(box, local)), spatial)
    return y, ind


def naive_pad_index(i, n, mode):
    if mode == "reflect":
        while i < 0 or i >= n:
            i = -i if i < 0 else 2 * (n - 1) - i
        return i
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    return i % n


def naive_pad(x, pad, mode, value=0.0):
    k = len(pad) // 2
    pairs = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]
    out = tuple(n + b + a for n, (b, a) in zip(x.shape, pairs))
    y = np.empty(out, dtype=x.dtype)
    for o in itertools.product(*map(range, out)):
        src = [i - b for i, (b, _) in zip(o, pairs)]
        if mode == "constant":
            inside = all(0 <= q < n for q, n in zip(src, x.shape))
            y[o] = x[tuple(src)] if inside else value
        else:
            y[o] = x[tuple(naive_pad_index(q, n, mode) for q, n in zip(src, x.shape))]
    return y


def naive_upsample(x, f):
    y = x
    for axis, fi in enumerate(f):
        y = np.repeat(y, fi, axis=2 + axis)
    return y


def naive_batch_norm(x, gamma, beta, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes)
    var = x64.var(axis=axes)
    y = (x64 - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y.astype(x.dtype), mean, 1 / np.sqrt(var + eps)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _close(actual, expected, dtype, scale=1.0):
    tol = TOLERANCES[np.dtype(dtype)]
    assert actual.dtype == np.dtype(dtype), actual.dtype
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.flags.c_contiguous
    np.testing.assert_allclose(actual, expected, rtol=tol["rtol"] * scale,
                               atol=tol["atol"] * scale)


def _data(rng, shape, dtype):
    """Distinct values (no ties, so the argmax and finite differences are
    well defined), in random order."""
    size = int(np.prod(shape))
    values = (rng.permutation(size) - size / 2) / max(size, 1) * 4
    return values.reshape(shape).astype(dtype)


def _fd_check(forward, backward, x, rng, h=1e-6, gy=None):
    """<backward(gy), dx> against the central difference of <forward, gy>
    along a random direction dx."""
    if gy is None:
        gy = rng.standard_normal(forward(x).shape)
    dx = rng.standard_normal(x.shape)
    numeric = (np.vdot(forward(x + h * dx), gy) - np.vdot(forward(x - h * dx), gy)) / (2 * h)
    analytic = np.vdot(backward(gy), dx)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


# (input shape, kernel, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    ((2, 3, 9), (3,), (2,), (1,), (1,), False),
    ((1, 2, 10), (2,), (3,), (1,), (2,), True),
    ((2, 2, 1), (1,), (1,), (0,), (1,), False),
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((1, 2, 7, 9), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((2, 2, 7, 6), (3, 2), (2, 1), (1, 1), (1, 1), True),
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0), (1, 1), False),
    ((1, 2, 5, 4), (5, 4), (1, 1), (0, 0), (1, 1), False),
    ((2, 1, 8, 7), (3, 3), (2, 3), (1, 1), (2, 1), False),
    ((1, 2, 6, 6), (3, 3), (3, 3), (1, 1), (1, 1), True),
    ((1, 2, 5, 6, 7), (2, 3, 2), (2, 2, 1), (1, 1, 0), (1, 1, 2), False),
    ((2, 1, 4, 4, 4), (2, 2, 2), (2, 2, 2), (0, 0, 0), (1, 1, 1), True),
]
MAX_IDS = [f"{len(c[0]) - 2}d-{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-{c[5]}" for c in MAX_CASES]

AVG_CASES = [
    ((2, 3, 9), (3,), (2,), (1,), False),
    ((1, 2, 10), (4,), (3,), (2,), True),
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), False),
    ((1, 2, 7, 9), (2, 2), (2, 2), (0, 0), True),
    ((2, 2, 7, 6), (3, 2), (2, 1), (1, 1), True),
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0), False),
    ((1, 2, 5, 4), (5, 4), (1, 1), (2, 2), False),
    ((1, 2, 6, 5), (3, 3), (2, 2), (1, 1), True),
    ((1, 2, 5, 6, 7), (2, 3, 2), (2, 2, 1), (1, 1, 0), False),
    ((2, 1, 5, 4, 4), (2, 2, 2), (2, 2, 2), (1, 0, 1), True),
]
AVG_IDS = [f"{len(c[0]) - 2}d-{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}-{c[4]}" for c in AVG_CASES]

ADAPTIVE_CASES = [
    ((2, 3, 10), (4,)), ((1, 2, 3), (5,)), ((2, 2, 7, 9), (3, 4)), ((1, 2, 5, 5), (1, 1)),
    ((1, 1, 1, 1), (1, 1)), ((2, 1, 6, 4), (6, 4)), ((1, 2, 5, 6, 7), (2, 3, 4)),
    ((1, 2, 3, 4, 5), (1, 1, 1)),
]
ADAPTIVE_IDS = [f"{s}->{o}" for s, o in ADAPTIVE_CASES]


# ---------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,k,s,p,dl,ceil", MAX_CASES, ids=MAX_IDS)
def test_max_pool_matches_naive(shape, k, s, p, dl, ceil, dtype, rng):
    x = _data(rng, shape, dtype)
    y_ref, ind_ref = naive_max_pool(x, k, s, p, dl, ceil)
    for impl in IMPLS:
        y, ind = impl.max_pool_forward(x, k, s, p, dl, ceil)
        _close(y, y_ref, dtype)
        np.testing.assert_array_equal(ind, ind_ref)
        assert ind.dtype == np.int64
        gy = rng.standard_normal(y.shape).astype(dtype)
        gx = impl.max_pool_backward(gy, ind, shape)
        expected = np.zeros(shape, dtype=np.float64)
        for (n, c, *_), i, g in zip(np.ndindex(*gy.shape), ind.ravel(), gy.ravel()):
            if i >= 0:
                expected[n, c].flat[i] += g
        _close(gx, expected.astype(dtype), dtype)


@pytest.mark.parametrize("shape,k,s,p,dl,ceil", MAX_CASES, ids=MAX_IDS)
def test_max_pool_cython_equals_xp(shape, k, s, p, dl, ceil, dtype, rng):
    """Also with ties (a ReLU-like input full of zeros) and NaNs."""
    x = np.maximum(rng.standard_normal(shape), 0).astype(dtype)
    x.flat[::7] = np.nan
    y, ind = K.max_pool_forward(x, k, s, p, dl, ceil)
    y_ref, ind_ref = X.max_pool_forward(x, k, s, p, dl, ceil)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(ind, ind_ref)
    np.testing.assert_array_equal(ind, naive_max_pool(x, k, s, p, dl, ceil)[1])


def test_max_pool_nan_propagates():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 1, 0] = np.nan
    for impl in IMPLS:
        y, ind = impl.max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
        assert np.isnan(y[0, 0, 0, 0]) and ind[0, 0, 0, 0] == 4  # the last NaN
        assert y[0, 0, 1, 1] == 15 and ind[0, 0, 1, 1] == 15


def test_max_pool_empty_dilated_window():
    """A window of padding only (dilation skips the one input element)."""
    x = np.ones((1, 1, 1), dtype=np.float64)
    for impl in IMPLS:
        y, ind = impl.max_pool_forward(x, (2,), (1,), (2,), (3,), False)
        assert y.shape == (1, 1, 2)  # windows at -2, 1 and -1, 2: both empty
        assert (y == -np.inf).all() and (ind == -1).all()
        np.testing.assert_array_equal(impl.max_pool_backward(np.ones_like(y), ind, x.shape),
                                      np.zeros_like(x))


@pytest.mark.parametrize("layout", ["F", "strided"])
def test_non_contiguous_inputs(layout, dtype, rng):
    x = _data(rng, (2, 3, 7, 8), dtype)
    xl = with_layout(x, layout)
    pairs = [
        (lambda a: K.max_pool_forward(a, (3, 3), (2, 2), (1, 1), (1, 1), True)[0]),
        (lambda a: K.avg_pool_forward(a, (3, 2), (2, 2), (1, 1), False, False)),
        (lambda a: K.adaptive_avg_pool_forward(a, (3, 5))),
        (lambda a: K.adaptive_max_pool_forward(a, (3, 5))[0]),
        (lambda a: K.batch_norm_forward(a, None, None, 1e-5)[0]),
        (lambda a: K.pad_forward(a, (1, 2, 2, 1), "reflect")),
        (lambda a: K.upsample_nearest_forward(a, (2, 3))),
        (lambda a: K.upsample_nearest_backward(a, (1, 2))),
    ]
    for f in pairs:
        _close(f(xl), f(x), dtype)
    y, ind = K.max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    gy = with_layout(rng.standard_normal(y.shape).astype(dtype), layout)
    _close(K.max_pool_backward(gy, with_layout(ind, layout), x.shape),
           K.max_pool_backward(np.ascontiguousarray(gy), ind, x.shape), dtype)


def test_n_threads_gives_the_same_result(rng):
    x = rng.standard_normal((4, 8, 64, 72)).astype(np.float32)  # above the parallel size
    y1, i1 = K.max_pool_forward(x, (3, 3), (2, 2), (1, 1), (1, 1), False)
    y2, i2 = K.max_pool_forward(x, (3, 3), (2, 2), (1, 1), (1, 1), False, n_threads=2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(K.max_pool_backward(y1, i1, x.shape),
                                  K.max_pool_backward(y1, i1, x.shape, n_threads=-1))
    for f in (lambda **kw: K.avg_pool_forward(x, (2, 2), (2, 2), (0, 0), False, True, **kw),
              lambda **kw: K.batch_norm_forward(x, None, None, 1e-5, **kw)[0],
              lambda **kw: K.upsample_nearest_backward(x, (2, 2), **kw),
              lambda **kw: K.pad_backward(x, x.shape[:2] + (62, 70), (1, 1, 1, 1), "reflect",
                                          **kw),
              lambda **kw: K.adaptive_avg_pool_forward(x, (5, 7), **kw)):
        np.testing.assert_array_equal(f(), f(n_threads=2))


# ---------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,k,s,p,ceil", AVG_CASES, ids=AVG_IDS)
@pytest.mark.parametrize("include_pad,divisor", [(True, None), (False, None), (True, 3)],
                         ids=["include", "exclude", "override"])
def test_avg_pool_matches_naive(shape, k, s, p, ceil, include_pad, divisor, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    y_ref = naive_avg_pool(x, k, s, p, ceil, include_pad, divisor)
    gy = rng.standard_normal(y_ref.shape).astype(dtype)
    grads = []
    for impl in IMPLS:
        y = impl.avg_pool_forward(x, k, s, p, ceil, include_pad, divisor)
        _close(y, y_ref, dtype, scale=4)
        grads.append(impl.avg_pool_backward(gy, shape, k, s, p, ceil, include_pad, divisor))
    _close(grads[0], grads[1], dtype, scale=4)
    # The backward is the transpose of the forward: <gy, A x> == <A^T gy, x>.
    np.testing.assert_allclose(np.vdot(grads[0].astype(np.float64), x),
                               np.vdot(gy.astype(np.float64), y_ref), rtol=1e-4)


# ---------------------------------------------------------------------------
# Adaptive pooling
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,out", ADAPTIVE_CASES, ids=ADAPTIVE_IDS)
def test_adaptive_pools_match_naive(shape, out, dtype, rng):
    x = _data(rng, shape, dtype)
    avg_ref, _ = naive_adaptive(x, out, "avg")
    max_ref, ind_ref = naive_adaptive(x, out, "max")
    gy = rng.standard_normal(avg_ref.shape).astype(dtype)
    grads = []
    for impl in IMPLS:
        _close(impl.adaptive_avg_pool_forward(x, out), avg_ref, dtype, scale=4)
        y, ind = impl.adaptive_max_pool_forward(x, out)
        _close(y, max_ref, dtype)
        np.testing.assert_array_equal(ind, ind_ref)
        grads.append(impl.adaptive_avg_pool_backward(gy, shape))
    _close(grads[0], grads[1], dtype, scale=4)
    np.testing.assert_allclose(np.vdot(grads[0].astype(np.float64), x),
                               np.vdot(gy.astype(np.float64), avg_ref), rtol=1e-4)


def test_adaptive_max_nan():
    x = np.arange(30, dtype=np.float64).reshape(1, 1, 5, 6)
    x[0, 0, 1, 1] = x[0, 0, 2, 0] = np.nan
    y, ind = K.adaptive_max_pool_forward(x, (2, 2))
    y_ref, ind_ref = X.adaptive_max_pool_forward(x, (2, 2))
    np.testing.assert_array_equal(ind, ind_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert np.isnan(y[0, 0, 0, 0]) and ind[0, 0, 0, 0] == 12


# ---------------------------------------------------------------------------
# Batch norm
# ---------------------------------------------------------------------------

BN_SHAPES = [(5, 3), (1, 4, 3), (4, 3, 5), (2, 3, 4, 5), (2, 2, 3, 2, 3), (7, 1, 1, 1)]


@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_batch_norm_matches_naive(shape, affine, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype) * 3 + 2
    c = shape[1]
    gamma = rng.standard_normal(c).astype(dtype) if affine else None
    beta = rng.standard_normal(c).astype(dtype) if affine else None
    y_ref, mean_ref, inv_ref = naive_batch_norm(x, gamma, beta, 1e-5)
    gy = rng.standard_normal(shape).astype(dtype)
    outs = []
    for impl in IMPLS:
        y, mean, invstd = impl.batch_norm_forward(x, gamma, beta, 1e-5)
        _close(y, y_ref, dtype, scale=4)
        _close(mean, mean_ref.astype(dtype), dtype, scale=4)
        _close(invstd, inv_ref.astype(dtype), dtype, scale=4)
        outs.append(impl.batch_norm_backward(gy, x, gamma, mean, invstd))
        rm = rng.standard_normal(c).astype(dtype)
        rv = rng.random(c).astype(dtype) + 0.5
        ref = (x - rm.reshape((1, -1) + (1,) * (x.ndim - 2)).astype(np.float64)) \
            / np.sqrt(rv.astype(np.float64) + 1e-5).reshape((1, -1) + (1,) * (x.ndim - 2))
        if affine:
            ref = ref * gamma.reshape((1, -1) + (1,) * (x.ndim - 2)) \
                + beta.reshape((1, -1) + (1,) * (x.ndim - 2))
        for other in IMPLS:
            _close(other.batch_norm_inference(x, gamma, beta, rm, rv, 1e-5),
                   ref.astype(dtype), dtype, scale=4)
    for g, e in zip(outs[0], outs[1]):
        _close(g, e, dtype, scale=10)


@pytest.mark.parametrize("needs", list(itertools.product([False, True], repeat=3)))
def test_batch_norm_backward_needs(needs, rng):
    x = rng.standard_normal((4, 3, 5))
    gamma = rng.standard_normal(3)
    y, mean, invstd = K.batch_norm_forward(x, gamma, None, 1e-5)
    gy = rng.standard_normal(x.shape)
    full = K.batch_norm_backward(gy, x, gamma, mean, invstd)
    got = K.batch_norm_backward(gy, x, gamma, mean, invstd, *needs)
    ref = X.batch_norm_backward(gy, x, gamma, mean, invstd, *needs)
    for g, r, f, need in zip(got, ref, full, needs):
        if need:
            np.testing.assert_allclose(g, f, rtol=1e-12)
            np.testing.assert_allclose(r, f, rtol=1e-10, atol=1e-12)
        else:
            assert g is None and r is None


def test_batch_norm_large_mean_is_accurate(rng):
    """float32 data around 1e4 with unit spread: the statistics are not
    cancelled away (accumulation in double, shifted)."""
    x = (1e4 + rng.standard_normal((64, 4, 6, 6))).astype(np.float32)
    _, mean_ref, inv_ref = naive_batch_norm(x, None, None, 1e-5)
    for impl in IMPLS:
        y, mean, invstd = impl.batch_norm_forward(x, None, None, 1e-5)
        np.testing.assert_allclose(invstd, inv_ref, rtol=1e-5)
        np.testing.assert_allclose(mean, mean_ref, rtol=1e-7)
        np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, rtol=1e-3)


# ---------------------------------------------------------------------------
# Padding and upsampling
# ---------------------------------------------------------------------------

PAD_CASES = [
    ((2, 3, 5), (2, 1)), ((1, 2, 4, 5), (1, 2, 3, 0)), ((1, 1, 3, 3), (2, 2, 2, 2)),
    ((1, 2, 3, 4, 5), (1, 0, 2, 1, 0, 2)), ((2, 1, 1, 6), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("shape,pad", PAD_CASES, ids=[f"{s}-{p}" for s, p in PAD_CASES])
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_naive(shape, pad, mode, dtype, rng):
    if mode == "reflect" and any(q >= n for q, n in zip(pad, np.repeat(shape[:1:-1], 2))):
        pytest.skip("reflect pad must be smaller than the axis")
    x = rng.standard_normal(shape).astype(dtype)
    y_ref = naive_pad(x, pad, mode, 0.5)
    gy = rng.standard_normal(y_ref.shape).astype(dtype)
    grads = []
    for impl in IMPLS:
        value = {"value": 0.5} if mode == "constant" else {}
        _close(impl.pad_forward(x, pad, mode, **value), y_ref, dtype)
        grads.append(impl.pad_backward(gy, shape, pad, mode))
    _close(grads[0], grads[1], dtype, scale=4)
    np.testing.assert_allclose(np.vdot(grads[0].astype(np.float64), x),
                               np.vdot(gy.astype(np.float64), y_ref - (y_ref == 0.5) * 0.5),
                               rtol=1e-4)


def test_constant_pad_crops_and_pads_any_axis(dtype, rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
    for pad in [(-1, 2, 1, -2), (1, 1, 0, 0, -1, 1), (0, 0, 0, 0, 0, 0, 1, 1)]:
        y_ref = naive_pad(x, pad, "constant", -2.0)
        gy = rng.standard_normal(y_ref.shape).astype(dtype)
        for impl in IMPLS:
            _close(impl.pad_forward(x, pad, "constant", -2.0), y_ref, dtype)
            g = impl.pad_backward(gy, x.shape, pad, "constant")
            np.testing.assert_allclose(np.vdot(g.astype(np.float64), x),
                                       np.vdot(gy.astype(np.float64),
                                               naive_pad(x, pad, "constant", 0.0)),
                                       rtol=1e-4)


UP_CASES = [((2, 3, 4), (3,)), ((1, 2, 3, 5), (2, 2)), ((1, 1, 1, 1), (1, 3)),
            ((1, 2, 2, 3, 2), (2, 1, 3))]


@pytest.mark.parametrize("shape,f", UP_CASES, ids=[f"{s}x{f}" for s, f in UP_CASES])
def test_upsample_nearest_matches_naive(shape, f, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    y_ref = naive_upsample(x, f)
    gy = rng.standard_normal(y_ref.shape).astype(dtype)
    g_ref = gy.astype(np.float64)
    for axis, fi in enumerate(f):
        g_ref = np.add.reduceat(g_ref, np.arange(0, g_ref.shape[2 + axis], fi), axis=2 + axis)
    for impl in IMPLS:
        _close(impl.upsample_nearest_forward(x, f), y_ref, dtype)
        _close(impl.upsample_nearest_backward(gy, f), g_ref.astype(dtype), dtype, scale=4)


# ---------------------------------------------------------------------------
# Finite differences (float64, tiny shapes), for both implementations
# ---------------------------------------------------------------------------

def _fd_cases():
    cases = []
    for shape, k, s, p, dl, ceil in [((1, 2, 5, 4), (2, 2), (1, 2), (1, 0), (1, 1), True),
                                     ((2, 1, 7), (3,), (2,), (1,), (2,), False)]:
        cases.append((f"max{shape}",
                      lambda m, a, k=k, s=s, p=p, dl=dl, ceil=ceil:
                      m.max_pool_forward(a, k, s, p, dl, ceil)[0],
                      lambda m, a, g, k=k, s=s, p=p, dl=dl, ceil=ceil:
                      m.max_pool_backward(g, m.max_pool_forward(a, k, s, p, dl, ceil)[1],
                                          a.shape),
                      shape))
    for include in (True, False):
        cases.append((f"avg-{include}",
                      lambda m, a, i=include: m.avg_pool_forward(a, (3, 2), (2, 1), (1, 1), True, i),
                      lambda m, a, g, i=include: m.avg_pool_backward(g, a.shape, (3, 2), (2, 1),
                                                                     (1, 1), True, i),
                      (1, 2, 5, 4)))
    cases += [
        ("adaptive_avg", lambda m, a: m.adaptive_avg_pool_forward(a, (2, 3, 2)),
         lambda m, a, g: m.adaptive_avg_pool_backward(g, a.shape), (1, 2, 3, 5, 3)),
        ("adaptive_max", lambda m, a: m.adaptive_max_pool_forward(a, (3, 2))[0],
         lambda m, a, g: m.max_pool_backward(g, m.adaptive_max_pool_forward(a, (3, 2))[1],
                                             a.shape), (2, 1, 5, 4)),
        ("reflect", lambda m, a: m.pad_forward(a, (2, 1, 1, 2), "reflect"),
         lambda m, a, g: m.pad_backward(g, a.shape, (2, 1, 1, 2), "reflect"), (1, 2, 3, 4)),
        ("replicate", lambda m, a: m.pad_forward(a, (3, 1, 0, 1, 1, 0), "replicate"),
         lambda m, a, g: m.pad_backward(g, a.shape, (3, 1, 0, 1, 1, 0), "replicate"),
         (1, 1, 2, 2, 3)),
        ("circular", lambda m, a: m.pad_forward(a, (2, 3), "circular"),
         lambda m, a, g: m.pad_backward(g, a.shape, (2, 3), "circular"), (2, 2, 3)),
        ("constant", lambda m, a: m.pad_forward(a, (2, -1, -1, 1), "constant", 3.0),
         lambda m, a, g: m.pad_backward(g, a.shape, (2, -1, -1, 1), "constant"), (1, 2, 3, 4)),
        ("upsample", lambda m, a: m.upsample_nearest_forward(a, (2, 3)),
         lambda m, a, g: m.upsample_nearest_backward(g, (2, 3)), (1, 2, 2, 3)),
    ]
    return cases


FD_CASES = _fd_cases()


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize("name,forward,backward,shape", FD_CASES, ids=[c[0] for c in FD_CASES])
def test_backward_finite_differences(impl, name, forward, backward, shape, rng):
    x = _data(rng, shape, np.float64)
    _fd_check(lambda a: forward(impl, a), lambda g: backward(impl, x, g), x, rng)


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 4), (2, 2, 3, 2)], ids=str)
def test_batch_norm_backward_finite_differences(impl, shape, rng):
    x = rng.standard_normal(shape)
    gamma = rng.standard_normal(shape[1])
    beta = rng.standard_normal(shape[1])
    _, mean, invstd = impl.batch_norm_forward(x, gamma, beta, 1e-3)
    gy = rng.standard_normal(shape)
    gx, g_gamma, g_beta = impl.batch_norm_backward(gy, x, gamma, mean, invstd)
    _fd_check(lambda a: impl.batch_norm_forward(a, gamma, beta, 1e-3)[0], lambda g: gx, x,
              rng, gy=gy)
    _fd_check(lambda v: impl.batch_norm_forward(x, v, beta, 1e-3)[0], lambda g: g_gamma,
              gamma, rng, gy=gy)
    _fd_check(lambda v: impl.batch_norm_forward(x, gamma, v, 1e-3)[0], lambda g: g_beta,
              beta, rng, gy=gy)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_bad_input_raises(impl):
    x = np.zeros((1, 2, 4, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="larger than the padded input"):
        impl.max_pool_forward(x, (6, 6), (1, 1), (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="larger than the padded input"):
        impl.max_pool_forward(x, (3, 3), (1, 1), (0, 0), (2, 2), False)
    with pytest.raises(ValueError, match="larger than the padded input"):
        impl.avg_pool_forward(x, (5, 2), (1, 1), (0, 0), False, True)
    with pytest.raises(ValueError, match="at most half"):
        impl.max_pool_forward(x, (2, 2), (1, 1), (2, 0), (1, 1), False)
    with pytest.raises(ValueError, match="at most half"):
        impl.avg_pool_forward(x, (3, 3), (1, 1), (1, 2), False, True)
    for bad in (np.zeros((2, 4), np.float32), np.zeros((1, 1, 2, 2, 2, 2), np.float32)):
        with pytest.raises(ValueError, match="3-D, 4-D or 5-D"):
            impl.max_pool_forward(bad, 1, 1, 0, 1, False)
        with pytest.raises(ValueError, match="3-D, 4-D or 5-D"):
            impl.adaptive_avg_pool_forward(bad, 1)
        with pytest.raises(ValueError, match="3-D, 4-D or 5-D"):
            impl.upsample_nearest_forward(bad, 2)
    with pytest.raises(ValueError, match="one entry per spatial axis"):
        impl.max_pool_forward(x, (2, 2, 2), None, 0, 1, False)
    with pytest.raises(ValueError, match="smaller than its size 4"):
        impl.pad_forward(x, (4, 0, 0, 0), "reflect")
    with pytest.raises(ValueError, match="smaller than its size 4"):
        impl.pad_backward(np.zeros((1, 2, 4, 8), np.float32), x.shape, (0, 0, 4, 0), "reflect")
    with pytest.raises(ValueError, match="at most its size"):
        impl.pad_forward(x, (5, 0, 0, 0), "circular")
    with pytest.raises(ValueError, match="constant mode only"):
        impl.pad_forward(x, (-1, 0, 0, 0), "replicate")
    with pytest.raises(ValueError, match="needs 4 pad values"):
        impl.pad_forward(x, (1, 1), "reflect")
    with pytest.raises(ValueError, match="mode must be one of"):
        impl.pad_forward(x, (1, 1), "wrap")
    with pytest.raises(ValueError, match="grad_y has shape"):
        impl.avg_pool_backward(np.zeros((1, 2, 3, 3), np.float32), x.shape, (2, 2), (2, 2),
                               (0, 0), False, True)
    with pytest.raises(ValueError, match="more than one value per channel"):
        impl.batch_norm_forward(np.zeros((1, 3), np.float32), None, None, 1e-5)
    with pytest.raises(ValueError, match=r"gamma has shape \(2,\)"):
        impl.batch_norm_forward(np.zeros((4, 3), np.float32), np.ones(2, np.float32), None, 1e-5)
    with pytest.raises(ValueError, match="not a multiple of scale_factor"):
        impl.upsample_nearest_backward(np.zeros((1, 1, 5), np.float32), (2,))
    with pytest.raises(ValueError, match="indices"):
        impl.max_pool_backward(np.zeros((1, 2, 2, 2), np.float32),
                               np.full((1, 2, 2, 2), 16), x.shape)


def test_cython_rejects_mixed_dtypes():
    with pytest.raises(ValueError, match="never mixed"):
        K.batch_norm_forward(np.zeros((4, 3), np.float32), np.ones(3), None, 1e-5)


# ---------------------------------------------------------------------------
# PyTorch's semantics, where it is installed (it never is a dependency)
# ---------------------------------------------------------------------------

def test_against_torch_when_available(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    xt = torch.from_numpy(x)
    y, ind = K.max_pool_forward(x, (3, 2), (2, 3), (1, 1), (2, 1), True)
    yt, it = F.max_pool2d(xt, (3, 2), (2, 3), (1, 1), (2, 1), True, True)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(ind, it.numpy())
    np.testing.assert_allclose(K.avg_pool_forward(x, (3, 3), (2, 2), (1, 1), True, False),
                               F.avg_pool2d(xt, 3, 2, 1, True, False).numpy(), rtol=1e-5, atol=1e-7)
    y, ind = K.adaptive_max_pool_forward(x, (4, 3))
    yt, it = F.adaptive_max_pool2d(xt, (4, 3), True)
    np.testing.assert_array_equal(ind, it.numpy())
    np.testing.assert_allclose(K.adaptive_avg_pool_forward(x, (4, 3)),
                               F.adaptive_avg_pool2d(xt, (4, 3)).numpy(), rtol=1e-5, atol=1e-7)
    for mode in ("reflect", "replicate", "circular"):
        np.testing.assert_array_equal(K.pad_forward(x, (2, 3, 1, 0), mode),
                                      F.pad(xt, (2, 3, 1, 0), mode=mode).numpy())
    np.testing.assert_allclose(K.batch_norm_forward(x, None, None, 1e-5)[0],
                               F.batch_norm(xt, None, None, training=True).numpy(),
                               rtol=1e-5, atol=1e-5)
