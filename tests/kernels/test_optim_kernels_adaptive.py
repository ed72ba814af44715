"""NAdam, Adamax, RAdam, Adadelta, LAMB and LARS kernels against ``_xp``.

Both implementations start from identical copies of the parameter and state
and take the same gradients for N_STEPS steps; after every step the
parameter and every state array must agree (float32 and float64, both
builds of the loops, odd shapes and non-contiguous layouts).
"""

import numpy as np
import pytest

from sklears_neural import _kernels as K
from sklears_neural import _xp as X

pytestmark = pytest.mark.usefixtures("isa")

N_STEPS = 10

VARIANTS = [
    ("nadam_step", {}),
    ("nadam_step", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1}),
    ("nadam_step", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True,
                    "maximize": True}),
    ("adamax_step", {}),
    ("adamax_step", {"lr": 0.05, "beta1": 0.8, "beta2": 0.9, "weight_decay": 0.1,
                     "maximize": True}),
    ("radam_step", {"beta2": 0.9}),  # rho_t > 5 from step 6: both branches
    ("radam_step", {"lr": 0.05, "beta2": 0.9, "weight_decay": 0.1}),
    ("radam_step", {"lr": 0.05, "beta2": 0.9, "weight_decay": 0.1,
                    "decoupled_weight_decay": True, "maximize": True}),
    ("adadelta_step", {}),
    ("adadelta_step", {"lr": 0.5, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1,
                       "maximize": True}),
    ("lamb_step", {}),
    ("lamb_step", {"lr": 0.05, "beta1": 0.8, "beta2": 0.9, "weight_decay": 0.1}),
    ("lars_step", {"lr": 0.1}),
    ("lars_step", {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.1}),
    ("lars_step", {"lr": 0.1, "weight_decay": 0.1, "trust_coefficient": 0.02}),
    ("lars_step", {"lr": 0.1, "weight_decay": 0.1, "exclude_from_adaptation": True}),
]
VARIANT_IDS = [f"{k}-{'-'.join(f'{a}={b}' for a, b in h.items())}" for k, h in VARIANTS]
STATES = {
    "nadam_step": ["exp_avg", "exp_avg_sq"],
    "adamax_step": ["exp_avg", "exp_inf"],
    "radam_step": ["exp_avg", "exp_avg_sq"],
    "adadelta_step": ["square_avg", "acc_delta"],
    "lamb_step": ["exp_avg", "exp_avg_sq"],
    "lars_step": ["momentum_buffer"],
}
SHAPES = [(1,), (7,), (3, 5), (1, 1), (2, 3, 4)]


def _nadam_scalars(step, beta1=0.9, momentum_decay=4e-3):
    mu = lambda t: beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))  # noqa: E731
    return mu(step), mu(step + 1), float(np.prod([mu(t) for t in range(1, step + 1)]))


def _call(impl, kernel, param, grad, states, step, hyper, **extra):
    fn = getattr(impl, kernel)
    args = [states[name] for name in STATES[kernel]]
    hyper = dict(hyper)
    if kernel == "nadam_step":
        return fn(param, grad, *args, step, *_nadam_scalars(step, hyper.get("beta1", 0.9)),
                  **hyper, **extra)
    if kernel in ("adamax_step", "radam_step", "lamb_step"):
        return fn(param, grad, *args, step, **hyper, **extra)
    if kernel == "lars_step":
        lr = hyper.pop("lr")
        if hyper.get("momentum", 0.9) == 0:
            args = [None]
        return fn(param, grad, *args, lr, **hyper, **extra)
    return fn(param, grad, *args, **hyper, **extra)


def _run_both(kernel, hyper, shape, dtype, rng, layout, layout_of, assert_close, **extra):
    p0 = rng.standard_normal(shape).astype(dtype)
    p_ref = p0.copy()
    p_cy = layout_of(p0.copy(), layout)
    s_ref = {n: np.zeros(shape, dtype) for n in STATES[kernel]}
    s_cy = {n: layout_of(np.zeros(shape, dtype), layout) for n in STATES[kernel]}
    for step in range(1, N_STEPS + 1):
        grad = rng.standard_normal(shape).astype(dtype)
        grad_cy = layout_of(grad, layout)
        before = grad_cy.copy()
        assert _call(X, kernel, p_ref, grad, s_ref, step, hyper) is None
        assert _call(K, kernel, p_cy, grad_cy, s_cy, step, hyper, **extra) is None
        np.testing.assert_array_equal(grad_cy, before)
        assert_close(np.asarray(p_cy), p_ref, err_msg=f"param, step {step}")
        for n in STATES[kernel]:
            assert_close(np.asarray(s_cy[n]), s_ref[n], err_msg=f"{n}, step {step}")
    assert not np.allclose(p_ref, p0)


@pytest.mark.parametrize("kernel,hyper", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_reference(kernel, hyper, shape, dtype, rng, assert_close, layout_of):
    _run_both(kernel, hyper, shape, dtype, rng, "C", layout_of, assert_close)


@pytest.mark.parametrize("kernel,hyper", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("layout", ["F", "strided"])
def test_layouts_update_in_place(kernel, hyper, layout, dtype, rng, assert_close, layout_of):
    _run_both(kernel, hyper, (4, 6), dtype, rng, layout, layout_of, assert_close)


@pytest.mark.parametrize("kernel,hyper", VARIANTS, ids=VARIANT_IDS)
def test_n_threads_matches_serial(kernel, hyper, rng):
    """A parameter large enough to be split (for the elementwise kinds); LAMB
    and LARS need whole-parameter norms and must give the serial result."""
    shape = (300_007,)
    p0 = rng.standard_normal(shape)
    grad = rng.standard_normal(shape)
    out = []
    for n_threads in (None, 2):
        p = p0.copy()
        s = {n: np.zeros(shape) for n in STATES[kernel]}
        for step in (1, 2, 3):
            _call(K, kernel, p, grad, s, step, hyper, n_threads=n_threads)
        out.append(p)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-14, atol=0)


def test_lamb_and_lars_zero_norms(rng):
    """Ratio 1 when the parameter (or the update / gradient) norm is 0."""
    for impl in (X, K):
        p = np.zeros(5)
        g = rng.standard_normal(5)
        m, v = np.zeros(5), np.zeros(5)
        impl.lamb_step(p, g, m, v, 1, lr=0.1, eps=1e-6)
        expected = -0.1 * (0.1 * g / 0.1) / (np.sqrt(0.001 * g * g) / np.sqrt(0.001) + 1e-6)
        np.testing.assert_allclose(p, expected, rtol=1e-12)
        p = np.zeros(5)
        impl.lars_step(p, g, None, 0.1, momentum=0.0)
        np.testing.assert_allclose(p, -0.1 * g, rtol=1e-15)
        p = np.ones(5)
        impl.lars_step(p, np.zeros(5), None, 0.1, momentum=0.0)
        np.testing.assert_array_equal(p, np.ones(5))


@pytest.mark.parametrize("kernel", sorted(STATES))
def test_missing_state_raises(kernel):
    p, g = np.zeros(3), np.ones(3)
    states = {n: None for n in STATES[kernel]}
    hyper = {"lr": 0.1} if kernel == "lars_step" else {}
    with pytest.raises(ValueError, match="None"):
        _call(K, kernel, p, g, states, 1, hyper)


def test_dtype_mismatch_raises():
    p = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="dtype"):
        K.adamax_step(p, np.ones(3, np.float32), np.zeros(3), np.zeros(3, np.float32), 1)
