"""Learning-rate schedules against closed forms written here, and against torch.

Every schedule runs 100+ steps on an optimizer with two parameter groups of
different learning rates; the learning rates (and cycled momenta) written
into the groups must equal the formulas below, which are written from the
schedules' definitions and share no code with ``sklears_neural``, to
``rtol=1e-12`` in float64. When PyTorch is installed the same sequences are
compared with ``torch.optim.lr_scheduler`` driving a torch optimizer.
"""

import math
import pickle
import warnings

import numpy as np
import pytest

from sklears_neural.nn import Parameter
from sklears_neural.optim import SGD, Adagrad, Adam, lr_scheduler
from sklears_neural.optim.lr_scheduler import (
    SCHEDULER_NAMES,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    InverseScalingLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
    make_scheduler,
    needs_metric,
    scheduler_steps_per_batch,
)

RTOL = 1e-12
LRS = (0.1, 0.02)          # the two groups' initial learning rates
N_STEPS = 150


def make_optimizer(kind="sgd", lrs=LRS):
    """An optimizer of our own with one group per learning rate."""
    groups = [{"params": [Parameter(np.zeros(2))], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return SGD(groups, lr=lrs[0], momentum=0.9)
    if kind == "adam":
        return Adam(groups, lr=lrs[0])
    return Adagrad(groups, lr=lrs[0])


def trace(opt, sched, n_steps, epochs=None):
    """Learning rates and momenta of all groups at epoch 0 and after each step."""
    def row():
        lr = [g["lr"] for g in opt.param_groups]
        mom = [g["betas"][0] if "betas" in g else g.get("momentum", np.nan)
               for g in opt.param_groups]
        return lr, mom

    rows = [row()]
    for t in range(n_steps):
        if epochs is None:
            sched.step()
        else:
            sched.step(epochs[t])
        rows.append(row())
    lrs = np.array([r[0] for r in rows], dtype=np.float64)
    moms = np.array([r[1] for r in rows], dtype=np.float64)
    return lrs, moms


def table(fn, n_steps, n_groups=2):
    """``fn(group, t)`` for t = 0..n_steps, as an (n_steps + 1, n_groups) array."""
    return np.array([[fn(i, t) for i in range(n_groups)] for t in range(n_steps + 1)])


# ---------------------------------------------------------------------------
# Closed forms, written from the definitions.
# ---------------------------------------------------------------------------
def ref_step(base, t, step_size, gamma):
    n_decays = sum(1 for k in range(1, t + 1) if k % step_size == 0)
    return base * gamma ** n_decays


def ref_multistep(base, t, milestones, gamma):
    return base * gamma ** sum(1 for m in milestones if m <= t)


def ref_cosine(base, t, T_max, eta_min):
    return eta_min + 0.5 * (base - eta_min) * (1.0 + math.cos(math.pi * t / T_max))


def ref_linear(base, t, start, end, total):
    return base * (start + (end - start) * min(t, total) / total)


def ref_poly(base, t, total, power):
    return base * (1.0 - min(t, total) / total) ** power


def ref_warm_restarts(base, epoch, T_0, T_mult, eta_min):
    """SGDR at a (possibly fractional) epoch: walk the cycles to find T_cur, T_i."""
    start, T_i = 0, T_0
    while epoch >= start + T_i:
        start += T_i
        T_i *= T_mult
    T_cur = epoch - start
    return eta_min + 0.5 * (base - eta_min) * (1.0 + math.cos(math.pi * T_cur / T_i))


def ref_cyclic(t, lo, hi, up, down, scale):
    """Triangle wave between lo and hi; ``scale(cycle, t)`` shrinks the amplitude."""
    period = up + down
    cycle = t // period + 1
    p = t % period
    h = p / up if p <= up else (period - p) / down
    return lo + (hi - lo) * h * scale(cycle, t), h * scale(cycle, t)


def ref_onecycle(t, N, pct, peak, div, final_div, strategy, three_phase, m_lo, m_hi):
    """1cycle: (lr, momentum) at step t."""
    lr0 = peak / div
    lr_end = lr0 / final_div
    if three_phase:
        phases = [(pct * N - 1, lr0, peak, m_hi, m_lo),
                  (2 * pct * N - 2, peak, lr0, m_lo, m_hi),
                  (N - 1, lr0, lr_end, m_hi, m_hi)]
    else:
        phases = [(pct * N - 1, lr0, peak, m_hi, m_lo),
                  (N - 1, peak, lr_end, m_lo, m_hi)]

    def anneal(a, b, rho):
        if strategy == "cos":
            return b + 0.5 * (a - b) * (1.0 + math.cos(math.pi * rho))
        return a + (b - a) * rho

    begin = 0.0
    for k, (end, a, b, ma, mb) in enumerate(phases):
        if t <= end or k == len(phases) - 1:
            rho = (t - begin) / (end - begin)
            return anneal(a, b, rho), anneal(ma, mb, rho)
        begin = end


# ---------------------------------------------------------------------------
# Each schedule against its closed form.
# ---------------------------------------------------------------------------
CLOSED_FORM_CASES = {
    "step": (lambda o: StepLR(o, step_size=7, gamma=0.5),
             lambda b, t: ref_step(b, t, 7, 0.5)),
    "multistep": (lambda o: MultiStepLR(o, milestones=[10, 25, 26, 90], gamma=0.3),
                  lambda b, t: ref_multistep(b, t, [10, 25, 26, 90], 0.3)),
    "exponential": (lambda o: ExponentialLR(o, gamma=0.97),
                    lambda b, t: b * 0.97 ** t),
    "cosine": (lambda o: CosineAnnealingLR(o, T_max=40),
               lambda b, t: ref_cosine(b, t, 40, 0.0)),
    "cosine-eta_min": (lambda o: CosineAnnealingLR(o, T_max=37, eta_min=1e-3),
                       lambda b, t: ref_cosine(b, t, 37, 1e-3)),
    "linear-warmup": (lambda o: LinearLR(o, start_factor=0.25, total_iters=40),
                      lambda b, t: ref_linear(b, t, 0.25, 1.0, 40)),
    "linear-default": (lambda o: LinearLR(o),
                       lambda b, t: ref_linear(b, t, 1 / 3, 1.0, 5)),
    "linear-decay": (lambda o: LinearLR(o, start_factor=1.0, end_factor=0.05,
                                        total_iters=100),
                     lambda b, t: ref_linear(b, t, 1.0, 0.05, 100)),
    "polynomial": (lambda o: PolynomialLR(o, total_iters=100, power=2.0),
                   lambda b, t: ref_poly(b, t, 100, 2.0)),
    "polynomial-sqrt": (lambda o: PolynomialLR(o, total_iters=120, power=0.5),
                        lambda b, t: ref_poly(b, t, 120, 0.5)),
    "warm-restarts-Tmult1": (
        lambda o: CosineAnnealingWarmRestarts(o, T_0=10, eta_min=1e-3),
        lambda b, t: ref_warm_restarts(b, t, 10, 1, 1e-3)),
    "warm-restarts-Tmult2": (
        lambda o: CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
        lambda b, t: ref_warm_restarts(b, t, 3, 2, 0.0)),
    "invscaling": (lambda o: InverseScalingLR(o, power_t=0.25),
                   lambda b, t: b / (t + 1) ** 0.25),
    "sequential-warmup-cosine": (
        lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.1, total_iters=5),
                                   CosineAnnealingLR(o, T_max=95, eta_min=1e-3)],
                               milestones=[5]),
        lambda b, t: (ref_linear(b, t, 0.1, 1.0, 5) if t < 5
                      else ref_cosine(b, t - 5, 95, 1e-3))),
    "sequential-three": (
        lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.5, total_iters=4),
                                   ExponentialLR(o, gamma=0.9),
                                   StepLR(o, step_size=10, gamma=0.5)],
                               milestones=[4, 40]),
        lambda b, t: (ref_linear(b, t, 0.5, 1.0, 4) if t < 4
                      else b * 0.9 ** (t - 4) if t < 40
                      else ref_step(b, t - 40, 10, 0.5))),
}


