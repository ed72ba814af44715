"""NAdam, Adamax, RAdam and Adadelta against independent float64 oracles and torch.

Each oracle below is the documented update rule written out in plain numpy
(float64, one parameter at a time), independent of ``sklears_neural._xp``.
Trajectories of N_STEPS steps on a fixed quadratic and on fixed random
gradients must agree to 1e-10; torch.optim (when installed) is a second,
external reference.
"""

import math
import pickle

import numpy as np
import pytest

import _trajectories as trajectories

from sklears_neural.nn import Parameter
from sklears_neural.optim import Adadelta, Adamax, NAdam, RAdam

N_STEPS = 12
SHAPES = [(3, 4), (5,), (1,)]


# ---------------------------------------------------------------------------
# Oracles: p (float64 array), grad, per-parameter state dict -> new p
# ---------------------------------------------------------------------------
def ref_nadam(p, grad, st, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    m, v = st.get("m", np.zeros_like(p)), st.get("v", np.zeros_like(p))
    prod = st.get("prod", 1.0)
    g = -grad if maximize else grad
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    prod = prod * mu
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    d = np.sqrt(v / (1 - b2**t)) + eps
    p = p - lr * (1 - mu) / (1 - prod) * g / d - lr * mu_next / (1 - prod * mu_next) * m / d
    st.update(m=m, v=v, prod=prod)
    return p


def ref_adamax(p, grad, st, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
               maximize=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    m, u = st.get("m", np.zeros_like(p)), st.get("u", np.zeros_like(p))
    g = (-grad if maximize else grad) + weight_decay * p
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g) + eps)
    st.update(m=m, u=u)
    return p - lr / (1 - b1**t) * m / u


def ref_radam(p, grad, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    m, v = st.get("m", np.zeros_like(p)), st.get("v", np.zeros_like(p))
    g = -grad if maximize else grad
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    st.update(m=m, v=v)
    m_hat = m / (1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho > 5:
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        l_t = math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        return p - lr * m_hat * r * l_t
    return p - lr * m_hat


def ref_adadelta(p, grad, st, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    v, u = st.get("v", np.zeros_like(p)), st.get("u", np.zeros_like(p))
    g = (-grad if maximize else grad) + weight_decay * p
    v = rho * v + (1 - rho) * g**2
    delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta**2
    st.update(v=v, u=u)
    return p - lr * delta


OPTIMIZERS = {
    "NAdam": (NAdam, ref_nadam),
    "Adamax": (Adamax, ref_adamax),
    "RAdam": (RAdam, ref_radam),
    "Adadelta": (Adadelta, ref_adadelta),
}

VARIANTS = [
    ("NAdam", {}),
    ("NAdam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.05, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-4}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    # beta2 = 0.9: rho_t > 5 from step 6 on, so both branches run
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1,
               "decoupled_weight_decay": True, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-4}),
    ("Adadelta", {"weight_decay": 0.1, "maximize": True}),
]
VARIANT_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in hp.items())}" for n, hp in VARIANTS]


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


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name,hp", VARIANTS, ids=VARIANT_IDS)
def test_matches_reference_float64(name, hp, problem):
    prob = PROBLEMS[problem]()
    ours, _, _ = run_ours(name, hp, prob)
    ref = run_reference(name, hp, prob)
    assert_trajectories_close(ours, ref, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ours[-1][0], prob.init[0])  # it moved


