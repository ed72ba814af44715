"""Saving and restoring optimizer state: torch's layout, numpy arrays, exact resume."""

import pickle

import numpy as np
import pytest

from sklears_neural.nn import Parameter
from sklears_neural.optim import SGD, Adagrad, Adam, AdamW, RMSprop

SHAPES = [(4, 3), (3,), (2, 2, 2)]

VARIANTS = [
    (SGD, {"lr": 0.05}),
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}),
    (Adam, {"lr": 0.05}),
    (Adam, {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    (AdamW, {"lr": 0.05, "amsgrad": True}),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.9}),
    (RMSprop, {"lr": 0.01}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.3}),
]
VARIANT_PARAMS = [
    pytest.param(cls, hp, id=f"{cls.__name__}-" + "-".join(f"{k}={v}" for k, v in hp.items()))
    for cls, hp in VARIANTS
]


def make_params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(dtype)) for s in SHAPES]


def gradient_stream(n_steps, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) * (5.0 if t % 4 == 0 else 1.0) for s in SHAPES]
            for t in range(n_steps)]


def take_step(opt, params, grads, dtype=np.float64):
    for p, g in zip(params, grads):
        p.grad = g.astype(dtype)
    opt.step()


@pytest.mark.parametrize("cls, hp", VARIANT_PARAMS)
def test_resume_mid_run_gives_identical_trajectory(cls, hp):
    k, n = 4, 10
    grads = gradient_stream(n)

    params = make_params()
    opt = cls(params, **hp)
    for t in range(k):
        take_step(opt, params, grads[t])
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    values_at_k = [p.data.copy() for p in params]
    for t in range(k, n):
        take_step(opt, params, grads[t])

    # A fresh optimizer, fresh parameters and default hyperparameters: all
    # options come back from the state dict.
    resumed = [Parameter(v.copy()) for v in values_at_k]
    opt2 = cls(resumed)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == hp["lr"]
    for t in range(k, n):
        take_step(opt2, resumed, grads[t])
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("cls, hp", [  # plain SGD has no state to lose
    v for v in VARIANT_PARAMS if not (v.values[0] is SGD and "momentum" not in v.values[1])])
def test_restart_without_state_differs(cls, hp):
    """Sanity for the test above: dropping the state does change the run."""
    k, n = 4, 8
    grads = gradient_stream(n)
    params = make_params()
    opt = cls(params, **hp)
    for t in range(k):
        take_step(opt, params, grads[t])
    fresh = [Parameter(p.data.copy()) for p in params]
    opt_fresh = cls(fresh, **hp)
    for t in range(k, n):
        take_step(opt, params, grads[t])
        take_step(opt_fresh, fresh, grads[t])
    assert max(np.abs(p.data - q.data).max() for p, q in zip(params, fresh)) > 1e-6


def test_layout_matches_torch():
    params = make_params()
    extra = Parameter(np.zeros(2))
    opt = Adam([{"params": params[:2]}, {"params": [params[2], extra], "lr": 0.5}],
               lr=0.1, amsgrad=True)
    take_step(opt, params, gradient_stream(1)[0])  # extra has no grad
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1, 2]  # no state for the param without a grad
    for i, st in sd["state"].items():
        assert set(st) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
        assert type(st["step"]) is int and st["step"] == 1
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert type(st[name]) is np.ndarray and st[name].shape == SHAPES[i]


def test_layout_per_optimizer():
    def keys(opt):
        params = opt.param_groups[0]["params"]
        take_step(opt, params, gradient_stream(1)[0])
        return set(opt.state_dict()["state"].get(0, {}))

    assert keys(SGD(make_params(), momentum=0.9)) == {"momentum_buffer"}
    assert keys(SGD(make_params())) == set()
    assert keys(Adam(make_params())) == {"step", "exp_avg", "exp_avg_sq"}
    assert keys(RMSprop(make_params())) == {"step", "square_avg"}
    assert keys(RMSprop(make_params(), momentum=0.5, centered=True)) == {
        "step", "square_avg", "momentum_buffer", "grad_avg"}
    assert keys(Adagrad(make_params())) == {"step", "sum"}


