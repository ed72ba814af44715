"""Op-level tests of the convolution, pooling, padding, upsampling and N-d batch norm ops.

Three families:

- float64 finite-difference gradient checks of every op (input, weight and
  bias) over a small grid of strides, paddings, dilations, groups and
  1-D/2-D/3-D shapes, plus odd shapes;
- the same forward + backward through the Cython kernels and through the
  ``_xp`` numpy reference (the ops' ``kernels_for`` swapped), in float32 and
  float64;
- values, shapes and gradients against PyTorch (skipped without torch).

The kernels themselves are tested in ``tests/kernels``; here the ops are.
"""

import itertools

import numpy as np
import pytest

import sklears_neural._xp as xp_kernels
from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import functional as F
from sklears_neural.nn.functional import _conv as conv_module
from sklears_neural.nn.functional import _norm as norm_module
from sklears_neural.nn.functional import _pool as pool_module

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}

# Small spatial shapes (odd where possible) and kernels that keep gradcheck fast.
SPATIAL = {1: (7,), 2: (5, 5), 3: (3, 4, 3)}
KERNEL = {1: 3, 2: 3, 3: 2}

# (in_channels, out_channels, groups): plain, grouped, depthwise (x2 multiplier).
GROUPINGS = {"groups1": (2, 3, 1), "groups2": (4, 2, 2), "depthwise": (2, 4, 2)}


def t64(rng, *shape, grad=True):
    return Tensor(rng.standard_normal(shape), requires_grad=grad)


def distinct(rng, *shape, grad=True):
    """Values at least 0.05 apart (a shuffled ramp plus small noise): no ties,
    so max pooling is differentiable and finite differences never flip an argmax."""
    n = int(np.prod(shape))
    data = (rng.permutation(n) * 0.1 + rng.uniform(0, 0.05, n) - 0.05 * n).reshape(shape)
    return Tensor(data, requires_grad=grad)


def with_bias(fn, bias):
    """gradcheck helper: inputs [x, w, b] or [x, w] with bias None."""
    if bias:
        return fn
    return lambda x, w: fn(x, w, None)


# ---------------------------------------------------------------------------
# Gradient checks: convolutions
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("grouping", list(GROUPINGS))
@pytest.mark.parametrize("stride, padding, dilation",
                         list(itertools.product([1, 2], [0, 1], [1, 2])))
