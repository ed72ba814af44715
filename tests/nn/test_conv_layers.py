"""Convolution, pooling, upsampling and N-d batch-norm layers.

Output shapes are checked against PyTorch's documented formulas, written out
here (not taken from our code); parameters, padding modes, the composite
blocks, train/eval batch norm, error messages and a small CNN that learns.
"""

import math
import re

import numpy as np
import pytest

from sklears_neural import nn
from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import functional as F
from sklears_neural.optim import Adam


def f32(rng, *shape):
    return Tensor(rng.standard_normal(shape).astype(np.float32))


def f64(rng, *shape, grad=False):
    return Tensor(rng.standard_normal(shape), requires_grad=grad)


# ---------------------------------------------------------------------------
# PyTorch's output-shape formulas (from its documentation)
# ---------------------------------------------------------------------------

def _tup(v, d):
    return (v,) * d if isinstance(v, int) else tuple(v)


def conv_out(n, k, s=1, p=0, dil=1):
    return math.floor((n + 2 * p - dil * (k - 1) - 1) / s + 1)


def conv_transpose_out(n, k, s=1, p=0, op=0, dil=1):
    return (n - 1) * s - 2 * p + dil * (k - 1) + op + 1


def pool_out(n, k, s, p=0, dil=1, ceil_mode=False):
    rounding = math.ceil if ceil_mode else math.floor
    out = rounding((n + 2 * p - dil * (k - 1) - 1) / s + 1)
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside
        out -= 1
    return out


CONV_LAYER_CASES = [
    (1, dict(kernel_size=3), (2, 3, 11)),
    (1, dict(kernel_size=4, stride=3, padding=2, dilation=2), (1, 3, 13)),
    (2, dict(kernel_size=3), (2, 3, 8, 9)),
    (2, dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 3)), (2, 3, 7, 8)),
    (2, dict(kernel_size=5, stride=2, padding=2), (1, 3, 1, 1)),
    (2, dict(kernel_size=1, stride=3), (2, 3, 5, 7)),
    (3, dict(kernel_size=2, stride=(1, 2, 2), padding=1), (1, 3, 3, 5, 4)),
    (3, dict(kernel_size=(1, 3, 2), dilation=(1, 1, 2)), (2, 3, 2, 4, 5)),
]


@pytest.mark.parametrize("d, kwargs, x_shape", CONV_LAYER_CASES)
def test_conv_layer_output_shape_is_torchs_formula(rng, d, kwargs, x_shape):
    layer = getattr(nn, f"Conv{d}d")(3, 4, generator=0, **kwargs)
    y = layer(f32(rng, *x_shape))
    k, s = _tup(kwargs["kernel_size"], d), _tup(kwargs.get("stride", 1), d)
    p, dil = _tup(kwargs.get("padding", 0), d), _tup(kwargs.get("dilation", 1), d)
    expected = tuple(conv_out(n, *args) for n, *args in zip(x_shape[2:], k, s, p, dil))
    assert y.shape == (x_shape[0], 4) + expected
    assert y.dtype == np.float32


