"""The twins agree at the edges: every entry point of ``_specs.KERNEL_NAMES``
accepts the same inputs in ``sklears_neural._kernels`` (Cython) and
``sklears_neural._xp`` (array code) and raises the same errors.

One small valid call per kernel (``CASES``) is run by both twins

* in float32 and in float64: same output dtypes, close values;
* with one float input replaced by an integer array (or, for the optimizer
  steps, the gradient): ints take the float dtype of the other inputs
  (float64 when there is none), in both twins;
* with one input as a nested Python list: whatever one twin does (a result
  or an error) the other does too;
* with one float input float32 and another float64, and with one float16 or
  complex input: the same ``ValueError`` message from both.

The optimizer steps update their arrays in place: the updated arrays are
compared. Every kernel follows the rule; none is exempt.
"""

import copy
import re

import numpy as np
import pytest

import sklears_neural._kernels as K
import sklears_neural._xp as X
from sklears_neural._specs import KERNEL_NAMES

TOL = {
    np.dtype(np.float32): {"rtol": 2e-4, "atol": 2e-5},
    np.dtype(np.float64): {"rtol": 1e-9, "atol": 1e-11},
}


class Case:
    """One valid call of kernel ``name``.

    ``build(dtype, rng)`` returns ``(args, kwargs)`` with float arrays of
    ``dtype``. ``floats`` addresses (an int: a positional argument, a str: a
    keyword) the arguments the dtype rule reads, in the order the kernel
    reads them; ``int_arg`` the one to replace by integers; ``inplace`` those
    updated in place (compared after the call).
    """

    def __init__(self, name, build, floats, int_arg=None, inplace=(), id=None):
        self.name, self.build, self.floats = name, build, tuple(floats)
        self.int_arg = floats[0] if int_arg is None else int_arg
        self.inplace = tuple(inplace)
        self.id = id or name


def _r(rng, dtype, *shape, low=None):
    a = rng.standard_normal(shape)
    if low is not None:  # strictly positive
        a = low + np.abs(a)
    return a.astype(dtype)


# ---------------------------------------------------------------------------
# One valid call per kernel
# ---------------------------------------------------------------------------

def _activation_cases():
    def unary(dtype, rng):
        return [_r(rng, dtype, 3, 4)], {}

    def act_forward(dtype, rng):
        return [_r(rng, dtype, 3, 4), "gelu"], {}

    def act_backward(dtype, rng):
        return [_r(rng, dtype, 3, 4), _r(rng, dtype, 3, 4), None, "gelu"], {}

    def softmax_backward(dtype, rng):
        return [_r(rng, dtype, 3, 4), K.softmax(_r(rng, dtype, 3, 4))], {}

    def log_softmax_backward(dtype, rng):
        return [_r(rng, dtype, 3, 4), K.log_softmax(_r(rng, dtype, 3, 4))], {}

    def prelu_forward(dtype, rng):
        return [_r(rng, dtype, 2, 3, 4), _r(rng, dtype, 3)], {}

    def prelu_backward(dtype, rng):
        return [_r(rng, dtype, 2, 3, 4), _r(rng, dtype, 2, 3, 4), _r(rng, dtype, 3)], {}

    return [
        Case("activation_forward", act_forward, [0]),
        Case("activation_backward", act_backward, [0, 1], int_arg=1),
        Case("softmax", unary, [0]),
        Case("log_softmax", unary, [0]),
        Case("softmax_backward", softmax_backward, [0, 1]),
        Case("log_softmax_backward", log_softmax_backward, [0, 1]),
        Case("prelu_forward", prelu_forward, [0, 1]),
        Case("prelu_backward", prelu_backward, [0, 1, 2], int_arg=1),
    ]


def _attention_cases():
    def forward(dtype, rng):
        return [_r(rng, dtype, 2, 2, 3, 4), _r(rng, dtype, 2, 2, 5, 4),
                _r(rng, dtype, 2, 2, 5, 3)], {}

    def backward(dtype, rng):
        (q, k, v), _ = forward(dtype, rng)
        _, weights = K.attention_forward(q, k, v, causal=True)
        return [_r(rng, dtype, 2, 2, 3, 3), q, k, v, weights], {}

    return [
        Case("attention_forward", forward, [0, 1, 2], int_arg=2),
        Case("attention_backward", backward, [1, 2, 3, 0, 4], int_arg=0),
    ]