@pytest.mark.parametrize("name", list(CLOSED_FORM_CASES))
def test_schedule_equals_closed_form(name):
    build, ref = CLOSED_FORM_CASES[name]
    opt = make_optimizer()
    sched = build(opt)
    lrs, _ = trace(opt, sched, N_STEPS)
    expected = table(lambda i, t: ref(LRS[i], t), N_STEPS)
    np.testing.assert_allclose(lrs, expected, rtol=RTOL, atol=0)
    np.testing.assert_allclose(sched.get_last_lr(), expected[-1], rtol=RTOL, atol=0)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)


def test_construction_sets_initial_lr_and_epoch_zero_value():
    opt = make_optimizer()
    sched = StepLR(opt, step_size=1, gamma=0.5)
    assert sched.last_epoch == 0
    assert sched.base_lrs == list(LRS)
    assert [g["lr"] for g in opt.param_groups] == list(LRS)
    warm = LinearLR(opt, start_factor=0.5)          # a second scheduler keeps initial_lr
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    assert warm.get_last_lr() == [0.05, 0.01]
    last = warm.get_last_lr()
    last[0] = 123.0                                  # a copy, not the scheduler's list
    assert warm.get_last_lr() == [0.05, 0.01]


def test_step_with_epoch_uses_closed_form_and_resume_by_last_epoch():
    opt = make_optimizer()
    sched = CosineAnnealingLR(opt, T_max=30, eta_min=1e-3)
    sched.step(12)
    assert sched.last_epoch == 12
    np.testing.assert_allclose(sched.get_last_lr(), [ref_cosine(b, 12, 30, 1e-3) for b in LRS],
                               rtol=RTOL)
    # A new scheduler resuming at last_epoch=12 is at epoch 13.
    resumed = CosineAnnealingLR(opt, T_max=30, eta_min=1e-3, last_epoch=12)
    np.testing.assert_allclose(resumed.get_last_lr(),
                               [ref_cosine(b, 13, 30, 1e-3) for b in LRS], rtol=RTOL)


def test_scheduled_lr_is_what_the_optimizer_uses():
    w = Parameter(np.ones(3))
    opt = SGD([w], lr=0.1)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    expected = np.ones(3)
    for t in range(5):
        w.grad = np.ones(3)
        opt.step()
        expected -= 0.1 * 0.5 ** t
        sched.step()
    np.testing.assert_allclose(w.data, expected, rtol=RTOL)


