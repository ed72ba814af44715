"""Convolution kernels: Cython (``_kernels._conv``) vs the numpy reference
(``_xp._conv``), and both vs naive loops written here from the definitions.

The cases cover every path of the Cython kernels: im2col + GEMM (plain,
grouped, strided, dilated), pointwise 1x1 without im2col, and the direct
loops for one input channel per group (padded or not, unit strides or not,
one or two output channels per group); in 1-D, 2-D and 3-D, with odd sizes
(1x1 images, kernel as large as the input, batch 1, one channel).
"""

import itertools

import numpy as np
import pytest

from sklears_neural._kernels import _conv as K
from sklears_neural._xp import _conv as X

IMPLS = {"cython": K, "xp": X}

# float32 sums of up to a few hundred products, compared with float64 loops
TOL = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}


def _close(actual, expected, dtype, what=""):
    assert actual.dtype == dtype, (what, actual.dtype, dtype)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, err_msg=what, **TOL[np.dtype(dtype)])


# ---------------------------------------------------------------------------
# Naive references: loops over samples, channels and output positions
# ---------------------------------------------------------------------------

def _tup(v, d):
    return tuple(v) if isinstance(v, tuple) else (v,) * d


def naive_conv(x, w, b, stride, padding, dilation, groups):
    """Forward and a closure computing the three gradients, in float64."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    d = x.ndim - 2
    stride, padding, dilation = (_tup(v, d) for v in (stride, padding, dilation))
    n, c_in = x.shape[:2]
    c_out, cg = w.shape[:2]
    kshape = w.shape[2:]
    xpad = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    out = tuple((s + 2 * p - dl * (k - 1) - 1) // st + 1 for s, p, dl, k, st in
                zip(x.shape[2:], padding, dilation, kshape, stride))
    per = c_out // groups

    def taps(o):
        for k in np.ndindex(*kshape):
            yield k, tuple(oi * st + ki * dl for oi, ki, st, dl in zip(o, k, stride, dilation))

    y = np.zeros((n, c_out) + out)
    for i in range(n):
        for co in range(c_out):
            cs = slice(co // per * cg, co // per * cg + cg)
            for o in np.ndindex(*out):
                acc = 0.0 if b is None else float(b[co])
                for k, pos in taps(o):
                    acc += np.dot(w[(co, slice(None)) + k], xpad[(i, cs) + pos])
                y[(i, co) + o] = acc

    def backward(gy):
        gy = gy.astype(np.float64)
        gxpad = np.zeros_like(xpad)
        gw = np.zeros_like(w)
        for i in range(n):
            for co in range(c_out):
                cs = slice(co // per * cg, co // per * cg + cg)
                for o in np.ndindex(*out):
                    g = gy[(i, co) + o]
                    for k, pos in taps(o):
                        gxpad[(i, cs) + pos] += g * w[(co, slice(None)) + k]
                        gw[(co, slice(None)) + k] += g * xpad[(i, cs) + pos]
        crop = (Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(padding, x.shape[2:]))
        gb = gy.sum(axis=(0,) + tuple(range(2, gy.ndim)))
        return gxpad[crop], gw, gb

    return y, backward


def naive_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups):
    """Forward from the definition (each input value scatters a scaled kernel)."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    d = x.ndim - 2
    stride, padding, output_padding, dilation = (
        _tup(v, d) for v in (stride, padding, output_padding, dilation))
    n, c_in = x.shape[:2]
    cg_out = w.shape[1]
    c_out = cg_out * groups
    kshape = w.shape[2:]
    per_in = c_in // groups
    out = tuple((s - 1) * st - 2 * p + dl * (k - 1) + op + 1 for s, st, p, dl, k, op in
                zip(x.shape[2:], stride, padding, dilation, kshape, output_padding))
    full = tuple(o + 2 * p for o, p in zip(out, padding))
    ypad = np.zeros((n, c_out) + full)
    for i in range(n):
        for ci in range(c_in):
            gi = ci // per_in
            for s in np.ndindex(*x.shape[2:]):
                v = x[(i, ci) + s]
                for k in np.ndindex(*kshape):
                    pos = tuple(si * st + ki * dl for si, ki, st, dl in
                                zip(s, k, stride, dilation))
                    if all(p < f for p, f in zip(pos, full)):
                        ypad[(i, slice(gi * cg_out, (gi + 1) * cg_out)) + pos] += (
                            v * w[(ci, slice(None)) + k])
    crop = (Ellipsis,) + tuple(slice(p, p + o) for p, o in zip(padding, out))
    y = ypad[crop]
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * d)
    return y