def _conv_cases():
    def forward(dtype, rng):
        return [_r(rng, dtype, 2, 4, 6, 6), _r(rng, dtype, 6, 2, 3, 3), _r(rng, dtype, 6),
                1, 1, 1, 2], {}

    def backward(dtype, rng):
        return [_r(rng, dtype, 2, 6, 6, 6), _r(rng, dtype, 2, 4, 6, 6),
                _r(rng, dtype, 6, 2, 3, 3), 1, 1, 1, 2], {}

    geometry = (2, 1, 1, 1, 1)  # stride, padding, output_padding, dilation, groups

    def transpose_forward(dtype, rng):
        return [_r(rng, dtype, 2, 4, 5, 5), _r(rng, dtype, 4, 3, 3, 3), _r(rng, dtype, 3),
                *geometry], {}

    def transpose_backward(dtype, rng):
        (x, w, _, *_), _ = transpose_forward(dtype, rng)
        y = K.conv_transpose_forward(x, w, None, *geometry)
        return [_r(rng, dtype, *y.shape), x, w, *geometry], {}

    def im2col(dtype, rng):
        return [_r(rng, dtype, 2, 3, 5, 5), 3, 1, 1, 1], {}

    def col2im(dtype, rng):
        cols = K.im2col(_r(rng, dtype, 2, 3, 5, 5), 3, 1, 1, 1)
        return [_r(rng, dtype, *cols.shape), (2, 3, 5, 5), 3, 1, 1, 1], {}

    return [
        Case("conv_forward", forward, [0, 1, 2]),
        Case("conv_backward", backward, [0, 1, 2]),
        Case("conv_transpose_forward", transpose_forward, [0, 1, 2], int_arg=1),
        Case("conv_transpose_backward", transpose_backward, [0, 1, 2]),
        Case("im2col", im2col, [0]),
        Case("col2im", col2im, [0]),
    ]


def _dense_cases():
    def forward(dtype, rng):
        return [_r(rng, dtype, 4, 5), _r(rng, dtype, 3, 5), _r(rng, dtype, 3), "tanh"], {}

    def backward(dtype, rng):
        x, W = _r(rng, dtype, 4, 5), _r(rng, dtype, 3, 5)
        _, pre = K.dense_forward(x, W, None, "gelu")
        return [_r(rng, dtype, 4, 3), x, W, None, pre, "gelu"], {}

    return [
        Case("dense_forward", forward, [0, 1, 2]),
        Case("dense_backward", backward, [0, 4, 1, 2]),
    ]


def _graph_cases():
    # 4 target rows: 2 entries, none, 3 (a duplicate and a self-loop), 1
    indptr = np.array([0, 2, 2, 5, 6])
    indices = np.array([1, 3, 2, 2, 0, 3])

    def forward(dtype, rng):
        return [indptr, indices, _r(rng, dtype, 6), _r(rng, dtype, 4, 3), "mean"], {}

    def backward(dtype, rng):
        return [indptr, indices, _r(rng, dtype, 6), _r(rng, dtype, 4, 3),
                _r(rng, dtype, 4, 3), "sum", None], {}

    ptr = np.array([0, 2, 2, 4])

    def seg_forward(dtype, rng):
        return [ptr, _r(rng, dtype, 4, 3), "mean"], {}

    def seg_backward(dtype, rng):
        return [ptr, _r(rng, dtype, 4, 3), _r(rng, dtype, 3, 3), "sum", None], {}

    def heads_forward(dtype, rng):
        return [indptr, indices, _r(rng, dtype, 6, 3), _r(rng, dtype, 4, 6), "max"], {}

    def gather(dtype, rng):
        return [_r(rng, dtype, 4, 3), np.array([3, 0, 3])], {}

    def scatter(dtype, rng):
        return [_r(rng, dtype, 3, 2), np.array([3, 0, 3]), 5], {}

    def softmax_forward(dtype, rng):
        return [indptr, _r(rng, dtype, 6, 2)], {}

    def softmax_backward(dtype, rng):
        return [indptr, K.segment_softmax_forward(indptr, _r(rng, dtype, 6)),
                _r(rng, dtype, 6)], {}

    return [
        Case("spmm_forward", forward, [2, 3]),
        Case("spmm_forward", heads_forward, [2, 3], id="spmm_forward-heads"),
        Case("spmm_backward", backward, [2, 3, 4]),
        Case("segment_reduce_forward", seg_forward, [1]),
        Case("segment_reduce_backward", seg_backward, [1, 2]),
        Case("gather_rows", gather, [0]),
        Case("scatter_add_rows", scatter, [0]),
        Case("segment_softmax_forward", softmax_forward, [1]),
        Case("segment_softmax_backward", softmax_backward, [1, 2]),
    ]