# ---------------------------------------------------------------------------
# Warm restarts with fractional epochs.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("T_0, T_mult", [(5, 1), (5, 2), (2, 3)])
def test_warm_restarts_fractional_epochs(T_0, T_mult):
    n_batches = 4
    epochs = [e + i / n_batches for e in range(40) for i in range(n_batches)]
    opt = make_optimizer()
    sched = CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=2e-3)
    lrs, _ = trace(opt, sched, len(epochs), epochs=epochs)
    epoch_of_row = [0.0] + epochs
    expected = np.array([[ref_warm_restarts(b, e, T_0, T_mult, 2e-3) for b in LRS]
                         for e in epoch_of_row])
    np.testing.assert_allclose(lrs, expected, rtol=RTOL, atol=0)


def test_warm_restarts_step_after_fractional_epoch():
    opt = make_optimizer()
    sched = CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    sched.step(2.5)
    assert sched.last_epoch == 2 and sched.T_cur == 2.5
    sched.step()                                     # T_cur and last_epoch both + 1
    assert sched.last_epoch == 3 and sched.T_cur == 3.5
    sched.step()                                     # 4.5 >= T_i = 4: restart, T_i = 8
    assert sched.last_epoch == 4 and sched.T_cur == 0.5 and sched.T_i == 8
    np.testing.assert_allclose(sched.get_last_lr(),
                               [ref_warm_restarts(b, 4.5, 4, 2, 0.0) for b in LRS],
                               rtol=RTOL)


def test_warm_restarts_exact_restart_epochs():
    # T_mult=10: cycles start at 0, 1, 11, 111, 1111; torch's log() rounding
    # puts epoch 111 at the end of the cycle of length 100 (lr = eta_min).
    opt = make_optimizer()
    sched = CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=10)
    for epoch in (111, 110.5, 1111, 11, 10.75, 1110):
        sched.step(epoch)
        np.testing.assert_allclose(sched.get_last_lr(),
                                   [ref_warm_restarts(b, epoch, 1, 10, 0.0) for b in LRS],
                                   rtol=RTOL)
    sched.step(111)
    assert sched.get_last_lr() == list(LRS)


# ---------------------------------------------------------------------------
# Cyclic schedules and momentum cycling.
# ---------------------------------------------------------------------------
CYCLIC_CASES = {
    "triangular": (dict(step_size_up=7), 7, 7, lambda c, t: 1.0),
    "triangular2": (dict(step_size_up=5, step_size_down=9, mode="triangular2"), 5, 9,
                    lambda c, t: 0.5 ** (c - 1)),
    "exp_range": (dict(step_size_up=6, step_size_down=4, mode="exp_range", gamma=0.99),
                  6, 4, lambda c, t: 0.99 ** t),
    "scale_fn-cycle": (dict(step_size_up=8, scale_fn=lambda x: 1.0 / x), 8, 8,
                       lambda c, t: 1.0 / c),
    "scale_fn-iterations": (dict(step_size_up=3, step_size_down=5,
                                 scale_fn=lambda x: 1.0 / (1.0 + 0.01 * x),
                                 scale_mode="iterations"), 3, 5,
                            lambda c, t: 1.0 / (1.0 + 0.01 * t)),
}
CYC_BASE, CYC_MAX = [0.01, 0.002], [0.1, 0.05]
MOM_BASE, MOM_MAX = [0.8, 0.7], [0.9, 0.95]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(CYCLIC_CASES))
def test_cyclic_lr_and_momentum(name, kind):
    kwargs, up, down, scale = CYCLIC_CASES[name]
    opt = make_optimizer(kind)
    sched = CyclicLR(opt, base_lr=CYC_BASE, max_lr=CYC_MAX, base_momentum=MOM_BASE,
                     max_momentum=MOM_MAX, **kwargs)
    lrs, moms = trace(opt, sched, N_STEPS)
    exp_lr = table(lambda i, t: ref_cyclic(t, CYC_BASE[i], CYC_MAX[i], up, down, scale)[0],
                   N_STEPS)
    exp_m = table(lambda i, t: MOM_MAX[i] - (MOM_MAX[i] - MOM_BASE[i])
                  * ref_cyclic(t, 0, 1, up, down, scale)[1], N_STEPS)
    np.testing.assert_allclose(lrs, exp_lr, rtol=RTOL, atol=0)
    np.testing.assert_allclose(moms, exp_m, rtol=RTOL, atol=0)
    if kind == "adam":
        assert all(g["betas"][1] == 0.999 for g in opt.param_groups)


def test_cyclic_without_momentum_cycling_and_momentum_check():
    opt = make_optimizer("adagrad")
    with pytest.raises(ValueError, match="cycle_momentum"):
        CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
    sched = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False)
    lrs, _ = trace(opt, sched, 20)
    np.testing.assert_allclose(
        lrs, table(lambda i, t: ref_cyclic(t, 0.01, 0.1, 4, 4, lambda c, t: 1.0)[0], 20),
        rtol=RTOL)
    assert "momentum" not in opt.param_groups[0]