def naive_im2col(x, kshape, stride, padding, dilation):
    d = x.ndim - 2
    stride, padding, dilation = (_tup(v, d) for v in (stride, padding, dilation))
    kshape = _tup(kshape, d)
    n, c = x.shape[:2]
    xpad = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    out = tuple((s + 2 * p - dl * (k - 1) - 1) // st + 1 for s, p, dl, k, st in
                zip(x.shape[2:], padding, dilation, kshape, stride))
    cols = np.zeros((n, c) + kshape + out, dtype=x.dtype)
    for k in np.ndindex(*kshape):
        for o in np.ndindex(*out):
            pos = tuple(oi * st + ki * dl for oi, ki, st, dl in zip(o, k, stride, dilation))
            cols[(slice(None), slice(None)) + k + o] = xpad[(slice(None), slice(None)) + pos]
    return cols.reshape(n, c * int(np.prod(kshape)), int(np.prod(out)))


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

# (n, c_in, c_out, spatial, kernel, stride, padding, dilation, groups)
CONV_CASES = {
    # im2col + GEMM
    "2d-basic": (2, 3, 4, (5, 6), (3, 2), 1, (1, 0), 1, 1),
    # "same" width (im2col copies shifted planes at once, then zeroes the edges)
    "2d-same": (2, 3, 4, (5, 6), (3, 3), 1, 1, 1, 1),
    "2d-same-wide-kernel": (1, 2, 3, (4, 5), (3, 5), 1, (1, 2), 1, 1),
    "2d-same-column-kernel": (2, 3, 2, (5, 4), (3, 1), 1, (1, 0), 1, 1),
    "1d-same": (2, 3, 2, (7,), (3,), 1, 1, 1, 1),
    "3d-flat-depth-padded": (1, 2, 2, (1, 4, 5), (3, 3, 3), 1, 1, 1, 1),
    "3d-flat-depth-padded-1-tap": (1, 2, 2, (1, 4, 5), (1, 3, 3), (3, 1, 1), 1, 1, 1),
    "2d-same-width-fewer-rows": (2, 3, 2, (5, 4), (3, 3), 1, (0, 1), 1, 1),
    "2d-strided-dilated-grouped": (2, 4, 6, (7, 6), (3, 3), (2, 1), (1, 2), (2, 1), 2),
    "2d-1x1-stride2": (1, 3, 2, (5, 5), (1, 1), 2, 0, 1, 1),
    "2d-1ch-to-8": (2, 1, 8, (5, 5), (3, 3), 1, 1, 1, 1),
    "2d-1x1-image": (2, 3, 2, (1, 1), (1, 1), 1, 0, 1, 1),
    "2d-1x1-image-padded": (1, 2, 3, (1, 1), (3, 3), 1, 1, 1, 1),
    "2d-kernel-is-input": (3, 2, 4, (3, 4), (3, 4), 1, 0, 1, 1),
    "2d-batch1-1ch": (1, 1, 1, (4, 4), (2, 2), 1, 0, 1, 1),
    "1d-strided": (2, 3, 4, (9,), (3,), 2, 1, 1, 1),
    "1d-grouped-kernel-is-input": (1, 2, 6, (5,), (5,), 1, 0, 1, 2),
    "3d-basic": (2, 2, 4, (4, 5, 3), (2, 3, 2), 1, 1, 1, 1),
    "3d-mixed-steps-grouped": (1, 4, 4, (5, 4, 4), (3, 2, 2), (2, 1, 1), (1, 0, 1),
                               (1, 2, 1), 2),
    # pointwise without im2col
    "2d-pointwise": (2, 4, 6, (4, 5), (1, 1), 1, 0, 1, 1),
    "3d-pointwise-grouped": (2, 4, 6, (2, 3, 2), (1, 1, 1), 1, 0, 1, 2),
    # direct loops (one input channel per group)
    "2d-depthwise": (2, 4, 4, (5, 6), (3, 3), 1, 1, 1, 4),
    "2d-depthwise-x2-strided": (2, 3, 6, (7, 5), (3, 3), 2, 1, 1, 3),
    "2d-depthwise-unpadded-dilated": (2, 3, 3, (6, 6), (2, 2), 1, 0, 2, 3),
    "2d-1ch-to-2": (2, 1, 2, (4, 4), (3, 3), 1, 1, 1, 1),
    "2d-depthwise-1x1-image": (1, 2, 2, (1, 1), (3, 3), 1, 1, 1, 2),
    "1d-depthwise-dilated": (2, 4, 4, (8,), (3,), 1, 2, 2, 4),
    "3d-depthwise": (2, 3, 3, (4, 4, 4), (3, 3, 3), 1, 1, 1, 3),
    "3d-depthwise-strided": (1, 2, 2, (5, 5, 5), (3, 3, 3), 2, 1, 1, 2),
}

