"""Table e: one step of every optimizer against numpy and torch.optim."""

import gc
import math

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
from .adam import NumpyAdam

# ---------------------------------------------------------------------------
# e. One step of every optimizer
# ---------------------------------------------------------------------------

OPTIM_TOTAL = 1_000_000
OPTIM_CHECK_STEPS = (3, 7)  # compared after 3 steps, and after 7 (RAdam rectifies from 6)
OPTIM_CHECK_ATOL = 1e-5
OPTIM_TARGETS = {"numpy": 3.0, "torch": 1.0}  # their time over ours, >=


class _NumpyOptim:
    """Base of the numpy versions below: one flat float32 parameter ``p``
    (updated in place), its gradient ``g``, state and ``n_scratch`` scratch
    arrays allocated once; hyperparameters are Python floats so float32
    stays float32. Each ``step`` is the optimizer's documented update
    written with in-place ufuncs (``out=``, ``+=``), one pass per ufunc."""

    n_scratch = 1

    def __init__(self, p, g, **hyper):
        self.p, self.g = p, g
        self.t = 0
        self.s = [np.empty_like(p) for _ in range(self.n_scratch)]
        for name, value in hyper.items():
            setattr(self, name, value)
        self.init_state()

    def init_state(self):
        pass

    def _zeros(self):
        return np.zeros_like(self.p)


class NumpySGD(_NumpyOptim):
    """SGD, momentum 0.9, Nesterov: b = g (first step) else mu b + g;
    p -= lr (g + mu b)."""

    lr, momentum = 1e-3, 0.9

    def init_state(self):
        self.b = self._zeros()

    def step(self):
        self.t += 1
        p, g, b, (t,) = self.p, self.g, self.b, self.s
        if self.t == 1:
            np.copyto(b, g)
        else:
            b *= self.momentum
            b += g
        np.multiply(b, self.momentum, out=t)
        t += g
        t *= self.lr
        p -= t


class NumpyAdam1(NumpyAdam):
    """Table b's NumpyAdam on one flat parameter ``p``."""

    def __init__(self, p, g):
        super().__init__([(p, g)])
        self.p = p


class NumpyAdamW(NumpyAdam1):
    """AdamW: p *= 1 - lr wd, then NumpyAdam's step."""

    def __init__(self, p, g, weight_decay=1e-2):
        super().__init__(p, g)
        self.decay = 1.0 - self.lr * weight_decay

    def step(self):
        for p, _ in self.params:
            p *= self.decay
        super().step()


class NumpyRMSprop(_NumpyOptim):
    """RMSprop: v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps)."""

    lr, alpha, eps = 1e-2, 0.99, 1e-8

    def init_state(self):
        self.v = self._zeros()

    def step(self):
        self.t += 1
        p, g, v, (t,) = self.p, self.g, self.v, self.s
        v *= self.alpha
        np.multiply(g, g, out=t)
        t *= 1.0 - self.alpha
        v += t
        np.sqrt(v, out=t)
        t += self.eps
        np.divide(g, t, out=t)
        t *= self.lr
        p -= t


class NumpyAdagrad(_NumpyOptim):
    """Adagrad: s += g^2; p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)."""

    lr, lr_decay, eps = 1e-2, 0.0, 1e-10

    def init_state(self):
        self.sum = self._zeros()

    def step(self):
        self.t += 1
        p, g, s, (t,) = self.p, self.g, self.sum, self.s
        clr = self.lr / (1.0 + (self.t - 1) * self.lr_decay)
        np.multiply(g, g, out=t)
        s += t
        np.sqrt(s, out=t)
        t += self.eps
        np.divide(g, t, out=t)
        t *= clr
        p -= t


def _numpy_moments(g, m, v, t, beta1, beta2):
    """m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2 (t: scratch)."""
    np.subtract(g, m, out=t)  # m.lerp_(g, 1 - beta1)
    t *= 1.0 - beta1
    m += t
    np.multiply(g, g, out=t)
    t *= 1.0 - beta2
    v *= beta2
    v += t