ONECYCLE_CASES = {
    "cos": dict(total_steps=120),
    "linear": dict(total_steps=120, anneal_strategy="linear", pct_start=0.25),
    "three-phase-cos": dict(total_steps=130, three_phase=True, pct_start=0.35),
    "three-phase-linear": dict(epochs=12, steps_per_epoch=10, three_phase=True,
                               anneal_strategy="linear"),
    "factors": dict(total_steps=101, div_factor=10.0, final_div_factor=100.0,
                    pct_start=0.4),
}
OC_PEAK = [0.5, 0.1]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(ONECYCLE_CASES))
def test_onecycle_lr_and_momentum(name, kind):
    kwargs = ONECYCLE_CASES[name]
    opt = make_optimizer(kind)
    sched = OneCycleLR(opt, max_lr=OC_PEAK, **kwargs)
    N = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    pct = kwargs.get("pct_start", 0.3)
    strategy = kwargs.get("anneal_strategy", "cos")
    div, final_div = kwargs.get("div_factor", 25.0), kwargs.get("final_div_factor", 1e4)
    three = kwargs.get("three_phase", False)
    lrs, moms = trace(opt, sched, N)                 # N steps after construction: allowed

    def ref(i, t):
        return ref_onecycle(t, N, pct, OC_PEAK[i], div, final_div, strategy, three,
                            0.85, 0.95)

    np.testing.assert_allclose(lrs, table(lambda i, t: ref(i, t)[0], N), rtol=RTOL, atol=0)
    np.testing.assert_allclose(moms, table(lambda i, t: ref(i, t)[1], N), rtol=RTOL, atol=0)
    assert lrs[0, 0] == pytest.approx(OC_PEAK[0] / div)
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()


# ---------------------------------------------------------------------------
# ReduceLROnPlateau with scripted metrics.
# ---------------------------------------------------------------------------
def test_plateau_abs_min_patience_cooldown_min_lr():
    opt = make_optimizer()
    sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, threshold=0.5,
                              threshold_mode="abs", cooldown=2, min_lr=[0.02, 0.004])
    metrics = [10, 9.6, 9.4, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0,
               2.0, 2.0]
    expected = ([(0.1, 0.02)] * 4 + [(0.05, 0.01)] * 4 + [(0.025, 0.005)] * 4
                + [(0.02, 0.004)] * 5)
    got = []
    for m in metrics:
        sched.step(m)
        got.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    assert sched.get_last_lr() == got[-1]
    assert sched.last_epoch == len(metrics)


def test_plateau_rel_max_patience_zero_and_eps():
    opt = make_optimizer(lrs=(0.1, 1e-8))
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, threshold=0.1)
    metrics = [0.5, 0.54, 0.56, 0.6, 0.7, 0.78, 0.78]
    # The second group's reduction (1e-8 -> 1e-9) is below eps=1e-8: skipped.
    expected = ([(0.1, 1e-8)] + [(0.01, 1e-8)] * 2 + [(0.001, 1e-8)] * 3
                + [(1e-4, 1e-8)])
    got = []
    for m in metrics:
        sched.step(np.float64(m))
        got.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def ref_plateau(metrics, lrs, mode, factor, patience, threshold, threshold_mode, cooldown,
                min_lrs, eps):
    """The plateau rule, step by step, on plain floats."""
    improves = {
        ("min", "rel"): lambda a, best: a < best * (1 - threshold),
        ("min", "abs"): lambda a, best: a < best - threshold,
        ("max", "rel"): lambda a, best: a > best * (1 + threshold),
        ("max", "abs"): lambda a, best: a > best + threshold,
    }[mode, threshold_mode]
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    lrs = list(lrs)
    out = []
    for a in metrics:
        bad = 0 if improves(a, best) else bad + 1
        if bad == 0:
            best = a
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            lrs = [max(lr * factor, lo) if lr - max(lr * factor, lo) > eps else lr
                   for lr, lo in zip(lrs, min_lrs)]
            cool, bad = cooldown, 0
        out.append(list(lrs))
    return np.array(out)


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode, threshold", [("rel", 1e-2), ("abs", 0.05)])
def test_plateau_long_noisy_sequence(mode, threshold_mode, threshold):
    rng = np.random.default_rng(0)
    n = 160
    trend = np.linspace(5.0, 1.0, n) ** 2 / 5
    metrics = trend + 0.2 * rng.standard_normal(n)
    if mode == "max":
        metrics = -metrics
    opt = make_optimizer()
    kw = dict(mode=mode, factor=0.7, patience=3, threshold=threshold,
              threshold_mode=threshold_mode, cooldown=2, min_lr=[1e-3, 5e-3], eps=1e-9)
    sched = ReduceLROnPlateau(opt, **kw)
    got = []
    for m in metrics:
        sched.step(m)
        got.append([g["lr"] for g in opt.param_groups])
    expected = ref_plateau(metrics, LRS, kw["mode"], kw["factor"], kw["patience"],
                           threshold, threshold_mode, kw["cooldown"], kw["min_lr"],
                           kw["eps"])
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    assert len(np.unique(np.array(got)[:, 0])) >= 4    # several reductions happened


