"""Optimizers against independent float64 implementations of torch.optim's rules.

The reference updates below are written from the algorithms documented in
``torch.optim`` (2.x) and share no code with ``sklears_neural``; every
optimizer variant runs a dozen steps on a fixed quadratic and on fixed random
gradients and must match them to ~1e-10 in float64. When PyTorch is
installed the same trajectories are compared with ``torch.optim`` itself.
"""

import inspect

import numpy as np
import pytest

import _trajectories as trajectories

from sklears_neural import _xp
from sklears_neural.autograd import Tensor, is_grad_enabled, no_grad
from sklears_neural.nn import Parameter
from sklears_neural.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

N_STEPS = 12
SHAPES = [(3, 4), (5,), (1,), (2, 3, 2)]


# ---------------------------------------------------------------------------
# Reference updates: one parameter, float64, state in a plain dict.
# ---------------------------------------------------------------------------
def ref_sgd(p, grad, st, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False):
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        if "b" not in st:
            st["b"] = g.copy()
        else:
            st["b"] = momentum * st["b"] + (1 - dampening) * g
        g = g + momentum * st["b"] if nesterov else st["b"]
    return p - lr * g


def ref_adam(p, grad, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled_weight_decay=False):
    beta1, beta2 = betas
    t = st["t"] = st.get("t", 0) + 1
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = st["m"] = beta1 * st.get("m", 0.0) + (1 - beta1) * g
    v = st["v"] = beta2 * st.get("v", 0.0) + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    if amsgrad:
        st["v_max"] = np.maximum(st.get("v_max", 0.0), v)
        v_hat = st["v_max"] / (1 - beta2**t)
    else:
        v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(p, grad, st, weight_decay=1e-2, **hp):
    return ref_adam(p, grad, st, weight_decay=weight_decay, decoupled_weight_decay=True, **hp)


def ref_rmsprop(p, grad, st, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * p
    v = st["v"] = alpha * st.get("v", 0.0) + (1 - alpha) * g**2
    v_tilde = v
    if centered:
        g_ave = st["g_ave"] = alpha * st.get("g_ave", 0.0) + (1 - alpha) * g
        v_tilde = v - g_ave**2
    denom = np.sqrt(v_tilde) + eps
    if momentum > 0:
        b = st["b"] = momentum * st.get("b", 0.0) + g / denom
        return p - lr * b
    return p - lr * g / denom


def ref_adagrad(p, grad, st, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    t = st["t"] = st.get("t", 0) + 1
    g = -grad if maximize else grad
    clr = lr / (1 + (t - 1) * lr_decay)
    if weight_decay != 0:
        g = g + weight_decay * p
    s = st["sum"] = st.get("sum", np.full_like(p, initial_accumulator_value)) + g**2
    return p - clr * g / (np.sqrt(s) + eps)


OPTIMIZERS = {
    "SGD": (SGD, ref_sgd),
    "Adam": (Adam, ref_adam),
    "AdamW": (AdamW, ref_adamw),
    "RMSprop": (RMSprop, ref_rmsprop),
    "Adagrad": (Adagrad, ref_adagrad),
}

VARIANTS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.05, "maximize": True}),
    ("SGD", {"lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1,
             "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "amsgrad": True,
              "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "maximize": True, "betas": (0.8, 0.99)}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.5, "eps": 1e-4, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "eps": 1e-6,
                 "maximize": True}),
]


def _variant_id(variant):
    name, hp = variant
    extras = "-".join(f"{k}={v}" for k, v in hp.items() if k != "lr")
    return f"{name}[{extras or 'default'}]"


VARIANT_PARAMS = [pytest.param(v, id=_variant_id(v)) for v in VARIANTS]


# ---------------------------------------------------------------------------
# Problems: a fixed quadratic (gradient depends on the parameters) and fixed
# random gradients (of changing scale, so AMSGrad's maximum matters).
# ---------------------------------------------------------------------------
class Quadratic(trajectories.Quadratic):
    def __init__(self, seed=0):
        super().__init__(SHAPES, seed)


class RandomGradients(trajectories.RandomGradients):
    def __init__(self, seed=1, n_steps=N_STEPS):
        super().__init__(SHAPES, n_steps, seed)


PROBLEMS = {"quadratic": Quadratic, "random": RandomGradients}
assert_trajectories_close = trajectories.assert_trajectories_close


def run_ours(name, hp, problem, dtype=np.float64, n_steps=N_STEPS):
    return trajectories.run_ours(OPTIMIZERS[name][0], hp, problem, n_steps, dtype)