@pytest.mark.parametrize("d, kwargs, x_shape", [
    (1, dict(kernel_size=3, stride=2, padding=1, output_padding=1), (2, 3, 5)),
    (2, dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
     (2, 3, 4, 3)),
    (2, dict(kernel_size=3, dilation=2, output_padding=1, stride=1), (1, 3, 1, 1)),
    (3, dict(kernel_size=2, stride=2, output_padding=(1, 0, 1)), (1, 3, 2, 3, 2)),
])
def test_conv_transpose_layer_output_shape_is_torchs_formula(rng, d, kwargs, x_shape):
    layer = getattr(nn, f"ConvTranspose{d}d")(3, 4, generator=0, **kwargs)
    assert layer.weight.shape == (3, 4) + _tup(kwargs["kernel_size"], d)
    y = layer(f32(rng, *x_shape))
    k, s = _tup(kwargs["kernel_size"], d), _tup(kwargs.get("stride", 1), d)
    p, op = _tup(kwargs.get("padding", 0), d), _tup(kwargs.get("output_padding", 0), d)
    dil = _tup(kwargs.get("dilation", 1), d)
    expected = tuple(conv_transpose_out(n, *args)
                     for n, *args in zip(x_shape[2:], k, s, p, op, dil))
    assert y.shape == (x_shape[0], 4) + expected


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("kernel_size, stride, padding, dilation, ceil_mode", [
    (2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 2, 1, 2, False), (2, 3, 1, 1, True),
])
def test_pool_layer_output_shapes_are_torchs_formula(rng, d, kernel_size, stride, padding,
                                                     dilation, ceil_mode):
    x_shape = {1: (2, 3, 9), 2: (2, 3, 7, 8), 3: (1, 2, 5, 6, 7)}[d]
    x = f32(rng, *x_shape)
    s = kernel_size if stride is None else stride
    expected = tuple(pool_out(n, kernel_size, s, padding, dilation, ceil_mode)
                     for n in x_shape[2:])
    layer = getattr(nn, f"MaxPool{d}d")(kernel_size, stride, padding, dilation,
                                        ceil_mode=ceil_mode)
    assert layer(x).shape == x_shape[:2] + expected
    expected = tuple(pool_out(n, kernel_size, s, padding, 1, ceil_mode) for n in x_shape[2:])
    layer = getattr(nn, f"AvgPool{d}d")(kernel_size, stride, padding, ceil_mode=ceil_mode)
    assert layer(x).shape == x_shape[:2] + expected


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("output_size", [1, 3, 6])
def test_adaptive_pool_layer_output_shapes(rng, d, output_size):
    x_shape = {1: (2, 3, 5), 2: (2, 3, 5, 4), 3: (1, 2, 4, 3, 5)}[d]
    x = f32(rng, *x_shape)
    for name in ("AdaptiveAvgPool", "AdaptiveMaxPool"):
        assert getattr(nn, f"{name}{d}d")(output_size)(x).shape == \
            x_shape[:2] + (output_size,) * d


def test_adaptive_pool_layer_none_and_global_pooling(rng):
    x = f32(rng, 2, 3, 5, 4)
    assert nn.AdaptiveAvgPool2d((None, 2))(x).shape == (2, 3, 5, 2)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).data[..., 0, 0],
                               x.data.mean(axis=(2, 3)), rtol=1e-6)
    y, idx = nn.AdaptiveMaxPool2d(1, return_indices=True)(x)
    np.testing.assert_array_equal(y.data[..., 0, 0], x.data.max(axis=(2, 3)))
    np.testing.assert_array_equal(idx.data[..., 0, 0],
                                  x.data.reshape(2, 3, -1).argmax(axis=2))


def test_max_pool_layer_return_indices(rng):
    x = f32(rng, 2, 3, 6, 4)
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(np.take_along_axis(x.data.reshape(2, 3, -1),
                                                     idx.data.reshape(2, 3, -1), axis=2),
                                  y.data.reshape(2, 3, -1))


# ---------------------------------------------------------------------------
# Convolution parameters and padding modes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("in_channels, out_channels, kernel_size, groups", [
    (3, 8, 3, 1), (4, 6, (2, 5), 2), (4, 8, 3, 4), (1, 1, 1, 1),
])
def test_conv2d_parameter_shapes_and_init_bound(in_channels, out_channels, kernel_size,
                                                groups):
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, generator=0)
    kh, kw = _tup(kernel_size, 2)
    assert layer.weight.shape == (out_channels, in_channels // groups, kh, kw)
    assert layer.bias.shape == (out_channels,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    bound = 1.0 / math.sqrt(in_channels // groups * kh * kw)
    w = layer.weight.data
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(layer.bias.data) <= bound)
    if w.size >= 50:  # uniform, so it fills the interval
        assert np.abs(w).max() > 0.8 * bound
        assert abs(float(w.mean())) < 0.25 * bound
    # same generator seed, same weights; another seed, other weights
    again = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, generator=0)
    np.testing.assert_array_equal(again.weight.data, w)
    if w.size > 1:
        other = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, generator=1)
        assert not np.array_equal(other.weight.data, w)