# ---------------------------------------------------------------------------
# state_dict round trips.
# ---------------------------------------------------------------------------
ROUND_TRIP_CASES = {
    **{name: (build, "sgd") for name, (build, _) in CLOSED_FORM_CASES.items()},
    "cyclic-adam": (lambda o: CyclicLR(o, base_lr=CYC_BASE, max_lr=CYC_MAX, step_size_up=5,
                                       mode="exp_range", gamma=0.98), "adam"),
    "onecycle-three-phase": (lambda o: OneCycleLR(o, max_lr=OC_PEAK, total_steps=90,
                                                  three_phase=True), "sgd"),
    "onecycle-adam": (lambda o: OneCycleLR(o, max_lr=OC_PEAK, total_steps=90), "adam"),
    "sequential-warmup-onecycle": (
        lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.2, total_iters=10),
                                   OneCycleLR(o, max_lr=OC_PEAK, total_steps=80)],
                               milestones=[15]), "sgd"),
    "sequential-saved-in-warmup": (
        lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.2, total_iters=40),
                                   OneCycleLR(o, max_lr=OC_PEAK, total_steps=60)],
                               milestones=[45]), "sgd"),
}


def _drive(sched, n, start=0, epochs=None):
    out = []
    for t in range(start, start + n):
        if isinstance(sched, ReduceLROnPlateau):
            sched.step(1.0 + (t % 7 == 0) * -0.1 * t)
        elif epochs is not None:
            sched.step(epochs[t])
        else:
            sched.step()
        out.append([g["lr"] for g in sched.optimizer.param_groups]
                   + [g.get("momentum", 0.0) for g in sched.optimizer.param_groups])
    return out


def _group_values(opt):
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]


@pytest.mark.parametrize("load_optimizer", [True, False])
@pytest.mark.parametrize("name", [*ROUND_TRIP_CASES, "plateau", "warm-restarts-fractional"])
def test_state_dict_round_trip_continues_identically(name, load_optimizer):
    epochs = None
    if name == "plateau":
        build, kind = (lambda o: ReduceLROnPlateau(o, patience=2, cooldown=1, factor=0.5),
                       "sgd")
    elif name == "warm-restarts-fractional":
        build, kind = lambda o: CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), "sgd"
        epochs = [k / 3 for k in range(200)]
    else:
        build, kind = ROUND_TRIP_CASES[name]
    n_before, n_after = 37, 50

    opt = make_optimizer(kind)
    sched = build(opt)
    _drive(sched, n_before, epochs=epochs)
    saved = pickle.loads(pickle.dumps((opt.state_dict(), sched.state_dict())))
    at_save = _group_values(opt)
    reference = _drive(sched, n_after, n_before, epochs=epochs)

    opt2 = make_optimizer(kind)
    sched2 = build(opt2)
    if load_optimizer:
        opt2.load_state_dict(saved[0])
    sched2.load_state_dict(saved[1])
    assert sched2.optimizer is opt2
    # Loading the scheduler alone puts the optimizer where the schedule was.
    assert _group_values(opt2) == at_save
    assert sched2.get_last_lr() == [g["lr"] for g in opt2.param_groups]
    resumed = _drive(sched2, n_after, n_before, epochs=epochs)
    assert resumed == reference


def test_state_dict_is_a_copy():
    opt = make_optimizer()
    sched = MultiStepLR(opt, milestones=[3, 6], gamma=0.5)
    state = sched.state_dict()
    assert "optimizer" not in state
    state["milestones"].append(1)
    state["base_lrs"][0] = 7.0
    assert sched.milestones == [3, 6] and sched.base_lrs == list(LRS)
    sched.load_state_dict(state)
    state["base_lrs"][0] = 9.0
    assert sched.base_lrs[0] == 7.0


def test_sequential_state_dict_holds_sub_schedulers():
    opt = make_optimizer()
    sched = SequentialLR(opt, [LinearLR(opt), CosineAnnealingLR(opt, T_max=10)], [5])
    state = sched.state_dict()
    assert len(state["_schedulers"]) == 2 and "optimizer" not in state["_schedulers"][0]
    other = SequentialLR(opt, [LinearLR(opt)], [])
    with pytest.raises(ValueError, match="scheduler"):
        other.load_state_dict(state)


# ---------------------------------------------------------------------------
# Invalid arguments.
# ---------------------------------------------------------------------------
def _other_optimizer_sequence(o):
    foreign = StepLR(make_optimizer(), step_size=2)
    return SequentialLR(o, [LinearLR(o), foreign], milestones=[3])


