"""Optimizer updates against the numpy reference (``_xp``), several steps.

Both implementations start from identical copies of the parameter and state
and take the same gradients; after every step the parameter and every state
array must agree.
"""

import numpy as np
import pytest

from sklears_neural import _kernels as K
from sklears_neural import _xp as X
from sklears_neural._kernels import _optim as cy_optim

pytestmark = pytest.mark.usefixtures("isa")  # both builds of the loops


N_STEPS = 5

# (kernel, hyperparameters, state names): every variant torch.optim has.
VARIANTS = [
    ("sgd_step", {"lr": 0.1}, []),
    ("sgd_step", {"lr": 0.1, "weight_decay": 0.01}, []),
    ("sgd_step", {"lr": 0.1, "maximize": True}, []),
    ("sgd_step", {"lr": 0.1, "momentum": 0.9}, ["momentum_buffer"]),
    ("sgd_step", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}, ["momentum_buffer"]),
    ("sgd_step", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
     ["momentum_buffer"]),
    ("sgd_step", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True},
     ["momentum_buffer"]),
    ("adam_step", {}, ["exp_avg", "exp_avg_sq"]),
    ("adam_step", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
     ["exp_avg", "exp_avg_sq"]),
    ("adam_step", {"lr": 0.01, "weight_decay": 0.1}, ["exp_avg", "exp_avg_sq"]),
    ("adam_step", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
     ["exp_avg", "exp_avg_sq"]),
    ("adam_step", {"lr": 0.01, "amsgrad": True}, ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ("adam_step", {"lr": 0.01, "amsgrad": True, "maximize": True, "weight_decay": 0.05,
                   "decoupled_weight_decay": True},
     ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ("rmsprop_step", {}, ["square_avg"]),
    ("rmsprop_step", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1, "maximize": True},
     ["square_avg"]),
    ("rmsprop_step", {"lr": 0.01, "centered": True}, ["square_avg", "grad_avg"]),
    ("rmsprop_step", {"lr": 0.01, "momentum": 0.9}, ["square_avg", "momentum_buffer"]),
    ("rmsprop_step", {"lr": 0.01, "momentum": 0.5, "centered": True, "eps": 1e-4},
     ["square_avg", "grad_avg", "momentum_buffer"]),
    ("adagrad_step", {}, ["state_sum"]),
    ("adagrad_step", {"lr": 0.1, "lr_decay": 0.01}, ["state_sum"]),
    ("adagrad_step", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "maximize": True,
                      "eps": 1e-6},
     ["state_sum"]),
]
VARIANT_IDS = [f"{k}-{'-'.join(f'{a}={b}' for a, b in h.items())}" for k, h, _ in VARIANTS]
ALL_STATES = {
    "sgd_step": ["momentum_buffer"],
    "adam_step": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
    "rmsprop_step": ["square_avg", "grad_avg", "momentum_buffer"],
    "adagrad_step": ["state_sum"],
}
SHAPES = [(1,), (7,), (3, 5), (1, 1), (2, 3, 4)]


def _call(impl, kernel, param, grad, states, step, hyper, **extra):
    fn = getattr(impl, kernel)
    state_args = [states.get(name) for name in ALL_STATES[kernel]]
    if kernel == "sgd_step":
        hyper = dict(hyper)
        lr = hyper.pop("lr")
        return fn(param, grad, state_args[0], lr, first_step=step == 1, **hyper, **extra)
    if kernel in ("adam_step", "adagrad_step"):
        return fn(param, grad, *state_args, step, **hyper, **extra)
    return fn(param, grad, *state_args, **hyper, **extra)


def _run_both(kernel, hyper, state_names, shape, dtype, rng, layout, layout_of,
              assert_close, **extra):
    p0 = rng.standard_normal(shape).astype(dtype)
    p_ref = p0.copy()
    p_cy = layout_of(p0.copy(), layout)
    s_ref = {name: np.zeros(shape, dtype) for name in state_names}
    s_cy = {name: layout_of(np.zeros(shape, dtype), layout) for name in state_names}
    for step in range(1, N_STEPS + 1):
        grad = rng.standard_normal(shape).astype(dtype)
        grad_cy = layout_of(grad, layout)
        grad_before = grad_cy.copy()
        assert _call(X, kernel, p_ref, grad, s_ref, step, hyper) is None
        assert _call(K, kernel, p_cy, grad_cy, s_cy, step, hyper, **extra) is None
        np.testing.assert_array_equal(grad_cy, grad_before)  # grad never modified
        assert_close(np.asarray(p_cy), p_ref, err_msg=f"param, step {step}")
        for name in state_names:
            assert_close(np.asarray(s_cy[name]), s_ref[name], err_msg=f"{name}, step {step}")
    assert not np.allclose(p_ref, p0)  # the parameter did move