# (n, c_in, c_out, spatial, kernel, stride, padding, output_padding, dilation, groups)
TRANSPOSE_CASES = {
    "2d-basic": (2, 3, 4, (3, 4), (3, 2), (2, 1), (1, 0), (1, 0), 1, 1),
    "2d-grouped": (2, 4, 6, (4, 3), (3, 3), 2, 1, 1, 1, 2),
    "2d-outpad-below-dilation": (1, 2, 3, (3, 3), (2, 2), 1, 0, 1, 2, 1),
    "2d-pointwise": (2, 3, 5, (3, 3), (1, 1), 1, 0, 0, 1, 1),
    "2d-pointwise-outpad": (1, 3, 2, (3, 2), (1, 1), 1, 0, 1, 2, 1),
    "2d-depthwise-strided": (2, 4, 4, (4, 4), (3, 3), 2, 1, 1, 1, 4),
    "2d-depthwise": (2, 3, 3, (4, 5), (3, 3), 1, 1, 0, 1, 3),
    "2d-1x1-image": (2, 2, 3, (1, 1), (3, 3), 1, 0, 0, 1, 1),
    "1d-strided": (2, 3, 2, (5,), (3,), 2, 1, 1, 1, 1),
    "3d-grouped": (1, 2, 4, (3, 2, 3), (2, 2, 3), (2, 1, 1), (0, 1, 1), (1, 0, 0), 1, 2),
}