INVALID = [
    (lambda o: StepLR(o, step_size=0), "step_size"),
    (lambda o: StepLR(o, step_size=2.5), "step_size"),
    (lambda o: StepLR(o, step_size=3, gamma=0), "gamma"),
    (lambda o: MultiStepLR(o, milestones=[5, 3]), "milestones.*increasing"),
    (lambda o: MultiStepLR(o, milestones=[3, 3]), "milestones.*increasing"),
    (lambda o: MultiStepLR(o, milestones=[-1, 3]), "milestones"),
    (lambda o: MultiStepLR(o, milestones="10"), "milestones"),
    (lambda o: ExponentialLR(o, gamma=-0.5), "gamma"),
    (lambda o: ExponentialLR(o, gamma=float("nan")), "gamma"),
    (lambda o: CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: CosineAnnealingLR(o, T_max=10, eta_min=-1), "eta_min"),
    (lambda o: CosineAnnealingWarmRestarts(o, T_0=0), "T_0"),
    (lambda o: CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), "T_mult"),
    (lambda o: CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), "T_mult"),
    (lambda o: LinearLR(o, start_factor=0), "start_factor"),
    (lambda o: LinearLR(o, start_factor=1.5), "start_factor"),
    (lambda o: LinearLR(o, end_factor=1.5), "end_factor"),
    (lambda o: LinearLR(o, total_iters=0), "total_iters"),
    (lambda o: PolynomialLR(o, total_iters=0), "total_iters"),
    (lambda o: PolynomialLR(o, power=-1.0), "power"),
    (lambda o: CyclicLR(o, 0.01, 0.1, mode="sawtooth"),
     "mode.*'triangular', 'triangular2', 'exp_range'"),
    (lambda o: CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up"),
    (lambda o: CyclicLR(o, 0.01, 0.1, step_size_down=0), "step_size_down"),
    (lambda o: CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="epochs"),
     "scale_mode.*'cycle', 'iterations'"),
    (lambda o: CyclicLR(o, [0.01], 0.1), "base_lr.*per parameter group"),
    (lambda o: CyclicLR(o, 0.01, [0.1, -0.1]), r"max_lr\[1\]"),
    (lambda o: CyclicLR(o, 0.01, 0.1, mode="exp_range", gamma=0), "gamma"),
    (lambda o: OneCycleLR(o, 0.1, total_steps=100, anneal_strategy="cosine"),
     "anneal_strategy.*'cos', 'linear'"),
    (lambda o: OneCycleLR(o, 0.1), "total_steps"),
    (lambda o: OneCycleLR(o, 0.1, epochs=3), "total_steps"),
    (lambda o: OneCycleLR(o, 0.1, total_steps=0), "total_steps"),
    (lambda o: OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=10), "epochs"),
    (lambda o: OneCycleLR(o, 0.1, total_steps=100, pct_start=1.5), "pct_start"),
    (lambda o: OneCycleLR(o, 0.1, total_steps=100, pct_start=0.6, three_phase=True),
     "pct_start"),
    (lambda o: OneCycleLR(o, 0.1, total_steps=10, pct_start=0.1), "zero steps"),
    (lambda o: OneCycleLR(o, 0.1, total_steps=100, div_factor=0), "div_factor"),
    (lambda o: OneCycleLR(o, 0.1, total_steps=100, final_div_factor=-1), "final_div_factor"),
    (lambda o: OneCycleLR(o, [0.1, 0.2, 0.3], total_steps=100), "max_lr"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), "factor.*< 1"),
    (lambda o: ReduceLROnPlateau(o, factor=2.0), "factor.*< 1"),
    (lambda o: ReduceLROnPlateau(o, mode="minimum"), "mode.*'min', 'max'"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="relative"),
     "threshold_mode.*'rel', 'abs'"),
    (lambda o: ReduceLROnPlateau(o, patience=-1), "patience"),
    (lambda o: ReduceLROnPlateau(o, cooldown=-1), "cooldown"),
    (lambda o: ReduceLROnPlateau(o, min_lr=[0.0]), "min_lr"),
    (lambda o: ReduceLROnPlateau(o, eps=-1e-8), "eps"),
    (lambda o: SequentialLR(o, [LinearLR(o), StepLR(o, 5)], milestones=[]), "milestones"),
    (lambda o: SequentialLR(o, [LinearLR(o), StepLR(o, 5), ExponentialLR(o, 0.9)],
                            milestones=[10, 5]), "milestones.*increasing"),
    (lambda o: SequentialLR(o, [LinearLR(o), StepLR(o, 5)], milestones=[0]), "milestones"),
    (lambda o: SequentialLR(o, [], milestones=[]), "schedulers"),
    (lambda o: SequentialLR(o, [LinearLR(o), ReduceLROnPlateau(o)], milestones=[5]),
     "ReduceLROnPlateau"),
    (_other_optimizer_sequence, "another optimizer"),
    (lambda o: StepLR(o, step_size=2, last_epoch=-2), "last_epoch"),
]


@pytest.mark.parametrize("build, match", INVALID)
def test_invalid_arguments_raise(build, match):
    with pytest.raises(ValueError, match=match):
        build(make_optimizer())


def test_invalid_optimizer_and_resume_without_initial_lr():
    with pytest.raises(TypeError, match="Optimizer"):
        StepLR(object(), step_size=3)
    with pytest.raises(ValueError, match="initial_lr"):
        StepLR(make_optimizer(), step_size=3, last_epoch=4)
    with pytest.raises(ValueError, match="epoch"):
        CosineAnnealingWarmRestarts(make_optimizer(), T_0=3).step(-1.0)


def test_group_added_after_scheduler_is_an_error():
    opt = make_optimizer()
    sched = StepLR(opt, step_size=2)
    opt.add_param_group({"params": [Parameter(np.zeros(1))], "lr": 0.3})
    with pytest.raises(ValueError, match="parameter group"):
        sched.step()