def run_reference(name, hp, problem, n_steps=N_STEPS):
    return trajectories.run_reference(OPTIMIZERS[name][1], hp, problem, n_steps)


# ---------------------------------------------------------------------------
# Trajectories
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_matches_reference_float64(variant, problem):
    name, hp = variant
    ours, params, _ = run_ours(name, hp, PROBLEMS[problem]())
    ref = run_reference(name, hp, PROBLEMS[problem]())
    assert all(p.data.dtype == np.float64 for p in params)
    # the run moved the parameters well beyond the tolerance
    moved = max(np.abs(a - b).max() for a, b in zip(ours[-1], PROBLEMS[problem]().init))
    assert moved > 1e-3
    assert_trajectories_close(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_matches_reference_float32(variant, problem):
    name, hp = variant
    ours, params, opt = run_ours(name, hp, PROBLEMS[problem](), dtype=np.float32)
    ref = run_reference(name, hp, PROBLEMS[problem]())
    assert all(p.data.dtype == np.float32 for p in params)
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32
            else:
                assert type(value) is int
    assert_trajectories_close(ours, ref, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_matches_torch(variant, problem):
    torch = pytest.importorskip("torch")
    name, hp = variant
    ours, _, _ = run_ours(name, hp, PROBLEMS[problem]())

    prob = PROBLEMS[problem]()
    tparams = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in prob.init]
    topt = getattr(torch.optim, name)(tparams, foreach=False, **hp)
    theirs = []
    for t in range(N_STEPS):
        grads = prob.grads(t, [p.detach().numpy().copy() for p in tparams])
        for p, g in zip(tparams, grads):
            p.grad = torch.from_numpy(np.array(g, dtype=np.float64))
        topt.step()
        theirs.append([p.detach().numpy().copy() for p in tparams])
    assert_trajectories_close(ours, theirs, rtol=1e-10, atol=1e-12)


def test_reference_is_sensitive():
    """The oracle comparison can fail: a wrong hyperparameter is caught."""
    ours, _, _ = run_ours("Adam", {"lr": 0.05}, RandomGradients())
    ref = run_reference("Adam", {"lr": 0.05, "betas": (0.9, 0.99)}, RandomGradients())
    with pytest.raises(AssertionError):
        assert_trajectories_close(ours, ref, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# How step calls the kernels
# ---------------------------------------------------------------------------
class SpyKernels:
    """Records each kernel call, then runs the portable kernel."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        kernel = getattr(_xp, name)

        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return kernel(*args, **kwargs)

        return call


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_one_kernel_call_per_parameter_with_python_scalars(variant, monkeypatch):
    name, hp = variant
    spy = SpyKernels()
    monkeypatch.setattr("sklears_neural.optim._optimizer.kernels_for", lambda array: spy)
    hp = {k: (np.float32(v) if isinstance(v, float) else v) for k, v in hp.items()}
    rng = np.random.default_rng(0)
    params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    no_grad_param = params[1]
    opt = OPTIMIZERS[name][0](params, **hp)
    for step in range(1, 4):
        grads = []
        for p in params:
            grad = rng.standard_normal(p.shape).astype(np.float32)
            p.grad = None if p is no_grad_param else grad
            grads.append(None if p.grad is None else p.grad.copy())
        spy.calls.clear()
        opt.step()
        with_grad = [p for p in params if p.grad is not None]
        assert len(spy.calls) == len(with_grad)
        for (kernel, args, kwargs), p in zip(spy.calls, with_grad):
            assert kernel == {"AdamW": "adam_step"}.get(name, name.lower() + "_step")
            assert args[0] is p.data and args[1] is p.grad
            for value in list(args[2:]) + list(kwargs.values()):
                if value is None or isinstance(value, np.ndarray):
                    continue
                assert type(value) in (float, bool, int), (kernel, value, type(value))
            if name in ("Adam", "AdamW", "Adagrad"):
                bound = inspect.signature(getattr(_xp, kernel)).bind(*args, **kwargs)
                assert bound.arguments["step"] == step
                assert type(bound.arguments["step"]) is int
        # grads untouched, same objects
        for p, g in zip(params, grads):
            if g is not None:
                np.testing.assert_array_equal(p.grad, g)
    assert no_grad_param not in opt.state


# ---------------------------------------------------------------------------
# Behaviour of the Optimizer base
# ---------------------------------------------------------------------------
def _param(shape=(2, 3), seed=0, dtype=np.float64):
    return Parameter(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def test_defaults_are_torchs():
    p = _param()
    assert SGD([p]).defaults == {"lr": 1e-3, "momentum": 0, "dampening": 0,
                                 "weight_decay": 0, "nesterov": False, "maximize": False}
    assert Adam([p]).defaults == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                  "weight_decay": 0, "amsgrad": False, "maximize": False,
                                  "decoupled_weight_decay": False}
    assert AdamW([p]).defaults["weight_decay"] == 1e-2
    assert AdamW([p]).defaults["decoupled_weight_decay"] is True
    assert RMSprop([p]).defaults == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8,
                                     "weight_decay": 0, "momentum": 0, "centered": False,
                                     "maximize": False}
    assert Adagrad([p]).defaults == {"lr": 1e-2, "lr_decay": 0, "weight_decay": 0,
                                     "initial_accumulator_value": 0, "eps": 1e-10,
                                     "maximize": False}


def test_grad_none_is_skipped():
    a, b = _param(seed=0), _param(seed=1)
    before = b.data.copy()
    opt = Adam([a, b], lr=0.1)
    a.grad = np.ones_like(a.data)
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    assert b not in opt.state and opt.state[a]["step"] == 1
    assert b.grad is None


def test_grad_dtype_must_match():
    p = _param(dtype=np.float32)
    p.grad = np.ones(p.shape, dtype=np.float64)
    with pytest.raises(ValueError, match="float32.*float64"):
        SGD([p], lr=0.1).step()


def test_grad_shape_must_match():
    p = _param()
    p.grad = np.ones((3, 2))
    with pytest.raises(ValueError, match="shape"):
        SGD([p], lr=0.1).step()


def test_zero_grad():
    p, q = _param(seed=0), _param(seed=1)
    opt = SGD([p, q], lr=0.1)
    p.grad = np.ones_like(p.data)
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and not grad.any() and q.grad is None
    opt.zero_grad()
    assert p.grad is None and q.grad is None


def test_closure_runs_with_grad_enabled_and_returns_loss():
    p = _param()
    opt = SGD([p], lr=0.5)
    seen = []

    def closure():
        seen.append(is_grad_enabled())
        p.grad = np.ones_like(p.data)
        return 3.5

    before = p.data.copy()
    with no_grad():
        loss = opt.step(closure)
    assert loss == 3.5 and seen == [True]
    np.testing.assert_allclose(p.data, before - 0.5)
    assert opt.step() is None


def test_closure_with_autograd_minimizes():
    target = np.array([1.0, -2.0, 0.5])
    w = Parameter(np.zeros(3))
    opt = SGD([w], lr=0.1, momentum=0.5)

    def closure():
        opt.zero_grad()
        diff = w - Tensor(target)
        loss = (diff * diff).sum()
        loss.backward()
        return loss

    for _ in range(60):
        opt.step(closure)
    np.testing.assert_allclose(w.data, target, atol=1e-6)


def test_param_groups_with_different_lr():
    a, b = _param(seed=0), _param(seed=1)
    a_alone, b_alone = _param(seed=0), _param(seed=1)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.9}],
              lr=0.1, momentum=0.3)
    opt_a, opt_b = SGD([a_alone], lr=0.1, momentum=0.3), SGD([b_alone], lr=0.5, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[0]["momentum"] == 0.3 and opt.param_groups[0]["dampening"] == 0
    rng = np.random.default_rng(5)
    for _ in range(10):
        for p, q in ((a, a_alone), (b, b_alone)):
            p.grad = rng.standard_normal(p.shape)
            q.grad = p.grad.copy()
        opt.step()
        opt_a.step()
        opt_b.step()
    np.testing.assert_array_equal(a.data, a_alone.data)
    np.testing.assert_array_equal(b.data, b_alone.data)


def test_changing_lr_between_steps_takes_effect():
    p = _param()
    opt = SGD([p], lr=0.1)
    p.grad = np.ones_like(p.data)
    before = p.data.copy()
    opt.param_groups[0]["lr"] = 0.25
    opt.step()
    np.testing.assert_allclose(p.data, before - 0.25)


def test_add_param_group():
    a, b = _param(seed=0), _param(seed=1)
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "amsgrad": True})
    assert opt.param_groups[1]["params"] == [b]
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["amsgrad"] is True
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [_param()], "lr": -1.0})
    with pytest.raises(TypeError, match="set"):
        opt.add_param_group({"params": {_param()}})


def test_bad_params():
    p = _param()
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([])
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam(iter([]))
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p])
    with pytest.raises(TypeError, match="Tensors"):
        SGD([np.zeros(3)])
    with pytest.raises(TypeError, match="list"):
        SGD(p)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2.0])


def test_params_from_a_generator():
    params = [_param(seed=i) for i in range(3)]
    opt = RMSprop(p for p in params)
    assert opt.param_groups[0]["params"] == params


@pytest.mark.parametrize("factory, match", [
    (lambda p: SGD([p], lr=-0.1), r"lr.*-0\.1"),
    (lambda p: SGD([p], lr=float("nan")), r"lr.*nan"),
    (lambda p: SGD([p], momentum=-0.5), r"momentum.*-0\.5"),
    (lambda p: SGD([p], dampening=-0.5), r"dampening.*-0\.5"),
    (lambda p: SGD([p], weight_decay=-1e-4), r"weight_decay.*-0\.0001"),
    (lambda p: SGD([p], nesterov=True), r"nesterov.*momentum=0"),
    (lambda p: SGD([p], momentum=0.9, dampening=0.1, nesterov=True), r"dampening=0\.1"),
    (lambda p: Adam([p], lr=-1.0), r"lr.*-1\.0"),
    (lambda p: Adam([p], eps=-1e-8), r"eps.*-1e-08"),
    (lambda p: Adam([p], betas=(1.0, 0.999)), r"betas\[0\].*1\.0"),
    (lambda p: Adam([p], betas=(0.9, -0.1)), r"betas\[1\].*-0\.1"),
    (lambda p: Adam([p], betas=(0.9,)), r"betas.*pair"),
    (lambda p: Adam([p], weight_decay=-0.1), r"weight_decay.*-0\.1"),
    (lambda p: AdamW([p], weight_decay=-0.1), r"weight_decay.*-0\.1"),
    (lambda p: AdamW([p], betas=(0.9, 1.5)), r"betas\[1\].*1\.5"),
    (lambda p: RMSprop([p], lr=-0.01), r"lr.*-0\.01"),
    (lambda p: RMSprop([p], alpha=-0.1), r"alpha.*-0\.1"),
    (lambda p: RMSprop([p], alpha=1.5), r"alpha.*1\.5"),
    (lambda p: RMSprop([p], eps=-1.0), r"eps.*-1\.0"),
    (lambda p: RMSprop([p], momentum=-0.9), r"momentum.*-0\.9"),
    (lambda p: RMSprop([p], weight_decay=-0.9), r"weight_decay.*-0\.9"),
    (lambda p: Adagrad([p], lr=-0.01), r"lr.*-0\.01"),
    (lambda p: Adagrad([p], lr_decay=-0.1), r"lr_decay.*-0\.1"),
    (lambda p: Adagrad([p], initial_accumulator_value=-1.0),
     r"initial_accumulator_value.*-1\.0"),
    (lambda p: Adagrad([p], eps=-1e-10), r"eps.*-1e-10"),
    (lambda p: Adagrad([p], weight_decay=-1.0), r"weight_decay.*-1\.0"),
])
def test_invalid_hyperparameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory(_param())


def test_repr():
    opt = Adam([{"params": [_param()]}, {"params": [_param(seed=1)], "lr": 0.5}], lr=0.1)
    text = repr(opt)
    assert text.startswith("Adam (")
    assert "Parameter Group 0" in text and "Parameter Group 1" in text
    assert "    lr: 0.1" in text and "    lr: 0.5" in text
    assert "    betas: (0.9, 0.999)" in text
    assert "params" not in text
    assert isinstance(opt, Optimizer)


def test_state_is_created_lazily_in_param_dtype():
    p = _param(dtype=np.float32)
    opt = Adagrad([p], initial_accumulator_value=0.25)
    assert opt.state == {}
    p.grad = np.zeros_like(p.data)
    opt.step()
    assert opt.state[p]["sum"].dtype == np.float32
    np.testing.assert_array_equal(opt.state[p]["sum"], 0.25)
    assert opt.state[p]["step"] == 1 and type(opt.state[p]["step"]) is int


def test_amsgrad_and_momentum_toggled_on_later():
    """Turning on an option mid-run creates its buffer instead of failing."""
    p = _param()
    opt = Adam([p], lr=0.1)
    p.grad = np.ones_like(p.data)
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    opt.step()
    assert "max_exp_avg_sq" in opt.state[p]
    q = _param()
    opt = RMSprop([q])
    q.grad = np.ones_like(q.data)
    opt.step()
    opt.param_groups[0].update(momentum=0.9, centered=True)
    opt.step()
    assert {"momentum_buffer", "grad_avg"} <= set(opt.state[q])