def _conv_inputs(case, dtype, rng, bias=True):
    n, c_in, c_out, s, k, stride, padding, dilation, groups = case
    x = rng.standard_normal((n, c_in) + s).astype(dtype)
    w = rng.standard_normal((c_out, c_in // groups) + k).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if bias else None
    d = len(s)
    return x, w, b, (_tup(stride, d), _tup(padding, d), _tup(dilation, d), groups)


def _transpose_inputs(case, dtype, rng):
    n, c_in, c_out, s, k, stride, padding, out_pad, dilation, groups = case
    x = rng.standard_normal((n, c_in) + s).astype(dtype)
    w = rng.standard_normal((c_in, c_out // groups) + k).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    d = len(s)
    return x, w, b, (_tup(stride, d), _tup(padding, d), _tup(out_pad, d),
                     _tup(dilation, d), groups)


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv_matches_naive_loops(name, dtype, rng, gemm):
    x, w, b, args = _conv_inputs(CONV_CASES[name], dtype, rng)
    y_ref, backward = naive_conv(x, w, b, *args)
    gy = rng.standard_normal(y_ref.shape).astype(dtype)
    grads_ref = backward(gy)
    for impl, mod in IMPLS.items():
        y = mod.conv_forward(x, w, b, *args)
        assert y.flags.c_contiguous
        _close(y, y_ref, dtype, f"{impl} y")
        for g_name, g, e in zip(["gx", "gw", "gb"], mod.conv_backward(gy, x, w, *args),
                                grads_ref):
            _close(g, e, dtype, f"{impl} {g_name}")


@pytest.mark.parametrize("name", ["2d-basic", "2d-depthwise", "2d-pointwise"])
def test_conv_without_bias(name, dtype, rng):
    x, w, _, args = _conv_inputs(CONV_CASES[name], dtype, rng, bias=False)
    expected = X.conv_forward(x, w, None, *args)
    _close(K.conv_forward(x, w, None, *args), expected, dtype)
    _close(expected, naive_conv(x, w, None, *args)[0], dtype)


@pytest.mark.parametrize("name", ["2d-basic", "2d-depthwise-x2-strided", "2d-pointwise"])
@pytest.mark.parametrize("need", list(itertools.product([False, True], repeat=3)),
                         ids=lambda v: "".join("xwb"[i] if f else "-" for i, f in enumerate(v)))
def test_conv_backward_need_flags(name, need, rng):
    dtype = np.float64
    x, w, b, args = _conv_inputs(CONV_CASES[name], dtype, rng)
    gy = rng.standard_normal(X.conv_forward(x, w, b, *args).shape)
    full = X.conv_backward(gy, x, w, *args)
    for mod in (K, X):
        got = mod.conv_backward(gy, x, w, *args, *need)
        for g, e, wanted in zip(got, full, need):
            if wanted:
                _close(g, e, dtype)
            else:
                assert g is None


@pytest.mark.parametrize("name", ["2d-basic", "2d-depthwise", "2d-pointwise", "3d-basic"])
def test_conv_non_contiguous_inputs(name, dtype, rng):
    x, w, b, args = _conv_inputs(CONV_CASES[name], dtype, rng)
    y = X.conv_forward(x, w, b, *args)
    gy = rng.standard_normal(y.shape).astype(dtype)
    expected = X.conv_backward(gy, x, w, *args)
    # every other element along the last axis, and Fortran order
    xs = np.repeat(x, 2, axis=-1)[..., ::2]
    assert not xs.flags.c_contiguous
    ws = np.asfortranarray(w)
    gys = np.repeat(gy, 2, axis=-1)[..., ::2]
    bs = np.repeat(b, 2)[::2]
    for mod in (K, X):
        _close(mod.conv_forward(xs, ws, bs, *args), y, dtype)
        for g, e in zip(mod.conv_backward(gys, xs, ws, *args), expected):
            _close(g, e, dtype)


def test_conv_int_and_tuple_arguments_agree(rng):
    x, w, b, _ = _conv_inputs(CONV_CASES["2d-basic"], np.float64, rng)
    for mod in (K, X):
        np.testing.assert_array_equal(mod.conv_forward(x, w, b, 2, 1, 1, 1),
                                      mod.conv_forward(x, w, b, (2, 2), (1, 1), (1, 1), 1))


def test_conv_empty_batch(rng):
    x, w, b, args = _conv_inputs(CONV_CASES["2d-basic"], np.float32, rng)
    y = K.conv_forward(x[:0], w, b, *args)
    assert y.shape == (0, 4, 5, 5) and y.dtype == np.float32
    gx, gw, gb = K.conv_backward(y, x[:0], w, *args)
    assert gx.shape == (0, 3, 5, 6)
    np.testing.assert_array_equal(gw, 0)
    np.testing.assert_array_equal(gb, 0)


@pytest.mark.parametrize("name", ["2d-depthwise", "3d-depthwise-strided", "2d-1ch-to-2"])
def test_conv_threads_give_the_same_result(name, rng):
    x, w, b, args = _conv_inputs(CONV_CASES[name], np.float64, rng)
    y = K.conv_forward(x, w, b, *args)
    np.testing.assert_array_equal(K.conv_forward(x, w, b, *args, n_threads=2), y)
    gy = rng.standard_normal(y.shape)
    for g, e in zip(K.conv_backward(gy, x, w, *args, n_threads=2),
                    K.conv_backward(gy, x, w, *args)):
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-14)


# Direct path with unit strides (depthwise): shapes that reach every part of
# the float32 C loops (blocks of 32 and 8 outputs, the overlapping last
# vector, fewer than 8 outputs, taps in groups of 9 and of at most 4, rows of
# < 8, 8-16, 17-32 and > 32 values), in both builds of them, against _xp.
# (n, channels, outputs per channel, spatial, kernel, padding, dilation)
DIRECT_FLAT_CASES = {
    "14x14-3x3-pad1": (3, 4, 1, (14, 14), (3, 3), 1, 1),
    "13x11-3x3-pad1-x2": (2, 3, 2, (13, 11), (3, 3), 1, 1),
    "9x9-5x5-pad2": (2, 2, 1, (9, 9), (5, 5), 2, 1),
    "7x6-2x2-unpadded": (2, 3, 1, (7, 6), (2, 2), 0, 1),
    "12x40-3x3-dilated": (1, 2, 1, (12, 40), (3, 3), 2, 2),
    "6x25-1x1-x2": (2, 3, 2, (6, 25), (1, 1), 0, 1),
    "1d-50-5": (2, 3, 1, (50,), (5,), 2, 1),
    "3d-5x6x9-3x3x3": (1, 2, 2, (5, 6, 9), (3, 3, 3), 1, 1),
    "2x3-3x3-pad1": (2, 2, 1, (2, 3), (3, 3), 1, 1),
}


@pytest.mark.parametrize("name", list(DIRECT_FLAT_CASES))
def test_conv_direct_unit_stride_matches_xp(name, dtype, isa, rng):
    n, c, per, s, k, padding, dilation = DIRECT_FLAT_CASES[name]
    case = (n, c, c * per, s, k, 1, padding, dilation, c)
    x, w, b, args = _conv_inputs(case, dtype, rng)
    y = X.conv_forward(x, w, b, *args)
    _close(K.conv_forward(x, w, b, *args), y, dtype, "y")
    _close(K.conv_forward(x, w, None, *args), X.conv_forward(x, w, None, *args), dtype,
           "y without bias")
    gy = rng.standard_normal(y.shape).astype(dtype)
    full = X.conv_backward(gy, x, w, *args)
    for need in [(True, True, True), (True, False, False), (False, True, False),
                 (False, False, True), (False, True, True), (True, False, True)]:
        got = K.conv_backward(gy, x, w, *args, *need)
        for g_name, g, e, wanted in zip(["gx", "gw", "gb"], got, full, need):
            if wanted:
                _close(g, e, dtype, f"{g_name} {need}")
            else:
                assert g is None


@pytest.mark.parametrize("name", ["2d-depthwise-x2-strided", "3d-depthwise-strided"])
def test_conv_direct_strided_matches_xp(name, dtype, isa, rng):
    # The strided direct loops (per tap, channel by channel) are in both
    # builds of the loops too.
    x, w, b, args = _conv_inputs(CONV_CASES[name], dtype, rng)
    y = X.conv_forward(x, w, b, *args)
    _close(K.conv_forward(x, w, b, *args), y, dtype, "y")
    gy = rng.standard_normal(y.shape).astype(dtype)
    for g_name, g, e in zip(["gx", "gw", "gb"], K.conv_backward(gy, x, w, *args),
                            X.conv_backward(gy, x, w, *args)):
        _close(g, e, dtype, g_name)


@pytest.mark.parametrize("name", ["14x14-3x3-pad1", "13x11-3x3-pad1-x2", "7x6-2x2-unpadded",
                                  "1d-50-5"])
def test_conv_transpose_direct_unit_stride_matches_xp(name, dtype, isa, rng):
    # The transposed conv's forward is the direct path's input gradient
    # started from the bias; its backward the direct forward and weight
    # gradient.
    n, c, per, s, k, padding, dilation = DIRECT_FLAT_CASES[name]
    d = len(s)
    x = rng.standard_normal((n, c * per) + s).astype(dtype)
    w = rng.standard_normal((c * per, 1) + k).astype(dtype)
    b = rng.standard_normal(c).astype(dtype)
    args = (_tup(1, d), _tup(padding, d), _tup(0, d), _tup(dilation, d), c)
    y = X.conv_transpose_forward(x, w, b, *args)
    _close(K.conv_transpose_forward(x, w, b, *args), y, dtype, "y")
    gy = rng.standard_normal(y.shape).astype(dtype)
    for g_name, g, e in zip(["gx", "gw", "gb"], K.conv_transpose_backward(gy, x, w, *args),
                            X.conv_transpose_backward(gy, x, w, *args)):
        _close(g, e, dtype, g_name)


# ---------------------------------------------------------------------------
# Transposed convolution
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(TRANSPOSE_CASES))
def test_conv_transpose_matches_naive_loops(name, dtype, rng):
    x, w, b, args = _transpose_inputs(TRANSPOSE_CASES[name], dtype, rng)
    y_ref = naive_conv_transpose(x, w, b, *args)
    gy = rng.standard_normal(y_ref.shape).astype(dtype)
    stride, padding, _, dilation, groups = args
    # The transposed conv is the adjoint of the conv with the same weight:
    # its input gradient is that conv applied to gy, its weight gradient the
    # conv's weight gradient with the roles of input and output swapped.
    conv_y, _ = naive_conv(gy, w, None, stride, padding, dilation, groups)
    crop = (Ellipsis,) + tuple(slice(0, s) for s in x.shape[2:])
    gx_ref = conv_y[crop]
    gw_ref = _transpose_weight_grad_naive(x, gy, w, args)
    gb_ref = gy.astype(np.float64).sum(axis=(0,) + tuple(range(2, gy.ndim)))
    for impl, mod in IMPLS.items():
        y = mod.conv_transpose_forward(x, w, b, *args)
        assert y.flags.c_contiguous
        _close(y, y_ref, dtype, f"{impl} y")
        got = mod.conv_transpose_backward(gy, x, w, *args)
        for g_name, g, e in zip(["gx", "gw", "gb"], got, [gx_ref, gw_ref, gb_ref]):
            _close(g, e, dtype, f"{impl} {g_name}")


def _transpose_weight_grad_naive(x, gy, w, args):
    """d sum(y * gy) / d w by the definition of the transposed conv (loops)."""
    stride, padding, _, dilation, groups = args
    x = x.astype(np.float64)
    gy = gy.astype(np.float64)
    d = x.ndim - 2
    gypad = np.pad(gy, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    c_in = x.shape[1]
    cg_out = w.shape[1]
    per_in = c_in // groups
    gw = np.zeros(w.shape)
    for ci in range(c_in):
        gi = ci // per_in
        for s in np.ndindex(*x.shape[2:]):
            for k in np.ndindex(*w.shape[2:]):
                pos = tuple(si * st + ki * dl for si, ki, st, dl in
                            zip(s, k, stride, dilation))
                if all(p < f for p, f in zip(pos, gypad.shape[2:])):
                    gw[(ci, slice(None)) + k] += np.einsum(
                        "n,nc->c", x[(slice(None), ci) + s],
                        gypad[(slice(None), slice(gi * cg_out, (gi + 1) * cg_out)) + pos])
    assert d == len(stride)
    return gw


@pytest.mark.parametrize("need", list(itertools.product([False, True], repeat=3)),
                         ids=lambda v: "".join("xwb"[i] if f else "-" for i, f in enumerate(v)))
def test_conv_transpose_backward_need_flags(need, rng):
    x, w, b, args = _transpose_inputs(TRANSPOSE_CASES["2d-grouped"], np.float64, rng)
    gy = rng.standard_normal(X.conv_transpose_forward(x, w, b, *args).shape)
    full = X.conv_transpose_backward(gy, x, w, *args)
    for mod in (K, X):
        for g, e, wanted in zip(mod.conv_transpose_backward(gy, x, w, *args, *need),
                                full, need):
            if wanted:
                _close(g, e, np.float64)
            else:
                assert g is None


# ---------------------------------------------------------------------------
# Finite differences (float64)
# ---------------------------------------------------------------------------

def _numeric_grad(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(*a.shape):
        old = a[i]
        a[i] = old + eps
        up = f()
        a[i] = old - eps
        down = f()
        a[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("name", ["2d-strided-dilated-grouped", "2d-depthwise-x2-strided",
                                  "1d-strided", "3d-depthwise-strided"])
def test_conv_backward_finite_differences(impl, name, rng):
    mod = IMPLS[impl]
    n, c_in, c_out, s, k, *rest = CONV_CASES[name]
    # keep the numeric loop short: one sample
    x, w, b, args = _conv_inputs((1, c_in, c_out, s, k, *rest), np.float64, rng)
    r = rng.standard_normal(mod.conv_forward(x, w, b, *args).shape)

    def loss():
        return float(np.sum(mod.conv_forward(x, w, b, *args) * r))

    gx, gw, gb = mod.conv_backward(r, x, w, *args)
    for g, a in [(gx, x), (gw, w), (gb, b)]:
        np.testing.assert_allclose(g, _numeric_grad(loss, a), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("name", ["2d-basic", "2d-depthwise-strided"])
def test_conv_transpose_backward_finite_differences(impl, name, rng):
    mod = IMPLS[impl]
    n, *rest = TRANSPOSE_CASES[name]
    x, w, b, args = _transpose_inputs((1, *rest), np.float64, rng)
    r = rng.standard_normal(mod.conv_transpose_forward(x, w, b, *args).shape)

    def loss():
        return float(np.sum(mod.conv_transpose_forward(x, w, b, *args) * r))

    gx, gw, gb = mod.conv_transpose_backward(r, x, w, *args)
    for g, a in [(gx, x), (gw, w), (gb, b)]:
        np.testing.assert_allclose(g, _numeric_grad(loss, a), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------
# im2col / col2im
# ---------------------------------------------------------------------------

IM2COL_CASES = {
    "1d": ((2, 3, 7), (3,), 2, 1, 1),
    "2d": ((2, 2, 5, 4), (3, 2), (1, 2), (1, 0), (1, 2)),
    "2d-1x1-image": ((1, 1, 1, 1), (3, 3), 1, 1, 1),
    "3d": ((1, 2, 4, 3, 5), (2, 2, 3), (2, 1, 1), (0, 1, 1), 1),
}


@pytest.mark.parametrize("name", list(IM2COL_CASES))
def test_im2col_col2im(name, dtype, rng):
    shape, k, stride, padding, dilation = IM2COL_CASES[name]
    x = rng.standard_normal(shape).astype(dtype)
    expected = naive_im2col(x, k, stride, padding, dilation)
    cols = {}
    for impl, mod in IMPLS.items():
        cols[impl] = mod.im2col(x, k, stride, padding, dilation)
        _close(cols[impl], expected, dtype, impl)
    c = rng.standard_normal(expected.shape).astype(dtype)
    back = {impl: mod.col2im(c, shape, k, stride, padding, dilation)
            for impl, mod in IMPLS.items()}
    _close(back["cython"], back["xp"], dtype)
    # col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>
    lhs = np.sum(expected.astype(np.float64) * c)
    rhs = np.sum(x.astype(np.float64) * back["cython"])
    np.testing.assert_allclose(lhs, rhs, rtol=1e-4 if dtype == np.float32 else 1e-12)


def test_im2col_rows_give_the_conv(rng):
    """weight.reshape(C_out, -1) @ cols[n] is the convolution of sample n."""
    x, w, _, args = _conv_inputs(CONV_CASES["2d-basic"], np.float64, rng, bias=False)
    stride, padding, dilation, _ = args
    cols = K.im2col(x, w.shape[2:], stride, padding, dilation)
    y = K.conv_forward(x, w, None, *args)
    np.testing.assert_allclose((w.reshape(w.shape[0], -1) @ cols).reshape(y.shape), y,
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", list(IMPLS))
def test_conv_errors(impl, rng):
    mod = IMPLS[impl]
    x = rng.standard_normal((2, 4, 5, 5))
    w = rng.standard_normal((6, 4, 3, 3))
    one = (1, 1)
    with pytest.raises(ValueError, match=r"\(2, 4, 5, 5\).*\(6, 3, 3, 3\)"):
        mod.conv_forward(x, w[:, :3], None, one, one, one, 1)
    with pytest.raises(ValueError, match=r"groups=3 does not divide the 4 input channels"):
        mod.conv_forward(x, w, None, one, one, one, 3)
    with pytest.raises(ValueError, match=r"groups=4 does not divide the 6 output channels"):
        mod.conv_forward(x, w[:, :1], None, one, one, one, 4)
    with pytest.raises(ValueError, match=r"kernel .* spans 9 .* padded input is 7"):
        mod.conv_forward(x, w, None, one, one, (4, 1), 1)
    with pytest.raises(ValueError, match=r"spans 3 but the padded input is 1"):
        mod.conv_forward(x[:, :, :1, :1], w, None, one, (0, 0), one, 1)
    with pytest.raises(ValueError, match=r"bias has shape \(5,\)"):
        mod.conv_forward(x, w, np.zeros(5), one, one, one, 1)
    with pytest.raises(ValueError, match="float32 and float64 are never mixed"):
        mod.conv_forward(x.astype(np.float32), w, None, one, one, one, 1)
    with pytest.raises(ValueError, match="float32 or float64"):
        mod.conv_forward(x.astype(np.float16), w.astype(np.float16), None, one, one, one, 1)
    with pytest.raises(ValueError, match=r"stride must be >= 1"):
        mod.conv_forward(x, w, None, (0, 1), one, one, 1)
    with pytest.raises(ValueError, match=r"padding must have 2 entries"):
        mod.conv_forward(x, w, None, one, (1, 1, 1), one, 1)
    with pytest.raises(ValueError, match=r"3-D, 4-D or 5-D"):
        mod.conv_forward(x[0, 0], w[0, 0], None, one, one, one, 1)
    with pytest.raises(ValueError, match=r"grad_y has shape \(2, 6, 4, 4\).*\(2, 6, 5, 5\)"):
        mod.conv_backward(np.zeros((2, 6, 4, 4)), x, w, one, one, one, 1)


@pytest.mark.parametrize("impl", list(IMPLS))
def test_conv_transpose_errors(impl, rng):
    mod = IMPLS[impl]
    x = rng.standard_normal((2, 4, 3, 3))
    w = rng.standard_normal((4, 2, 3, 3))
    one = (1, 1)
    with pytest.raises(ValueError, match=r"\(2, 4, 3, 3\).*\(3, 2, 3, 3\)"):
        mod.conv_transpose_forward(x, w[:3], None, one, one, (0, 0), one, 1)
    with pytest.raises(ValueError, match=r"groups=3 does not divide the 4 input channels"):
        mod.conv_transpose_forward(x, w, None, one, one, (0, 0), one, 3)
    with pytest.raises(ValueError, match="output_padding .* smaller than stride"):
        mod.conv_transpose_forward(x, w, None, (2, 2), one, (2, 0), one, 1)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\)"):
        mod.conv_transpose_forward(x, w, np.zeros(3), one, one, (0, 0), one, 2)
    with pytest.raises(ValueError, match=r"grad_y has shape"):
        mod.conv_transpose_backward(np.zeros((2, 2, 4, 4)), x, w, one, one, (0, 0), one, 1)


@pytest.mark.parametrize("impl", list(IMPLS))
def test_col2im_errors(impl):
    mod = IMPLS[impl]
    with pytest.raises(ValueError, match=r"cols has shape \(1, 9, 4\).*\(1, 18, 9\)"):
        mod.col2im(np.zeros((1, 9, 4)), (1, 2, 3, 3), (3, 3), 1, 1, 1)
    with pytest.raises(ValueError, match="padded input"):
        mod.im2col(np.zeros((1, 1, 2, 2)), (3, 3), 1, 0, 1)


@pytest.mark.parametrize("x_shape, c_out", [((0, 3, 5, 6), 4), ((2, 0, 5, 6), 4),
                                            ((2, 3, 5, 6), 0)],
                         ids=["no-samples", "no-input-channels", "no-output-channels"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_dimensions_match_xp_without_calling_it(x_shape, c_out, dtype, rng):
    """The Cython kernels handle a zero dimension themselves (no fallback to _xp)."""
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((c_out, x_shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    args = ((1, 1), (1, 0), (1, 1), 1)
    y = K.conv_forward(x, w, b, *args)
    np.testing.assert_allclose(y, X.conv_forward(x, w, b, *args), rtol=1e-6)
    assert y.dtype == dtype and y.flags.c_contiguous
    gy = rng.standard_normal(y.shape).astype(dtype)
    for got, want in zip(K.conv_backward(gy, x, w, *args), X.conv_backward(gy, x, w, *args)):
        assert got.shape == want.shape and got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert K.conv_backward(gy, x, w, *args, need_input=False, need_weight=False)[:2] == (
        None, None)
    wt = rng.standard_normal((x_shape[1], c_out, 3, 3)).astype(dtype)
    targs = ((1, 1), (0, 0), (0, 0), (1, 1), 1)
    yt = K.conv_transpose_forward(x, wt, b, *targs)
    np.testing.assert_allclose(yt, X.conv_transpose_forward(x, wt, b, *targs), rtol=1e-6)
    gyt = rng.standard_normal(yt.shape).astype(dtype)
    for got, want in zip(K.conv_transpose_backward(gyt, x, wt, *targs),
                         X.conv_transpose_backward(gyt, x, wt, *targs)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# Batch-parallel paths (GEMM, 1x1, direct): any thread count computes what _xp does
# ---------------------------------------------------------------------------

THREAD_CASES = {
    # (x shape, w shape, stride, padding, dilation, groups): GEMM path, 1x1 path, groups
    "2d-gemm": ((3, 4, 7, 6), (5, 4, 3, 3), 1, 1, 1, 1),
    "2d-1x1": ((3, 4, 5, 6), (6, 4, 1, 1), 1, 0, 1, 1),
    "1d-groups-strided": ((5, 6, 11), (4, 3, 3), 2, 1, 2, 2),
    "3d-gemm": ((2, 2, 4, 5, 3), (3, 2, 2, 2, 2), 1, 1, 1, 1),
    "one-row": ((1, 3, 6, 6), (4, 3, 3, 3), 1, 1, 1, 1),
    # direct path: unit strides split the batch, strided ones stay on one thread
    "2d-depthwise": ((5, 4, 6, 5), (4, 1, 3, 3), 1, 1, 1, 4),
    "2d-depthwise-x2-dilated": ((3, 3, 7, 6), (6, 1, 3, 3), 1, 2, 2, 3),
    "1d-depthwise-strided": ((3, 4, 9), (4, 1, 3), 2, 1, 1, 4),
}


@pytest.mark.parametrize("n_threads", [1, 2, 4, None])
@pytest.mark.parametrize("name", list(THREAD_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_threaded_paths_match_xp(name, n_threads, dtype, omp_threads_4, rng, gemm):
    x_shape, w_shape, stride, padding, dilation, groups = THREAD_CASES[name]
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    args = (stride, padding, dilation, groups)
    y = K.conv_forward(x, w, b, *args, n_threads=n_threads)
    _close(y, X.conv_forward(x, w, b, *args), dtype, "forward")
    gy = rng.standard_normal(y.shape).astype(dtype)
    for need in [(True, True, True), (False, True, False), (True, False, False)]:
        got = K.conv_backward(gy, x, w, *args, *need, n_threads=n_threads)
        expected = X.conv_backward(gy, x, w, *args, *need)
        for g, e, what in zip(got, expected, ("grad x", "grad w", "grad b")):
            assert (g is None) == (e is None), what
            if g is not None:
                _close(g, e, dtype, f"{what} {need}")


@pytest.mark.parametrize("n_threads", [1, 2, 4])
def test_conv_transpose_threaded_matches_xp(n_threads, omp_threads_4, rng):
    x = rng.standard_normal((3, 4, 5, 4))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(3)
    args = (2, 1, 1, 1, 1)  # stride, padding, output_padding, dilation, groups
    y = K.conv_transpose_forward(x, w, b, *args, n_threads=n_threads)
    _close(y, X.conv_transpose_forward(x, w, b, *args), np.float64, "forward")
    gy = rng.standard_normal(y.shape)
    for g, e in zip(K.conv_transpose_backward(gy, x, w, *args, n_threads=n_threads),
                    X.conv_transpose_backward(gy, x, w, *args)):
        _close(g, e, np.float64, "backward")


def test_conv_threads_on_strided_views(omp_threads_4, rng):
    # Non-contiguous input and output gradient take the copy path, then the threads.
    x = rng.standard_normal((4, 3, 8, 10))[:, :, ::2, 1::2]
    w = rng.standard_normal((5, 3, 3, 3))
    y = K.conv_forward(x, w, None, 1, 1, 1, 1, n_threads=3)
    _close(y, X.conv_forward(np.ascontiguousarray(x), w, None, 1, 1, 1, 1), np.float64)
    gy = rng.standard_normal(y.shape + (2,))[..., 0]
    for g, e in zip(K.conv_backward(gy, x, w, 1, 1, 1, 1, n_threads=3),
                    X.conv_backward(np.ascontiguousarray(gy), np.ascontiguousarray(x), w,
                                    1, 1, 1, 1)):
        _close(g, e, np.float64)


@pytest.mark.parametrize("bad", [0, 1.5, "2", True])
def test_conv_bad_n_threads_is_an_error(bad, rng):
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    with pytest.raises(ValueError, match="n_threads must be None or a non-zero int"):
        K.conv_forward(x, w, None, 1, 1, 1, 1, n_threads=bad)
