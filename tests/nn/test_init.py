"""Initialisers: distributions against theory, in-place fills, seeds, dtypes, errors."""

import math

import numpy as np
import pytest
from scipy import stats

from sklears_neural.autograd import Tensor
from sklears_neural.nn import Parameter, init
from sklears_neural.nn.init import _calculate_fan_in_and_fan_out


def empty(shape, dtype=np.float64):
    return Parameter(np.full(shape, np.nan, dtype=dtype))


# ---------------------------------------------------------------------------
# gains and fans
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("linear", 1.0), ("identity", 1.0), ("conv1d", 1.0), ("conv2d", 1.0), ("conv3d", 1.0),
    ("conv_transpose1d", 1.0), ("conv_transpose2d", 1.0), ("conv_transpose3d", 1.0),
    ("sigmoid", 1.0), ("tanh", 5.0 / 3), ("relu", math.sqrt(2.0)), ("selu", 0.75),
    ("leaky_relu", math.sqrt(2.0 / (1 + 0.01**2))),
])
def test_calculate_gain(name, expected):
    assert init.calculate_gain(name) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_leaky_relu_param():
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2.0))
    assert init.calculate_gain("leaky_relu", 1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "0.2")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", True)


def test_calculate_gain_unknown():
    with pytest.raises(ValueError, match=r"nonlinearity must be one of .*relu.*'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape, fans", [
    ((3, 4), (4, 3)),
    ((8, 3, 5, 5), (75, 200)),
    ((6, 2, 7), (14, 42)),
    ((1, 1), (1, 1)),
])
def test_fan_in_and_fan_out(shape, fans):
    assert _calculate_fan_in_and_fan_out(empty(shape)) == fans