@pytest.mark.parametrize("kernel,hyper,state_names", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_reference(kernel, hyper, state_names, shape, dtype, rng, assert_close,
                           layout_of):
    _run_both(kernel, hyper, state_names, shape, dtype, rng, "C", layout_of, assert_close)


@pytest.mark.parametrize("kernel,hyper,state_names", VARIANTS[::3], ids=VARIANT_IDS[::3])
@pytest.mark.parametrize("layout", ["F", "strided"])
def test_layouts_update_in_place(kernel, hyper, state_names, layout, dtype, rng,
                                 assert_close, layout_of):
    _run_both(kernel, hyper, state_names, (4, 6), dtype, rng, layout, layout_of,
              assert_close)


def test_strided_update_touches_only_the_view(rng):
    base = rng.standard_normal((4, 10))
    before = base.copy()
    view = base[:, ::2]
    grad = rng.standard_normal(view.shape)
    K.sgd_step(view, grad, None, 0.5)
    np.testing.assert_allclose(base[:, ::2], before[:, ::2] - 0.5 * grad, rtol=1e-15)
    np.testing.assert_array_equal(base[:, 1::2], before[:, 1::2])


def test_mixed_state_layouts(rng):
    """An F-ordered param with C-ordered states (and grad) still pairs the
    right elements."""
    shape = (3, 5)
    p0 = rng.standard_normal(shape)
    p_ref, p_cy = p0.copy(), np.asfortranarray(p0)
    m_ref, v_ref = np.zeros(shape), np.zeros(shape)
    m_cy, v_cy = np.zeros(shape), np.asfortranarray(np.zeros(shape))
    for step in (1, 2, 3):
        g = rng.standard_normal(shape)
        X.adam_step(p_ref, g, m_ref, v_ref, None, step, lr=0.1)
        K.adam_step(p_cy, g, m_cy, v_cy, None, step, lr=0.1)
    np.testing.assert_allclose(p_cy, p_ref, rtol=1e-12)
    np.testing.assert_allclose(m_cy, m_ref, rtol=1e-12)
    np.testing.assert_allclose(v_cy, v_ref, rtol=1e-12)


@pytest.mark.parametrize("kernel,hyper,state_names", VARIANTS, ids=VARIANT_IDS)
def test_parallel_path_matches_serial(kernel, hyper, state_names, rng):
    # large enough to go parallel, and not a multiple of the chunk alignment
    shape = (cy_optim.PARALLEL_MIN_SIZE + 1001,)
    p0 = rng.standard_normal(shape).astype(np.float32)
    params = {nt: p0.copy() for nt in (1, 2, 3)}
    states = {nt: {name: np.zeros(shape, np.float32) for name in state_names}
              for nt in params}
    for step in (1, 2, 3):
        grad = rng.standard_normal(shape).astype(np.float32)
        for nt in params:
            _call(K, kernel, params[nt], grad, states[nt], step, hyper, n_threads=nt)
    # Same arithmetic per element; only an FMA contraction (native builds)
    # may differ between a chunk's vector body and its scalar tail.
    for nt in (2, 3):
        np.testing.assert_allclose(params[nt], params[1], rtol=1e-6, atol=1e-7)
        for name in state_names:
            np.testing.assert_allclose(states[nt][name], states[1][name], rtol=1e-6,
                                       atol=1e-7)


def test_missing_state_errors(rng):
    p = rng.standard_normal(4)
    g = rng.standard_normal(4)
    with pytest.raises(ValueError, match="momentum_buffer"):
        K.sgd_step(p, g, None, 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="max_exp_avg_sq"):
        K.adam_step(p, g, np.zeros(4), np.zeros(4), None, 1, amsgrad=True)
    with pytest.raises(ValueError, match="grad_avg"):
        K.rmsprop_step(p, g, np.zeros(4), None, None, centered=True)
    with pytest.raises(ValueError, match="momentum_buffer"):
        K.rmsprop_step(p, g, np.zeros(4), None, None, momentum=0.5)


def test_unused_state_is_ignored(rng):
    p = rng.standard_normal(4)
    buf = np.full(4, 7.0)
    K.sgd_step(p, np.ones(4), buf, 0.1)  # momentum=0: buffer untouched, as torch
    np.testing.assert_array_equal(buf, 7.0)


def test_shape_dtype_and_writeable_errors(rng):
    p = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(4, 3\)"):
        K.sgd_step(p, np.ones((4, 3), np.float32), None, 0.1)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 4\)|exp_avg.*\(4, 3\)"):
        K.adam_step(p, np.ones_like(p), np.zeros((4, 3), np.float32), np.zeros_like(p),
                    None, 1)
    with pytest.raises(ValueError, match="float32.*float64"):
        K.sgd_step(p, np.ones((3, 4)), None, 0.1)
    with pytest.raises(ValueError, match="float32.*float64"):
        K.adagrad_step(p, np.ones_like(p), np.zeros((3, 4)), 1)
    ro = p.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.sgd_step(ro, np.ones_like(p), None, 0.1)
    with pytest.raises(ValueError, match="numpy array"):
        K.sgd_step([1.0, 2.0], [1.0, 1.0], None, 0.1)
    with pytest.raises(ValueError, match="float32 or float64"):
        K.sgd_step(np.ones(3, dtype=np.int64), np.ones(3), None, 0.1)