def test_state_dict_is_a_copy():
    params = make_params()
    opt = Adam(params, lr=0.1)
    take_step(opt, params, gradient_stream(1)[0])
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"][...] = 123.0
    sd["param_groups"][0]["lr"] = 9.0
    assert not np.any(opt.state[params[0]]["exp_avg"] == 123.0)
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_copies_and_does_not_alias():
    params = make_params()
    opt = Adam(params, lr=0.1)
    take_step(opt, params, gradient_stream(1)[0])
    sd = opt.state_dict()
    snapshot = pickle.dumps(sd)

    other = make_params(seed=3)
    opt2 = Adam(other)
    opt2.load_state_dict(sd)
    assert pickle.dumps(sd) == snapshot  # the dict is not modified
    for i, p in enumerate(other):
        for name, value in opt2.state[p].items():
            if isinstance(value, np.ndarray):
                assert not np.shares_memory(value, sd["state"][i][name])
    sd["state"][0]["exp_avg"][...] = 7.0
    assert not np.any(opt2.state[other[0]]["exp_avg"] == 7.0)
    assert opt2.param_groups[0]["params"] == other


def test_load_casts_to_parameter_dtype():
    params64 = make_params()
    opt = RMSprop(params64, centered=True)
    take_step(opt, params64, gradient_stream(1)[0])
    params32 = make_params(dtype=np.float32)
    opt32 = RMSprop(params32)
    opt32.load_state_dict(opt.state_dict())
    for p in params32:
        for name in ("square_avg", "grad_avg"):
            assert opt32.state[p][name].dtype == np.float32
    take_step(opt32, params32, gradient_stream(2)[1], dtype=np.float32)
    assert all(p.data.dtype == np.float32 for p in params32)


def test_load_validates():
    params = make_params()
    opt = Adam(params)
    take_step(opt, params, gradient_stream(1)[0])
    sd = opt.state_dict()

    with pytest.raises(ValueError, match="parameter group"):
        Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter"):
        Adam(params[:2]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        Adam(params).load_state_dict({"state": {}})

    wrong_shape = [Parameter(np.zeros((3, 4))), *make_params()[1:]]
    target = Adam(wrong_shape)
    with pytest.raises(ValueError, match=r"exp_avg.*shape"):
        target.load_state_dict(sd)
    assert target.state == {}  # a failed load changes nothing

    bad_index = opt.state_dict()
    bad_index["state"][17] = bad_index["state"].pop(0)
    with pytest.raises(ValueError, match="17"):
        Adam(params).load_state_dict(bad_index)

    bad_lr = opt.state_dict()
    bad_lr["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        Adam(params).load_state_dict(bad_lr)


def test_load_restores_options_and_adamw_stays_decoupled():
    params = make_params()
    opt = AdamW(params, lr=0.3, weight_decay=0.2, betas=(0.5, 0.6))
    take_step(opt, params, gradient_stream(1)[0])
    sd = opt.state_dict()
    sd["param_groups"][0]["decoupled_weight_decay"] = False
    opt2 = AdamW(make_params())
    opt2.load_state_dict(sd)
    group = opt2.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["betas"]) == (0.3, 0.2, (0.5, 0.6))
    assert group["decoupled_weight_decay"] is True


def test_step_counts_come_back_as_int():
    params = make_params()
    opt = Adagrad(params)
    take_step(opt, params, gradient_stream(1)[0])
    sd = opt.state_dict()
    for st in sd["state"].values():
        st["step"] = np.float32(st["step"])  # e.g. converted from another library
    opt2 = Adagrad(make_params())
    opt2.load_state_dict(sd)
    assert all(type(st["step"]) is int and st["step"] == 1 for st in opt2.state.values())


@pytest.mark.gpu
def test_state_dict_from_gpu_loads_on_cpu():
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # pragma: no cover - driver missing
        pytest.skip(f"CUDA unavailable: {exc}")
    grads = gradient_stream(6)
    cpu = make_params()
    gpu = [Parameter(cp.asarray(p.data)) for p in cpu]
    opt_cpu, opt_gpu = Adam(cpu, lr=0.1, amsgrad=True), Adam(gpu, lr=0.1, amsgrad=True)
    for t in range(3):
        take_step(opt_cpu, cpu, grads[t])
        for p, g in zip(gpu, grads[t]):
            p.grad = cp.asarray(g)
        opt_gpu.step()
    sd = opt_gpu.state_dict()
    assert all(isinstance(v, np.ndarray) for st in sd["state"].values()
               for v in st.values() if not isinstance(v, int))
    resumed = [Parameter(cp.asnumpy(p.data)) for p in gpu]
    opt_resumed = Adam(resumed)
    opt_resumed.load_state_dict(pickle.loads(pickle.dumps(sd)))
    for t in range(3, 6):
        take_step(opt_cpu, cpu, grads[t])
        take_step(opt_resumed, resumed, grads[t])
    for p, q in zip(cpu, resumed):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-10, atol=1e-12)