def test_fans_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 4), (8, 3, 5, 5), (6, 2, 7), (2, 3, 1, 4, 5)]:
        assert _calculate_fan_in_and_fan_out(empty(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for name in ["linear", "sigmoid", "tanh", "relu", "selu", "conv2d"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.3))


@pytest.mark.parametrize("func", [
    init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
    init.lecun_uniform_, init.lecun_normal_, init.orthogonal_,
])
def test_fan_based_inits_need_2d(func):
    with pytest.raises(ValueError, match="2 dimensions"):
        func(empty((5,)), generator=0)


# ---------------------------------------------------------------------------
# distributions
# ---------------------------------------------------------------------------
# Sample statistics are checked to 5 standard errors: a wrong fan or gain (a
# factor of 2 in variance or more) is far outside, a correct one fails with
# probability ~1e-6 (and the seeds are fixed anyway).
def _check_uniform(values, bound):
    """Uniform on (-bound, bound): range, reach and variance bound^2 / 3."""
    n = values.size
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > (1 - 10 / n) * bound
    assert values.var() == pytest.approx(bound**2 / 3, rel=5 * math.sqrt(0.8 / n))
    assert abs(values.mean()) < 5 * bound / math.sqrt(3 * n)


def _check_normal(values, std):
    n = values.size
    assert values.std() == pytest.approx(std, rel=5 / math.sqrt(2 * n))
    assert abs(values.mean()) < 5 * std / math.sqrt(n)
    assert stats.kurtosis(values.ravel()) == pytest.approx(0.0, abs=5 * math.sqrt(24 / n))


def test_kaiming_uniform_default_is_he():
    w = init.kaiming_uniform_(empty((600, 500)), generator=0)
    _check_uniform(w.data, math.sqrt(6.0 / 500))  # gain sqrt(2) for a=0


def test_kaiming_uniform_leaky_relu_fan_out_4d():
    w = init.kaiming_uniform_(empty((256, 64, 3, 3)), a=0.2, mode="fan_out", generator=1)
    gain = math.sqrt(2.0 / (1 + 0.2**2))
    _check_uniform(w.data, gain * math.sqrt(3.0 / (256 * 9)))


def test_kaiming_normal():
    w = init.kaiming_normal_(empty((400, 800)), mode="fan_in", nonlinearity="relu",
                             generator=2)
    _check_normal(w.data, math.sqrt(2.0 / 800))
    w = init.kaiming_normal_(empty((400, 800)), mode="fan_out", nonlinearity="tanh",
                             generator=3)
    _check_normal(w.data, (5.0 / 3) / math.sqrt(400))


def test_xavier():
    w = init.xavier_uniform_(empty((300, 700)), gain=2.0, generator=4)
    _check_uniform(w.data, 2.0 * math.sqrt(6.0 / 1000))
    w = init.xavier_normal_(empty((100, 50, 2, 2)), gain=0.5, generator=5)
    _check_normal(w.data, 0.5 * math.sqrt(2.0 / (200 + 400)))


def test_aliases():
    assert init.glorot_uniform_ is init.xavier_uniform_
    assert init.glorot_normal_ is init.xavier_normal_
    assert init.he_uniform_ is init.kaiming_uniform_
    assert init.he_normal_ is init.kaiming_normal_


def test_lecun():
    w = init.lecun_uniform_(empty((500, 400)), generator=6)
    _check_uniform(w.data, math.sqrt(3.0 / 400))
    w = init.lecun_normal_(empty((500, 400)), generator=7)
    _check_normal(w.data, math.sqrt(1.0 / 400))


def test_uniform_and_normal():
    w = init.uniform_(empty((1000, 300)), -0.5, 1.5, generator=8)
    assert w.data.min() >= -0.5 and w.data.max() <= 1.5
    assert w.data.mean() == pytest.approx(0.5, abs=0.005)
    assert w.data.var() == pytest.approx(4.0 / 12, rel=0.01)
    w = init.uniform_(empty((100, 3)), generator=8)
    assert w.data.min() >= 0 and w.data.max() <= 1
    w = init.normal_(empty((1000, 300)), mean=3.0, std=0.2, generator=9)
    assert w.data.mean() == pytest.approx(3.0, abs=0.002)
    assert w.data.std() == pytest.approx(0.2, rel=0.01)


@pytest.mark.parametrize("shape", [(200, 200), (80, 240), (240, 80), (16, 4, 3, 3), (48, 4, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(empty(shape), gain=gain, generator=10)
    m = w.data.reshape(shape[0], -1) / gain
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)


def test_orthogonal_is_haar_distributed():
    """With the sign correction the diagonal of Q has mean 0; without it, it does not."""
    diag = [np.diag(init.orthogonal_(empty((4, 4)), generator=s).data) for s in range(2000)]
    assert abs(np.mean(diag)) < 0.03  # raw Householder QR gives about -0.21 here


@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),
    (1.0, 2.0, 0.0, 3.0),
    (0.0, 0.02, -0.04, 0.04),
    (0.0, 1.0, 3.0, 5.0),     # far right tail
    (0.0, 1.0, -9.0, -7.0),   # far left tail
    (0.5, 1.0, -np.inf, 0.0),
])
def test_trunc_normal(mean, std, a, b):
    w = init.trunc_normal_(empty((500, 400)), mean=mean, std=std, a=a, b=b, generator=11)
    alpha, beta = (a - mean) / std, (b - mean) / std
    t_mean, t_var = stats.truncnorm.stats(alpha, beta, loc=mean, scale=std, moments="mv")
    values = w.data.ravel()
    assert values.min() >= a and values.max() <= b
    assert values.mean() == pytest.approx(t_mean, abs=0.01 * math.sqrt(t_var))
    assert values.var() == pytest.approx(t_var, rel=0.015)
    # the whole distribution, not just two moments
    ks = stats.kstest(values[:20000], stats.truncnorm(alpha, beta, loc=mean, scale=std).cdf)
    assert ks.pvalue > 1e-3


def test_trunc_normal_float32_bounds():
    w = init.trunc_normal_(empty((300, 300), np.float32), std=0.5, a=-0.25, b=0.25,
                           generator=12)
    assert w.data.dtype == np.float32
    assert w.data.min() >= np.float32(-0.25) and w.data.max() <= np.float32(0.25)


def test_trunc_normal_matches_torch_moments():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.init.trunc_normal_(torch.empty(400, 500, dtype=torch.float64),
                                         mean=1.0, std=2.0, a=0.0, b=3.0).numpy()
    ours = init.trunc_normal_(empty((400, 500)), mean=1.0, std=2.0, a=0.0, b=3.0,
                              generator=0).data
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.01)
    assert ours.var() == pytest.approx(theirs.var(), rel=0.02)


