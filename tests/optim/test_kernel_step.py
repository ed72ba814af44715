"""Each optimizer's ``KernelStep`` against the kernels it calls.

The step loop passes everything positionally, so a declaration in the wrong
order would hand a kernel the wrong number. Here every recorded call is bound
to the signatures of both kernel twins (``_kernels`` and ``_xp``) and each
argument is checked by name: the parameter and its gradient, every state
buffer (the state's own array), the step count and every option (with
distinct values, so that two swapped options cannot agree).
"""

import inspect

import numpy as np
import pytest

from sklears_neural import _kernels, _xp
from sklears_neural.nn import Parameter
from sklears_neural.optim import (
    LAMB,
    LARS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    NAdam,
    RAdam,
    RMSprop,
    _optimizer,
)
from sklears_neural.optim._kernel_step import state_reader

# Options with values that differ from each other and from the defaults; flags both ways.
CASES = [
    (SGD, dict(lr=0.11, momentum=0.7, dampening=0.0, weight_decay=0.013, nesterov=True,
               maximize=True)),
    (SGD, dict(lr=0.11, momentum=0.7, dampening=0.2, weight_decay=0.013)),
    (SGD, dict(lr=0.11)),
    (Adam, dict(lr=0.011, betas=(0.81, 0.93), eps=1e-5, weight_decay=0.017, amsgrad=True,
                maximize=True)),
    (Adam, dict(lr=0.011, betas=(0.81, 0.93), eps=1e-5, weight_decay=0.017,
                decoupled_weight_decay=True)),
    (AdamW, dict(lr=0.011, betas=(0.81, 0.93), eps=1e-5, weight_decay=0.017)),
    (Adamax, dict(lr=0.011, betas=(0.81, 0.93), eps=1e-5, weight_decay=0.017, maximize=True)),
    (NAdam, dict(lr=0.011, betas=(0.81, 0.93), eps=1e-5, weight_decay=0.017,
                 momentum_decay=0.006, decoupled_weight_decay=True)),
    (RAdam, dict(lr=0.011, betas=(0.81, 0.93), eps=1e-5, weight_decay=0.017, maximize=True)),
    (RMSprop, dict(lr=0.011, alpha=0.93, eps=1e-5, weight_decay=0.017, momentum=0.7,
                   centered=True)),
    (RMSprop, dict(lr=0.011, alpha=0.93, eps=1e-5, weight_decay=0.017, momentum=0.7)),
    (RMSprop, dict(lr=0.011, alpha=0.93, eps=1e-5, weight_decay=0.017, centered=True,
                   maximize=True)),
    (Adagrad, dict(lr=0.011, lr_decay=0.03, weight_decay=0.017, initial_accumulator_value=0.2,
                   eps=1e-5, maximize=True)),
    (Adadelta, dict(lr=0.5, rho=0.93, eps=1e-5, weight_decay=0.017, maximize=True)),
    (LAMB, dict(lr=0.011, betas=(0.81, 0.93), eps=1e-5, weight_decay=0.017)),
    (LARS, dict(lr=0.11, momentum=0.7, weight_decay=0.017, trust_coefficient=0.004, eps=1e-5,
                lars_exclude=True)),
    (LARS, dict(lr=0.11, momentum=0.0, weight_decay=0.017, trust_coefficient=0.004, eps=1e-5)),
]

# Where a kernel's argument has another name than the option or the state entry.
KERNEL_NAMES = {"lars_exclude": "exclude_from_adaptation", "sum": "state_sum"}


class _Recorder:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return getattr(_xp, name)(*args, **kwargs)

        return call


def _ids(case):
    cls, options = case
    return f"{cls.__name__}-{'-'.join(sorted(options))}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_kernel_step_arguments_bind_by_name(case, monkeypatch):
    cls, options = case
    recorder = _Recorder()
    monkeypatch.setattr(_optimizer, "kernels_for", lambda array: recorder)
    rng = np.random.default_rng(0)
    p = Parameter(rng.standard_normal((3, 2)))
    opt = cls([p], **options)
    spec = cls._kernel_step
    group = opt.param_groups[0]
    for step in (1, 2):
        p.grad = rng.standard_normal((3, 2))
        recorder.calls.clear()
        opt.step()
        (kernel, args, kwargs), = recorder.calls
        assert kernel == spec.kernel
        state = opt.state[p]
        for twin in (_kernels, _xp):
            bound = inspect.signature(getattr(twin, kernel)).bind(*args, **kwargs).arguments
            assert bound.pop("param") is p.data and bound.pop("grad") is p.grad
            for buffer in spec.buffers:
                value = bound.pop(KERNEL_NAMES.get(buffer.name, buffer.name))
                if buffer.when is None or group[buffer.when]:
                    assert value is state[buffer.name]
                else:
                    assert value is None
            if spec.step == "passed":
                assert bound.pop("step") == state["step"] == step
            for name in spec.options:
                if name == "betas":
                    assert (bound.pop("beta1"), bound.pop("beta2")) == group["betas"]
                else:
                    assert bound.pop(KERNEL_NAMES.get(name, name)) == group[name]
            if spec.first_step:
                assert bound.pop("first_step") is (step == 1 and group["momentum"] != 0)
            if spec.scalars:
                assert set(bound) == {"mu", "mu_next", "mu_product"}
                assert bound["mu_product"] == state["mu_product"]
            else:
                assert not bound, f"{kernel} got arguments the spec does not declare: {bound}"


@pytest.mark.parametrize("names", [
    [None], [None, None], ["a"], ["a", None], [None, "a"], ["a", None, None],
    ["a", "b"], ["a", "b", None], ["a", None, "b"], [None, "a", "b"], ["a", "b", "c"],
])
def test_state_reader_reads_every_layout(names):
    state = {"a": np.zeros(1), "b": np.ones(1), "c": np.full(1, 2.0), "step": 3}
    read = state_reader(tuple(names))
    got = read(state)
    assert type(got) is tuple and len(got) == len(names)
    for name, value in zip(names, got):
        assert value is (None if name is None else state[name])
    for name in {n for n in names if n is not None}:
        with pytest.raises(KeyError):
            read({k: v for k, v in state.items() if k != name})