# ---------------------------------------------------------------------------
# Factory and helpers for estimators.
# ---------------------------------------------------------------------------
FACTORY_KWARGS = {
    "step": dict(step_size=3),
    "multistep": dict(milestones=[2, 4]),
    "exponential": dict(gamma=0.9),
    "cosine": dict(T_max=10),
    "cosine_warm_restarts": dict(T_0=5),
    "linear": dict(),
    "cyclic": dict(base_lr=0.01, max_lr=0.1, step_size_up=4),
    "onecycle": dict(max_lr=0.1, total_steps=20),
    "polynomial": dict(total_iters=8),
    "plateau": dict(patience=2),
    "invscaling": dict(power_t=0.3),
}
FACTORY_CLASSES = {
    "step": StepLR, "multistep": MultiStepLR, "exponential": ExponentialLR,
    "cosine": CosineAnnealingLR, "cosine_warm_restarts": CosineAnnealingWarmRestarts,
    "linear": LinearLR, "cyclic": CyclicLR, "onecycle": OneCycleLR,
    "polynomial": PolynomialLR, "plateau": ReduceLROnPlateau, "invscaling": InverseScalingLR,
}


@pytest.mark.parametrize("name", list(FACTORY_CLASSES))
def test_make_scheduler_by_name_and_class(name):
    assert name in SCHEDULER_NAMES
    opt = make_optimizer()
    sched = make_scheduler(name, opt, **FACTORY_KWARGS[name])
    assert type(sched) is FACTORY_CLASSES[name] and sched.optimizer is opt
    same = make_scheduler(FACTORY_CLASSES[name], make_optimizer(), **FACTORY_KWARGS[name])
    assert same.get_last_lr() == sched.get_last_lr()
    assert scheduler_steps_per_batch(sched) is (name in ("cyclic", "onecycle"))
    assert needs_metric(sched) is (name == "plateau")
    assert needs_metric(FACTORY_CLASSES[name]) is (name == "plateau")


def test_make_scheduler_callable_instance_none_and_errors():
    opt = make_optimizer()

    def warmup_cosine(o, warmup=3):
        return SequentialLR(o, [LinearLR(o, start_factor=0.1, total_iters=warmup),
                                CosineAnnealingLR(o, T_max=20)], milestones=[warmup])

    sched = make_scheduler(warmup_cosine, opt, warmup=4)
    assert isinstance(sched, SequentialLR) and sched.get_last_lr() == pytest.approx(
        [0.01, 0.002])
    assert scheduler_steps_per_batch(sched) is False
    assert make_scheduler(sched, opt) is sched
    assert make_scheduler(None, opt) is None

    with pytest.raises(ValueError, match="'step', 'multistep'.*'plateau'"):
        make_scheduler("cosine_annealing", opt)
    with pytest.raises(ValueError, match="StepLR.*step_size"):
        make_scheduler("step", opt)
    with pytest.raises(ValueError, match="T_max"):
        make_scheduler("cosine", opt, T_max=5, tmax=3)
    with pytest.raises(ValueError, match="another optimizer"):
        make_scheduler(sched, make_optimizer())
    with pytest.raises(ValueError, match="another optimizer"):
        make_scheduler(lambda o: StepLR(make_optimizer(), 2), opt)
    with pytest.raises(TypeError, match="LRScheduler"):
        make_scheduler(lambda o: 0.1, opt)
    with pytest.raises(TypeError):
        make_scheduler(3, opt)

    per_batch = SequentialLR(opt, [LinearLR(opt), OneCycleLR(opt, 0.1, total_steps=50)],
                             milestones=[5])
    assert scheduler_steps_per_batch(per_batch) is True
    cosine = CosineAnnealingLR(opt, T_max=1000)
    cosine.step_per_batch = True                     # a per-batch cosine schedule
    assert scheduler_steps_per_batch(cosine) is True
    assert scheduler_steps_per_batch(CyclicLR) is True
    with pytest.raises(TypeError):
        needs_metric("plateau")


def test_inverse_scaling_clocked_in_samples_seen():
    # scikit-learn's invscaling: after each epoch the estimator passes t = samples seen
    opt = make_optimizer()
    sched = InverseScalingLR(opt, power_t=0.5)
    for epoch in range(1, 6):
        sched.step(epoch * 150)
        np.testing.assert_allclose(sched.get_last_lr(),
                                   [b / (150 * epoch + 1) ** 0.5 for b in LRS], rtol=1e-15)
    with pytest.raises(ValueError, match="power_t"):
        InverseScalingLR(make_optimizer(), power_t=-1.0)


def test_public_module():
    from sklears_neural import optim

    assert optim.lr_scheduler is lr_scheduler
    assert "lr_scheduler" in optim.__all__
    for name in lr_scheduler.__all__:
        obj = getattr(lr_scheduler, name)
        if callable(obj):
            assert obj.__doc__, name
    assert issubclass(ReduceLROnPlateau, LRScheduler)