def test_conv_gradcheck_grid(d, grouping, stride, padding, dilation):
    rng = np.random.default_rng(100 * d + 10 * stride + padding + dilation)
    c_in, c_out, groups = GROUPINGS[grouping]
    k = KERNEL[d]
    x = t64(rng, 1, c_in, *SPATIAL[d])
    w = t64(rng, c_out, c_in // groups, *(k,) * d)
    b = t64(rng, c_out)

    def fn(x, w, b):
        return CONV[d](x, w, b, stride=stride, padding=padding, dilation=dilation,
                       groups=groups)

    assert gradcheck(fn, [x, w, b])


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("grouping", list(GROUPINGS))
@pytest.mark.parametrize("stride, padding, dilation",
                         list(itertools.product([1, 2], [0, 1], [1, 2])))
def test_conv_transpose_gradcheck_grid(d, grouping, stride, padding, dilation):
    rng = np.random.default_rng(200 * d + 10 * stride + padding + dilation)
    c_in, c_out, groups = GROUPINGS[grouping]
    k = KERNEL[d]
    spatial = {1: (4,), 2: (3, 2), 3: (2, 3, 2)}[d]
    # output_padding must be smaller than stride or dilation: use the largest allowed.
    output_padding = max(stride, dilation) - 1
    x = t64(rng, 1, c_in, *spatial)
    w = t64(rng, c_in, c_out // groups, *(k,) * d)
    b = t64(rng, c_out)

    def fn(x, w, b):
        return CONV_T[d](x, w, b, stride=stride, padding=padding,
                         output_padding=output_padding, groups=groups, dilation=dilation)

    y = fn(x, w, b)
    expected = tuple((n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
                     for n in spatial)
    assert y.shape == (1, c_out) + expected
    assert gradcheck(fn, [x, w, b])


@pytest.mark.parametrize("name, d, x_shape, w_shape, kwargs", [
    ("1x1 image, 1x1 kernel", 2, (2, 3, 1, 1), (2, 3, 1, 1), {}),
    ("1x1 image, padded 3x3 kernel", 2, (1, 2, 1, 1), (3, 2, 3, 3), {"padding": 1}),
    ("kernel = input size", 2, (2, 2, 3, 4), (3, 2, 3, 4), {}),
    ("kernel = input size, 1-D", 1, (2, 2, 5), (3, 2, 5), {}),
    ("kernel = input size, 3-D", 3, (1, 2, 2, 3, 2), (2, 2, 2, 3, 2), {}),
    ("batch 1, one channel, 5x7", 2, (1, 1, 5, 7), (1, 1, 3, 3), {}),
    ("one channel, strided 5x7", 2, (1, 1, 5, 7), (2, 1, 3, 2), {"stride": (2, 3)}),
    ("asymmetric stride/padding/dilation", 2, (2, 2, 6, 5), (2, 2, 2, 3),
     {"stride": (1, 2), "padding": (2, 0), "dilation": (2, 1)}),
    ("padding valid", 2, (1, 2, 4, 5), (2, 2, 3, 2), {"padding": "valid"}),
    ("same, odd kernel", 2, (1, 2, 4, 5), (2, 2, 3, 3), {"padding": "same"}),
    ("same, even kernel", 2, (1, 2, 4, 5), (2, 2, 2, 4), {"padding": "same"}),
    ("same, even kernel, dilated", 2, (1, 2, 5, 5), (2, 2, 2, 2),
     {"padding": "same", "dilation": 2}),
    ("same, even kernel, dilation 3", 1, (2, 2, 7), (2, 2, 4), {"padding": "same", "dilation": 3}),
    ("same, even kernel, 1-D", 1, (2, 2, 5), (3, 2, 2), {"padding": "same"}),
    ("same, even kernel, 3-D", 3, (1, 1, 3, 3, 2), (2, 1, 2, 2, 2), {"padding": "same"}),
    ("same, depthwise", 2, (1, 3, 4, 3), (3, 1, 2, 3), {"padding": "same", "groups": 3}),
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_gradcheck_odd_shapes(name, d, x_shape, w_shape, kwargs, bias):
    rng = np.random.default_rng(7)
    x, w = t64(rng, *x_shape), t64(rng, *w_shape)
    inputs = [x, w] + ([t64(rng, w_shape[0])] if bias else [])
    fn = with_bias(lambda x, w, b: CONV[d](x, w, b, **kwargs), bias)
    y = fn(*inputs)
    if kwargs.get("padding") == "same":
        assert y.shape[2:] == x_shape[2:]
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("name, d, x_shape, w_shape, kwargs", [
    ("1x1 image", 2, (1, 2, 1, 1), (2, 3, 1, 1), {}),
    ("1x1 image, stride 2, output_padding 1", 2, (2, 1, 1, 1), (1, 2, 3, 3),
     {"stride": 2, "output_padding": 1}),
    ("output_padding per axis", 2, (1, 2, 3, 2), (2, 2, 3, 2),
     {"stride": (2, 3), "output_padding": (1, 2), "padding": (1, 0)}),
    ("output_padding below dilation", 1, (1, 2, 3), (2, 1, 3),
     {"dilation": 3, "output_padding": 2}),
    ("3-D output_padding", 3, (1, 1, 2, 2, 1), (1, 2, 2, 2, 2),
     {"stride": 2, "output_padding": (1, 0, 1)}),
    ("batch 1, one channel, 5x7", 2, (1, 1, 5, 7), (1, 1, 2, 2), {"stride": 2}),
    ("depthwise", 2, (1, 3, 3, 2), (3, 1, 2, 2), {"groups": 3, "stride": 2}),
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose_gradcheck_odd_shapes(name, d, x_shape, w_shape, kwargs, bias):
    rng = np.random.default_rng(8)
    x, w = t64(rng, *x_shape), t64(rng, *w_shape)
    groups = kwargs.get("groups", 1)
    inputs = [x, w] + ([t64(rng, w_shape[1] * groups)] if bias else [])
    fn = with_bias(lambda x, w, b: CONV_T[d](x, w, b, **kwargs), bias)
    assert gradcheck(fn, inputs)


def test_conv_computes_only_requested_gradients(rng):
    x = t64(rng, 1, 2, 4, 4, grad=False)
    w, b = t64(rng, 3, 2, 3, 3), t64(rng, 3, grad=False)
    F.conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad is None and b.grad is None and w.grad.shape == w.shape
    x = t64(rng, 1, 2, 4, 4)
    w = t64(rng, 2, 3, 3, 3, grad=False)
    F.conv_transpose2d(x, w, stride=2).sum().backward()
    assert w.grad is None and x.grad.shape == x.shape


@pytest.mark.parametrize("name, fn", [
    ("conv2d", lambda x, w: F.conv2d(x, w, padding=1, stride=(1, 2))),
    ("conv2d depthwise", lambda x, w: F.conv2d(x, w[:, :1], groups=3, dilation=2)),
    ("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w[:3, :2], stride=2)),
    ("max_pool2d", lambda x, w: F.max_pool2d(x, 2, 1)),
    ("avg_pool2d", lambda x, w: F.avg_pool2d(x, 3, 2, 1)),
    ("adaptive_max_pool2d", lambda x, w: F.adaptive_max_pool2d(x, (2, 3))),
    ("pad", lambda x, w: F.pad(x, (1, 2, 2, 1), "reflect")),
    ("batch_norm", lambda x, w: F.batch_norm(x, None, None, w[:, 0, 0, 0], None, True)),
])
def test_non_contiguous_inputs_and_gradients(name, fn):
    """Transposed / strided views give the results of their contiguous copies."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 5, 3, 2)).transpose(3, 2, 1, 0)  # (2, 3, 5, 6)
    w = rng.standard_normal((3, 3, 3, 6))[..., ::2].transpose(3, 2, 1, 0)  # (3, 3, 3, 3)
    assert not x.flags.c_contiguous and not w.flags.c_contiguous
    results = []
    for contiguous in (False, True):
        tx, tw = (Tensor(np.ascontiguousarray(a) if contiguous else a, requires_grad=True)
                  for a in (x, w))
        y = fn(tx, tw)
        gy = np.random.default_rng(5).standard_normal(y.shape[::-1]).T  # non-contiguous too
        y.backward(np.ascontiguousarray(gy) if contiguous else gy)
        results.append((y.data, tx.grad, tw.grad))
    for a, b in zip(*results):
        if a is None or b is None:
            assert a is None and b is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# Gradient checks: pooling, padding, upsampling, batch norm
# ---------------------------------------------------------------------------

POOL_SPATIAL = {1: (7,), 2: (5, 4), 3: (3, 4, 3)}


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("kernel_size, stride, padding, dilation", [
    (2, None, 0, 1), (3, 2, 1, 1), (2, 1, 1, 1), (2, 1, 0, 2), (3, 2, 1, 2), (1, 2, 0, 1),
])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool_gradcheck(d, kernel_size, stride, padding, dilation, ceil_mode):
    rng = np.random.default_rng(d)
    x = distinct(rng, 2, 2, *POOL_SPATIAL[d])

    def fn(x):
        return MAX_POOL[d](x, kernel_size, stride, padding, dilation, ceil_mode)

    assert gradcheck(fn, [x])


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("kernel_size, stride, padding", [
    (2, None, 0), (3, 2, 1), (2, 1, 1), (3, 3, 1), (1, 2, 0),
])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [False, True])
def test_avg_pool_gradcheck(d, kernel_size, stride, padding, ceil_mode, count_include_pad):
    rng = np.random.default_rng(d)
    x = t64(rng, 2, 2, *POOL_SPATIAL[d])

    def fn(x):
        return AVG_POOL[d](x, kernel_size, stride, padding, ceil_mode, count_include_pad)

    assert gradcheck(fn, [x])


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_avg_pool_divisor_override_gradcheck(d, ceil_mode):
    rng = np.random.default_rng(3)
    x = t64(rng, 1, 2, *POOL_SPATIAL[d])

    def fn(x):
        return AVG_POOL[d](x, 2, 2, 1, ceil_mode, True, divisor_override=3)

    y = fn(x)
    # the corner window holds only x[..., 0, 0(, 0)] (the rest is padding): divided by 3
    corner = (0, 0) + (0,) * d
    np.testing.assert_allclose(y.data[corner], x.data[corner] / 3, rtol=1e-12)
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("output_size", [1, 2, 3])
def test_adaptive_pool_gradcheck(d, output_size):
    rng = np.random.default_rng(d)
    shape = {1: (7,), 2: (5, 4), 3: (3, 4, 2)}[d]
    x = distinct(rng, 1, 2, *shape)
    assert gradcheck(lambda x: ADAPTIVE_AVG[d](x, output_size), [x])
    assert gradcheck(lambda x: ADAPTIVE_MAX[d](x, output_size), [x])


def test_adaptive_pool_gradcheck_upsampling_and_none(rng):
    # output larger than the input (bins overlap and repeat) and None (keep size)
    x = distinct(rng, 1, 2, 3, 2)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (5, 3)), [x])
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (5, 3)), [x])
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (None, 1)), [x])
    assert F.adaptive_max_pool2d(x, (None, 1)).shape == (1, 2, 3, 1)


PAD_CASES = {
    1: [(1, 2), (0, 3), (2, 0)],
    2: [(1, 2, 2, 1), (0, 1, 3, 0), (2, 2, 0, 0)],
    3: [(1, 0, 2, 1, 0, 2), (1, 1, 1, 1, 1, 1)],
}


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("d, pads", [(d, p) for d, cases in PAD_CASES.items() for p in cases])
def test_pad_gradcheck(mode, d, pads):
    rng = np.random.default_rng(len(pads))
    x = t64(rng, 2, 2, *{1: (4,), 2: (4, 3), 3: (3, 4, 3)}[d])
    kwargs = {"value": 0.7} if mode == "constant" else {}
    y = F.pad(x, pads, mode, **kwargs)
    expected = list(x.shape)
    for i in range(len(pads) // 2):
        expected[-1 - i] += pads[2 * i] + pads[2 * i + 1]
    assert y.shape == tuple(expected)
    assert gradcheck(lambda x: F.pad(x, pads, mode, **kwargs), [x])


def test_pad_constant_crops_with_negative_pads_and_pads_leading_axes(rng):
    x = t64(rng, 2, 3, 4, 5)
    y = F.pad(x, (-1, 2, 0, -2))
    assert y.shape == (2, 3, 2, 6)
    np.testing.assert_array_equal(y.data[:, :, :, :4], x.data[:, :, :2, 1:])
    assert gradcheck(lambda x: F.pad(x, (-1, 2, 0, -2)), [x])
    # three pairs on a 4-D input pad the channel axis too
    assert F.pad(x, (1, 1, 1, 1, 1, 1)).shape == (2, 5, 6, 7)
    assert gradcheck(lambda x: F.pad(x, (1, 0, 0, 1, 1, 0)), [x])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes_values_1d(mode):
    x = Tensor(np.arange(1.0, 5.0).reshape(1, 1, 4))
    expected = {
        "reflect": [3, 2, 1, 2, 3, 4, 3, 2],
        "replicate": [1, 1, 1, 2, 3, 4, 4, 4],
        "circular": [3, 4, 1, 2, 3, 4, 1, 2],
    }[mode]
    np.testing.assert_array_equal(F.pad(x, (2, 2), mode).data.ravel(), expected)


@pytest.mark.parametrize("d, scale", [(1, 3), (2, 2), (2, (1, 3)), (3, (2, 1, 2))])
def test_upsample_nearest_gradcheck(d, scale):
    rng = np.random.default_rng(d)
    x = t64(rng, 1, 2, *{1: (3,), 2: (2, 3), 3: (2, 2, 1)}[d])
    y = F.upsample_nearest(x, scale)
    factors = (scale,) * d if isinstance(scale, int) else scale
    expected = x.data
    for axis, f in enumerate(factors):
        expected = np.repeat(expected, f, axis=2 + axis)
    np.testing.assert_array_equal(y.data, expected)
    assert gradcheck(lambda x: F.upsample_nearest(x, scale), [x])


@pytest.mark.parametrize("shape", [(3, 2, 3, 2), (1, 2, 3, 3), (2, 3, 1, 1), (2, 2, 2, 3, 1),
                                   (2, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_gradcheck(shape, affine):
    rng = np.random.default_rng(len(shape))
    c = shape[1]
    x = Tensor(rng.standard_normal(shape) * 2 + 1, requires_grad=True)
    inputs = [x] + ([t64(rng, c), t64(rng, c)] if affine else [])
    running_mean, running_var = np.zeros(c), np.ones(c)

    def fn(x, w=None, b=None):
        return F.batch_norm(x, running_mean, running_var, w, b, training=True)

    y = fn(*inputs)
    axes = (0,) + tuple(range(2, len(shape)))
    xhat = (x.data - x.data.mean(axis=axes, keepdims=True)) / np.sqrt(
        x.data.var(axis=axes, keepdims=True) + 1e-5)
    if affine:
        view = (1, c) + (1,) * (len(shape) - 2)
        xhat = xhat * inputs[1].data.reshape(view) + inputs[2].data.reshape(view)
    np.testing.assert_allclose(y.data, xhat, rtol=1e-10, atol=1e-12)
    assert gradcheck(fn, inputs)


def test_batch_norm_training_updates_running_stats_by_hand(rng):
    x = rng.standard_normal((4, 3, 2, 5)) * 3 + 2
    running_mean, running_var = np.full(3, 0.5), np.full(3, 2.0)
    F.batch_norm(Tensor(x), running_mean, running_var, training=True, momentum=0.25)
    count = 4 * 2 * 5
    mean = x.mean(axis=(0, 2, 3))
    unbiased = x.var(axis=(0, 2, 3)) * count / (count - 1)
    np.testing.assert_allclose(running_mean, 0.75 * 0.5 + 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.75 * 2.0 + 0.25 * unbiased, rtol=1e-10)


def test_batch_norm_eval_gradcheck(rng):
    x, w, b = t64(rng, 2, 3, 2, 2), t64(rng, 3), t64(rng, 3)
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    before = running_mean.copy(), running_var.copy()

    def fn(x, w, b):
        return F.batch_norm(x, running_mean, running_var, w, b, training=False)

    view = (1, 3, 1, 1)
    expected = ((x.data - running_mean.reshape(view)) / np.sqrt(running_var.reshape(view) + 1e-5)
                * w.data.reshape(view) + b.data.reshape(view))
    np.testing.assert_allclose(fn(x, w, b).data, expected, rtol=1e-12)
    assert gradcheck(fn, [x, w, b])
    np.testing.assert_array_equal(running_mean, before[0])
    np.testing.assert_array_equal(running_var, before[1])


def test_batch_norm_training_rejects_one_value_per_channel(rng):
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(t64(rng, 1, 3, 1, 1), None, None, training=True)


def test_max_pool_return_indices_and_window_in_padding_only():
    x = Tensor(np.array([[[[1.0, 5.0, 2.0], [7.0, 3.0, 4.0], [0.0, 9.0, 8.0]]]]),
               requires_grad=True)
    y, idx = F.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(y.data[0, 0], [[7.0, 5.0], [9.0, 9.0]])
    np.testing.assert_array_equal(idx.data[0, 0], [[3, 1], [7, 7]])
    assert idx.data.dtype == np.int64 and not idx.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 1, 0], [1, 0, 0], [0, 2, 0]])
    # with dilation a window can miss the input entirely: -inf, index -1, no gradient
    x = Tensor(np.ones((2, 3, 1)), requires_grad=True)
    y, idx = F.max_pool1d(x, 2, stride=1, padding=1, dilation=2, return_indices=True)
    assert np.all(np.isneginf(y.data)) and np.all(idx.data == -1)
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad, 0.0)


# ---------------------------------------------------------------------------
# Cython kernels vs the _xp reference, at the op level
# ---------------------------------------------------------------------------

def _run(fn, arrays, dtype, use_xp):
    """Forward + backward of ``fn`` with a fixed output gradient; returns
    the output and the input gradients as numpy arrays."""
    calls = []

    def xp_for(a):
        calls.append(a)
        return xp_kernels

    tensors = [None if a is None else Tensor(a.astype(dtype), requires_grad=True)
               for a in arrays]
    with pytest.MonkeyPatch.context() as mp:
        if use_xp:
            for module in (conv_module, pool_module, norm_module):
                mp.setattr(module, "kernels_for", xp_for)
        y = fn(*tensors)
        gy = np.random.default_rng(99).standard_normal(y.shape).astype(dtype)
        y.backward(gy)
    if use_xp:
        assert calls, "the _xp kernels were not used"
    assert y.dtype == dtype
    return y.data, [None if t is None else t.grad for t in tensors]


def _rng_arrays(seed, *shapes, distinct_values=False):
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        if shape is None:
            out.append(None)
        elif distinct_values:
            out.append(distinct(rng, *shape).data)
        else:
            out.append(rng.standard_normal(shape))
    return out


AGREEMENT_CASES = {
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
               [(2, 3, 9), (4, 3, 3), (4,)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1),
               [(2, 4, 6, 7), (6, 4, 3, 3), (6,)]),
    "conv2d grouped": (lambda x, w, b: F.conv2d(x, w, b, padding=(0, 1), groups=2),
                       [(2, 4, 5, 5), (6, 2, 2, 3), (6,)]),
    "conv2d depthwise": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=3),
                         [(2, 3, 7, 6), (6, 1, 3, 3), (6,)]),
    "conv2d 1x1": (lambda x, w, b: F.conv2d(x, w, b), [(3, 5, 4, 3), (2, 5, 1, 1), (2,)]),
    "conv2d same even": (lambda x, w, b: F.conv2d(x, w, b, padding="same"),
                         [(1, 2, 5, 6), (3, 2, 4, 2), None]),
    "conv3d": (lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1)),
               [(2, 2, 5, 4, 3), (3, 2, 2, 3, 2), (3,)]),
    "conv_transpose1d": (lambda x, w, b: F.conv_transpose1d(x, w, b, 2, 1, 1),
                         [(2, 3, 5), (3, 2, 3), (2,)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                            output_padding=1, groups=2),
                         [(2, 4, 3, 4), (4, 3, 3, 3), (6,)]),
    "conv_transpose2d dilated": (lambda x, w, b: F.conv_transpose2d(x, w, b, dilation=2),
                                 [(1, 2, 4, 3), (2, 3, 2, 3), None]),
    "conv_transpose3d": (lambda x, w, b: F.conv_transpose3d(x, w, b, stride=(2, 1, 2),
                                                            output_padding=(1, 0, 0)),
                         [(1, 2, 3, 2, 3), (2, 2, 2, 2, 2), (2,)]),
    "batch_norm 4-D": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                       [(4, 3, 5, 6), (3,), (3,)]),
    "batch_norm 5-D": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                       [(2, 2, 3, 4, 3), (2,), (2,)]),
    "batch_norm 3-D no affine": (lambda x: F.batch_norm(x, None, None, training=True),
                                 [(3, 4, 5)]),
}

POOL_AGREEMENT_CASES = {
    "max_pool1d": lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "max_pool2d dilated": lambda x: F.max_pool2d(x, 3, (1, 2), 1, dilation=(2, 1)),
    "max_pool3d": lambda x: F.max_pool3d(x, 2, 1, 1, ceil_mode=True),
    "avg_pool1d": lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True),
    "avg_pool2d divisor": lambda x: F.avg_pool2d(x, 2, 1, 1, True, False, divisor_override=3),
    "avg_pool3d": lambda x: F.avg_pool3d(x, (2, 3, 2), 2, (1, 1, 0), ceil_mode=True),
    "adaptive_avg_pool1d": lambda x: F.adaptive_avg_pool1d(x, 4),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
    "adaptive_avg_pool3d": lambda x: F.adaptive_avg_pool3d(x, 2),
    "adaptive_max_pool1d": lambda x: F.adaptive_max_pool1d(x, 3),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, (2, 5)),
    "adaptive_max_pool3d": lambda x: F.adaptive_max_pool3d(x, (1, 2, 3)),
    "pad constant": lambda x: F.pad(x, (1, 2, 0, 3), value=-0.5),
    "pad reflect": lambda x: F.pad(x, (2, 1, 1, 2), "reflect"),
    "pad replicate": lambda x: F.pad(x, (3, 0, 1, 2), "replicate"),
    "pad circular": lambda x: F.pad(x, (1, 2, 2, 1), "circular"),
    "upsample_nearest": lambda x: F.upsample_nearest(x, (2, 3)),
}

POOL_INPUT = {"1d": (2, 3, 9), "2d": (2, 3, 7, 6), "3d": (2, 2, 5, 4, 5)}


def _pool_input_shape(name):
    for key in ("1d", "3d"):
        if key in name:
            return POOL_INPUT[key]
    return POOL_INPUT["2d"]


def _tolerance(dtype):
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10,
                                                                     "atol": 1e-12}


def test_default_kernels_for_numpy_are_the_cython_ones():
    from sklears_neural import _kernels

    assert kernels_for(np.zeros(1)) is _kernels
    assert _kernels is not xp_kernels


def _assert_agree(fn, arrays, dtype):
    y_cy, g_cy = _run(fn, arrays, dtype, use_xp=False)
    y_xp, g_xp = _run(fn, arrays, dtype, use_xp=True)
    tol = _tolerance(dtype)
    np.testing.assert_allclose(y_cy, y_xp, **tol)
    for a, b in zip(g_cy, g_xp):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == dtype and b.dtype == dtype
            np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(AGREEMENT_CASES))
def test_cython_and_xp_agree(name, dtype):
    fn, shapes = AGREEMENT_CASES[name]
    arrays = _rng_arrays(len(name), *shapes)
    _assert_agree(fn, arrays, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(POOL_AGREEMENT_CASES))
def test_cython_and_xp_agree_pooling(name, dtype):
    arrays = _rng_arrays(len(name), _pool_input_shape(name), distinct_values=True)
    _assert_agree(POOL_AGREEMENT_CASES[name], arrays, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cython_and_xp_agree_on_running_stats(dtype):
    x = np.random.default_rng(5).standard_normal((3, 4, 5, 2)).astype(dtype) * 2 + 1
    stats = {}
    for use_xp in (False, True):
        rm, rv = np.zeros(4, dtype), np.ones(4, dtype)
        with pytest.MonkeyPatch.context() as mp:
            if use_xp:
                mp.setattr(norm_module, "kernels_for", lambda a: xp_kernels)
            F.batch_norm(Tensor(x), rm, rv, training=True, momentum=0.2)
        assert rm.dtype == dtype and rv.dtype == dtype
        stats[use_xp] = (rm, rv)
    for a, b in zip(stats[False], stats[True]):
        np.testing.assert_allclose(a, b, **_tolerance(dtype))


# ---------------------------------------------------------------------------
# Against PyTorch (float64)
# ---------------------------------------------------------------------------

TORCH_TOL = {"rtol": 1e-10, "atol": 1e-10}


def _compare_with_torch(ours, theirs, arrays, seed=0):
    """Run ``ours`` on Tensors and ``theirs`` on torch tensors (float64); compare
    output shape and values and the gradient of every input."""
    torch = pytest.importorskip("torch")
    mine = [None if a is None else Tensor(a.copy(), requires_grad=True) for a in arrays]
    ref = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y = ours(*mine)
    y_ref = theirs(*ref)
    assert y.shape == tuple(y_ref.shape)
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), **TORCH_TOL)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(gy)
    y_ref.backward(torch.tensor(gy))
    for t, r in zip(mine, ref):
        if t is not None:
            np.testing.assert_allclose(t.grad, r.grad.numpy(), **TORCH_TOL)


CONV_TORCH_CASES = [
    (1, dict(stride=2, padding=1, dilation=2, groups=1), (2, 4, 11), (6, 4, 3)),
    (1, dict(padding="same", dilation=2), (1, 2, 6), (3, 2, 4)),
    (2, dict(stride=1, padding=1, groups=2), (2, 4, 5, 7), (6, 2, 3, 3)),
    (2, dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2)), (1, 3, 6, 5), (2, 3, 2, 3)),
    (2, dict(padding="same"), (2, 2, 5, 4), (3, 2, 2, 4)),
    (2, dict(stride=2, padding=1, groups=4), (2, 4, 5, 5), (8, 1, 3, 3)),
    (2, dict(padding="valid"), (1, 1, 1, 1), (2, 1, 1, 1)),
    (3, dict(stride=(1, 2, 2), padding=1), (2, 2, 3, 5, 4), (3, 2, 2, 3, 3)),
    (3, dict(padding="same", groups=2), (1, 2, 3, 4, 3), (4, 1, 2, 2, 3)),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("d, kwargs, x_shape, w_shape", CONV_TORCH_CASES)
def test_conv_matches_torch(d, kwargs, x_shape, w_shape, bias):
    torch = pytest.importorskip("torch")
    import warnings

    theirs_fn = getattr(torch.nn.functional, f"conv{d}d")
    arrays = _rng_arrays(d, x_shape, w_shape, (w_shape[0],) if bias else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns on padding="same" with even kernels
        _compare_with_torch(lambda x, w, b: CONV[d](x, w, b, **kwargs),
                            lambda x, w, b: theirs_fn(x, w, b, **kwargs), arrays)


@pytest.mark.parametrize("kwargs, x_shape, w_shape", [
    (dict(stride=2, padding=1, output_padding=1), (2, 3, 4, 3), (3, 2, 3, 3)),
    (dict(stride=(1, 2), dilation=(2, 1), groups=2), (1, 4, 3, 4), (4, 3, 2, 3)),
    (dict(stride=3, padding=(1, 0), output_padding=(2, 1)), (2, 2, 2, 3), (2, 1, 3, 2)),
    (dict(), (1, 1, 1, 1), (1, 2, 2, 2)),
])
def test_conv_transpose2d_matches_torch(kwargs, x_shape, w_shape):
    torch = pytest.importorskip("torch")
    groups = kwargs.get("groups", 1)
    arrays = _rng_arrays(1, x_shape, w_shape, (w_shape[1] * groups,))
    _compare_with_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
                        lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kwargs),
                        arrays)


POOL_TORCH_CASES = [
    ("max_pool1d", (3, 2, 1, 1, True), (2, 3, 8)),
    ("max_pool2d", (2, None, 0, 1, False), (2, 3, 5, 7)),
    ("max_pool2d", (3, 2, 1, 2, True), (1, 2, 7, 6)),
    ("max_pool3d", ((2, 3, 2), (1, 2, 2), (1, 1, 0), 1, True), (1, 2, 4, 5, 3)),
    ("avg_pool1d", (3, 2, 1, True, False), (2, 2, 8)),
    ("avg_pool2d", (3, 2, 1, True, True), (2, 3, 6, 5)),
    ("avg_pool2d", (3, 2, 1, True, False), (2, 3, 6, 5)),
    ("avg_pool2d", (2, 1, 1, False, True, 5), (1, 2, 4, 3)),
    ("avg_pool3d", (2, (1, 2, 2), 1, True, False), (1, 2, 3, 5, 4)),
    ("adaptive_avg_pool1d", (3,), (2, 2, 7)),
    ("adaptive_avg_pool2d", ((3, 5),), (1, 3, 5, 4)),
    ("adaptive_avg_pool2d", ((None, 2),), (1, 3, 5, 4)),
    ("adaptive_avg_pool3d", (2,), (1, 2, 3, 5, 4)),
    ("adaptive_max_pool1d", (3,), (2, 2, 7)),
    ("adaptive_max_pool2d", ((3, 2),), (1, 3, 7, 5)),
    ("adaptive_max_pool3d", ((2, 1, 3),), (1, 2, 3, 5, 4)),
]


@pytest.mark.parametrize("name, args, x_shape", POOL_TORCH_CASES)
def test_pooling_matches_torch(name, args, x_shape):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    (x,) = _rng_arrays(len(x_shape), x_shape, distinct_values=True)
    _compare_with_torch(lambda x: ours(x, *args), lambda x: theirs(x, *args), [x])
    if "max" in name:  # the argmax indices too
        kwargs = {"return_indices": True}
        _, idx = ours(Tensor(x), *args, **kwargs)
        _, idx_ref = theirs(torch.tensor(x), *args, **kwargs)
        np.testing.assert_array_equal(idx.data, idx_ref.numpy())


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("x_shape, pads", [
    ((2, 3, 5), (2, 3)),
    ((1, 2, 4, 5), (1, 3, 2, 0)),
    ((1, 2, 3, 4, 3), (1, 2, 0, 3, 2, 1)),
])
def test_pad_matches_torch(mode, x_shape, pads):
    torch = pytest.importorskip("torch")
    kwargs = {"value": 1.5} if mode == "constant" else {}
    (x,) = _rng_arrays(3, x_shape)
    _compare_with_torch(lambda x: F.pad(x, pads, mode, **kwargs),
                        lambda x: torch.nn.functional.pad(x, pads, mode, **kwargs), [x])


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 2, 3, 4, 2), (1, 3, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_torch_with_running_stats(shape, affine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    c = shape[1]
    x = rng.standard_normal(shape) * 3 + 1
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    rm_ref, rv_ref = torch.tensor(rm), torch.tensor(rv)
    _compare_with_torch(
        lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3, eps=1e-3),
        lambda x, w, b: torch.nn.functional.batch_norm(x, rm_ref, rv_ref, w, b, training=True,
                                                       momentum=0.3, eps=1e-3),
        [x, w, b])
    np.testing.assert_allclose(rm, rm_ref.numpy(), **TORCH_TOL)
    np.testing.assert_allclose(rv, rv_ref.numpy(), **TORCH_TOL)
    # eval mode then uses the running statistics, as torch does
    _compare_with_torch(
        lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3),
        lambda x, w, b: torch.nn.functional.batch_norm(x, rm_ref, rv_ref, w, b, training=False,
                                                       eps=1e-3),
        [x, w, b])


def test_upsample_nearest_matches_torch():
    torch = pytest.importorskip("torch")
    (x,) = _rng_arrays(0, (2, 3, 3, 4))
    _compare_with_torch(
        lambda x: F.upsample_nearest(x, 3),
        lambda x: torch.nn.functional.interpolate(x, scale_factor=3, mode="nearest"), [x])