class NumpyNAdam(_NumpyOptim):
    """NAdam: Adam moments; d = sqrt(v / bc2) + eps;
    p -= lr (1 - mu_t) / (1 - Pi_t) g / d + lr mu_{t+1} / (1 - Pi_t mu_{t+1}) m / d."""

    n_scratch = 2
    lr, beta1, beta2, eps, momentum_decay = 2e-3, 0.9, 0.999, 1e-8, 4e-3

    def init_state(self):
        self.m, self.v = self._zeros(), self._zeros()
        self.mu_product = 1.0

    def step(self):
        self.t += 1
        p, g, m, v, (d, t) = self.p, self.g, self.m, self.v, self.s
        beta1, step = self.beta1, self.t
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * self.momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * self.momentum_decay))
        self.mu_product *= mu
        _numpy_moments(g, m, v, t, beta1, self.beta2)
        np.multiply(v, 1.0 / (1.0 - self.beta2 ** step), out=d)
        np.sqrt(d, out=d)
        d += self.eps
        np.divide(g, d, out=t)
        t *= self.lr * (1.0 - mu) / (1.0 - self.mu_product)
        p -= t
        np.divide(m, d, out=t)
        t *= self.lr * mu_next / (1.0 - self.mu_product * mu_next)
        p -= t


class NumpyAdamax(_NumpyOptim):
    """Adamax: m as Adam; u = max(beta2 u, |g| + eps); p -= lr / bc1 m / u."""

    lr, beta1, beta2, eps = 2e-3, 0.9, 0.999, 1e-8

    def init_state(self):
        self.m, self.u = self._zeros(), self._zeros()

    def step(self):
        self.t += 1
        p, g, m, u, (t,) = self.p, self.g, self.m, self.u, self.s
        np.subtract(g, m, out=t)
        t *= 1.0 - self.beta1
        m += t
        u *= self.beta2
        np.abs(g, out=t)
        t += self.eps
        np.maximum(u, t, out=u)
        np.divide(m, u, out=t)
        t *= self.lr / (1.0 - self.beta1 ** self.t)
        p -= t


class NumpyRAdam(_NumpyOptim):
    """RAdam: Adam moments; p -= lr / bc1 m * (r_t sqrt(bc2) / (sqrt(v) + eps)
    when rho_t > 5, else 1)."""

    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-8

    def init_state(self):
        self.m, self.v = self._zeros(), self._zeros()

    def step(self):
        self.t += 1
        p, g, m, v, (t,) = self.p, self.g, self.m, self.v, self.s
        beta1, beta2, step = self.beta1, self.beta2, self.t
        _numpy_moments(g, m, v, t, beta1, beta2)
        bc1, bc2 = 1.0 - beta1 ** step, 1.0 - beta2 ** step
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * beta2 ** step / bc2
        step_size = self.lr / bc1
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            np.sqrt(v, out=t)
            t += self.eps
            np.divide(m, t, out=t)
            t *= step_size * rect * math.sqrt(bc2)
        else:
            np.multiply(m, step_size, out=t)
        p -= t


class NumpyAdadelta(_NumpyOptim):
    """Adadelta: v = rho v + (1 - rho) g^2; d = sqrt(u + eps) / sqrt(v + eps) g;
    u = rho u + (1 - rho) d^2; p -= lr d."""

    n_scratch = 2
    lr, rho, eps = 1.0, 0.9, 1e-6

    def init_state(self):
        self.v, self.u = self._zeros(), self._zeros()

    def step(self):
        self.t += 1
        p, g, v, u, (d, t) = self.p, self.g, self.v, self.u, self.s
        rho = self.rho
        v *= rho
        np.multiply(g, g, out=t)
        t *= 1.0 - rho
        v += t
        np.add(v, self.eps, out=t)
        np.sqrt(t, out=t)
        np.add(u, self.eps, out=d)
        np.sqrt(d, out=d)
        d /= t
        d *= g
        u *= rho
        np.multiply(d, d, out=t)
        t *= 1.0 - rho
        u += t
        if self.lr != 1.0:
            d *= self.lr
        p -= d


