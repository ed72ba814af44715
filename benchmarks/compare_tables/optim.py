"""Table e: one step of every optimizer against numpy and torch.optim."""

import gc
import inspect

import numpy as np
from ._common import (
    Table,
    _timing_record,
    fmt_ratio,
    iqr,
    measure,
    ms,
    ratio,
    torch,
)

# ---------------------------------------------------------------------------
# e. One step of every optimizer
# ---------------------------------------------------------------------------

OPTIM_TOTAL = 1_000_000
OPTIM_CHECK_STEPS = (3, 7)  # compared after 3 steps, and after 7 (RAdam rectifies from 6)
OPTIM_CHECK_ATOL = 1e-5
# Their time over ours, >=. The numpy target was set against hand-written in-place
# ufunc versions; the numpy row is now the _xp kernels, which allocate temporaries.
OPTIM_TARGETS = {"numpy": 3.0, "torch": 1.0}


class XpOptimizer:
    """The numpy row of table e: one flat float32 parameter ``p`` updated in place
    by an optimizer kernel's plain-numpy twin in ``sklears_neural._xp``.

    ``state`` names the kernel's state arrays (zeros, allocated once); ``options``
    are its other keyword arguments (hyperparameters, and None for the buffers
    an option switches off). Each step also passes what the optimizer classes
    work out per step: the 1-based ``step``, SGD's ``first_step`` and NAdam's
    momentum schedule (its defaults: beta1 0.9, momentum_decay 4e-3).
    """

    def __init__(self, p, g, kernel, state, options):
        from sklears_neural import _xp

        self.p, self.g = p, g
        self.kernel = getattr(_xp, kernel)
        self.takes = inspect.signature(self.kernel).parameters
        self.arguments = {**{name: np.zeros_like(p) for name in state}, **options}
        self.t, self.mu_product = 0, 1.0

    def step(self):
        self.t += 1
        per_step = {}
        if "step" in self.takes:
            per_step["step"] = self.t
        if "first_step" in self.takes:
            per_step["first_step"] = self.t == 1
        if "mu_product" in self.takes:
            mu, mu_next = (0.9 * (1.0 - 0.5 * 0.96 ** (t * 4e-3)) for t in (self.t, self.t + 1))
            self.mu_product *= mu
            per_step.update(mu=mu, mu_next=mu_next, mu_product=self.mu_product)
        self.kernel(self.p, self.g, **self.arguments, **per_step)


# (label, sklears_neural.optim / torch.optim class name, keyword arguments for
# both, the numpy row: (_xp kernel, its state arrays, its keyword arguments beyond
# those), float32 streams a step must move: (read, written)).
_MOMENTS = ("exp_avg", "exp_avg_sq")
OPTIM_CASES = [
    ("SGD (momentum 0.9, nesterov)", "SGD", {"momentum": 0.9, "nesterov": True},
     ("sgd_step", ("momentum_buffer",), {"lr": 1e-3}), (3, 2)),
    ("Adam", "Adam", {}, ("adam_step", _MOMENTS, {"max_exp_avg_sq": None}), (4, 3)),
    ("AdamW", "AdamW", {},
     ("adam_step", _MOMENTS, {"max_exp_avg_sq": None, "weight_decay": 1e-2,
                              "decoupled_weight_decay": True}), (4, 3)),
    ("RMSprop", "RMSprop", {},
     ("rmsprop_step", ("square_avg",), {"grad_avg": None, "momentum_buffer": None}), (3, 2)),
    ("Adagrad", "Adagrad", {}, ("adagrad_step", ("state_sum",), {}), (3, 2)),
    ("NAdam", "NAdam", {}, ("nadam_step", _MOMENTS, {}), (4, 3)),
    ("Adamax", "Adamax", {}, ("adamax_step", ("exp_avg", "exp_inf"), {}), (4, 3)),
    ("RAdam", "RAdam", {}, ("radam_step", _MOMENTS, {}), (4, 3)),
    ("Adadelta", "Adadelta", {}, ("adadelta_step", ("square_avg", "acc_delta"), {}), (4, 3)),
    ("LAMB", "LAMB", {}, ("lamb_step", _MOMENTS, {}), (4, 3)),
    ("LARS (lr 0.1)", "LARS", {"lr": 0.1}, ("lars_step", ("momentum_buffer",), {}), (3, 2)),
]


def _param_of(impl, obj):
    """The parameter array an implementation updates (for the agreement check)."""
    if impl == "ours":
        return obj.data
    if impl == "torch":
        return obj.detach().numpy()
    return obj.p


def bench_optim(cfg):
    """Table e: one step of every optimizer on 1M float32 parameters (one tensor)."""
    # The objects alive before timing (torch's modules above all, including
    # those its first optimizer step imports) are moved out of the
    # collector's reach while this table runs: measure()'s gc.collect() then
    # costs microseconds instead of ~0.2 s, 33 times over.
    try:
        return _bench_optim(cfg)
    finally:
        gc.unfreeze()