def test_conv_without_bias_and_dtype_float64(rng):
    layer = nn.Conv2d(2, 3, 3, bias=False, dtype=np.float64, generator=0)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.dtype == np.float64
    x = f64(rng, 1, 2, 4, 4)
    np.testing.assert_allclose(layer(x).data, F.conv2d(x, layer.weight).data, rtol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("d, kwargs, x_shape", [
    (1, dict(kernel_size=3, padding=2), (2, 2, 6)),
    (2, dict(kernel_size=3, padding=(1, 2), stride=(2, 1)), (2, 2, 5, 6)),
    (2, dict(kernel_size=(2, 4), padding="same"), (1, 2, 4, 5)),
    (2, dict(kernel_size=3, padding=1, dilation=2, groups=2), (1, 2, 5, 5)),
    (3, dict(kernel_size=2, padding=1), (1, 2, 3, 4, 3)),
])
def test_padding_mode_matches_pad_then_conv(rng, mode, d, kwargs, x_shape):
    layer = getattr(nn, f"Conv{d}d")(2, 4, padding_mode=mode, dtype=np.float64, generator=0,
                                     **kwargs)
    x = f64(rng, *x_shape, grad=True)
    k = _tup(kwargs["kernel_size"], d)
    dil = _tup(kwargs.get("dilation", 1), d)
    if kwargs["padding"] == "same":  # PyTorch: total dil*(k-1), the odd unit after
        pairs = [(dl * (kk - 1) // 2, dl * (kk - 1) - dl * (kk - 1) // 2)
                 for kk, dl in zip(k, dil)]
    else:
        pairs = [(p, p) for p in _tup(kwargs["padding"], d)]
    flat = [v for pair in reversed(pairs) for v in pair]
    by_hand = getattr(F, f"conv{d}d")(F.pad(x, flat, mode), layer.weight, layer.bias,
                                      stride=kwargs.get("stride", 1), dilation=dil,
                                      groups=kwargs.get("groups", 1))
    y = layer(x)
    np.testing.assert_allclose(y.data, by_hand.data, rtol=1e-12, atol=1e-12)
    if kwargs["padding"] == "same":
        assert y.shape[2:] == x_shape[2:]
    assert gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_padding_mode_matches_torch_conv2d(rng, mode):
    torch = pytest.importorskip("torch")
    layer = nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1), padding_mode=mode,
                      dtype=np.float64, generator=0)
    ref = torch.nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1), padding_mode=mode,
                          dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data))
        ref.bias.copy_(torch.tensor(layer.bias.data))
    x = rng.standard_normal((2, 3, 5, 6))
    np.testing.assert_allclose(layer(Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-10)


def test_conv_transpose_layer_matches_functional(rng):
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                               dtype=np.float64, generator=0)
    assert layer.weight.shape == (4, 3, 3, 3)
    x = f64(rng, 1, 4, 3, 2)
    expected = F.conv_transpose2d(x, layer.weight, layer.bias, 2, 1, 1, 2)
    np.testing.assert_allclose(layer(x).data, expected.data, rtol=1e-12)


# ---------------------------------------------------------------------------
# Composite blocks
# ---------------------------------------------------------------------------

def test_depthwise_separable_conv2d_parameter_count_and_structure(rng):
    block = nn.DepthwiseSeparableConv2d(4, 10, 3, padding=1, depth_multiplier=2, generator=0)
    mid = 4 * 2
    assert block.depthwise.groups == 4 and block.depthwise.weight.shape == (mid, 1, 3, 3)
    assert block.pointwise.weight.shape == (10, mid, 1, 1)
    expected = (mid * 3 * 3 + mid) + (10 * mid + 10)
    assert sum(p.size for p in block.parameters()) == expected
    full = nn.Conv2d(4, 10, 3, padding=1)
    assert expected < sum(p.size for p in full.parameters())
    no_bias = nn.DepthwiseSeparableConv2d(4, 10, 3, bias=False)
    assert sum(p.size for p in no_bias.parameters()) == 4 * 9 + 10 * 4
    x = f32(rng, 2, 4, 6, 5)
    y = block(x)
    assert y.shape == (2, 10, 6, 5)
    by_hand = F.conv2d(F.conv2d(x, block.depthwise.weight, block.depthwise.bias, padding=1,
                                groups=4), block.pointwise.weight, block.pointwise.bias)
    np.testing.assert_allclose(y.data, by_hand.data, rtol=1e-5, atol=1e-6)


def test_residual_block_identity_shortcut(rng):
    block = nn.ResidualBlock2d(3, 3, dtype=np.float64, generator=0)
    assert block.shortcut is None and block.shortcut_bn is None
    assert block.conv1.bias is None  # batch norm follows: no conv bias
    x = f64(rng, 2, 3, 5, 4)
    y = block(x)
    assert y.shape == x.shape
    # by hand, with the block's own layers (in eval mode, so that the batch
    # norms use the same running statistics in both computations)
    block.eval()
    h = F.relu(block.bn1(block.conv1(x)))
    expected = F.relu(block.bn2(block.conv2(h)) + x)
    np.testing.assert_allclose(block(x).data, expected.data, rtol=1e-12)