class NumpyLAMB(_NumpyOptim):
    """LAMB (phi = identity, weight decay 0): Adam moments;
    r = (m / bc1) / (sqrt(v / bc2) + eps); p -= lr ||p|| / ||r|| r."""

    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-6

    def init_state(self):
        self.m, self.v = self._zeros(), self._zeros()

    def step(self):
        self.t += 1
        p, g, m, v, (r,) = self.p, self.g, self.m, self.v, self.s
        beta1, beta2, step = self.beta1, self.beta2, self.t
        _numpy_moments(g, m, v, r, beta1, beta2)
        np.sqrt(v, out=r)
        r *= 1.0 / math.sqrt(1.0 - beta2 ** step)
        r += self.eps
        np.divide(m, r, out=r)
        r *= 1.0 / (1.0 - beta1 ** step)
        w2, r2 = float(np.dot(p, p)), float(np.dot(r, r))
        ratio = math.sqrt(w2) / math.sqrt(r2) if w2 > 0 and r2 > 0 else 1.0
        r *= self.lr * ratio
        p -= r


class NumpyLARS(_NumpyOptim):
    """LARS (weight decay 0): local = trust ||p|| / (||g|| + eps);
    b = momentum b + lr local g; p -= b."""

    lr, momentum, trust_coefficient, eps = 0.1, 0.9, 1e-3, 1e-8

    def init_state(self):
        self.b = self._zeros()

    def step(self):
        self.t += 1
        p, g, b, (t,) = self.p, self.g, self.b, self.s
        w2, g2 = float(np.dot(p, p)), float(np.dot(g, g))
        local = 1.0
        if w2 > 0 and g2 > 0:
            local = self.trust_coefficient * math.sqrt(w2) / (math.sqrt(g2) + self.eps)
        np.multiply(g, self.lr * local, out=t)
        b *= self.momentum
        b += t
        p -= b


# (label, sklears_neural.optim / torch.optim class name, keyword arguments for
# both, numpy version, float32 streams a step must move: (read, written)).
OPTIM_CASES = [
    ("SGD (momentum 0.9, nesterov)", "SGD", {"momentum": 0.9, "nesterov": True}, NumpySGD,
     (3, 2)),
    ("Adam", "Adam", {}, NumpyAdam1, (4, 3)),
    ("AdamW", "AdamW", {}, NumpyAdamW, (4, 3)),
    ("RMSprop", "RMSprop", {}, NumpyRMSprop, (3, 2)),
    ("Adagrad", "Adagrad", {}, NumpyAdagrad, (3, 2)),
    ("NAdam", "NAdam", {}, NumpyNAdam, (4, 3)),
    ("Adamax", "Adamax", {}, NumpyAdamax, (4, 3)),
    ("RAdam", "RAdam", {}, NumpyRAdam, (4, 3)),
    ("Adadelta", "Adadelta", {}, NumpyAdadelta, (4, 3)),
    ("LAMB", "LAMB", {}, NumpyLAMB, (4, 3)),
    ("LARS (lr 0.1)", "LARS", {"lr": 0.1}, NumpyLARS, (3, 2)),
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
    for label, cls_name, kwargs, numpy_cls, (n_read, n_written) in OPTIM_CASES:
        param = nn.Parameter(value.copy())
        param.grad = grad.copy()
        ours = getattr(optim, cls_name)([param], **kwargs)
        np_opt = numpy_cls(value.copy(), grad.copy())
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
                ("numpy", f"numpy, in-place ufuncs ({numpy_cls.__name__})"),
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
        "numpy: the documented update in in-place ufuncs with preallocated state and scratch "
        "(one class per optimizer in this script; norms with np.dot). Before timing, the "
        "numpy version and torch.optim agree with ours after 3 and after 7 steps (RAdam "
        f"rectifies from step 6): max abs. difference {worst:.1e} (limit "
        f"{OPTIM_CHECK_ATOL:g}). torch.optim has no LAMB or LARS. Our kernels run serially "
        "whatever --threads says (n_threads=None); torch follows --threads.")
    return table
