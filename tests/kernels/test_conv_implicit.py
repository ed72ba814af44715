"""The implicit-GEMM convolution path (``_kernels._conv_implicit``): float32
stride-1 convolutions on AVX-512 CPUs, against the numpy reference
(``_xp._conv``) run in float64.

The path has its own products (``src/skn_sconv.h``), so the cases cover
what they tile: tiles of 6 rows (positions or taps) by 64 or 32 columns
(channels) with partial edges, more than 256 output positions (the weight
gradient's blocks), groups, dilation, padding from none to the kernel's
reach and beyond (then the input gradient takes the GEMM path), 1-D and
2-D, one-pixel images, and the thread counts 1, 2 and more than there are
samples. The thresholds that keep narrow products on the GEMM path are
lowered to 1 (``every_product``) so that every product of every case runs
here; ``test_thresholds_*`` check the defaults.
"""

import numpy as np
import pytest

from sklears_neural._kernels import _conv as K
from sklears_neural._specs._conv import conv_geometry, transpose_geometry
from sklears_neural._xp import _conv as X

TOL = {"rtol": 2e-5, "atol": 2e-5}

CASES = {
    # (x shape, w shape, padding, dilation, groups)
    "same-3x3-64ch": ((3, 32, 14, 14), (64, 32, 3, 3), 1, 1, 1),
    "valid-5x5": ((2, 6, 12, 11), (16, 6, 5, 5), 0, 1, 1),
    "70-out-channels": ((2, 5, 7, 9), (70, 5, 3, 3), 1, 1, 1),
    "33-out-channels": ((3, 7, 6, 5), (33, 7, 3, 3), 1, 1, 1),
    "400-positions": ((2, 3, 20, 20), (8, 3, 3, 3), 1, 1, 1),
    "groups-dilated": ((3, 6, 9, 8), (9, 2, 3, 3), 2, 2, 3),
    "wide-padding": ((2, 4, 5, 6), (5, 4, 3, 3), (2, 3), 1, 1),
    "rect-kernel": ((2, 3, 6, 10), (7, 3, 2, 4), (1, 2), 1, 1),
    "one-pixel": ((4, 3, 1, 1), (5, 3, 3, 3), 1, 1, 1),
    "kernel-as-large-as-input": ((2, 2, 4, 3), (6, 2, 4, 3), 0, 1, 1),
    "1d": ((3, 5, 17), (12, 5, 5), 2, 1, 1),
    "1d-dilated-groups": ((2, 4, 15), (6, 2, 3), 1, 3, 2),
}


def _needs_avx512_gemm():
    from sklears_neural._kernels import _cpu

    if not _cpu.has_avx512_gemm():
        pytest.skip("no AVX-512F on this CPU (or in this build): the implicit path "
                    "never runs here")


@pytest.fixture
def every_product(monkeypatch):
    """Send every product of a stride-1 float32 conv to the implicit path."""
    _needs_avx512_gemm()
    from sklears_neural._kernels import _conv_implicit

    monkeypatch.setattr(_conv_implicit, "MIN_LANES", 1)
    monkeypatch.setattr(_conv_implicit, "MIN_TAPS", 1)
    previous = _conv_implicit.set_enabled(True)
    yield _conv_implicit
    _conv_implicit.set_enabled(previous)


def _inputs(case, rng):
    x_shape, w_shape, padding, dilation, groups = case
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.uniform(-0.5, 0.5, w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    return x, w, b, (1, padding, dilation, groups)


def _reference(x, w, b, gy, args):
    """Forward and the three gradients in float64 by the numpy kernels."""
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    y = X.conv_forward(x64, w64, b64, *args)
    if gy is None:
        return y, None
    return y, X.conv_backward(gy.astype(np.float64), x64, w64, *args)


def _check_all(x, w, b, args, rng, **kernel_kwargs):
    """Forward and the three gradients of the Cython kernels against ``_reference``."""
    y_ref, _ = _reference(x, w, b, None, args)
    gy = rng.standard_normal(y_ref.shape).astype(np.float32)
    _, grads_ref = _reference(x, w, b, gy, args)
    _close(K.conv_forward(x, w, b, *args, **kernel_kwargs), y_ref, "y")
    got = K.conv_backward(gy, x, w, *args, **kernel_kwargs)
    for what, g, e in zip(("gx", "gw", "gb"), got, grads_ref):
        _close(g, e, what)


def _close(actual, expected, what):
    assert actual.dtype == np.float32, what
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, err_msg=what, rtol=TOL["rtol"],
                               atol=TOL["atol"] * scale)