@pytest.mark.parametrize("in_channels, out_channels, stride", [(3, 5, 1), (3, 3, 2),
                                                               (2, 4, 2)])
def test_residual_block_projection_shortcut(rng, in_channels, out_channels, stride):
    block = nn.ResidualBlock2d(in_channels, out_channels, stride, dtype=np.float64,
                               generator=0)
    assert isinstance(block.shortcut, nn.Conv2d)
    assert block.shortcut.kernel_size == (1, 1) and block.shortcut.stride == (stride, stride)
    assert isinstance(block.shortcut_bn, nn.BatchNorm2d)
    x = f64(rng, 2, in_channels, 5, 6)
    y = block(x)
    assert y.shape == (2, out_channels, conv_out(5, 3, stride, 1), conv_out(6, 3, stride, 1))
    block.eval()
    h = F.relu(block.bn1(block.conv1(x)))
    skip = block.shortcut_bn(block.shortcut(x))
    np.testing.assert_allclose(block(x).data, F.relu(block.bn2(block.conv2(h)) + skip).data,
                               rtol=1e-12)


@pytest.mark.parametrize("in_channels, out_channels, stride, batch_norm", [
    (2, 2, 1, True), (2, 3, 2, True), (2, 3, 2, False),
])
def test_residual_block_gradient_reaches_every_parameter(rng, in_channels, out_channels,
                                                         stride, batch_norm):
    block = nn.ResidualBlock2d(in_channels, out_channels, stride, batch_norm=batch_norm,
                               dtype=np.float64, generator=0)
    params = dict(block.named_parameters())
    if not batch_norm:
        assert block.bn1 is None and block.conv1.bias is not None
        assert not any("bn" in name for name in params)
    x = f64(rng, 3, in_channels, 4, 5, grad=True)
    y = block(x)
    y.backward(rng.standard_normal(y.shape))
    assert x.grad is not None and np.abs(x.grad).sum() > 0
    for name, p in params.items():
        assert p.grad is not None, name
        assert p.grad.shape == p.shape and np.abs(p.grad).sum() > 0, name


def test_residual_block_gradcheck_small():
    rng = np.random.default_rng(3)
    block = nn.ResidualBlock2d(1, 2, 2, activation="tanh", dtype=np.float64, generator=0)
    x = f64(rng, 2, 1, 3, 3, grad=True)
    params = list(block.parameters())
    assert gradcheck(lambda x, *ps: block(x), [x] + params, atol=1e-5)


# ---------------------------------------------------------------------------
# Batch norm layers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm2d, (4, 3, 5, 2)),
                                        (nn.BatchNorm3d, (2, 3, 2, 3, 2))])
def test_batch_norm_layer_train_then_eval(rng, cls, shape):
    bn = cls(3, momentum=0.5, dtype=np.float64)
    bn.weight.data[:] = [1.0, 2.0, 0.5]
    bn.bias.data[:] = [0.0, -1.0, 3.0]
    axes = (0,) + tuple(range(2, len(shape)))
    view = (1, 3) + (1,) * (len(shape) - 2)
    x = rng.standard_normal(shape) * 2 + 3
    y = bn(Tensor(x))  # training: batch statistics
    xhat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True)
                                                            + 1e-5)
    np.testing.assert_allclose(y.data, xhat * bn.weight.data.reshape(view)
                               + bn.bias.data.reshape(view), rtol=1e-10, atol=1e-12)
    count = x.size // 3
    np.testing.assert_allclose(bn.running_mean, 0.5 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var,
                               0.5 + 0.5 * x.var(axis=axes) * count / (count - 1), rtol=1e-10)
    stats = bn.running_mean.copy(), bn.running_var.copy()
    bn.eval()
    x2 = rng.standard_normal(shape)
    y2 = bn(Tensor(x2))  # eval: the running statistics, left unchanged
    expected = ((x2 - stats[0].reshape(view)) / np.sqrt(stats[1].reshape(view) + 1e-5)
                * bn.weight.data.reshape(view) + bn.bias.data.reshape(view))
    np.testing.assert_allclose(y2.data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, stats[0])
    np.testing.assert_array_equal(bn.running_var, stats[1])
    bn.train()
    bn(Tensor(x2))
    assert not np.array_equal(bn.running_mean, stats[0])