# ---------------------------------------------------------------------------
# Against torch.optim.lr_scheduler.
# ---------------------------------------------------------------------------
TORCH_CASES = {
    "step": (lambda L, o: L.StepLR(o, step_size=7, gamma=0.5), "sgd"),
    "multistep": (lambda L, o: L.MultiStepLR(o, milestones=[10, 25, 26, 90], gamma=0.3),
                  "sgd"),
    "exponential": (lambda L, o: L.ExponentialLR(o, gamma=0.97), "sgd"),
    "cosine": (lambda L, o: L.CosineAnnealingLR(o, T_max=40), "sgd"),
    "cosine-eta_min": (lambda L, o: L.CosineAnnealingLR(o, T_max=37, eta_min=1e-3), "adam"),
    "linear": (lambda L, o: L.LinearLR(o, start_factor=0.25, total_iters=40), "sgd"),
    "linear-decay": (lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05,
                                             total_iters=100), "sgd"),
    "polynomial": (lambda L, o: L.PolynomialLR(o, total_iters=100, power=2.0), "sgd"),
    "polynomial-sqrt": (lambda L, o: L.PolynomialLR(o, total_iters=120, power=0.5), "sgd"),
    "warm-restarts-Tmult1": (lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=10, eta_min=1e-3), "sgd"),
    "warm-restarts-Tmult2": (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
                             "sgd"),
    "sequential-warmup-cosine": (lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
            L.CosineAnnealingLR(o, T_max=95, eta_min=1e-3)], milestones=[5]), "sgd"),
    "sequential-three": (lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.5, total_iters=4), L.ExponentialLR(o, gamma=0.9),
            L.StepLR(o, step_size=10, gamma=0.5)], milestones=[4, 40]), "sgd"),
    **{f"cyclic-{name}-{kind}": (
        (lambda kw: lambda L, o: L.CyclicLR(o, base_lr=CYC_BASE, max_lr=CYC_MAX,
                                            base_momentum=MOM_BASE, max_momentum=MOM_MAX,
                                            **kw))(kwargs), kind)
       for name, (kwargs, *_) in CYCLIC_CASES.items() for kind in ("sgd", "adam")},
    **{f"onecycle-{name}-{kind}": (
        (lambda kw: lambda L, o: L.OneCycleLR(o, max_lr=OC_PEAK, **kw))(kwargs), kind,
        kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"])
       for name, kwargs in ONECYCLE_CASES.items() for kind in ("sgd", "adam")},
}


def _torch_optimizer(torch, kind, lrs=LRS):
    groups = [{"params": [torch.zeros(2, dtype=torch.float64, requires_grad=True)], "lr": lr}
              for lr in lrs]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    return torch.optim.Adam(groups, lr=lrs[0])


def _torch_trace(opt, sched, n_steps, epochs=None, metrics=None):
    def row():
        return ([g["lr"] for g in opt.param_groups]
                + [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups])

    rows = [row()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")               # torch's step(epoch) deprecation
        for t in range(n_steps):
            opt.step()
            if metrics is not None:
                sched.step(metrics[t])
            elif epochs is not None:
                sched.step(epochs[t])
            else:
                sched.step()
            rows.append(row())
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    build, kind, n_steps = (*TORCH_CASES[name], N_STEPS)[:3]
    t_opt = _torch_optimizer(torch, kind)
    expected = _torch_trace(t_opt, build(torch.optim.lr_scheduler, t_opt), n_steps)
    opt = make_optimizer(kind)
    lrs, moms = trace(opt, build(lr_scheduler, opt), n_steps)
    np.testing.assert_allclose(lrs, expected[:, :2], rtol=RTOL, atol=0)
    np.testing.assert_allclose(moms, expected[:, 2:], rtol=RTOL, atol=0)


@pytest.mark.parametrize("T_0, T_mult", [(5, 1), (5, 2), (3, 2)])
def test_warm_restarts_fractional_matches_torch(T_0, T_mult):
    torch = pytest.importorskip("torch")
    epochs = [e + i / 4 for e in range(40) for i in range(4)]
    t_opt = _torch_optimizer(torch, "sgd")
    t_sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(t_opt, T_0=T_0,
                                                                   T_mult=T_mult)
    expected = _torch_trace(t_opt, t_sched, len(epochs), epochs=epochs)
    opt = make_optimizer()
    lrs, _ = trace(opt, CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult),
                   len(epochs), epochs=epochs)
    np.testing.assert_allclose(lrs, expected[:, :2], rtol=RTOL, atol=0)


@pytest.mark.parametrize("kw", [
    dict(mode="min", factor=0.5, patience=3, cooldown=2, min_lr=[1e-3, 5e-3]),
    dict(mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs",
         min_lr=2e-3),
    dict(mode="min", factor=0.9, patience=0, threshold=1e-2, eps=1e-3),
])
def test_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    metrics = (np.linspace(3, 1, 130) + 0.1 * rng.standard_normal(130)).tolist()
    if kw["mode"] == "max":
        metrics = [-m for m in metrics]
    t_opt = _torch_optimizer(torch, "sgd")
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kw)
    expected = _torch_trace(t_opt, t_sched, len(metrics), metrics=metrics)
    opt = make_optimizer()
    sched = ReduceLROnPlateau(opt, **kw)
    got = [[g["lr"] for g in opt.param_groups]]
    for m in metrics:
        sched.step(m)
        got.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(got, expected[:, :2], rtol=RTOL, atol=0)
    assert len(np.unique(expected[:, 0])) >= 3