@pytest.fixture
def calls(monkeypatch):
    """Count the calls of this path's two entry points from ``_conv_gemm``."""
    from sklears_neural._kernels import _conv_gemm

    counts = {"forward": 0, "backward": 0}
    for key in counts:
        real = getattr(_conv_gemm, f"implicit_{key}")

        def spy(*args, _real=real, _key=key):
            counts[_key] += 1
            return _real(*args)

        monkeypatch.setattr(_conv_gemm, f"implicit_{key}", spy)
    return counts


@pytest.mark.parametrize("name", list(CASES))
def test_every_product_matches_xp(name, every_product, calls, rng):
    x, w, b, args = _inputs(CASES[name], rng)
    d = conv_geometry("conv_forward", x.shape, w.shape, b.shape, *args)
    assert every_product.implicit_ok(d, np.float32, "forward")
    assert every_product.implicit_ok(d, np.float32, "weight")
    _check_all(x, w, b, args, rng)
    assert calls == {"forward": 1, "backward": 1}  # the products ran here


def test_adjoint_that_is_no_stride_1_conv_takes_the_gemm_path(every_product, calls, rng):
    # a stride-1 transposed conv with dilation 2 and output_padding 1: its last
    # output position is reached by no input of the underlying conv
    x = rng.standard_normal((2, 4, 6, 5)).astype(np.float32)
    w = rng.uniform(-0.5, 0.5, (4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    args = (1, 1, 1, 2, 1)  # stride, padding, output_padding, dilation, groups
    d = transpose_geometry("conv_transpose_forward", x.shape, w.shape, b.shape, *args)
    assert not every_product.implicit_ok(d, np.float32, "input")
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    y_ref = X.conv_transpose_forward(x64, w64, b64, *args)
    _close(K.conv_transpose_forward(x, w, b, *args), y_ref, "y")
    assert calls["backward"] == 0  # the transposed forward is that input gradient


def test_input_gradient_takes_the_gemm_path_beyond_the_kernels_reach(every_product, rng):
    # padding 2 with a 2-wide kernel: the adjoint is no stride-1 convolution of gy
    x, w, b, args = _inputs(((2, 3, 5, 5), (4, 3, 2, 2), 2, 1, 1), rng)
    d = conv_geometry("conv_forward", x.shape, w.shape, b.shape, *args)
    assert every_product.implicit_ok(d, np.float32, "forward")
    assert not every_product.implicit_ok(d, np.float32, "input")
    _check_all(x, w, b, args, rng)


@pytest.mark.parametrize("need", [(True, False, False), (False, True, False),
                                  (False, False, True), (True, True, False)])
def test_need_flags(need, every_product, rng):
    x, w, b, args = _inputs(CASES["groups-dilated"], rng)
    y_ref, _ = _reference(x, w, b, None, args)
    gy = rng.standard_normal(y_ref.shape).astype(np.float32)
    _, grads_ref = _reference(x, w, b, gy, args)
    got = K.conv_backward(gy, x, w, *args, *need)
    for flag, what, g, e in zip(need, ("gx", "gw", "gb"), got, grads_ref):
        if flag:
            _close(g, e, what)
        else:
            assert g is None, what


@pytest.mark.parametrize("n_threads", [1, 2, 4])
@pytest.mark.parametrize("name", ["same-3x3-64ch", "70-out-channels", "1d-dilated-groups"])
def test_threads_match_xp(name, n_threads, every_product, omp_threads_4, rng):
    # 4 threads asked: more than the machine's cores and than some cases' samples
    # (the batch split then takes one thread per sample)
    x, w, b, args = _inputs(CASES[name], rng)
    _check_all(x, w, b, args, rng, n_threads=n_threads)


def test_one_sample_on_several_threads_takes_the_gemm_path(every_product, omp_threads_4,
                                                           rng):
    # the GEMM path splits one sample's products over the threads; this path could not
    from sklears_neural._kernels import _conv_gemm
    from sklears_neural._kernels._openmp_helpers import openmp_enabled

    if not openmp_enabled():
        pytest.skip("the kernels were built without OpenMP: one thread, so this path runs")

    x, w, b, args = _inputs(((1, 4, 6, 6), (8, 4, 3, 3), 1, 1, 1), rng)
    d = conv_geometry("conv_forward", x.shape, w.shape, b.shape, *args)
    assert not _conv_gemm._takes_implicit(d, np.float32, "forward", 1)
    assert _conv_gemm._takes_implicit(dict(d, n=2), np.float32, "forward", 1)
    y_ref, _ = _reference(x, w, b, None, args)
    _close(K.conv_forward(x, w, b, *args), y_ref, "y")


def test_transposed_conv_matches_xp(every_product, rng):
    # stride 1: its forward is the underlying conv's input gradient, its input
    # gradient that conv's forward
    x = rng.standard_normal((3, 6, 7, 5)).astype(np.float32)
    w = rng.uniform(-0.5, 0.5, (6, 4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    args = (1, 1, 0, 1, 1)  # stride, padding, output_padding, dilation, groups
    d = transpose_geometry("conv_transpose_forward", x.shape, w.shape, b.shape, *args)
    assert every_product.implicit_ok(d, np.float32, "input")
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    y_ref = X.conv_transpose_forward(x64, w64, b64, *args)
    _close(K.conv_transpose_forward(x, w, b, *args), y_ref, "y")
    gy = rng.standard_normal(y_ref.shape).astype(np.float32)
    for what, g, e in zip(("gx", "gw", "gb"), K.conv_transpose_backward(gy, x, w, *args),
                          X.conv_transpose_backward(gy.astype(np.float64), x64, w64, *args)):
        _close(g, e, what)


def test_disabled_path_gives_the_same_result(rng):
    _needs_avx512_gemm()
    from sklears_neural._kernels import _conv_implicit

    x, w, b, args = _inputs(CASES["same-3x3-64ch"], rng)
    gy = rng.standard_normal((3, 64, 14, 14)).astype(np.float32)
    previous = _conv_implicit.set_enabled(False)
    try:
        off = [K.conv_forward(x, w, b, *args), *K.conv_backward(gy, x, w, *args)]
    finally:
        _conv_implicit.set_enabled(previous)
    on = [K.conv_forward(x, w, b, *args), *K.conv_backward(gy, x, w, *args)]
    for a, e, what in zip(on, off, ("y", "gx", "gw", "gb")):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4, err_msg=what)


def _d(x_shape, w_shape, padding=1, stride=1, groups=1):
    return conv_geometry("conv_forward", x_shape, w_shape, None, stride, padding, 1, groups)


def test_thresholds_keep_narrow_products_on_the_gemm_path():
    _needs_avx512_gemm()
    from sklears_neural._kernels._conv_implicit import implicit_ok

    wide = _d((8, 32, 14, 14), (64, 32, 3, 3))
    assert all(implicit_ok(wide, np.float32, p) for p in ("forward", "input", "weight"))
    one_in = _d((8, 1, 28, 28), (32, 1, 3, 3))  # 9 taps forward, 1 lane backward
    assert not implicit_ok(one_in, np.float32, "forward")
    assert not implicit_ok(one_in, np.float32, "input")
    assert implicit_ok(one_in, np.float32, "weight")
    few_out = _d((8, 32, 14, 14), (8, 32, 3, 3))  # 8 output channels: 8 lanes forward
    assert not implicit_ok(few_out, np.float32, "forward")
    assert implicit_ok(few_out, np.float32, "input")


@pytest.mark.parametrize("what", ["float64", "strided", "3-D"])
def test_path_not_taken(what, every_product):
    d = _d((4, 32, 14, 14), (64, 32, 3, 3))
    dtype = np.float32
    if what == "float64":
        dtype = np.float64
    elif what == "strided":
        d = _d((4, 32, 14, 14), (64, 32, 3, 3), stride=2)
    else:
        d = _d((4, 32, 6, 6, 6), (64, 32, 3, 3, 3))
    assert not any(every_product.implicit_ok(d, dtype, p)
                   for p in ("forward", "input", "weight"))