@pytest.mark.parametrize("name,hp", VARIANTS, ids=VARIANT_IDS)
def test_matches_reference_float32(name, hp):
    prob = PROBLEMS["random"]()
    ours, params, _ = run_ours(name, hp, prob, dtype=np.float32)
    assert all(p.data.dtype == np.float32 for p in params)
    ref = run_reference(name, hp, prob)
    assert_trajectories_close(ours, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name,hp", VARIANTS, ids=VARIANT_IDS)
def test_matches_torch(name, hp, problem):
    torch = pytest.importorskip("torch")
    prob = PROBLEMS[problem]()
    ours, _, _ = run_ours(name, hp, prob)
    tparams = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in prob.init]
    thp = dict(hp)
    cls = {"NAdam": torch.optim.NAdam, "Adamax": torch.optim.Adamax,
           "RAdam": torch.optim.RAdam, "Adadelta": torch.optim.Adadelta}[name]
    # torch keeps scalar state (step, NAdam's mu_product) in the default
    # dtype: float64 here, so the comparison is not limited by float32.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        topt = cls(tparams, **thp)
        _run_torch(prob, tparams, topt, ours)
    finally:
        torch.set_default_dtype(previous)


def _run_torch(prob, tparams, topt, ours):
    import torch

    for t in range(N_STEPS):
        grads = prob.grads(t, [p.detach().numpy().copy() for p in tparams])
        for p, g in zip(tparams, grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        for i, p in enumerate(tparams):
            np.testing.assert_allclose(ours[t][i], p.detach().numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"step {t + 1}, parameter {i}")


def test_oracles_are_sensitive():
    """The trajectories differ when a hyperparameter changes (the checks are not vacuous)."""
    prob = Quadratic()
    for name, hp, other in [
        ("NAdam", {}, {"momentum_decay": 0.1}),
        ("Adamax", {}, {"betas": (0.9, 0.5)}),
        ("RAdam", {"betas": (0.9, 0.9)}, {"betas": (0.9, 0.95)}),
        ("Adadelta", {}, {"rho": 0.5}),
    ]:
        a = run_reference(name, hp, prob)[-1][0]
        b = run_reference(name, {**hp, **other}, prob)[-1][0]
        assert not np.allclose(a, b, rtol=1e-8), name


@pytest.mark.parametrize("name,hp", VARIANTS[::2], ids=VARIANT_IDS[::2])
def test_state_dict_round_trip_mid_run(name, hp):
    """Stop after 5 steps, save (through pickle), load into a fresh optimizer
    over fresh parameters: the remaining steps are identical."""
    prob = RandomGradients()
    full, _, _ = run_ours(name, hp, prob)
    cls, _ = OPTIMIZERS[name]
    params = [Parameter(x.copy()) for x in prob.init]
    opt = cls(params, **hp)
    for t in range(5):
        for p, g in zip(params, prob.grads(t, None)):
            p.grad = g.copy()
        opt.step()
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    params2 = [Parameter(p.data.copy()) for p in params]
    opt2 = cls(params2, **hp)
    opt2.load_state_dict(saved)
    for t in range(5, N_STEPS):
        for p, g in zip(params2, prob.grads(t, None)):
            p.grad = g.copy()
        opt2.step()
        for i, p in enumerate(params2):
            np.testing.assert_array_equal(p.data, full[t][i])


def test_state_names():
    p = Parameter(np.ones(3))
    p.grad = np.ones(3)
    for cls, names in [(NAdam, {"step", "mu_product", "exp_avg", "exp_avg_sq"}),
                       (Adamax, {"step", "exp_avg", "exp_inf"}),
                       (RAdam, {"step", "exp_avg", "exp_avg_sq"}),
                       (Adadelta, {"step", "square_avg", "acc_delta"})]:
        opt = cls([p])
        opt.step()
        assert set(opt.state_dict()["state"][0]) == names


def test_defaults_are_torchs():
    p = [Parameter(np.zeros(2))]
    assert NAdam(p).defaults == {
        "lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
        "momentum_decay": 4e-3, "decoupled_weight_decay": False, "maximize": False}
    assert Adamax(p).defaults == {
        "lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
        "maximize": False}
    assert RAdam(p).defaults == {
        "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
        "decoupled_weight_decay": False, "maximize": False}
    assert Adadelta(p).defaults == {
        "lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0, "maximize": False}
    torch = pytest.importorskip("torch")
    t = [torch.zeros(2, requires_grad=True)]
    for ours, theirs in [(NAdam, torch.optim.NAdam), (Adamax, torch.optim.Adamax),
                         (RAdam, torch.optim.RAdam), (Adadelta, torch.optim.Adadelta)]:
        td = theirs(t).defaults
        for key, value in ours(p).defaults.items():
            assert td[key] == value, (ours.__name__, key)


@pytest.mark.parametrize("factory,match", [
    (lambda p: NAdam(p, lr=-1), "lr"),
    (lambda p: NAdam(p, eps=-1), "eps"),
    (lambda p: NAdam(p, betas=(1.0, 0.9)), "betas"),
    (lambda p: NAdam(p, betas=(0.9,)), "betas"),
    (lambda p: NAdam(p, weight_decay=-0.1), "weight_decay"),
    (lambda p: NAdam(p, momentum_decay=-1e-3), "momentum_decay"),
    (lambda p: Adamax(p, lr=float("nan")), "lr"),
    (lambda p: Adamax(p, betas=(0.9, -0.1)), "betas"),
    (lambda p: Adamax(p, eps=-1), "eps"),
    (lambda p: Adamax(p, weight_decay=-1), "weight_decay"),
    (lambda p: RAdam(p, lr=-1), "lr"),
    (lambda p: RAdam(p, betas=(0.9, 1.0)), "betas"),
    (lambda p: RAdam(p, eps=-1), "eps"),
    (lambda p: RAdam(p, weight_decay=-1), "weight_decay"),
    (lambda p: Adadelta(p, lr=-1), "lr"),
    (lambda p: Adadelta(p, rho=1.5), "rho"),
    (lambda p: Adadelta(p, eps=-1), "eps"),
    (lambda p: Adadelta(p, weight_decay=-1), "weight_decay"),
    (lambda p: Adadelta([{"params": p, "rho": -0.1}]), "rho"),
])
def test_invalid_hyperparameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory([Parameter(np.zeros(2))])


def test_rho_one_is_allowed():
    Adadelta([Parameter(np.zeros(2))], rho=1.0)


# ---------------------------------------------------------------------------
# LAMB and LARS: the papers' rules (no torch counterpart)
# ---------------------------------------------------------------------------
from sklears_neural.optim import LAMB, LARS  # noqa: E402


def ref_lamb(p, grad, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    m, v = st.get("m", np.zeros_like(p)), st.get("v", np.zeros_like(p))
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    st.update(m=m, v=v)
    r = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps) + weight_decay * p
    wn, rn = np.linalg.norm(p), np.linalg.norm(r)
    ratio = wn / rn if wn > 0 and rn > 0 else 1.0
    return p - lr * ratio * r


def ref_lars(p, grad, st, lr, momentum=0.9, weight_decay=0.0, trust_coefficient=0.001,
             eps=1e-8, lars_exclude=False):
    if lars_exclude:
        local, g = 1.0, grad
    else:
        wn, gn = np.linalg.norm(p), np.linalg.norm(grad)
        local = 1.0
        if wn > 0 and gn > 0:
            local = trust_coefficient * wn / (gn + weight_decay * wn + eps)
        g = grad + weight_decay * p
    v = momentum * st.get("v", np.zeros_like(p)) + lr * local * g
    st["v"] = v
    return p - v


OPTIMIZERS.update({"LAMB": (LAMB, ref_lamb), "LARS": (LARS, ref_lars)})
NORM_VARIANTS = [
    ("LAMB", {}),
    ("LAMB", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-8, "weight_decay": 0.1}),
    ("LARS", {"lr": 1.0}),
    ("LARS", {"lr": 0.5, "momentum": 0.0, "weight_decay": 0.01}),
    ("LARS", {"lr": 0.5, "momentum": 0.8, "weight_decay": 0.01, "trust_coefficient": 0.02}),
    ("LARS", {"lr": 0.1, "weight_decay": 0.01, "lars_exclude": True}),
]
NORM_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in hp.items())}" for n, hp in NORM_VARIANTS]


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name,hp", NORM_VARIANTS, ids=NORM_IDS)
def test_norm_based_match_reference(name, hp, problem):
    prob = PROBLEMS[problem]()
    ours, _, _ = run_ours(name, hp, prob)
    ref = run_reference(name, hp, prob)
    assert_trajectories_close(ours, ref, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ours[-1][0], prob.init[0])
    ours32, _, _ = run_ours(name, hp, prob, dtype=np.float32)
    assert_trajectories_close(ours32, ref, rtol=1e-4, atol=1e-5)