def test_batch_norm2d_float32_and_without_running_stats(rng):
    bn = nn.BatchNorm2d(2)
    assert bn.weight.dtype == np.float32 and bn.running_var.dtype == np.float32
    x = f32(rng, 3, 2, 4, 4)
    y = bn(x)
    assert y.dtype == np.float32 and bn.running_mean.dtype == np.float32
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    # track_running_stats=False: batch statistics in eval mode too
    plain = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert list(plain.parameters()) == [] and plain.running_mean is None
    np.testing.assert_allclose(plain(x).data, y.data, rtol=1e-5, atol=1e-5)


def test_batch_norm2d_matches_torch_over_steps(rng):
    torch = pytest.importorskip("torch")
    bn = nn.BatchNorm2d(3, momentum=0.2, dtype=np.float64)
    ref = torch.nn.BatchNorm2d(3, momentum=0.2, dtype=torch.float64)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 3, 2)) * 2 + 1
        np.testing.assert_allclose(bn(Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bn.running_mean, ref.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var, ref.running_var.numpy(), rtol=1e-10)
    bn.eval()
    ref.eval()
    np.testing.assert_allclose(bn(Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------
# Flatten and Upsample
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("start_dim, end_dim, expected", [
    (1, -1, (2, 60)), (0, -1, (120,)), (2, -1, (2, 3, 20)), (1, 2, (2, 12, 5)),
    (-2, -1, (2, 3, 20)), (3, 3, (2, 3, 4, 5)),
])
def test_flatten_shapes_values_and_gradient(rng, start_dim, end_dim, expected):
    x = f64(rng, 2, 3, 4, 5, grad=True)
    y = nn.Flatten(start_dim, end_dim)(x)
    assert y.shape == expected
    np.testing.assert_array_equal(y.data, x.data.reshape(expected))
    y.backward(np.arange(y.size, dtype=np.float64).reshape(expected))
    np.testing.assert_array_equal(x.grad, np.arange(x.size).reshape(x.shape))


def test_flatten_rejects_start_after_end(rng):
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=2, end_dim=1\).*\(2, 3, 4\)"):
        nn.Flatten(2, 1)(f32(rng, 2, 3, 4))


@pytest.mark.parametrize("scale, x_shape", [
    (2, (1, 2, 3)), (2, (2, 1, 2, 3)), ((1, 3), (1, 2, 2, 2)), ((2, 1, 3), (1, 1, 2, 2, 1)),
])
def test_upsample_shapes_and_values(rng, scale, x_shape):
    x = f64(rng, *x_shape, grad=True)
    layer = nn.Upsample(scale_factor=scale)
    y = layer(x)
    d = len(x_shape) - 2
    factors = _tup(scale, d)
    assert y.shape == x_shape[:2] + tuple(n * f for n, f in zip(x_shape[2:], factors))
    expected = x.data
    for axis, f in enumerate(factors):
        expected = np.repeat(expected, f, axis=2 + axis)
    np.testing.assert_array_equal(y.data, expected)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.prod(factors))


def test_upsample_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 3, 2))
    expected = torch.nn.Upsample(scale_factor=2, mode="nearest")(torch.tensor(x))
    np.testing.assert_array_equal(nn.Upsample(2)(Tensor(x)).data, expected.numpy())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("layer, x_shape, expected", [
    (nn.Conv1d(3, 4, 3), (2, 2, 7), "(N, 3, L)"),
    (nn.Conv2d(3, 4, 3), (2, 2, 5, 5), "(N, 3, H, W)"),
    (nn.Conv2d(3, 4, 3), (3, 5, 5), "(N, 3, H, W)"),
    (nn.Conv3d(3, 4, 2), (1, 4, 3, 3, 3), "(N, 3, D, H, W)"),
    (nn.ConvTranspose2d(2, 3, 3), (1, 3, 4, 4), "(N, 2, H, W)"),
    (nn.DepthwiseSeparableConv2d(3, 4, 3), (1, 2, 5, 5), "(N, 3, H, W)"),
])
def test_wrong_channel_count_names_layer_and_shapes(rng, layer, x_shape, expected):
    target = layer.depthwise if isinstance(layer, nn.DepthwiseSeparableConv2d) else layer
    with pytest.raises(ValueError) as info:
        layer(f32(rng, *x_shape))
    message = str(info.value)
    assert repr(target) in message
    assert expected in message and str(x_shape) in message