def _bench_optim(cfg):
    from sklears_neural import nn, optim

    table = Table(
        "optim",
        f"e. One optimizer step on {OPTIM_TOTAL:,} float32 parameters, one tensor, "
        f"default hyperparameters (threads={cfg.threads})",
        ["optimizer", "implementation", "ms/step", "best ms", "iqr %", "GB/s", "time / ours"],
    )
    rng = np.random.default_rng(0)
    value = rng.standard_normal(OPTIM_TOTAL, dtype=np.float32)
    grad = rng.standard_normal(OPTIM_TOTAL, dtype=np.float32)
    worst = 0.0
    for label, cls_name, kwargs, (kernel, state, options), (n_read, n_written) in OPTIM_CASES:
        param = nn.Parameter(value.copy())
        param.grad = grad.copy()
        ours = getattr(optim, cls_name)([param], **kwargs)
        np_opt = XpOptimizer(value.copy(), grad.copy(), kernel, state, {**kwargs, **options})
        impls = {"ours": (ours.step, param), "numpy": (np_opt.step, np_opt)}
        torch_cls = None if torch is None else getattr(torch.optim, cls_name, None)
        if torch_cls is not None:
            tparam = torch.nn.Parameter(torch.from_numpy(value.copy()))
            tparam.grad = torch.from_numpy(grad.copy())
            topt = torch_cls([tparam], **kwargs)  # foreach=None: the default
            impls["torch"] = (topt.step, tparam)

        # Same update everywhere: the numpy version and torch must match ours.
        done = 0
        for n_steps in OPTIM_CHECK_STEPS:
            for _ in range(n_steps - done):
                for step, _ in impls.values():
                    step()
            done = n_steps
            reference = _param_of("ours", param)
            for impl, (_, obj) in impls.items():
                err = float(np.max(np.abs(_param_of(impl, obj) - reference)))
                worst = max(worst, err)
                if not err < OPTIM_CHECK_ATOL:
                    raise RuntimeError(
                        f"optim: {label}: the {impl} version disagrees with optim.{cls_name} "
                        f"after {n_steps} steps (max abs. difference {err:.2e}).")

        gc.collect()
        gc.freeze()  # see bench_optim
        rows = [("ours", f"ours: optim.{cls_name}.step()"),
                ("numpy", f"plain numpy: _xp.{kernel}"),
                ("torch", f"torch.optim.{cls_name} (default, foreach=None)")]
        timings = {impl: measure(fn, cfg) for impl, (fn, _) in impls.items()}
        ours_t = timings["ours"].median
        n_bytes = (n_read + n_written) * 4 * OPTIM_TOTAL
        for impl, name in rows:
            t = timings.get(impl)
            if t is None:
                if torch is None:
                    cells = [name, "not installed"]
                else:
                    cells = [f"torch.optim.{cls_name}: not in torch", "n/a"]
                table.add_row([label, *cells, "", "", "", ""], optimizer=cls_name, impl=impl,
                              name=name, timing=None)
                continue
            table.add_row([label, name, ms(t.median), ms(t.best), iqr(t),
                           f"{n_bytes / t.median / 1e9:.1f}", fmt_ratio(t.median / ours_t)],
                          optimizer=cls_name, impl=impl, name=name, bytes_per_step=n_bytes,
                          timing=_timing_record(t))
        table.add_check(f"{cls_name}: numpy / ours", ratio(timings["numpy"].median, ours_t),
                        OPTIM_TARGETS["numpy"], ">=")
        torch_t = timings.get("torch")
        table.add_check(f"{cls_name}: torch / ours",
                        ratio(None if torch_t is None else torch_t.median, ours_t),
                        None if torch is not None and torch_cls is None
                        else OPTIM_TARGETS["torch"], ">=")
    table.add_note(
        "ms/step: median over repeats of optimizer.step() on one flat parameter (its state "
        "allocated beforehand; gradient fixed). Hyperparameters are each optimizer's defaults "
        "(the same in ours and torch.optim), except SGD: momentum 0.9, nesterov=True, and "
        "LARS: lr 0.1 (it has no default). RMSprop: centered=False, momentum 0.")
    table.add_note(
        "GB/s counts the float32 arrays one step must read and write, once each: 5 for SGD, "
        "RMSprop, Adagrad and LARS (read p, g, state; write p, state), 7 for the others "
        "(two state arrays). LAMB and LARS need norms over the whole parameter before "
        "updating it, so every implementation moves more than that (our kernels make two "
        "passes).")
    table.add_note(
        "plain numpy: the portable _xp twin of each optimizer's kernel (the documented update "
        "in numpy, with temporaries; state preallocated; LAMB and LARS norms in float64). The "
        "numpy / ours target (>= 3) was set against hand-written in-place ufunc versions "
        "(since removed), so the ratio is not comparable with numbers from before the switch. "
        "Before timing, the numpy version and torch.optim agree with ours after 3 and after 7 "
        f"steps (RAdam rectifies from step 6): max abs. difference {worst:.1e} (limit "
        f"{OPTIM_CHECK_ATOL:g}). torch.optim has no LAMB or LARS. Our kernels run serially "
        "whatever --threads says (n_threads=None); torch follows --threads.")
    return table