def _loss_cases():
    def elementwise(dtype, rng):
        return [_r(rng, dtype, 4, 3), _r(rng, dtype, 4, 3), _r(rng, dtype, 4, low=0.5)], {}

    def counts(dtype, rng):  # poisson: non-negative targets
        return [_r(rng, dtype, 4, 3), rng.poisson(2.0, (4, 3)).astype(dtype),
                _r(rng, dtype, 4, low=0.5)], {"full": True}

    def bce(dtype, rng):
        return [_r(rng, dtype, 4, 3), rng.integers(0, 2, (4, 3)).astype(dtype),
                _r(rng, dtype, 4, low=0.5), _r(rng, dtype, 3, low=0.5)], {}

    def sce_indices(dtype, rng):
        return [_r(rng, dtype, 4, 3), np.array([0, 2, 1, 2]), _r(rng, dtype, 4, low=0.5)], \
            {"label_smoothing": 0.1}

    def sce_probs(dtype, rng):
        return [_r(rng, dtype, 4, 3), K.softmax(_r(rng, dtype, 4, 3)),
                _r(rng, dtype, 4, low=0.5)], {}

    cases = [Case(name, elementwise, [0, 1, 2], int_arg=1)
             for name in ("huber_loss", "l1_loss", "mse_loss")]
    return cases + [
        Case("poisson_nll_loss", counts, [0, 1, 2], int_arg=1),
        Case("bce_with_logits", bce, [0, 1, 2, 3], int_arg=1),
        Case("softmax_cross_entropy", sce_indices, [0, 2]),
        Case("softmax_cross_entropy", sce_probs, [0, 1, 2], id="softmax_cross_entropy-probs"),
    ]


def _norm_cases():
    def forward(dtype, rng):
        return [_r(rng, dtype, 4, 3, 2), _r(rng, dtype, 3), _r(rng, dtype, 3), 1e-5], {}

    def backward(dtype, rng):
        (x, gamma, beta, eps), _ = forward(dtype, rng)
        _, mean, invstd = K.batch_norm_forward(x, gamma, beta, eps)
        return [_r(rng, dtype, *x.shape), x, gamma, mean, invstd], {}

    def inference(dtype, rng):
        (x, gamma, beta, eps), _ = forward(dtype, rng)
        return [x, gamma, beta, _r(rng, dtype, 3), _r(rng, dtype, 3, low=0.5), eps], {}

    return [
        Case("batch_norm_forward", forward, [0, 1, 2]),
        Case("batch_norm_backward", backward, [0, 1, 2]),
        Case("batch_norm_inference", inference, [0, 1, 2]),
    ]