# ---------------------------------------------------------------------------
# in place, dtype, device-independent seeding
# ---------------------------------------------------------------------------
ALL_RANDOM = [
    lambda t, g: init.uniform_(t, -1, 1, generator=g),
    lambda t, g: init.normal_(t, 0, 1, generator=g),
    lambda t, g: init.xavier_uniform_(t, generator=g),
    lambda t, g: init.xavier_normal_(t, generator=g),
    lambda t, g: init.kaiming_uniform_(t, generator=g),
    lambda t, g: init.kaiming_normal_(t, generator=g),
    lambda t, g: init.lecun_uniform_(t, generator=g),
    lambda t, g: init.lecun_normal_(t, generator=g),
    lambda t, g: init.orthogonal_(t, generator=g),
    lambda t, g: init.trunc_normal_(t, std=0.1, a=-0.2, b=0.2, generator=g),
]
NAMES = ["uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
         "kaiming_normal", "lecun_uniform", "lecun_normal", "orthogonal", "trunc_normal"]


@pytest.mark.parametrize("fill", ALL_RANDOM, ids=NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_dtype_and_seed(fill, dtype):
    t = empty((7, 5, 3), dtype)
    data = t.data
    out = fill(t, 42)
    assert out is t and t.data is data and t.data.dtype == dtype
    assert np.all(np.isfinite(t.data)) and np.unique(t.data).size > 50
    # same seed, same values; a Generator with that seed is the same as the seed
    np.testing.assert_array_equal(fill(empty((7, 5, 3), dtype), 42).data, t.data)
    np.testing.assert_array_equal(
        fill(empty((7, 5, 3), dtype), np.random.default_rng(42)).data, t.data)
    # float32 is the float64 draw, cast
    if dtype == np.float32:
        np.testing.assert_array_equal(
            fill(empty((7, 5, 3)), 42).data.astype(np.float32), t.data)
    # different seed or no seed: different values
    assert not np.array_equal(fill(empty((7, 5, 3), dtype), 43).data, t.data)
    assert not np.array_equal(fill(empty((7, 5, 3), dtype), None).data, t.data)


def test_generator_kinds():
    a = init.normal_(empty((20,)), generator=np.random.RandomState(3)).data
    b = init.normal_(empty((20,)), generator=np.random.RandomState(3)).data
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(0)
    first = init.normal_(empty((20,)), generator=rng).data.copy()
    second = init.normal_(empty((20,)), generator=rng).data
    assert not np.array_equal(first, second)  # a shared Generator advances
    np.testing.assert_array_equal(init.normal_(empty((5,)), generator=np.int64(7)).data,
                                  init.normal_(empty((5,)), generator=7).data)
    for bad in ["0", 1.5, object()]:
        with pytest.raises(ValueError, match="generator"):
            init.normal_(empty((5,)), generator=bad)


def test_works_on_plain_tensor_and_non_contiguous_view():
    t = Tensor(np.zeros((6, 4)))
    init.ones_(t)
    np.testing.assert_array_equal(t.data, 1.0)
    base = np.zeros((8, 6))
    view = Tensor(base[::2, ::2])
    init.xavier_uniform_(view, generator=0)
    assert np.all(base[::2, ::2] != 0) and np.all(base[1::2] == 0)


def test_constant_zeros_ones():
    for dtype in (np.float32, np.float64):
        t = empty((3, 4), dtype)
        assert init.constant_(t, 0.25) is t
        np.testing.assert_array_equal(t.data, 0.25)
        assert t.data.dtype == dtype
        np.testing.assert_array_equal(init.zeros_(t).data, 0.0)
        np.testing.assert_array_equal(init.ones_(t, generator=1).data, 1.0)
        assert t.data.dtype == dtype


def test_empty_tensor_is_left_alone():
    t = empty((0, 5))
    for func in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_,
                 init.lecun_uniform_):
        assert func(t, generator=0) is t


# ---------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------
def test_bad_arguments():
    t = empty((4, 3))
    with pytest.raises(ValueError, match=r"mode must be 'fan_in' or 'fan_out'.*'fan_avg'"):
        init.kaiming_uniform_(t, mode="fan_avg")
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        init.kaiming_normal_(t, nonlinearity="softsign")
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(t, 1.0, 0.0)
    with pytest.raises(ValueError, match=r"normal_: std must be a real number >= 0; got -1\.0"):
        init.normal_(t, std=-1.0)
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(t, a=1.0, b=1.0)
    with pytest.raises(ValueError, match=r"trunc_normal_: std must be a real number > 0; got 0\.0"):
        init.trunc_normal_(t, std=0.0)
    with pytest.raises(ValueError, match="gain"):
        init.xavier_uniform_(t, gain="relu")
    with pytest.raises(ValueError, match="floating-point"):
        init.normal_(Tensor(np.zeros((3, 3), dtype=np.int64)))
    with pytest.raises(TypeError, match="Tensor"):
        init.normal_(np.zeros((3, 3)))