def test_lars_exclude_per_group():
    """One group adapted with weight decay, one (bias-like) excluded."""
    prob = RandomGradients()
    w, b = (Parameter(x.copy()) for x in prob.init[:2])
    opt = LARS([{"params": [w]}, {"params": [b], "lars_exclude": True}], lr=0.5,
               weight_decay=0.01, trust_coefficient=0.02)
    pw, pb = prob.init[0].copy(), prob.init[1].copy()
    sw, sb = {}, {}
    for t in range(N_STEPS):
        gw, gb = prob.grads(t, None)[:2]
        w.grad, b.grad = gw.copy(), gb.copy()
        opt.step()
        pw = ref_lars(pw, gw, sw, 0.5, weight_decay=0.01, trust_coefficient=0.02)
        pb = ref_lars(pb, gb, sb, 0.5, weight_decay=0.01, trust_coefficient=0.02,
                      lars_exclude=True)
        np.testing.assert_allclose(w.data, pw, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.data, pb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,hp", NORM_VARIANTS, ids=NORM_IDS)
def test_norm_based_state_dict_round_trip_mid_run(name, hp):
    test_state_dict_round_trip_mid_run(name, hp)


@pytest.mark.parametrize("factory,match", [
    (lambda p: LAMB(p, lr=-1), "lr"),
    (lambda p: LAMB(p, betas=(0.9, 1.0)), "betas"),
    (lambda p: LAMB(p, eps=-1), "eps"),
    (lambda p: LAMB(p, weight_decay=-1), "weight_decay"),
    (lambda p: LARS(p, lr=-1), "lr"),
    (lambda p: LARS(p, lr=0.1, momentum=1.0), "momentum"),
    (lambda p: LARS(p, lr=0.1, weight_decay=-1), "weight_decay"),
    (lambda p: LARS(p, lr=0.1, trust_coefficient=-1), "trust_coefficient"),
    (lambda p: LARS(p, lr=0.1, eps=-1), "eps"),
    (lambda p: LARS([{"params": p, "lars_exclude": "yes"}], lr=0.1), "lars_exclude"),
])
def test_norm_based_invalid_hyperparameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory([Parameter(np.zeros(2))])


def test_lars_lr_is_required():
    with pytest.raises(TypeError):
        LARS([Parameter(np.zeros(2))])


def test_norm_based_defaults():
    p = [Parameter(np.zeros(2))]
    assert LAMB(p).defaults == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-6,
                                "weight_decay": 0}
    assert LARS(p, lr=0.1).defaults == {
        "lr": 0.1, "momentum": 0.9, "weight_decay": 0, "trust_coefficient": 0.001,
        "eps": 1e-8, "lars_exclude": False}


def test_nadam_alias_is_deprecated_and_behaves_as_nadam():
    import warnings

    from sklears_neural.nn import Parameter
    from sklears_neural.optim import NAdam, Nadam

    with pytest.warns(FutureWarning, match="use NAdam"):
        opt = Nadam([Parameter(np.zeros(3))], lr=0.1)
    assert isinstance(opt, NAdam)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        NAdam([Parameter(np.zeros(3))], lr=0.1)
    from sklears_neural import optim
    assert "Nadam" not in optim.__all__