def test_batch_norm_wrong_channel_count_names_layer_and_shapes(rng):
    with pytest.raises(ValueError, match=re.escape("BatchNorm2d(3)") + r".*\(n, 3, H, W\)"
                       r".*\(2, 2, 3, 3\)"):
        nn.BatchNorm2d(3)(f32(rng, 2, 2, 3, 3))
    with pytest.raises(ValueError, match=re.escape("BatchNorm3d(2)") + r".*\(2, 2, 3, 3\)"):
        nn.BatchNorm3d(2)(f32(rng, 2, 2, 3, 3))


@pytest.mark.parametrize("layer, x_shape, pattern", [
    (nn.Conv2d(1, 2, 3), (1, 1, 2, 5), r"\(3, 3\).*\(2, 5\)"),
    (nn.Conv1d(1, 2, 5), (2, 1, 4), r"\(5,\).*\(4,\)"),
    (nn.Conv3d(1, 1, (2, 3, 3)), (1, 1, 2, 2, 3), r"\(2, 3, 3\).*\(2, 2, 3\)"),
    (nn.Conv2d(1, 1, 3, dilation=2, padding=1), (1, 1, 2, 2), r"\(3, 3\).*dilation.*\(2, 2\)"),
    (nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"), (1, 1, 1, 1),
     r"\(1, 1, 1, 1\)"),
    (nn.MaxPool2d(3), (1, 1, 2, 2), r"\(3, 3\).*\(2, 2\)"),
    (nn.AvgPool1d(4), (1, 1, 3), r"\(4,\).*\(3,\)"),
    (nn.MaxPool3d(2), (1, 1, 1, 4, 4), r"\(2, 2, 2\).*\(1, 4, 4\)"),
])
def test_input_smaller_than_kernel_names_layer_and_shapes(rng, layer, x_shape, pattern):
    with pytest.raises(ValueError) as info:
        layer(f32(rng, *x_shape))
    message = str(info.value)
    assert message.startswith(repr(layer))
    assert re.search(pattern, message), message


@pytest.mark.parametrize("make, pattern", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"Conv2d: groups=2 must divide in_channels=3"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), r"groups=2 must divide.*out_channels=3"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=4), r"ConvTranspose2d: groups=4"),
    (lambda: nn.Conv1d(2, 2, 3, groups=0), r"Conv1d: groups must be a positive integer"),
    (lambda: nn.Conv2d(3, 3, 3, stride=2, padding="same"), r"padding='same' needs stride 1"),
    (lambda: nn.Conv3d(3, 3, 3, stride=(1, 1, 2), padding="same"), r"needs stride 1"),
    (lambda: nn.Conv2d(3, 3, 3, padding="full"), r"Conv2d: padding must be"),
    (lambda: nn.Conv2d(3, 3, 3, padding_mode="mirror"), r"Conv2d: padding_mode.*'mirror'"),
    (lambda: nn.ConvTranspose2d(3, 3, 3, padding_mode="reflect"), r"padding_mode must be"),
    (lambda: nn.ConvTranspose2d(3, 3, 3, padding="same"), r"ConvTranspose2d: padding"),
    (lambda: nn.Conv2d(3, 3, 0), r"kernel_size"),
    (lambda: nn.Conv2d(3, 3, (3, 3, 3)), r"kernel_size"),
    (lambda: nn.Conv2d(0, 3, 3), r"in_channels must be a positive integer"),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), r"Upsample.*'bilinear'"),
])
def test_bad_constructor_arguments(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


# ---------------------------------------------------------------------------
# A tiny CNN learns
# ---------------------------------------------------------------------------

def test_tiny_cnn_training_reduces_the_loss():
    rng = np.random.default_rng(0)
    n = 32
    # class 1 has a bright 3x3 blob in the top-left quadrant, class 0 in the bottom-right
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 1, 8, 8)).astype(np.float32) * 0.5
    for i in range(n):
        r, c = (rng.integers(0, 2), rng.integers(0, 2)) if y[i] else \
            (rng.integers(4, 6), rng.integers(4, 6))
        X[i, 0, r:r + 3, c:c + 3] += 2.0
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, generator=0),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 2, generator=1),
    )
    loss_fn = nn.CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = loss_fn(model(Tensor(X)), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0], losses
    model.eval()
    accuracy = (model(Tensor(X)).data.argmax(axis=1) == y).mean()
    assert accuracy >= 0.9