def _optim_cases():
    shape = (3, 4)

    def step(name, n_states, *scalars, positive=None, **kwargs):
        """param, grad, the states (``positive``: {index: lower bound}), then the
        scalars."""
        positive = positive or {}

        def build(dtype, rng):
            states = [_r(rng, dtype, *shape, low=positive.get(i)) for i in range(n_states)]
            return [_r(rng, dtype, *shape), _r(rng, dtype, *shape), *states, *scalars], kwargs
        arrays = list(range(2 + n_states))
        return Case(name, build, arrays, int_arg=1, inplace=[0] + arrays[2:])

    nadam_mu = (0.9 * (1 - 0.5 * 0.96 ** 0.008), 0.9 * (1 - 0.5 * 0.96 ** 0.012), 0.8)
    return [
        step("sgd_step", 1, 0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        step("adam_step", 3, 2, positive={1: 0.1, 2: 0.1}, amsgrad=True, weight_decay=0.01),
        step("rmsprop_step", 3, positive={0: 10.0}, centered=True, momentum=0.5),
        step("adagrad_step", 1, 2, positive={0: 0.1}, lr_decay=0.01),
        step("nadam_step", 2, 2, *nadam_mu, positive={1: 0.1}),
        step("adamax_step", 2, 2, positive={1: 0.1}),
        step("radam_step", 2, 8, positive={1: 0.1}, beta2=0.9),
        step("adadelta_step", 2, positive={0: 0.1, 1: 0.1}),
        step("lamb_step", 2, 2, positive={1: 0.1}, weight_decay=0.01),
        step("lars_step", 1, 0.1, weight_decay=0.01),
    ]


def _pool_cases():
    x_shape = (2, 3, 6, 7)

    def x_only(*rest):
        return lambda dtype, rng: ([_r(rng, dtype, *x_shape), *rest], {})

    def grad_of(forward, forward_rest, *rest):
        """(grad_y of the forward's output shape, *rest)."""
        def build(dtype, rng):
            y = forward(np.zeros(x_shape, dtype), *forward_rest)
            return [_r(rng, dtype, *y.shape), *rest], {}
        return build

    def max_backward(dtype, rng):
        y, indices = K.max_pool_forward(_r(rng, dtype, *x_shape), *max_args)
        return [_r(rng, dtype, *y.shape), indices, x_shape], {}

    max_args = ((2, 3), (2, 2), (1, 1), (1, 1), True)
    avg_args = ((3, 3), (2, 2), (1, 1), True, False)
    pad = ((1, 2, 2, 1), "reflect")
    return [
        Case("max_pool_forward", x_only(*max_args), [0]),
        Case("max_pool_backward", max_backward, [0]),
        Case("avg_pool_forward", x_only(*avg_args), [0]),
        Case("avg_pool_backward", grad_of(K.avg_pool_forward, avg_args, x_shape, *avg_args),
             [0]),
        Case("adaptive_avg_pool_forward", x_only((4, 3)), [0]),
        Case("adaptive_avg_pool_backward",
             grad_of(K.adaptive_avg_pool_forward, [(4, 3)], x_shape), [0]),
        Case("adaptive_max_pool_forward", x_only((4, 3)), [0]),
        Case("pad_forward", x_only(*pad), [0]),
        Case("pad_backward", grad_of(K.pad_forward, pad, x_shape, *pad), [0]),
        Case("upsample_nearest_forward", x_only((2, 3)), [0]),
        Case("upsample_nearest_backward", grad_of(K.upsample_nearest_forward, [(2, 3)], (2, 3)),
             [0]),
    ]


def _rnn_cases():
    T, N, F, H = 4, 2, 3, 5
    gates = {"lstm": 4, "gru": 3, "rnn": 1}

    def weights(mode, dtype, rng):
        G = gates[mode]
        return [0.5 * _r(rng, dtype, G * H, F), 0.5 * _r(rng, dtype, G * H, H),
                _r(rng, dtype, G * H), _r(rng, dtype, G * H)]

    def forward(mode):
        def build(dtype, rng):
            states = [_r(rng, dtype, N, H)] * (2 if mode == "lstm" else 1)
            return [_r(rng, dtype, T, N, F), *states, *weights(mode, dtype, rng)], {}
        return build

    def backward(mode):
        def build(dtype, rng):
            args, _ = forward(mode)(dtype, rng)
            out = getattr(K, f"{mode}_forward")(*args)
            n_states = 2 if mode == "lstm" else 1
            x, states, w = args[0], args[1:1 + n_states], args[1 + n_states:]
            grads = [_r(rng, dtype, T, N, H)] + [_r(rng, dtype, N, H)] * n_states
            if mode == "gru":  # (..., w_ih, w_hh, b_hh, workspace)
                return [*grads, x, *states, w[0], w[1], w[3], out[-1]], {}
            return [*grads, x, *states, w[0], w[1], out[-1]], {}
        return build

    # the forward's arguments in the order rnn_arguments reads them
    return [
        Case("lstm_forward", forward("lstm"), range(7)),
        Case("gru_forward", forward("gru"), range(6)),
        Case("rnn_forward", forward("rnn"), range(6)),
        Case("lstm_backward", backward("lstm"), [3, 4, 5, 6, 7, 0, 1, 2]),
        Case("gru_backward", backward("gru"), [2, 3, 4, 5, 6, 0, 1]),
        Case("rnn_backward", backward("rnn"), [2, 3, 4, 5, 0, 1]),
    ]


CASES = (_activation_cases() + _attention_cases() + _conv_cases() + _dense_cases()
         + _graph_cases() + _loss_cases() + _norm_cases() + _optim_cases() + _pool_cases() + _rnn_cases())
IDS = [c.id for c in CASES]
MIXABLE = [c for c in CASES if len(c.floats) > 1]


def test_every_kernel_has_a_case():
    assert sorted({c.name for c in CASES}) == sorted(KERNEL_NAMES)


# ---------------------------------------------------------------------------
# Running both twins
# ---------------------------------------------------------------------------

def _get(args, kwargs, key):
    return args[key] if isinstance(key, int) else kwargs[key]


def _set(args, kwargs, key, value):
    if isinstance(key, int):
        args[key] = value
    else:
        kwargs[key] = value


def _outcome(twin, case, args, kwargs):
    """``("ok", outputs, updated arrays)`` or ``("error", type, message)``."""
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)  # in-place kernels
    try:
        out = getattr(twin, case.name)(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 (the twins must agree on any error)
        return "error", type(exc), str(exc)
    return "ok", out, [_get(args, kwargs, key) for key in case.inplace]


def _flat(out):
    """The arrays and Nones of a (nested) kernel result, in order."""
    if isinstance(out, (tuple, list)):
        return [a for item in out for a in _flat(item)]
    return [out]


def _assert_same_results(kernels, xp, what):
    k_items, x_items = _flat(kernels), _flat(xp)
    assert len(k_items) == len(x_items), what
    for i, (a, b) in enumerate(zip(k_items, x_items)):
        if a is None or b is None:
            assert a is None and b is None, (what, i)
            continue
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype, (what, i, a.dtype, b.dtype)
        assert a.shape == b.shape, (what, i, a.shape, b.shape)
        if a.dtype.kind == "f":  # no NaN = NaN passing for agreement
            assert np.isfinite(a).all(), (what, i)
        tol = TOL.get(a.dtype, {"rtol": 0, "atol": 0})
        np.testing.assert_allclose(a, b, err_msg=f"{what}, output {i}", **tol)


def _agree(case, args, kwargs):
    """Run both twins; assert they agree; return the Cython twin's outcome."""
    k = _outcome(K, case, args, kwargs)
    x = _outcome(X, case, args, kwargs)
    assert k[0] == x[0], (case.id, k, x)
    if k[0] == "error":
        assert (k[1], k[2]) == (x[1], x[2]), case.id
    else:
        _assert_same_results(k[1], x[1], f"{case.id}: outputs")
        _assert_same_results(k[2], x[2], f"{case.id}: arrays updated in place")
    return k


def _float_outputs(outcome):
    return [a for a in _flat(outcome[1]) + _flat(outcome[2])
            if a is not None and np.asarray(a).dtype.kind == "f"]


def _build(case, dtype, seed=0):
    return case.build(np.dtype(dtype), np.random.default_rng(seed))


# ---------------------------------------------------------------------------
# (a) same dtypes and values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_same_results(case, dtype):
    outcome = _agree(case, *_build(case, dtype))
    assert outcome[0] == "ok", outcome
    assert {a.dtype for a in _float_outputs(outcome)} == {np.dtype(dtype)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_integer_input_takes_the_float_dtype_of_the_others(case, dtype):
    args, kwargs = _build(case, dtype)
    a = _get(args, kwargs, case.int_arg)
    _set(args, kwargs, case.int_arg, np.round(3 * a).astype(np.int64))
    outcome = _agree(case, args, kwargs)
    assert outcome[0] == "ok", outcome
    # the other float inputs have ``dtype``; with none, ints mean float64
    expected = np.dtype(dtype) if len(case.floats) > 1 else np.dtype(np.float64)
    assert {a.dtype for a in _float_outputs(outcome)} == {expected}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_list_input(case):
    """A nested list among float32 arrays: the twins do the same (most take
    the float32 of the others, as for ints; the recurrent kernels convert
    their arguments to arrays before the rule, so a list of floats is
    float64 there and is refused)."""
    args, kwargs = _build(case, np.float32)
    a = _get(args, kwargs, case.int_arg)
    _set(args, kwargs, case.int_arg, a.astype(np.float64).tolist())
    _agree(case, args, kwargs)


# ---------------------------------------------------------------------------
# (b) the same errors
# ---------------------------------------------------------------------------

def _assert_same_value_error(case, args, kwargs, pattern):
    outcome = _agree(case, args, kwargs)
    assert outcome[0] == "error" and outcome[1] is ValueError, (case.id, outcome)
    assert re.search(pattern, outcome[2]), (case.id, outcome[2])


@pytest.mark.parametrize("case", MIXABLE, ids=[c.id for c in MIXABLE])
def test_mixed_float32_float64_raises_the_same_error(case):
    args, kwargs = _build(case, np.float64)
    key = case.floats[-1]
    _set(args, kwargs, key, _get(args, kwargs, key).astype(np.float32))
    _assert_same_value_error(case, args, kwargs, "float32.*float64|float64.*float32")


@pytest.mark.parametrize("bad", [np.float16, np.complex128], ids=["float16", "complex"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float16_or_complex_input_raises_the_same_error(case, bad):
    args, kwargs = _build(case, np.float64)
    key = case.floats[0]
    _set(args, kwargs, key, _get(args, kwargs, key).astype(bad))
    _assert_same_value_error(case, args, kwargs,
                             rf"{np.dtype(bad)}; the kernels take float32 or float64")


# ---------------------------------------------------------------------------
# The rule reads a device array's dtype without bringing it to the host
# ---------------------------------------------------------------------------

class _DeviceArray:
    """Stands in for a CuPy array: a dtype and a shape, and no implicit
    conversion to numpy (CuPy raises TypeError there too)."""

    def __init__(self, dtype, shape=(3,)):
        self.dtype, self.shape, self.ndim = np.dtype(dtype), shape, len(shape)

    def __array__(self, *args, **kwargs):
        raise TypeError("implicit conversion to a numpy array is not allowed")


_DeviceArray.__module__ = "cupy._core.core"  # what is_cupy_array looks at


def test_float_dtype_reads_device_arrays_without_converting_them():
    from sklears_neural._specs._arrays import check_writeable, float_dtype
    from sklears_neural._specs._optim import check_step, step_states

    f32, f64 = _DeviceArray(np.float32), _DeviceArray(np.float64)
    assert float_dtype("k", ("a", f32), ("b", _DeviceArray(np.int64)), ("c", [1, 2, 3])) \
        == np.float32
    with pytest.raises(ValueError, match="a has dtype float32 but b has dtype float64"):
        float_dtype("k", ("a", f32), ("b", f64))
    with pytest.raises(ValueError, match="float16; the kernels take"):
        float_dtype("k", ("a", _DeviceArray(np.float16)))
    check_writeable("k", "param", f64)  # device arrays are always writeable
    states = step_states("sgd_step", ("momentum_buffer", _DeviceArray(np.float64), "m"))
    assert check_step("sgd_step", f64, _DeviceArray(np.int32), states) == np.float64
