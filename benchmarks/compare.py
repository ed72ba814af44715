#!/usr/bin/env python
"""This project against plain numpy, its own BLAS and PyTorch, in one run.

Run from the repository root (after ``pip install -e .`` has built the
Cython kernels)::

    python benchmarks/compare.py              # every table, ~3.5 minutes on 2 cores
    python benchmarks/compare.py --quick      # smoke run, under a minute
    python benchmarks/compare.py --only mlp,predict   # the estimator tables only
    python benchmarks/compare.py --only conv  # conv2d, pooling/BatchNorm2d, LeNet epoch
    python benchmarks/compare.py --only sequence  # LSTM/GRU, TransformerEncoderLayer
    python benchmarks/compare.py --threads 1,2 --json results.json

PyTorch columns appear when ``import torch`` works (``pip install
torch==2.13.0`` takes the CPU wheel); torch is never a dependency.

Each table is one ``bench_*`` function registered in ``TABLES``: it builds
its data with fixed seeds, checks that the implementations it compares
compute the same thing, times them with ``measure`` and returns a ``Table``.
Tables: ``dense`` (forward+backward of one MLP step), ``adam`` (one
optimizer step), ``mlp`` (MLPClassifier training throughput against
scikit-learn and a PyTorch loop), ``predict`` (predict latency), ``optim``
(one step of every optimizer against numpy and torch.optim), ``conv2d``
(forward+backward of three convolutions), ``pool`` (max-pool, avg-pool and
BatchNorm2d forward+backward), ``lenet`` (one LeNet training epoch against
a PyTorch loop); ``--only conv`` names these three. ``rnn`` (LSTM and GRU,
1 and 2 layers, forward+backward over a sequence) and ``encoder`` (a
TransformerEncoderLayer and its self-attention block, forward+backward)
compare sequence models with PyTorch's using the same weights; ``--only
sequence`` names these two. A new comparison is one more function and one
more ``TABLES`` entry.

Timing: ``time.perf_counter``; warm-up calls first; each repeat runs the
call enough times to last ``min_time`` seconds; the reported time is the
median over repeats of the time per call (the best repeat is shown too).
Whole ``fit`` calls and epochs (tables ``mlp``, ``lenet``) are too long for that: they are warmed
up with a short fit and then timed a few times each, round-robin across
implementations (``measure_runs``).
Thread counts are set explicitly for every pool in the process (both
OpenBLAS copies, OpenMP, PyTorch) with threadpoolctl and printed.
"""

import argparse
import functools
import gc
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

if importlib.util.find_spec("sklears_neural") is None:  # run from a checkout, not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import scipy
import threadpoolctl
from scipy.linalg.blas import sgemm

try:
    import torch
except ImportError:  # the PyTorch columns say "not installed"
    torch = None


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


@dataclass
class Config:
    """How hard to measure: ``quick`` trades precision for a short run."""

    quick: bool = False
    repeat: int = 9
    warmup: int = 5
    min_time: float = 0.05  # seconds per repeat
    threads: int = 1


@dataclass
class Timing:
    """Seconds per call: median and best over the repeats."""

    median: float
    best: float
    q1: float
    q3: float
    number: int  # calls per repeat
    repeat: int
    samples: list = field(default_factory=list)


def measure(fn, cfg):
    """Time ``fn()`` and return a ``Timing`` (seconds per call).

    Runs ``cfg.warmup`` calls, picks a number of calls per repeat so that
    one repeat lasts at least ``cfg.min_time`` seconds, then takes the
    median of ``cfg.repeat`` repeats. The garbage collector is left on (the
    engine's graph is freed by reference counting, as in real training) but
    is run once before timing starts.
    """
    for _ in range(cfg.warmup):
        fn()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= cfg.min_time or number >= 1 << 20:
            break
        grow = cfg.min_time / max(elapsed, 1e-9) * 1.1
        number = max(number + 1, min(int(number * grow), number * 100))
    gc.collect()
    samples = []
    for _ in range(cfg.repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    q = statistics.quantiles(samples, n=4) if len(samples) > 1 else samples * 3
    return Timing(statistics.median(samples), min(samples), q[0], q[2], number,
                  cfg.repeat, samples)


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


class Table:
    """An aligned plain-text table plus the raw numbers for ``--json``."""

    def __init__(self, key, title, columns):
        self.key = key
        self.title = title
        self.columns = list(columns)
        self.rows = []  # lists of cell strings
        self.records = []  # dicts for JSON
        self.notes = []
        self.checks = {}  # name -> {"value", "target", "ok"}

    def add_row(self, cells, **record):
        self.rows.append([str(c) for c in cells])
        self.records.append(record)

    def add_note(self, text):
        self.notes.append(text)

    def add_check(self, name, value, target=None, op=">="):
        """Record a ratio, and its verdict against ``target`` when one is set
        (``op`` is ``"<="`` or ``">="``)."""
        if value is None or target is None:
            ok = None
        else:
            ok = value <= target if op == "<=" else value >= target
        self.checks[name] = {"value": value,
                             "target": None if target is None else f"{op} {target}", "ok": ok}

    def render(self):
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row)]

        def line(cells):
            first = cells[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
            return "  ".join([first, *rest]).rstrip()

        out = [self.title, "=" * len(self.title), line(self.columns),
               line(["-" * w for w in widths])]
        out += [line(row) for row in self.rows]
        if self.checks:
            out.append("")
            name_width = max(len(n) for n in self.checks)
            for name, check in self.checks.items():
                value = "n/a" if check["value"] is None else f"{check['value']:.2f}"
                line_ = f"  {name.ljust(name_width)}  {value:>6}"
                if check["target"] is not None:
                    verdict = {True: "ok", False: "MISSED", None: "-"}[check["ok"]]
                    line_ += f"  (target {check['target']})  {verdict}"
                out.append(line_)
        if self.notes:
            out.append("")
            for note in self.notes:
                out += textwrap.wrap(note, width=100, initial_indent="  ",
                                     subsequent_indent="    ")
        return "\n".join(out)

    def to_json(self):
        return {"key": self.key, "title": self.title, "columns": self.columns,
                "rows": self.rows, "records": self.records, "checks": self.checks,
                "notes": self.notes}


def ms(seconds):
    return f"{seconds * 1e3:.3f}"


def iqr(t):
    """Interquartile range of the repeats, in percent of the median: a noise gauge."""
    return f"{(t.q3 - t.q1) / t.median * 100:.0f}"


def ratio(a, b):
    return None if a is None or b is None else a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def _timing_record(t):
    return None if t is None else {k: v for k, v in asdict(t).items()}


# ---------------------------------------------------------------------------
# a. Dense forward + backward
# ---------------------------------------------------------------------------

DENSE_SIZES = (784, 256, 128, 10)
DENSE_BATCH = 128


def _dense_gemm_flops(n, sizes):
    """FLOPs of the 3 forward and 5 backward GEMMs (no dX for the first layer)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * n * i * o for i, o in pairs)
    grad_w = forward
    grad_x = sum(2 * n * i * o for i, o in pairs[1:])
    return forward + grad_w + grad_x


def _sgemm_rowmajor(a, b, c, trans_a=False, trans_b=False):
    """``c[...] = op(a) @ op(b)`` for C-ordered float32 arrays, in place, via
    scipy's sgemm (the BLAS that ``scipy.linalg.cython_blas`` and hence the
    kernels use). Row-major ``C`` is column-major ``C.T = op(b).T @ op(a).T``,
    so the operands swap and every array is passed as a no-copy F-ordered view.
    """
    sgemm(1.0, b.T, a.T, beta=0.0, c=c.T, trans_a=trans_b, trans_b=trans_a, overwrite_c=1)


def _numpy_dense_step(x, y, Ws, bs):
    """Forward + backward of the MLP in straightforward numpy; returns (loss, gWs, gbs)."""
    n = x.shape[0]
    h1 = x @ Ws[0].T
    h1 += bs[0]
    np.maximum(h1, 0, out=h1)
    h2 = h1 @ Ws[1].T
    h2 += bs[1]
    np.maximum(h2, 0, out=h2)
    z = h2 @ Ws[2].T
    z += bs[2]
    # softmax cross-entropy, mean over the batch
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = -np.log(p[rows, y]).mean()
    g3 = p
    g3[rows, y] -= 1
    g3 *= 1.0 / n
    # backward
    gW3 = g3.T @ h2
    gb3 = g3.sum(axis=0)
    g2 = g3 @ Ws[2]
    g2 *= h2 > 0
    gW2 = g2.T @ h1
    gb2 = g2.sum(axis=0)
    g1 = g2 @ Ws[1]
    g1 *= h1 > 0
    gW1 = g1.T @ x
    gb1 = g1.sum(axis=0)
    return loss, (gW1, gW2, gW3), (gb1, gb2, gb3)


def _kernel_dense_step(k, x, y, Ws, bs):
    """Forward + backward through the kernels directly; returns (loss, gWs, gbs)."""
    n = x.shape[0]
    h1, p1 = k.dense_forward(x, Ws[0], bs[0], "relu", None)
    h2, p2 = k.dense_forward(h1, Ws[1], bs[1], "relu", None)
    z, p3 = k.dense_forward(h2, Ws[2], bs[2], "identity", None)
    losses, g3 = k.softmax_cross_entropy(z, y, None, 0.0, 1.0 / n)
    g2, gW3, gb3 = k.dense_backward(g3, h2, Ws[2], z, p3, "identity", None, True, True, True)
    g1, gW2, gb2 = k.dense_backward(g2, h1, Ws[1], h2, p2, "relu", None, True, True, True)
    _, gW1, gb1 = k.dense_backward(g1, x, Ws[0], h1, p1, "relu", None, False, True, True)
    return losses.sum(), (gW1, gW2, gW3), (gb1, gb2, gb3)


def _torch_dense_model(x, y, Ws, bs):
    """PyTorch's version of the step, with the same weights; (None, None) without torch."""
    if torch is None:
        return None, None
    torch.manual_seed(0)
    modules = []
    for j, (W, b) in enumerate(zip(Ws, bs)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        modules.append(lin)
        if j < len(Ws) - 1:
            modules.append(torch.nn.ReLU())
    tmodel = torch.nn.Sequential(*modules)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def torch_step():
        tmodel.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
        loss.backward()
        return loss

    return torch_step, tmodel


def _max_rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def bench_dense(cfg):
    """Table a: one training step's forward + backward of a 784-256-128-10 MLP."""
    from sklears_neural import nn
    from sklears_neural.autograd import Tensor
    from sklears_neural._dispatch import kernels_for

    n, sizes = DENSE_BATCH, DENSE_SIZES
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=n).astype(np.int64)

    layers = [nn.Linear(i, o, activation="relu" if j < len(sizes) - 2 else None, generator=j)
              for j, (i, o) in enumerate(zip(sizes[:-1], sizes[1:]))]
    model = nn.Sequential(*layers)
    loss_fn = nn.CrossEntropyLoss()
    Ws = [np.array(layer.weight.data) for layer in layers]
    bs = [np.array(layer.bias.data) for layer in layers]
    x_t = Tensor(x)

    def engine_step():
        model.zero_grad()
        loss = loss_fn(model(x_t), y)
        loss.backward()
        return loss

    k = kernels_for(x)

    def kernel_step():
        return _kernel_dense_step(k, x, y, Ws, bs)

    def numpy_step():
        return _numpy_dense_step(x, y, Ws, bs)

    # The same 8 GEMMs, preallocated, through scipy's BLAS (= the kernels')
    # and through numpy's matmul (numpy bundles its own OpenBLAS build).
    acts = [x] + [np.ones((n, o), np.float32) for o in sizes[1:]]
    grads = [np.ones((n, o), np.float32) for o in sizes[1:]]
    outs = [np.empty((n, o), np.float32) for o in sizes[1:]]
    gWs = [np.empty_like(W) for W in Ws]
    gxs = [np.empty((n, i), np.float32) for i in sizes[1:-1]]

    def gemms_scipy():
        for j, W in enumerate(Ws):
            _sgemm_rowmajor(acts[j], W, outs[j], trans_b=True)
        for j in reversed(range(len(Ws))):
            _sgemm_rowmajor(grads[j], acts[j], gWs[j], trans_a=True)
            if j > 0:
                _sgemm_rowmajor(grads[j], Ws[j], gxs[j - 1])

    def gemms_numpy():
        for j, W in enumerate(Ws):
            np.matmul(acts[j], W.T, out=outs[j])
        for j in reversed(range(len(Ws))):
            np.matmul(grads[j].T, acts[j], out=gWs[j])
            if j > 0:
                np.matmul(grads[j], Ws[j], out=gxs[j - 1])

    torch_step, tmodel = _torch_dense_model(x, y, Ws, bs)

    # Check that everyone computes the same gradients before timing anyone.
    ref_loss, ref_gW, ref_gb = _numpy_dense_step(x, y, Ws, bs)
    engine_loss = float(engine_step().item())
    errors = {"engine": max(_max_rel_err(l.weight.grad, g) for l, g in zip(layers, ref_gW))}
    k_loss, k_gW, _ = kernel_step()
    errors["kernels"] = max(_max_rel_err(a, g) for a, g in zip(k_gW, ref_gW))
    losses = {"numpy": float(ref_loss), "engine": engine_loss, "kernels": float(k_loss)}
    if torch_step is not None:
        losses["torch"] = float(torch_step().item())
        tlins = [m for m in tmodel if isinstance(m, torch.nn.Linear)]
        errors["torch"] = max(_max_rel_err(m.weight.grad.numpy(), g)
                              for m, g in zip(tlins, ref_gW))
    for name, err in errors.items():
        if not err < 1e-3 or not abs(losses[name] - losses["numpy"]) < 1e-4:
            raise RuntimeError(f"dense: {name} disagrees with numpy (max rel. grad error "
                               f"{err:.2e}, loss {losses[name]} vs {losses['numpy']}).")

    flops = _dense_gemm_flops(n, sizes)
    cases = [
        ("ours: engine (nn.Sequential + CrossEntropyLoss + backward)", engine_step),
        ("ours: kernels called directly", kernel_step),
        ("plain numpy", numpy_step),
        ("PyTorch (nn.Sequential Linear/ReLU + F.cross_entropy)", torch_step),
        ("GEMMs alone: 3 fwd + 5 bwd, scipy sgemm (kernels' BLAS)", gemms_scipy),
        ("GEMMs alone: 3 fwd + 5 bwd, numpy matmul", gemms_numpy),
    ]
    timings = {name: (measure(fn, cfg) if fn is not None else None) for name, fn in cases}
    ours = timings[cases[0][0]].median

    table = Table(
        "dense",
        f"a. Dense forward+backward: batch {n}, {'-'.join(map(str, sizes))}, float32, "
        f"relu, softmax cross-entropy (threads={cfg.threads})",
        ["implementation", "ms/step", "best ms", "iqr %", "GFLOP/s", "time / ours"],
    )
    for name, _ in cases:
        t = timings[name]
        if t is None:
            table.add_row([name, "not installed", "", "", "", ""], name=name, timing=None)
            continue
        table.add_row([name, ms(t.median), ms(t.best), iqr(t), f"{flops / t.median / 1e9:.1f}",
                       fmt_ratio(t.median / ours)], name=name, timing=_timing_record(t))
    gemm = timings[cases[4][0]].median
    torch_t = timings[cases[3][0]]
    table.add_check("ours / GEMMs alone", ratio(ours, gemm), 1.3, "<=")
    table.add_check("numpy / ours", ratio(timings[cases[2][0]].median, ours))
    table.add_check("torch / ours", ratio(None if torch_t is None else torch_t.median, ours))
    kern = timings[cases[1][0]].median
    table.add_note(f"engine overhead over direct kernel calls: {(ours - kern) * 1e6:.0f} us/step "
                   f"({(ours - kern) / ours:.0%} of the step); kernels / GEMMs alone = "
                   f"{kern / gemm:.2f}")
    table.add_note(f"{flops / 1e6:.1f} MFLOP of GEMM per step; gradients checked against numpy "
                   f"before timing (max rel. error {max(errors.values()):.1e})")
    return table


# ---------------------------------------------------------------------------
# b. Adam step
# ---------------------------------------------------------------------------

ADAM_TOTAL = 1_000_000
ADAM_LR, ADAM_BETAS, ADAM_EPS = 1e-3, (0.9, 0.999), 1e-8


class NumpyAdam:
    """Adam as ``torch.optim.Adam`` documents it, in in-place numpy ufuncs.

    A fair numpy version: state and one scratch buffer per parameter are
    allocated once, every pass writes with ``out=``/in-place operators, and
    scalars are Python floats so float32 stays float32. It still makes about
    a dozen passes over memory where a fused kernel makes one.
    """

    def __init__(self, params, lr=ADAM_LR, betas=ADAM_BETAS, eps=ADAM_EPS):
        self.params = params  # list of (param, grad) arrays
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.exp_avg = [np.zeros_like(p) for p, _ in params]
        self.exp_avg_sq = [np.zeros_like(p) for p, _ in params]
        self.scratch = [np.empty_like(p) for p, _ in params]
        self.step_count = 0

    def step(self):
        self.step_count += 1
        beta1, beta2 = self.beta1, self.beta2
        bias_correction1 = 1.0 - beta1 ** self.step_count
        bias_correction2_sqrt = math.sqrt(1.0 - beta2 ** self.step_count)
        step_size = self.lr / bias_correction1
        for (p, g), m, v, t in zip(self.params, self.exp_avg, self.exp_avg_sq, self.scratch):
            np.subtract(g, m, out=t)  # m.lerp_(g, 1 - beta1)
            t *= 1.0 - beta1
            m += t
            np.multiply(g, g, out=t)  # v = beta2 * v + (1 - beta2) * g * g
            t *= 1.0 - beta2
            v *= beta2
            v += t
            np.sqrt(v, out=t)  # denom = sqrt(v) / sqrt(bc2) + eps
            t *= 1.0 / bias_correction2_sqrt
            t += self.eps
            np.divide(m, t, out=t)  # p -= step_size * m / denom
            t *= -step_size
            p += t


def _adam_layouts(quick):
    layouts = [(1, ADAM_TOTAL), (10, ADAM_TOTAL // 10)]
    if not quick:
        layouts.append((100, ADAM_TOTAL // 100))
    return layouts


ADAM_TINY = (100, 16)  # tensors, elements: per-tensor overhead, no arithmetic to speak of


def _adam_per_tensor_cost(cfg, k, nn, optim):
    """Seconds per tensor of one step over many tiny tensors, for each implementation."""
    n_tensors, size = ADAM_TINY
    rng = np.random.default_rng(1)
    values = [rng.standard_normal(size, dtype=np.float32) for _ in range(n_tensors)]
    grads = [rng.standard_normal(size, dtype=np.float32) for _ in range(n_tensors)]
    params = [nn.Parameter(v.copy()) for v in values]
    for p, g in zip(params, grads):
        p.grad = g
    opt = optim.Adam(params, lr=ADAM_LR, betas=ADAM_BETAS, eps=ADAM_EPS)
    raw = [(v.copy(), g, np.zeros_like(v), np.zeros_like(v)) for v, g in zip(values, grads)]
    beta1, beta2 = ADAM_BETAS

    def kernel_step():
        for p, g, m, v in raw:
            k.adam_step(p, g, m, v, None, 1, ADAM_LR, beta1, beta2, ADAM_EPS,
                        0.0, False, False, False)

    fns = {"optim": opt.step, "kernel": kernel_step,
           "numpy": NumpyAdam([(v.copy(), g) for v, g in zip(values, grads)]).step}
    if torch is not None:
        tparams = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
        for tp, g in zip(tparams, grads):
            tp.grad = torch.from_numpy(g)
        fns["torch"] = torch.optim.Adam(tparams, lr=ADAM_LR).step
    return {name: measure(fn, cfg).median / n_tensors for name, fn in fns.items()}


def bench_adam(cfg):
    """Table b: one Adam step over 1M float32 parameters, split into 1, 10, 100 tensors."""
    from sklears_neural import nn, optim
    from sklears_neural._dispatch import kernels_for

    k = kernels_for(np.zeros(1, np.float32))
    beta1, beta2 = ADAM_BETAS
    table = Table(
        "adam",
        f"b. Adam step on {ADAM_TOTAL:,} float32 parameters (threads={cfg.threads})",
        ["implementation", "tensors", "ms/step", "best ms", "iqr %", "GB/s", "time / ours"],
    )
    bytes_per_step = 7 * 4 * ADAM_TOTAL  # read p, g, m, v; write p, m, v

    for n_tensors, size in _adam_layouts(cfg.quick):
        rng = np.random.default_rng(n_tensors)
        values = [rng.standard_normal(size, dtype=np.float32) for _ in range(n_tensors)]
        grads = [rng.standard_normal(size, dtype=np.float32) for _ in range(n_tensors)]

        params = [nn.Parameter(v.copy()) for v in values]
        for p, g in zip(params, grads):
            p.grad = g.copy()
        opt = optim.Adam(params, lr=ADAM_LR, betas=ADAM_BETAS, eps=ADAM_EPS)

        raw = [(v.copy(), g, np.zeros_like(v), np.zeros_like(v)) for v, g in zip(values, grads)]
        raw_step = [0]

        def kernel_step():
            raw_step[0] += 1
            for p, g, m, v in raw:
                k.adam_step(p, g, m, v, None, raw_step[0], ADAM_LR, beta1, beta2, ADAM_EPS,
                            0.0, False, False, False)

        np_opt = NumpyAdam([(v.copy(), g) for v, g in zip(values, grads)])

        torch_cases = []
        if torch is not None:
            for label, options in (("default: single-tensor on CPU", {}),
                                   ("foreach=True", {"foreach": True}),
                                   ("fused=True", {"fused": True})):
                tparams = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
                for tp, g in zip(tparams, grads):
                    tp.grad = torch.from_numpy(g.copy())
                topt = torch.optim.Adam(tparams, lr=ADAM_LR, betas=ADAM_BETAS, eps=ADAM_EPS,
                                        **options)
                torch_cases.append((f"torch.optim.Adam ({label})", topt.step, topt, tparams))

        # Same rule everywhere: three steps from the same start must agree.
        for _ in range(3):
            opt.step()
            kernel_step()
            np_opt.step()
            for _, step, _, _ in torch_cases:
                step()
        reference = np_opt.params[0][0]
        results = {"optim.Adam": params[0].data, "adam_step": raw[0][0]}
        for name, _, _, tparams in torch_cases:
            results[name] = tparams[0].detach().numpy()
        for name, value in results.items():
            err = float(np.max(np.abs(value - reference)))
            if not err < 1e-5:
                raise RuntimeError(f"adam: {name} disagrees with numpy after 3 steps "
                                   f"(max abs. difference {err:.2e}).")

        cases = [("ours: optim.Adam.step()", opt.step),
                 ("ours: adam_step kernel, one call per tensor", kernel_step),
                 ("numpy, in-place ufuncs (NumpyAdam)", np_opt.step)]
        if torch_cases:
            cases += [(name, step) for name, step, _, _ in torch_cases]
        else:
            cases.append(("torch.optim.Adam", None))
        timings = {name: (measure(fn, cfg) if fn is not None else None) for name, fn in cases}
        ours = timings[cases[0][0]].median
        for name, _ in cases:
            t = timings[name]
            if t is None:
                table.add_row([name, n_tensors, "not installed", "", "", "", ""],
                              name=name, tensors=n_tensors, timing=None)
                continue
            table.add_row([name, n_tensors, ms(t.median), ms(t.best), iqr(t),
                           f"{bytes_per_step / t.median / 1e9:.1f}", fmt_ratio(t.median / ours)],
                          name=name, tensors=n_tensors, timing=_timing_record(t))
        torch_default = timings.get(cases[3][0])
        suffix = f" ({n_tensors} tensor{'s' if n_tensors > 1 else ''})"
        table.add_check("numpy / ours" + suffix, ratio(timings[cases[2][0]].median, ours),
                        4.0, ">=")
        table.add_check("torch / ours" + suffix,
                        ratio(None if torch_default is None else torch_default.median, ours),
                        1.0, ">=")

    # Fixed cost per tensor, measured where the arithmetic is negligible.
    per_tensor = _adam_per_tensor_cost(cfg, k, nn, optim)
    costs = [f"optim.Adam.step() {per_tensor['optim'] * 1e6:.1f} us",
             f"raw adam_step call {per_tensor['kernel'] * 1e6:.1f} us",
             f"NumpyAdam {per_tensor['numpy'] * 1e6:.1f} us"]
    if "torch" in per_tensor:
        costs.append(f"torch default {per_tensor['torch'] * 1e6:.1f} us")
    table.add_note(f"fixed cost per tensor ({ADAM_TINY[0]} tensors of {ADAM_TINY[1]} elements): "
                   + ", ".join(costs))
    table.records.append({"per_tensor_cost_s": per_tensor, "tiny_layout": ADAM_TINY})
    table.add_note("GB/s counts 7 float32 streams per parameter (read p, g, m, v; write p, m, "
                   "v); all implementations agree after 3 steps before timing. torch/ours is "
                   "taken against torch's default (foreach=None, which is the single-tensor "
                   "loop on CPU).")
    return table


# ---------------------------------------------------------------------------
# c. MLP training throughput (estimators against scikit-learn and PyTorch)
# ---------------------------------------------------------------------------

MLP_HIDDEN = (256, 128)
MLP_LR = 1e-3
MLP_BATCHES = (32, 128, 512)
MLP_EPOCHS, MLP_EPOCHS_QUICK = 5, 1
MLP_SAMPLES, MLP_SAMPLES_QUICK = 20_000, 4_000
MLP_TARGET_BATCH = 128  # the targets below are judged at this batch size, 784-feature set
MLP_TARGETS = {"sklearn-f64": 3.0, "torch": 1.2}  # ours samples/s over theirs, >=
MLP_WARMUP_ROWS = 2048  # warm-up fits: one epoch on this many rows


def _mlp_datasets(quick):
    """(key, label, X float64 standardised, y int64): the 784-feature set, then digits."""
    from sklearn.datasets import load_digits, make_classification
    from sklearn.preprocessing import StandardScaler

    n = MLP_SAMPLES_QUICK if quick else MLP_SAMPLES
    X, y = make_classification(n_samples=n, n_features=784, n_informative=50, n_classes=10,
                               random_state=0)
    X = StandardScaler().fit_transform(X)
    digits_X, digits_y = load_digits(return_X_y=True)
    digits_X = StandardScaler().fit_transform(digits_X)
    return [("784", f"make_classification {n}x784", X, y.astype(np.int64)),
            ("digits", f"digits {digits_X.shape[0]}x{digits_X.shape[1]}", digits_X,
             digits_y.astype(np.int64))]


def _ours_mlp(batch_size, epochs):
    from sklears_neural import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=MLP_HIDDEN, learning_rate_init=MLP_LR,
                         batch_size=batch_size, max_iter=epochs, tol=0,
                         n_iter_no_change=10**9, random_state=0)


def _sklearn_mlp(batch_size, epochs):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=MLP_HIDDEN, learning_rate_init=MLP_LR,
                         batch_size=batch_size, max_iter=epochs, tol=0,
                         n_iter_no_change=10**9, random_state=0)


class TorchMLP:
    """A plain PyTorch training loop with the estimators' settings.

    ``nn.Sequential`` of Linear/ReLU, ``CrossEntropyLoss``, ``optim.Adam``,
    float32, a fresh shuffle every epoch and the same batch size; the loss
    of every batch is read back (``loss.item()``) as the estimators do to
    report the epoch loss. No L2 term (the estimators add ``alpha=1e-4``
    to the loss and its gradient; a few vector operations per step).
    """

    def __init__(self, batch_size, epochs, seed=0):
        self.batch_size, self.epochs, self.seed = batch_size, epochs, seed

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        sizes = [X.shape[1], *MLP_HIDDEN, int(y.max()) + 1]
        layers = []
        for j, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(fan_in, fan_out))
            if j < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        loss_fn = torch.nn.CrossEntropyLoss()
        opt = torch.optim.Adam(model.parameters(), lr=MLP_LR)
        tx = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        ty = torch.from_numpy(np.asarray(y, dtype=np.int64))
        n, rng = X.shape[0], np.random.default_rng(self.seed)
        model.train()
        for _ in range(self.epochs):
            order = torch.from_numpy(rng.permutation(n))
            total = 0.0
            for begin in range(0, n, self.batch_size):
                idx = order[begin:begin + self.batch_size]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(tx[idx]), ty[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            self.loss_ = total / n
        model.eval()
        self.model_, self.n_iter_ = model, self.epochs
        return self

    def predict(self, X):
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
            return self.model_(x).argmax(dim=1).numpy()


def _mlp_implementations(batch_size, epochs):
    """(name, short key, fit(X, y) -> fitted model or None); float64 input unless noted."""
    def ours(X, y):
        return _ours_mlp(batch_size, epochs).fit(X, y)

    def sk64(X, y):
        return _sklearn_mlp(batch_size, epochs).fit(X, y)

    def sk32(X, y):  # the cast is done once, outside the timed call (see _mlp_inputs)
        return _sklearn_mlp(batch_size, epochs).fit(X, y)

    def torch_loop(X, y):
        return TorchMLP(batch_size, epochs).fit(X, y)

    return [("ours: MLPClassifier (float32)", "ours", ours),
            ("scikit-learn MLPClassifier, float64 input", "sklearn-f64", sk64),
            ("scikit-learn MLPClassifier, float32 input", "sklearn-f32", sk32),
            ("PyTorch loop (Sequential, Adam, float32)", "torch",
             torch_loop if torch is not None else None)]


def _mlp_inputs(key, X):
    """What each implementation is given: float64 (as after StandardScaler) except
    scikit-learn's float32 row, which gets a float32 copy made beforehand. Ours and
    the PyTorch loop cast to float32 inside the timed fit."""
    return X.astype(np.float32) if key == "sklearn-f32" else X


def measure_runs(fns, budget, max_runs, min_runs=1):
    """Time whole runs (a ``fit``) of several implementations, round-robin.

    Each round runs every implementation once, so a change in machine load
    hits them alike. An implementation gets another round while its total
    time plus its last run stays within ``budget`` seconds, up to
    ``max_runs`` runs (at least ``min_runs``). Warm-up is the caller's job.
    Returns ``{name: (Timing, result of the last run)}``; one run gives an
    interquartile range of 0.
    """
    samples = {name: [] for name in fns}
    results = {}
    for r in range(max_runs):
        for name, fn in fns.items():
            done = samples[name]
            if r >= min_runs and sum(done) + done[-1] > budget:
                continue
            gc.collect()
            start = time.perf_counter()
            results[name] = fn()
            done.append(time.perf_counter() - start)
    timings = {}
    for name, s in samples.items():
        q = statistics.quantiles(s, n=4) if len(s) > 1 else s * 3
        timings[name] = (Timing(statistics.median(s), min(s), q[0], q[2], 1, len(s), s),
                         results[name])
    return timings


def _accuracy(model, X, y):
    return float(np.mean(model.predict(X) == y))


def bench_mlp(cfg):
    """Table c: MLPClassifier training throughput against scikit-learn and PyTorch."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    epochs = MLP_EPOCHS_QUICK if cfg.quick else MLP_EPOCHS
    torch_threads = None if torch is None else torch.get_num_threads()
    table = Table(
        "mlp",
        f"c. MLP training throughput: hidden {MLP_HIDDEN}, relu, Adam lr {MLP_LR:g}, {epochs} "
        f"epoch{'s' if epochs > 1 else ''} (threads={cfg.threads}, torch threads="
        f"{torch_threads if torch_threads is not None else 'n/a'})",
        ["data", "batch", "implementation", "fit s", "best s", "runs", "samples/s",
         "ours speed-up", "train acc"],
    )
    speedups = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for data_key, data_label, X, y in _mlp_datasets(cfg.quick):
            n = X.shape[0]
            big = data_key == "784"
            if cfg.quick:
                budget, max_runs = 1.0, cfg.repeat
            else:
                budget, max_runs = (10.0, 3) if big else (1.0, 5)
            for batch in MLP_BATCHES:
                impls = _mlp_implementations(batch, epochs)
                warm_up = {key: fn for _, key, fn in _mlp_implementations(batch, 1)}
                inputs = {key: _mlp_inputs(key, X) for _, key, fn in impls if fn is not None}
                rows = min(n, MLP_WARMUP_ROWS)
                fns = {}
                for name, key, fn in impls:
                    if fn is None:
                        continue
                    # Warm-up: a one-epoch fit on a slice (BLAS buffers, first-call paths).
                    warm_up[key](inputs[key][:rows], y[:rows])
                    fns[name] = functools.partial(fn, inputs[key], y)
                min_runs = 3 if (big and batch == MLP_TARGET_BATCH and not cfg.quick) else 1
                timed = measure_runs(fns, budget, max_runs, min_runs)
                ours_t = timed[impls[0][0]][0].median
                accs = {}
                for name, key, fn in impls:
                    if fn is None:
                        table.add_row([data_label, batch, name, "not installed", "", "", "", "",
                                       ""], data=data_key, batch=batch, name=name, timing=None)
                        speedups[(data_key, batch, key)] = None
                        continue
                    t, model = timed[name]
                    if model.n_iter_ != epochs:
                        raise RuntimeError(f"mlp: {name} ran {model.n_iter_} epochs, not "
                                           f"{epochs} (batch {batch}, {data_label}).")
                    acc = accs[key] = _accuracy(model, inputs[key], y)
                    rate = n * epochs / t.median
                    speed = t.median / ours_t
                    speedups[(data_key, batch, key)] = speed
                    table.add_row([data_label, batch, name, f"{t.median:.3f}", f"{t.best:.3f}",
                                   t.repeat, f"{rate:,.0f}", fmt_ratio(speed), f"{acc:.3f}"],
                                  data=data_key, batch=batch, name=name, samples_per_s=rate,
                                  ours_speedup=speed, train_accuracy=acc,
                                  timing=_timing_record(t))
                if not cfg.quick and accs["ours"] < accs["sklearn-f64"] - 0.15:
                    raise RuntimeError(f"mlp: ours reached train accuracy {accs['ours']:.3f} "
                                       f"against scikit-learn's {accs['sklearn-f64']:.3f} "
                                       f"(batch {batch}, {data_label}): not the same training.")
    for batch in MLP_BATCHES:
        for key in ("sklearn-f64", "sklearn-f32", "torch"):
            target = MLP_TARGETS.get(key) if batch == MLP_TARGET_BATCH else None
            table.add_check(f"ours / {key} samples/s (784 features, batch {batch})",
                            speedups[("784", batch, key)], target, ">=")
    table.add_note(
        "samples/s = n_samples x epochs / fit time; 'ours speed-up' = our samples/s over the "
        "row's (time / ours). A fit is timed whole (validation, initialisation, every epoch); "
        "each implementation is warmed up first with a 1-epoch fit on "
        f"{MLP_WARMUP_ROWS} rows, then timed round-robin with the others; 'fit s' is the "
        "median of 'runs' fits, 784-feature fits are few and long (one run has no spread).")
    table.add_note(
        "Inputs: the standardised float64 arrays for ours, scikit-learn (float64) and the "
        "PyTorch loop (ours and torch cast to float32 inside the timed fit); scikit-learn "
        "(float32) gets a float32 copy made beforehand. Same settings everywhere: tol=0, "
        "n_iter_no_change=1e9, random_state=0, shuffle every epoch, no validation split; "
        "the estimators add alpha=1e-4 L2, the PyTorch loop does not. train acc = accuracy "
        "on the training set: a sanity check that every row trained the same network.")
    table.add_note(
        f"Threads: every pool is limited to {cfg.threads} (torch.set_num_threads too); on "
        "top of that our estimators cap BLAS at 1 thread for batches below 512 rows "
        "(n_threads=None, their default), so with --threads > 1 only our 512-row batches "
        "use more than one core.")
    return table


# ---------------------------------------------------------------------------
# d. Predict latency
# ---------------------------------------------------------------------------

PREDICT_ROWS = (1, 100, 10_000)
PREDICT_TARGET = 0.5  # our single-row predict time over scikit-learn's, <=


def bench_predict(cfg):
    """Table d: predict on 1, 100 and 10 000 rows with a model fitted for one epoch."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    _, data_label, X, y = _mlp_datasets(cfg.quick)[0]
    n = X.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = _ours_mlp(MLP_TARGET_BATCH, 1).fit(X, y)
        sk = _sklearn_mlp(MLP_TARGET_BATCH, 1).fit(X, y)
        tm = TorchMLP(MLP_TARGET_BATCH, 1).fit(X, y) if torch is not None else None

    # Rows to predict: the training rows, repeated when the set is smaller than 10 000.
    pool = X[np.arange(max(PREDICT_ROWS)) % n]
    pool32 = pool.astype(np.float32)
    table = Table(
        "predict",
        f"d. Predict latency: MLP {MLP_HIDDEN} fitted 1 epoch on {data_label} "
        f"(threads={cfg.threads})",
        ["rows", "implementation", "us/call", "best us", "iqr %", "calls", "rows/s",
         "time / ours"],
    )
    medians = {}
    for rows in PREDICT_ROWS:
        x64 = np.ascontiguousarray(pool[:rows])
        tx = torch.from_numpy(np.ascontiguousarray(pool32[:rows])) if tm is not None else None

        def torch_call(model=None if tm is None else tm.model_, tx=tx):
            with torch.no_grad():
                return model(tx).argmax(dim=1)

        cases = [("ours: MLPClassifier.predict (float64 input)", "ours",
                  functools.partial(ours.predict, x64)),
                 ("scikit-learn MLPClassifier.predict (float64 input)", "sklearn",
                  functools.partial(sk.predict, x64)),
                 ("PyTorch module(x) + argmax under no_grad (float32 tensor)", "torch",
                  torch_call if tm is not None else None)]
        # Same answers within each model: batched rows match one-by-one rows.
        for name, key, fn in cases[:2]:
            model = ours if key == "ours" else sk
            if not np.array_equal(fn()[:1], model.predict(x64[:1])):
                raise RuntimeError(f"predict: {name} gives a different label for row 0 "
                                   f"alone than within {rows} rows.")
        timings = {key: (measure(fn, cfg) if fn is not None else None) for _, key, fn in cases}
        ours_t = timings["ours"].median
        for name, key, _ in cases:
            t = timings[key]
            medians[(rows, key)] = None if t is None else t.median
            if t is None:
                table.add_row([rows, name, "not installed", "", "", "", "", ""], rows=rows,
                              name=name, timing=None)
                continue
            table.add_row([rows, name, f"{t.median * 1e6:,.1f}", f"{t.best * 1e6:,.1f}",
                           iqr(t), f"{t.number}x{t.repeat}", f"{rows / t.median:,.0f}",
                           fmt_ratio(t.median / ours_t)],
                          rows=rows, name=name, timing=_timing_record(t))
    for rows in PREDICT_ROWS:
        table.add_check(f"ours / sklearn time ({rows} row{'s' if rows > 1 else ''})",
                        ratio(medians[(rows, "ours")], medians[(rows, "sklearn")]),
                        PREDICT_TARGET if rows == 1 else None, "<=")
    for rows in PREDICT_ROWS:
        table.add_check(f"ours / torch time ({rows} row{'s' if rows > 1 else ''})",
                        ratio(medians[(rows, "ours")], medians[(rows, "torch")]))
    accs = {"ours": _accuracy(ours, X, y), "sklearn": _accuracy(sk, X, y)}
    if tm is not None:
        accs["torch"] = _accuracy(tm, X, y)
    table.add_note(
        "us/call: median over repeats, each repeat as many calls as fill "
        f"{cfg.min_time * 1e3:.0f} ms ('calls' = calls per repeat x repeats). Ours and "
        "scikit-learn get a float64 array and return class labels (input validation, "
        "casting to float32 for ours, forward pass, label decoding); PyTorch is the bare "
        "module on a ready float32 tensor (no validation, no label decoding): the floor "
        "of a forward pass in Python. Models fitted for 1 epoch at batch "
        f"{MLP_TARGET_BATCH}; train accuracy "
        + ", ".join(f"{k} {v:.3f}" for k, v in accs.items()) + ".")
    table.add_note(
        f"Threads: pools limited to {cfg.threads}; our predict uses 1 BLAS thread below 512 "
        "rows on its own (n_threads=None).")
    return table


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


# ---------------------------------------------------------------------------
# f. Conv2d forward + backward
# ---------------------------------------------------------------------------

CONV_BATCH = 64
# (label, C_in, C_out, H = W, kernel, padding, groups)
CONV_CASES = [
    ("1x28x28 -> 32, 3x3 pad 1", 1, 32, 28, 3, 1, 1),
    ("32x14x14 -> 64, 3x3 pad 1", 32, 64, 14, 3, 1, 1),
    ("depthwise 64x14x14, 3x3 pad 1 (groups 64)", 64, 64, 14, 3, 1, 64),
]
CONV_TARGET = 1.5  # our engine's time over torch's, <=
CONV_CHECK_RTOL = 1e-3


def _numpy_conv2d_step(x, w, b, gy, pad, groups):
    """Forward + backward of a stride-1 grouped 2-D convolution by im2col + matmul.

    ``x`` (N, C, H, W), ``w`` (C_out, C/groups, kh, kw), ``b`` (C_out,), ``gy``
    the output gradient. One batched matmul per pass (one GEMM per group);
    the input gradient is col2im by kh * kw strided adds. Returns (y, gx, gw, gb).
    """
    n, c, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    g = groups
    ho, wo = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))  # N,C,Ho,Wo,kh,kw
    cols = (win.reshape(n, g, cg, ho, wo, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
            .reshape(g, cg * kh * kw, n * ho * wo))  # the im2col copy
    wg = w.reshape(g, c_out // g, cg * kh * kw)
    yg = np.matmul(wg, cols)  # (G, C_out/G, N*Ho*Wo)
    y = np.empty((n, c_out, ho, wo), x.dtype)
    np.add(yg.reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3), b[:, None, None], out=y)
    # backward
    gyg = gy.transpose(1, 0, 2, 3).reshape(g, c_out // g, n * ho * wo)
    gw = np.matmul(gyg, cols.transpose(0, 2, 1)).reshape(w.shape)
    gb = gy.sum(axis=(0, 2, 3))
    gcols = np.matmul(wg.transpose(0, 2, 1), gyg).reshape(c, kh, kw, n, ho, wo)
    gxp = np.zeros((c, n, h + 2 * pad, wd + 2 * pad), x.dtype)  # col2im, channels first
    for i in range(kh):
        for j in range(kw):
            gxp[:, :, i:i + ho, j:j + wo] += gcols[:, i, j]
    gx = np.ascontiguousarray(gxp[:, :, pad:pad + h, pad:pad + wd].transpose(1, 0, 2, 3))
    return y, gx, gw, gb


def _conv_flops(n, c_in, c_out, k, ho, wo, groups):
    """Multiply-adds x 2 of one convolution's forward; backward counts twice that."""
    return 2 * n * c_out * (c_in // groups) * k * k * ho * wo


def _torch_ratio_check(table, name, timing, torch_t, target):
    table.add_check(name, ratio(timing.median, None if torch_t is None else torch_t.median),
                    target, "<=")


def _add_rows_vs_torch(table, label, cases, timings, work, unit, **record):
    """One row per implementation of ``cases``: time, rate (``work`` per second
    in ``unit``) and time over torch's row (``"torch"`` key)."""
    torch_t = timings.get("torch")
    for key, name, _ in cases:
        t = timings.get(key)
        if t is None:
            table.add_row([label, name, "not installed", "", "", "", ""], impl=key, name=name,
                          timing=None, **record)
            continue
        rel = ratio(t.median, None if torch_t is None else torch_t.median)
        table.add_row([label, name, ms(t.median), ms(t.best), iqr(t),
                       f"{work / t.median / unit:.1f}", fmt_ratio(rel)],
                      impl=key, name=name, timing=_timing_record(t), time_over_torch=rel,
                      **record)


def _check_close(table_key, label, results, reference, rtol):
    """Raise unless every implementation's arrays match the reference's."""
    worst = 0.0
    for impl, arrays in results.items():
        for what, a, r in zip(("output", "grad input", "grad weight", "grad bias"), arrays,
                              reference):
            err = _max_rel_err(a, r)
            worst = max(worst, err)
            if not err < rtol:
                raise RuntimeError(f"{table_key}: {label}: {impl} disagrees with the float64 "
                                   f"numpy reference ({what}: max rel. error {err:.2e}).")
    return worst


def bench_conv2d(cfg):
    """Table f: one conv2d forward + backward (input, weight and bias gradients)."""
    from sklears_neural.autograd import Tensor
    from sklears_neural._dispatch import kernels_for
    from sklears_neural.nn import functional as F

    n = CONV_BATCH
    table = Table(
        "conv2d",
        f"f. Conv2d forward+backward (grad input, weight, bias): batch {n}, float32, "
        f"stride 1 (threads={cfg.threads})",
        ["convolution", "implementation", "ms/step", "best ms", "iqr %", "GFLOP/s",
         "time / torch"],
    )
    worst = 0.0
    overheads = []
    for label, c_in, c_out, hw, k, pad, groups in CONV_CASES:
        rng = np.random.default_rng(c_in * 1000 + c_out)
        x = rng.standard_normal((n, c_in, hw, hw), dtype=np.float32)
        bound = 1.0 / math.sqrt(c_in // groups * k * k)
        w = rng.uniform(-bound, bound, (c_out, c_in // groups, k, k)).astype(np.float32)
        b = rng.uniform(-bound, bound, c_out).astype(np.float32)
        ho = wo = hw + 2 * pad - k + 1
        gy = rng.standard_normal((n, c_out, ho, wo), dtype=np.float32)
        conv_args = ((1, 1), (pad, pad), (1, 1), groups)  # stride, padding, dilation, groups

        x_t, w_t, b_t = (Tensor(a.copy(), requires_grad=True) for a in (x, w, b))

        def engine_step(x_t=x_t, w_t=w_t, b_t=b_t, pad=pad, groups=groups, gy=gy):
            x_t.grad = w_t.grad = b_t.grad = None
            y = F.conv2d(x_t, w_t, b_t, padding=pad, groups=groups)
            y.backward(gy)
            return y

        kern = kernels_for(x)

        def kernel_step(kern=kern, x=x, w=w, b=b, gy=gy, conv_args=conv_args):
            y = kern.conv_forward(x, w, b, *conv_args)
            return (y, *kern.conv_backward(gy, x, w, *conv_args, True, True, True))

        def numpy_step(x=x, w=w, b=b, gy=gy, pad=pad, groups=groups):
            return _numpy_conv2d_step(x, w, b, gy, pad, groups)

        torch_step = None
        if torch is not None:
            tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
            tgy = torch.from_numpy(gy)

            def _torch_step(tx=tx, tw=tw, tb=tb, tgy=tgy, pad=pad, groups=groups):
                tx.grad = tw.grad = tb.grad = None
                y = torch.nn.functional.conv2d(tx, tw, tb, padding=pad, groups=groups)
                y.backward(tgy)
                return y

            torch_step = _torch_step

        # Everyone against a float64 numpy reference before timing.
        reference = _numpy_conv2d_step(*(a.astype(np.float64) for a in (x, w, b, gy)), pad,
                                       groups)
        y = engine_step()
        results = {"engine": (y.data, x_t.grad, w_t.grad, b_t.grad),
                   "kernels": kernel_step(), "numpy": numpy_step()}
        if torch_step is not None:
            ty = torch_step()
            results["torch"] = tuple(a.detach().numpy() for a in (ty, tx.grad, tw.grad, tb.grad))
        worst = max(worst, _check_close("conv2d", label, results, reference, CONV_CHECK_RTOL))

        cases = [("engine", "ours: engine (F.conv2d on Tensors + backward(grad))", engine_step),
                 ("kernels", "ours: conv_forward + conv_backward kernels", kernel_step),
                 ("torch", "PyTorch (F.conv2d + backward(grad))", torch_step),
                 ("numpy", "plain numpy: im2col + matmul", numpy_step)]
        timings = {key: measure(fn, cfg) for key, _, fn in cases if fn is not None}
        flops = 3 * _conv_flops(n, c_in, c_out, k, ho, wo, groups)
        _add_rows_vs_torch(table, label, cases, timings, flops, 1e9, case=label,
                           flops_per_step=flops)
        torch_t = timings.get("torch")
        _torch_ratio_check(table, f"{label}: engine / torch", timings["engine"], torch_t,
                           CONV_TARGET)
        _torch_ratio_check(table, f"{label}: kernels / torch", timings["kernels"], torch_t,
                           None)
        overheads.append((timings["engine"].median - timings["kernels"].median) * 1e6)
    table.add_note(
        "One step = forward, then backward from a fixed random output gradient computing the "
        "input, weight and bias gradients (gradients set to None before each step). GFLOP/s "
        "counts 2 N C_out (C_in/groups) k^2 H_out W_out per convolution, x3 for forward + "
        "backward (bias, padding and data movement not counted).")
    table.add_note(
        "plain numpy: im2col by sliding_window_view + one copy, one batched matmul per pass "
        "(one GEMM per group: 64 tiny ones for the depthwise case), col2im by k^2 strided adds "
        "(_numpy_conv2d_step). Every row agrees with a float64 numpy reference before timing "
        f"(max rel. error {worst:.1e}, limit {CONV_CHECK_RTOL:g}). Engine overhead over the "
        "direct kernel calls: " + ", ".join(f"{o:.0f}" for o in overheads) + " us/step.")
    table.add_note(
        f"Threads: pools limited to {cfg.threads}; our conv kernels run their own loops on one "
        "thread (BLAS, in the GEMMs, follows threadpoolctl); torch follows --threads.")
    return table


# ---------------------------------------------------------------------------
# g. Pooling and BatchNorm2d forward + backward
# ---------------------------------------------------------------------------

POOL_SHAPE = (64, 32, 28, 28)
POOL_TARGET = 1.0  # our engine's time over torch's, <=
BN_EPS = 1e-5


def _numpy_max_pool_step(x, gy):
    """2x2 stride-2 max pool by reshape: argmax over the 4 window elements
    (the first maximum, as the kernels), gradient scattered back. (y, gx)."""
    n, c, h, w = x.shape
    ho, wo = h // 2, w // 2
    r = x.reshape(n, c, ho, 2, wo, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, 4)
    idx = r.argmax(axis=-1)[..., None]
    y = np.take_along_axis(r, idx, axis=-1)[..., 0]
    g = np.zeros_like(r)
    np.put_along_axis(g, idx, gy[..., None], axis=-1)
    gx = g.reshape(n, c, ho, wo, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    return y, gx


def _numpy_avg_pool_step(x, gy):
    """2x2 stride-2 average pool by reshape + mean; gradient by broadcasting. (y, gx)."""
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))
    gx = np.empty_like(x)
    np.multiply(gy[:, :, :, None, :, None], 0.25, out=gx.reshape(n, c, h // 2, 2, w // 2, 2))
    return y, gx


def _numpy_batch_norm_step(x, gamma, beta, gy, eps=BN_EPS):
    """Training-mode BatchNorm2d forward + backward in numpy. (y, gx, ggamma, gbeta)."""
    axes = (0, 2, 3)
    m = x.size // x.shape[1]
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(var + eps)
    xhat = xc * invstd
    y = xhat * gamma[:, None, None] + beta[:, None, None]
    gbeta = gy.sum(axis=axes)
    ggamma = (gy * xhat).sum(axis=axes)
    scale = gamma[:, None, None] * invstd
    gx = scale * (gy - gbeta[:, None, None] / m - xhat * (ggamma[:, None, None] / m))
    return y, gx, ggamma, gbeta


def bench_pool(cfg):
    """Table g: max-pool, avg-pool and BatchNorm2d forward + backward."""
    from sklears_neural import nn
    from sklears_neural.autograd import Tensor
    from sklears_neural._dispatch import kernels_for
    from sklears_neural.nn import functional as F

    shape = POOL_SHAPE
    n, c, h, w = shape
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape, dtype=np.float32)
    gy_pool = rng.standard_normal((n, c, h // 2, w // 2), dtype=np.float32)
    gy_bn = rng.standard_normal(shape, dtype=np.float32)
    kern = kernels_for(x)
    k2, s2, p0, d1 = (2, 2), (2, 2), (0, 0), (1, 1)
    table = Table(
        "pool",
        f"g. Pooling and BatchNorm2d forward+backward: {'x'.join(map(str, shape))} float32 "
        f"(threads={cfg.threads})",
        ["op", "implementation", "ms/step", "best ms", "iqr %", "GB/s", "time / torch"],
    )
    size_bytes = x.size * 4
    worst = 0.0

    # max pool
    x_t = Tensor(x.copy(), requires_grad=True)

    def max_engine():
        x_t.grad = None
        y = F.max_pool2d(x_t, 2)
        y.backward(gy_pool)
        return y.data, x_t.grad

    def max_kernels():
        y, ind = kern.max_pool_forward(x, k2, s2, p0, d1, False)
        return y, kern.max_pool_backward(gy_pool, ind, x.shape)

    def avg_engine():
        x_t.grad = None
        y = F.avg_pool2d(x_t, 2)
        y.backward(gy_pool)
        return y.data, x_t.grad

    def avg_kernels():
        y = kern.avg_pool_forward(x, k2, s2, p0, False, True, None)
        return y, kern.avg_pool_backward(gy_pool, x.shape, k2, s2, p0, False, True, None)

    bn = nn.BatchNorm2d(c)
    bn.weight.data[...] = rng.uniform(0.5, 1.5, c).astype(np.float32)
    bn.bias.data[...] = rng.uniform(-0.5, 0.5, c).astype(np.float32)
    gamma, beta = np.array(bn.weight.data), np.array(bn.bias.data)

    def bn_engine():
        x_t.grad = None
        bn.zero_grad()
        y = bn(x_t)
        y.backward(gy_bn)
        return y.data, x_t.grad, bn.weight.grad, bn.bias.grad

    def bn_kernels():
        y, mean, invstd = kern.batch_norm_forward(x, gamma, beta, BN_EPS)
        return (y, *kern.batch_norm_backward(gy_bn, x, gamma, mean, invstd))

    torch_fns = {"max": None, "avg": None, "bn": None}
    if torch is not None:
        tx = torch.from_numpy(x.copy()).requires_grad_()
        tgy_pool, tgy_bn = torch.from_numpy(gy_pool), torch.from_numpy(gy_bn)
        tbn = torch.nn.BatchNorm2d(c)
        with torch.no_grad():
            tbn.weight.copy_(torch.from_numpy(gamma))
            tbn.bias.copy_(torch.from_numpy(beta))

        def _torch_pool(fn):
            def step():
                tx.grad = None
                y = fn(tx, 2)
                y.backward(tgy_pool)
                return y.detach().numpy(), tx.grad.numpy()
            return step

        def torch_bn():
            tx.grad = None
            tbn.zero_grad(set_to_none=True)
            y = tbn(tx)
            y.backward(tgy_bn)
            return tuple(a.detach().numpy() for a in (y, tx.grad, tbn.weight.grad, tbn.bias.grad))

        torch_fns = {"max": _torch_pool(torch.nn.functional.max_pool2d),
                     "avg": _torch_pool(torch.nn.functional.avg_pool2d), "bn": torch_bn}

    x64 = x.astype(np.float64)
    ops = [
        ("max-pool 2x2 s2", "max", 2.5, max_engine, max_kernels,
         lambda: _numpy_max_pool_step(x, gy_pool),
         "F.max_pool2d", "max_pool_forward/backward", "reshape + argmax, scatter",
         _numpy_max_pool_step(x64, gy_pool.astype(np.float64))),
        ("avg-pool 2x2 s2", "avg", 2.5, avg_engine, avg_kernels,
         lambda: _numpy_avg_pool_step(x, gy_pool),
         "F.avg_pool2d", "avg_pool_forward/backward", "reshape + mean, broadcast",
         _numpy_avg_pool_step(x64, gy_pool.astype(np.float64))),
        ("BatchNorm2d (training)", "bn", 5.0, bn_engine, bn_kernels,
         lambda: _numpy_batch_norm_step(x, gamma, beta, gy_bn),
         "nn.BatchNorm2d", "batch_norm_forward/backward", "mean/var, textbook backward",
         _numpy_batch_norm_step(x64, gamma.astype(np.float64), beta.astype(np.float64),
                                gy_bn.astype(np.float64))),
    ]
    for label, key, streams, engine_fn, kernel_fn, numpy_fn, eng, kname, npname, ref in ops:
        results = {"engine": engine_fn(), "kernels": kernel_fn(), "numpy": numpy_fn()}
        if torch_fns[key] is not None:
            results["torch"] = torch_fns[key]()
        worst = max(worst, _check_close("pool", label, results, ref, 1e-4))
        cases = [("engine", f"ours: engine ({eng} + backward(grad))", engine_fn),
                 ("kernels", f"ours: {kname} kernels", kernel_fn),
                 ("torch", "PyTorch (" + ("nn.BatchNorm2d" if key == "bn" else
                                          f"F.{key}_pool2d") + " + backward(grad))",
                  torch_fns[key]),
                 ("numpy", f"plain numpy: {npname}", numpy_fn)]
        timings = {k: measure(fn, cfg) for k, _, fn in cases if fn is not None}
        n_bytes = streams * size_bytes
        _add_rows_vs_torch(table, label, cases, timings, n_bytes, 1e9, op=label,
                           bytes_per_step=n_bytes)
        torch_t = timings.get("torch")
        _torch_ratio_check(table, f"{label}: engine / torch", timings["engine"], torch_t,
                           POOL_TARGET)
        _torch_ratio_check(table, f"{label}: kernels / torch", timings["kernels"], torch_t,
                           None)
    table.add_note(
        "One step = forward, then backward from a fixed random output gradient (the input "
        "gradient; for BatchNorm2d also the weight and bias gradients). GB/s counts the "
        "float32 arrays a step must move once each: 2.5 inputs' worth for the pools (read x, "
        "write y, read grad y, write grad x; the max-pool indices not counted), 5 for "
        "BatchNorm2d (read x, write y; read grad y and x, write grad x).")
    table.add_note(
        "BatchNorm2d: training mode, eps 1e-5, random affine weights; the engine and torch "
        "rows also update the running statistics, the kernel and numpy rows do not. Every row "
        f"agrees with a float64 numpy reference before timing (max rel. error {worst:.1e}). "
        f"Threads: pools limited to {cfg.threads}; our pooling and norm kernels run on one "
        "thread (n_threads=None); torch follows --threads.")
    return table


# ---------------------------------------------------------------------------
# h. LeNet training epoch
# ---------------------------------------------------------------------------

LENET_SAMPLES, LENET_SAMPLES_QUICK = 2048, 512
LENET_BATCH = 64
LENET_LR = 1e-3


def _ours_lenet():
    from sklears_neural import nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, generator=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, generator=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120, activation="relu", generator=2),
        nn.Linear(120, 84, activation="relu", generator=3),
        nn.Linear(84, 10, generator=4),
    )


def _torch_lenet(ours):
    """The same network in torch, with ``ours``'s initial weights."""
    tnn = torch.nn
    model = tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(),
        tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10),
    )
    ours_params, torch_params = list(ours.parameters()), list(model.parameters())
    assert len(ours_params) == len(torch_params)
    with torch.no_grad():
        for p, tp in zip(ours_params, torch_params):
            assert tuple(p.shape) == tuple(tp.shape), (p.shape, tp.shape)
            tp.copy_(torch.from_numpy(np.array(p.data)))
    return model


class OursLeNetTrainer:
    """Epochs of our LeNet: shuffle, then per batch zero_grad, forward,
    cross-entropy, backward, Adam step, ``loss.item()``."""

    def __init__(self, X, y, seed=0):
        from sklears_neural import nn, optim

        self.X, self.y = X, y
        self.model = _ours_lenet()
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = optim.Adam(self.model.parameters(), lr=LENET_LR)
        self.rng = np.random.default_rng(seed)

    def batch_loss(self, idx):
        from sklears_neural.autograd import Tensor

        self.model.zero_grad()
        loss = self.loss_fn(self.model(Tensor(self.X[idx])), self.y[idx])
        loss.backward()
        return loss

    def epoch(self):
        n, total = self.X.shape[0], 0.0
        order = self.rng.permutation(n)
        for begin in range(0, n, LENET_BATCH):
            idx = order[begin:begin + LENET_BATCH]
            loss = self.batch_loss(idx)
            self.opt.step()
            total += loss.item() * len(idx)
        return total / n


class TorchLeNetTrainer:
    """The same loop in torch (``zero_grad(set_to_none=True)``, ``torch.optim.Adam``)."""

    def __init__(self, X, y, ours_model, seed=0):
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.model = _torch_lenet(ours_model)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LENET_LR)
        self.rng = np.random.default_rng(seed)

    def batch_loss(self, idx):
        idx = torch.from_numpy(idx)
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(self.X[idx]), self.y[idx])
        loss.backward()
        return loss

    def epoch(self):
        n, total = self.X.shape[0], 0.0
        order = self.rng.permutation(n)
        for begin in range(0, n, LENET_BATCH):
            idx = order[begin:begin + LENET_BATCH]
            loss = self.batch_loss(idx)
            self.opt.step()
            total += loss.item() * len(idx)
        return total / n


def bench_lenet(cfg):
    """Table h: one LeNet-5-style training epoch (Adam, batch 64) against PyTorch."""
    n = LENET_SAMPLES_QUICK if cfg.quick else LENET_SAMPLES
    rng = np.random.default_rng(11)
    X = rng.standard_normal((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    torch_threads = None if torch is None else torch.get_num_threads()
    table = Table(
        "lenet",
        f"h. LeNet training epoch: {n} random 1x28x28 samples, 10 classes, batch "
        f"{LENET_BATCH}, Adam lr {LENET_LR:g}, float32 (threads={cfg.threads}, torch threads="
        f"{torch_threads if torch_threads is not None else 'n/a'})",
        ["implementation", "s/epoch", "best s", "runs", "samples/s", "epoch loss",
         "time / torch"],
    )
    ours = OursLeNetTrainer(X, y)
    trainers = {"ours": ours}
    if torch is not None:
        trainers["torch"] = TorchLeNetTrainer(X, y, ours.model)

    # Same network, same start: loss and gradients of one batch agree.
    first = np.arange(LENET_BATCH)
    ours_loss = float(ours.batch_loss(first).item())
    worst = 0.0
    if "torch" in trainers:
        tt = trainers["torch"]
        torch_loss = float(tt.batch_loss(first).item())
        if not abs(ours_loss - torch_loss) < 1e-4:
            raise RuntimeError(f"lenet: first-batch loss {ours_loss} (ours) vs {torch_loss} "
                               "(torch): not the same network.")
        for p, tp in zip(ours.model.parameters(), tt.model.parameters()):
            worst = max(worst, _max_rel_err(p.grad, tp.grad.numpy()))
        if not worst < 1e-3:
            raise RuntimeError(f"lenet: first-batch gradients disagree with torch's (max rel. "
                               f"error {worst:.2e}).")
    ours.model.zero_grad()

    for trainer in trainers.values():  # warm-up: one epoch each (first-call paths, buffers)
        trainer.epoch()
    names = {"ours": "ours: nn.Sequential (Conv2d, ReLU, MaxPool2d, Flatten, Linear) + "
                     "optim.Adam",
             "torch": "PyTorch (the same torch.nn.Sequential) + torch.optim.Adam"}
    budget, max_runs = (1.0, cfg.repeat) if cfg.quick else (6.0, 7)
    timed = measure_runs({key: t.epoch for key, t in trainers.items()}, budget, max_runs,
                         min_runs=3 if not cfg.quick else 1)
    torch_t = timed["torch"][0] if "torch" in timed else None
    for key in ("ours", "torch"):
        if key not in timed:
            table.add_row([names[key], "not installed", "", "", "", "", ""], impl=key,
                          timing=None)
            continue
        t, loss = timed[key]
        rel = ratio(t.median, None if torch_t is None else torch_t.median)
        table.add_row([names[key], f"{t.median:.3f}", f"{t.best:.3f}", t.repeat,
                       f"{n / t.median:,.0f}", f"{loss:.4f}", fmt_ratio(rel)],
                      impl=key, name=names[key], samples_per_s=n / t.median, epoch_loss=loss,
                      time_over_torch=rel, timing=_timing_record(t))
    table.add_check("ours / torch time per epoch",
                    ratio(timed["ours"][0].median, None if torch_t is None else torch_t.median))
    table.add_note(
        "Net: Conv(1->6, 5x5, pad 2) ReLU MaxPool2 Conv(6->16, 5x5) ReLU MaxPool2 Flatten "
        "Linear(400->120) ReLU Linear(120->84) ReLU Linear(84->10), cross-entropy; ours uses "
        "Linear(activation='relu') for the fused dense layers. One epoch = a fresh shuffle, "
        f"{-(-n // LENET_BATCH)} steps of zero_grad, forward, loss, backward, Adam step and "
        "loss.item(). Both start from the same weights (ours copied into torch): first-batch "
        f"loss and gradients agree before timing (max rel. grad error {worst:.1e}).")
    table.add_note(
        "Each implementation is warmed up with one epoch, then epochs are timed round-robin "
        "(measure_runs; training goes on from epoch to epoch); 'epoch loss' is the mean "
        "batch loss of the last timed epoch (random labels: about ln 10 = 2.30). The two "
        "runs see the same batches and stay within float32 rounding for the first few dozen "
        "steps, then drift apart (Adam amplifies rounding on near-zero gradients), so the "
        f"losses differ a little. Threads: pools limited to {cfg.threads}, "
        "torch.set_num_threads too.")
    return table


# ---------------------------------------------------------------------------
# i. LSTM and GRU forward + backward
# ---------------------------------------------------------------------------

RNN_BATCH, RNN_STEPS, RNN_INPUT, RNN_HIDDEN = 64, 50, 32, 128
RNN_LAYERS = (1, 2)
RNN_TARGET = 1.5  # our engine's time over torch's, <=
RNN_CHECK_RTOL = 1e-4
RNN_GATES = {"lstm": 4, "gru": 3}


def _rnn_layer_params(module, num_layers, dtype=None):
    """Per layer ``(w_ih, w_hh, b_ih, b_hh)`` arrays of our module (PyTorch's names)."""
    out = []
    for layer in range(num_layers):
        arrays = [np.array(getattr(module, f"{name}_l{layer}").data)
                  for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        out.append(tuple(a if dtype is None else a.astype(dtype) for a in arrays))
    return out


def _rnn_kernel_step(k, mode, x, gy, layers):
    """A stacked one-direction LSTM/GRU through the kernels directly (time-major).

    Forward layer by layer (``lstm_forward`` / ``gru_forward``), then backward
    from the top layer down, each layer's input gradient feeding the one below
    (``need_state=False``: zero initial states, no state gradients). Returns
    ``(y, grad x, [grad w_ih, grad w_hh, grad b_ih, grad b_hh per layer])``.
    """
    inputs, workspaces = [], []
    h = x
    for w_ih, w_hh, b_ih, b_hh in layers:
        inputs.append(h)
        if mode == "lstm":
            h, _, _, ws = k.lstm_forward(h, None, None, w_ih, w_hh, b_ih, b_hh)
        else:
            h, _, ws = k.gru_forward(h, None, w_ih, w_hh, b_ih, b_hh)
        workspaces.append(ws)
    y, g = h, gy
    grads = [None] * len(layers)
    for i in reversed(range(len(layers))):
        w_ih, w_hh, _, b_hh = layers[i]
        if mode == "lstm":
            g, _, _, gwi, gwh, gb = k.lstm_backward(g, None, None, inputs[i], None, None, w_ih,
                                                    w_hh, workspaces[i], need_state=False)
            grads[i] = (gwi, gwh, gb, gb)
        else:
            g, _, gwi, gwh, gbi, gbh = k.gru_backward(g, None, inputs[i], None, w_ih, w_hh, b_hh,
                                                      workspaces[i], need_state=False)
            grads[i] = (gwi, gwh, gbi, gbh)
    return y, g, [a for layer in grads for a in layer]


def _split_grads(grads):
    """(all weight gradients, all bias gradients), each flattened into one array, for
    ``_check_close``; ``grads`` alternates as (w_ih, w_hh, b_ih, b_hh) per layer."""
    weights = [np.ravel(g) for i, g in enumerate(grads) if i % 4 < 2]
    biases = [np.ravel(g) for i, g in enumerate(grads) if i % 4 >= 2]
    return np.concatenate(weights), np.concatenate(biases)


def _rnn_flops(mode, n, t, f, h, num_layers):
    """GEMM FLOPs of forward (2 T N G H (F + H) per layer) x3 for forward + backward
    (the input, W_ih and W_hh gradients, the recurrent grad-h products)."""
    g = RNN_GATES[mode]
    total = 0
    for layer in range(num_layers):
        width = f if layer == 0 else h
        total += 2 * t * n * g * h * (width + h)
    return 3 * total


def bench_rnn(cfg):
    """Table i: LSTM and GRU (1 and 2 layers) forward + backward against PyTorch."""
    from sklears_neural import _xp, nn
    from sklears_neural.autograd import Tensor
    from sklears_neural._dispatch import kernels_for

    n, t, f, h = RNN_BATCH, RNN_STEPS, RNN_INPUT, RNN_HIDDEN
    table = Table(
        "rnn",
        f"i. LSTM and GRU forward+backward (grad input and all weights): batch {n}, T {t}, "
        f"{f} -> {h}, time-major (T, N, F), zero initial states, float32 "
        f"(threads={cfg.threads})",
        ["network", "implementation", "ms/step", "best ms", "iqr %", "GFLOP/s",
         "time / torch"],
    )
    worst = 0.0
    overheads = []
    for mode, cls_name in (("lstm", "LSTM"), ("gru", "GRU")):
        for num_layers in RNN_LAYERS:
            label = f"{cls_name}, {num_layers} layer{'s' if num_layers > 1 else ''}"
            rng = np.random.default_rng(100 * num_layers + len(mode))
            x = rng.standard_normal((t, n, f), dtype=np.float32)
            gy = rng.standard_normal((t, n, h), dtype=np.float32)
            module = getattr(nn, cls_name)(f, h, num_layers=num_layers, generator=num_layers)
            params = list(module.parameters())
            x_t = Tensor(x.copy(), requires_grad=True)

            def engine_step(module=module, x_t=x_t, gy=gy):
                x_t.grad = None
                module.zero_grad()
                y, _ = module(x_t)
                y.backward(gy)
                return y

            kern = kernels_for(x)
            layers = _rnn_layer_params(module, num_layers)

            def kernel_step(kern=kern, mode=mode, x=x, gy=gy, layers=layers):
                return _rnn_kernel_step(kern, mode, x, gy, layers)

            torch_step = tmodule = None
            if torch is not None:
                tmodule = getattr(torch.nn, cls_name)(f, h, num_layers=num_layers)
                with torch.no_grad():
                    for name, p in module.named_parameters():
                        getattr(tmodule, name).copy_(torch.from_numpy(np.array(p.data)))
                tx = torch.from_numpy(x.copy()).requires_grad_()
                tgy = torch.from_numpy(gy)

                def _torch_step(tmodule=tmodule, tx=tx, tgy=tgy):
                    tx.grad = None
                    tmodule.zero_grad(set_to_none=True)
                    y, _ = tmodule(tx)
                    y.backward(tgy)
                    return y

                torch_step = _torch_step

            def numpy_step(mode=mode, x=x, gy=gy, layers=layers):
                return _rnn_kernel_step(_xp, mode, x, gy, layers)

            # Everyone against the float64 _xp (numpy) kernels before timing.
            ref_y, ref_gx, ref_grads = _rnn_kernel_step(
                _xp, mode, x.astype(np.float64), gy.astype(np.float64),
                _rnn_layer_params(module, num_layers, np.float64))
            reference = (ref_y, ref_gx, *_split_grads(ref_grads))
            y = engine_step()
            results = {"engine": (y.data, x_t.grad, *_split_grads([p.grad for p in params]))}
            ky, kgx, kgrads = kernel_step()
            results["kernels"] = (ky, kgx, *_split_grads(kgrads))
            ny, ngx, ngrads = numpy_step()
            results["numpy"] = (ny, ngx, *_split_grads(ngrads))
            if torch_step is not None:
                ty = torch_step()
                tgrads = [getattr(tmodule, name).grad.numpy()
                          for name, _ in module.named_parameters()]
                results["torch"] = (ty.detach().numpy(), tx.grad.numpy(), *_split_grads(tgrads))
            worst = max(worst, _check_close("rnn", label, results, reference, RNN_CHECK_RTOL))

            cases = [("engine", f"ours: engine (nn.{cls_name} on a Tensor + backward(grad))",
                      engine_step),
                     ("kernels", f"ours: {mode}_forward + {mode}_backward kernels per layer",
                      kernel_step),
                     ("torch", f"PyTorch (torch.nn.{cls_name} + backward(grad))", torch_step),
                     ("numpy", f"plain numpy: the _xp {mode} kernels", numpy_step)]
            timings = {key: measure(fn, cfg) for key, _, fn in cases if fn is not None}
            flops = _rnn_flops(mode, n, t, f, h, num_layers)
            _add_rows_vs_torch(table, label, cases, timings, flops, 1e9, case=label,
                               mode=mode, num_layers=num_layers, flops_per_step=flops)
            torch_t = timings.get("torch")
            _torch_ratio_check(table, f"{label}: engine / torch", timings["engine"], torch_t,
                               RNN_TARGET)
            _torch_ratio_check(table, f"{label}: kernels / torch", timings["kernels"], torch_t,
                               None)
            # best repeats: at 25-90 ms a step, medians of 9 single calls on a shared
            # machine differ by more than the overhead itself
            overheads.append((timings["engine"].best - timings["kernels"].best) * 1e6)
    table.add_note(
        "One step = forward over the whole sequence, then backward from a fixed random "
        "gradient of the output sequence (not of h_n/c_n), computing the input gradient and "
        "every weight and bias gradient (gradients cleared before each step). Same weights "
        "everywhere: our module's (PyTorch's default init) copied into torch by parameter "
        "name (weight_ih_l0, ...). GFLOP/s counts the GEMMs only: 2 T N G H (F + H) per "
        "layer forward (G = 4 gates for the LSTM, 3 for the GRU), x3 for forward + backward.")
    table.add_note(
        "plain numpy: the portable _xp kernels (one input GEMM, per-step matmul + gate "
        "arithmetic in numpy). Every row agrees with those kernels run in float64 before "
        f"timing (max rel. error {worst:.1e}, limit {RNN_CHECK_RTOL:g}). Engine overhead over "
        "the direct kernel calls (best repeats): " + ", ".join(f"{o:.0f}" for o in overheads)
        + " us/step.")
    table.add_note(
        f"Threads: pools limited to {cfg.threads}; our recurrent kernels run serially (BLAS, "
        "in the GEMMs, follows threadpoolctl); torch follows --threads.")
    return table


# ---------------------------------------------------------------------------
# j. TransformerEncoderLayer forward + backward
# ---------------------------------------------------------------------------

ENCODER_BATCH, ENCODER_STEPS, ENCODER_D, ENCODER_HEADS, ENCODER_FF = 32, 64, 128, 4, 512
ENCODER_TARGET = 2.0  # our engine's time over torch's, <=
ENCODER_CHECK_RTOL = 1e-3


def _encoder_flops(n, t, d, ff):
    """GEMM FLOPs of one post-norm encoder layer's forward x3 for forward + backward:
    the q/k/v and output projections (2 N T 4 d^2), scores and weighted values
    (2 x 2 N T^2 d, all heads together) and the feed-forward block (2 x 2 N T d ff)."""
    forward = 2 * n * t * 4 * d * d + 4 * n * t * t * d + 4 * n * t * d * ff
    return 3 * forward


def _named_grads(named_params, names, get):
    """Gradients in ``names`` order, as ``(weights..., biases...)`` flattened pair:
    1-D parameters (biases, LayerNorm affine) count as biases."""
    grads = [np.asarray(get(named_params[name])) for name in names]
    weights = [g.ravel() for g in grads if g.ndim > 1]
    biases = [g.ravel() for g in grads if g.ndim == 1]
    return np.concatenate(weights), np.concatenate(biases)


def bench_encoder(cfg):
    """Table j: one TransformerEncoderLayer (and its self-attention block) forward +
    backward against PyTorch."""
    from sklears_neural import nn
    from sklears_neural.autograd import Tensor

    n, t, d, heads, ff = ENCODER_BATCH, ENCODER_STEPS, ENCODER_D, ENCODER_HEADS, ENCODER_FF
    table = Table(
        "encoder",
        f"j. TransformerEncoderLayer forward+backward: batch {n}, T {t}, d_model {d}, "
        f"nhead {heads}, dim_feedforward {ff}, relu, post-norm, dropout 0, batch_first, "
        f"float32 (threads={cfg.threads})",
        ["block", "implementation", "ms/step", "best ms", "iqr %", "GFLOP/s", "time / torch"],
    )
    rng = np.random.default_rng(21)
    x = rng.standard_normal((n, t, d), dtype=np.float32)
    gy = rng.standard_normal((n, t, d), dtype=np.float32)
    layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=ff, dropout=0.0,
                                       batch_first=True, generator=3)
    # Non-zero biases and LayerNorm affines, so that their gradients are checked too.
    for name, p in layer.named_parameters():
        if p.data.ndim == 1:
            base = 1.0 if name.startswith("norm") and name.endswith("weight") else 0.0
            p.data[...] = base + rng.uniform(-0.1, 0.1, p.data.shape).astype(np.float32)
    ours_named = dict(layer.named_parameters())
    names = sorted(ours_named)
    x_t = Tensor(x.copy(), requires_grad=True)

    def engine_layer():
        x_t.grad = None
        layer.zero_grad()
        y = layer(x_t)
        y.backward(gy)
        return y

    def engine_attn():
        x_t.grad = None
        layer.zero_grad()
        y, _ = layer.self_attn(x_t, x_t, x_t, need_weights=False)
        y.backward(gy)
        return y

    torch_fns = {"layer": None, "attn": None}
    if torch is not None:
        tlayer = torch.nn.TransformerEncoderLayer(d, heads, dim_feedforward=ff, dropout=0.0,
                                                  batch_first=True)
        torch_named = dict(tlayer.named_parameters())
        if sorted(torch_named) != names:
            raise RuntimeError("encoder: parameter names differ from torch's: "
                               f"{sorted(set(names) ^ set(torch_named))}")
        with torch.no_grad():
            for name in names:
                torch_named[name].copy_(torch.from_numpy(np.array(ours_named[name].data)))
        tx = torch.from_numpy(x.copy()).requires_grad_()
        tgy = torch.from_numpy(gy)

        def torch_layer():
            tx.grad = None
            tlayer.zero_grad(set_to_none=True)
            y = tlayer(tx)
            y.backward(tgy)
            return y

        def torch_attn():
            tx.grad = None
            tlayer.zero_grad(set_to_none=True)
            y, _ = tlayer.self_attn(tx, tx, tx, need_weights=False)
            y.backward(tgy)
            return y

        torch_fns = {"layer": torch_layer, "attn": torch_attn}

    blocks = [
        ("encoder layer", "layer", engine_layer, "nn.TransformerEncoderLayer",
         _encoder_flops(n, t, d, ff), ENCODER_TARGET),
        ("self-attention only", "attn", engine_attn, "its MultiheadAttention, need_weights=False",
         3 * (2 * n * t * 4 * d * d + 4 * n * t * t * d), None),
    ]
    worst = 0.0
    reference_name = None
    for label, key, engine_fn, what, flops, target in blocks:
        # The reference: the same block in float64, torch's when installed, else ours.
        attn_only = key == "attn"
        if torch is not None:
            import copy

            ref_layer = copy.deepcopy(tlayer).double()
            rx = torch.from_numpy(x.astype(np.float64)).requires_grad_()
            ry = ref_layer.self_attn(rx, rx, rx, need_weights=False)[0] if attn_only \
                else ref_layer(rx)
            ry.backward(torch.from_numpy(gy.astype(np.float64)))
            ref_named = dict(ref_layer.named_parameters())
            ref = (ry.detach().numpy(), rx.grad.numpy())
            reference_name = "PyTorch's layer in float64"
        else:
            ref_layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=ff, dropout=0.0,
                                                   batch_first=True, dtype=np.float64)
            ref_layer.load_state_dict({k: v.astype(np.float64)
                                       for k, v in layer.state_dict().items()})
            rx = Tensor(x.astype(np.float64), requires_grad=True)
            ry = ref_layer.self_attn(rx, rx, rx, need_weights=False)[0] if attn_only \
                else ref_layer(rx)
            ry.backward(gy.astype(np.float64))
            ref_named = dict(ref_layer.named_parameters())
            ref = (ry.data, rx.grad)
            reference_name = "our layer in float64 (torch not installed)"
        used = [name for name in names if not attn_only or name.startswith("self_attn.")]
        reference = (*ref, *_named_grads(ref_named, used, lambda p: (
            p.grad.numpy() if torch is not None else p.grad)))
        y = engine_fn()
        results = {"engine": (y.data, x_t.grad,
                              *_named_grads(ours_named, used, lambda p: p.grad))}
        if torch_fns[key] is not None:
            ty = torch_fns[key]()
            results["torch"] = (ty.detach().numpy(), tx.grad.numpy(),
                                *_named_grads(torch_named, used, lambda p: p.grad.numpy()))
        worst = max(worst, _check_close("encoder", label, results, reference,
                                        ENCODER_CHECK_RTOL))
        cases = [("engine", f"ours: engine ({what} + backward(grad))", engine_fn),
                 ("torch", "PyTorch (the same torch.nn module + backward(grad))",
                  torch_fns[key])]
        timings = {k: measure(fn, cfg) for k, _, fn in cases if fn is not None}
        _add_rows_vs_torch(table, label, cases, timings, flops, 1e9, block=label,
                           flops_per_step=flops)
        _torch_ratio_check(table, f"{label}: engine / torch", timings["engine"],
                           timings.get("torch"), target)
    table.add_note(
        "One step = forward, then backward from a fixed random output gradient computing the "
        "input gradient and every parameter gradient (gradients cleared before each step). "
        "The layer is post-norm: x = norm1(x + attn(x)), x = norm2(x + linear2(relu(linear1(x))))"
        "; the attention block is self-attention x -> x, x, x with no mask. Same weights: ours "
        "(Xavier projections; biases and LayerNorm affines set to random values) copied into "
        "torch by parameter name. GFLOP/s counts the GEMMs only (projections, scores, weighted "
        "values, feed-forward), x3 for forward + backward.")
    table.add_note(
        f"Every row agrees with {reference_name} before timing (output, input gradient, "
        f"weight and bias gradients; max rel. error {worst:.1e}, limit "
        f"{ENCODER_CHECK_RTOL:g}). Threads: pools limited to {cfg.threads}; torch follows "
        "--threads. torch runs its training path (autograd on, so no fused fast path); its "
        "attention goes through scaled_dot_product_attention.")
    return table


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# o. Per-epoch overhead of a tiny network
# ---------------------------------------------------------------------------

OVERHEAD_HIDDEN = (16,)
OVERHEAD_BATCH = 32
OVERHEAD_EPOCHS, OVERHEAD_EPOCHS_QUICK = 20, 4


def bench_overhead(cfg):
    """Table o: a digits epoch with a 64-16-10 MLP at batch 32, where the engine's
    per-batch overhead (not arithmetic) sets the pace."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SkMLP
    from sklearn.preprocessing import StandardScaler

    from sklears_neural import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    n = X.shape[0]
    epochs = OVERHEAD_EPOCHS_QUICK if cfg.quick else OVERHEAD_EPOCHS
    batches = -(-n // OVERHEAD_BATCH)
    common = dict(hidden_layer_sizes=OVERHEAD_HIDDEN, batch_size=OVERHEAD_BATCH, tol=0,
                  n_iter_no_change=10**9, random_state=0)
    impls = {"ours: MLPClassifier (float32)": lambda: MLPClassifier(max_iter=epochs,
                                                                       **common).fit(X, y),
             "scikit-learn MLPClassifier (float64)": lambda: SkMLP(max_iter=epochs,
                                                                   **common).fit(X, y)}
    if torch is not None:
        impls["PyTorch loop (Sequential, Adam, float32)"] = lambda: _torch_tiny(X, y, epochs)
    table = Table(
        "overhead",
        f"o. Per-epoch overhead: digits {n}x64, MLP 64-{OVERHEAD_HIDDEN[0]}-10, Adam, batch "
        f"{OVERHEAD_BATCH} ({batches} steps per epoch), {epochs} epochs (threads={cfg.threads})",
        ["implementation", "ms/epoch", "best ms/epoch", "us/step", "runs", "time / ours"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for fn in impls.values():
            fn()  # warm-up
        timed = measure_runs(impls, budget=3.0 if not cfg.quick else 0.5,
                             max_runs=cfg.repeat, min_runs=3 if not cfg.quick else 1)
    ours = timed["ours: MLPClassifier (float32)"][0].median
    for name, (t, _) in timed.items():
        table.add_row([name, f"{t.median / epochs * 1e3:.2f}", f"{t.best / epochs * 1e3:.2f}",
                       f"{t.median / (epochs * batches) * 1e6:.1f}", t.repeat,
                       fmt_ratio(t.median / ours)],
                      name=name, ms_per_epoch=t.median / epochs * 1e3,
                      us_per_step=t.median / (epochs * batches) * 1e6,
                      timing=_timing_record(t))
        if name.startswith("PyTorch"):
            table.add_check("torch time / ours", t.median / ours)
    table.add_note("A whole fit is timed (validation, initialisation, every epoch) and divided "
                   "by the epochs; us/step = time per optimizer step. The network is so small "
                   "that the time is per-batch bookkeeping: batching, graph, loss, optimizer "
                   "calls.")
    return table


def _torch_tiny(X, y, epochs):
    global MLP_HIDDEN
    previous, MLP_HIDDEN = MLP_HIDDEN, OVERHEAD_HIDDEN
    try:
        return TorchMLP(OVERHEAD_BATCH, epochs).fit(X, y)
    finally:
        MLP_HIDDEN = previous


TABLES = {
    "dense": bench_dense,
    "adam": bench_adam,
    "mlp": bench_mlp,
    "predict": bench_predict,
    "optim": bench_optim,
    "conv2d": bench_conv2d,
    "pool": bench_pool,
    "lenet": bench_lenet,
    "rnn": bench_rnn,
    "encoder": bench_encoder,
    "overhead": bench_overhead,
}

# Names for several tables at once (``--only conv``, ``--only sequence``).
GROUPS = {"conv": ["conv2d", "pool", "lenet"], "sequence": ["rnn", "encoder"]}


def _version(distribution):
    """Installed version of a distribution, without importing it (None if absent)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_revision():
    head = Path(__file__).resolve().parents[1] / ".git"
    try:
        import subprocess

        return subprocess.run(["git", "-C", str(head.parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5).stdout.strip() or None
    except Exception:
        return None


def environment(threads, load_average=None):
    """Versions, CPU and thread pools, for the header and the JSON file."""
    from sklears_neural._kernels import _openmp_helpers

    pools = [{"api": p["user_api"], "library": p["internal_api"],
              "file": os.path.basename(p["filepath"]), "version": p.get("version"),
              "num_threads": p["num_threads"]}
             for p in threadpoolctl.threadpool_info()]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": None if torch is None else torch.__version__,
        "scikit-learn": _version("scikit-learn"),
        "threadpoolctl": threadpoolctl.__version__,
        "sklears_neural_git": _git_revision(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": load_average,
        "threads": threads,
        "torch_threads": None if torch is None else torch.get_num_threads(),
        "kernels_openmp": _openmp_helpers.openmp_enabled(),
        "kernels_omp_max_threads": _openmp_helpers.openmp_max_threads(),
        "thread_pools": pools,
    }


def print_header(env):
    print("sklears-neural benchmarks (benchmarks/compare.py)")
    print(f"  python {env['python']}, numpy {env['numpy']}, scipy {env['scipy']}, "
          f"torch {env['torch'] or 'not installed'}, scikit-learn {env['scikit-learn']}, "
          f"threadpoolctl {env['threadpoolctl']}, sklears_neural git {env['sklears_neural_git']}")
    print(f"  cpu: {env['cpu']}, os.cpu_count()={env['cpu_count']}, usable={env['cpus_usable']}")
    load = env["load_average"]
    if load is not None:
        busy = "  (other processes are busy: expect noisy timings)" if load[0] > 0.7 else ""
        print(f"  load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}{busy}")
    torch_threads = "n/a" if env["torch_threads"] is None else env["torch_threads"]
    print(f"  threads set to {env['threads']}: torch.get_num_threads()={torch_threads}, "
          f"kernels OpenMP={'on' if env['kernels_openmp'] else 'OFF'} "
          f"(omp max threads {env['kernels_omp_max_threads']})")
    print("  thread pools (threadpoolctl):")
    for p in env["thread_pools"]:
        print(f"    {p['api']:<6} {p['library']:<9} {p['file']:<40} v{p['version']}  "
              f"num_threads={p['num_threads']}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fast smoke run: fewer repeats, shorter repeats, fewer cases")
    parser.add_argument("--repeat", type=int, default=None,
                        help="repeats per measurement (median taken); default 9, quick 3")
    parser.add_argument("--threads", default="1",
                        help="comma-separated thread counts for every pool, e.g. 1,2 "
                             "(default 1; 'all' = os.cpu_count())")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated tables to run among: {', '.join(TABLES)}; "
                             f"or groups: " + ", ".join(f"{g} (= {'+'.join(t)})"
                                                         for g, t in GROUPS.items()))
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write all results as JSON to PATH")
    args = parser.parse_args(argv)
    threads = []
    for item in args.threads.split(","):
        item = item.strip()
        threads.append(os.cpu_count() or 1 if item == "all" else int(item))
    if any(t < 1 for t in threads):
        parser.error("--threads takes positive integers or 'all'")
    args.threads = threads
    only = list(TABLES) if args.only is None else [s.strip() for s in args.only.split(",")]
    unknown = [name for name in only if name not in TABLES and name not in GROUPS]
    if unknown:
        parser.error(f"unknown table(s) {', '.join(unknown)}; choose among "
                     f"{', '.join([*TABLES, *GROUPS])}")
    expanded = []
    for name in only:
        for table in GROUPS.get(name, [name]):
            if table not in expanded:
                expanded.append(table)
    only = expanded
    args.only = only
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def set_threads(n):
    """Limit every thread pool loaded in the process to ``n`` threads.

    threadpoolctl reaches the pools already loaded (numpy's and scipy's
    OpenBLAS, the OpenMP runtime), so this runs after the kernels and torch
    are imported; the limits stay in force until changed.
    """
    threadpoolctl.threadpool_limits(limits=n)
    if torch is not None:
        torch.set_num_threads(n)


def main(argv=None):
    args = parse_args(argv)
    load_average = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        # Load the kernels (and with them the OpenMP runtime) before the
        # thread pools are limited, so that the limit reaches them too.
        from sklears_neural._dispatch import kernels_for

        kernels_for(np.zeros(1, np.float32)).dense_forward
    except (ImportError, AttributeError) as exc:
        sys.exit(f"compare.py: the Cython kernels are not built ({exc}); run "
                 "`pip install -e .` in the repository root first.")
    start = time.perf_counter()
    output = {"environment": None, "runs": []}
    for i, threads in enumerate(args.threads):
        set_threads(threads)
        cfg = Config(quick=args.quick, threads=threads)
        if args.quick:
            cfg.repeat, cfg.warmup, cfg.min_time = 3, 2, 0.01
        if args.repeat is not None:
            cfg.repeat = args.repeat
        env = environment(threads, load_average)
        if i == 0:
            print_header(env)
            output["environment"] = env
        else:
            print(f"\n--- threads set to {threads} (torch {env['torch_threads']}, "
                  f"pools {sorted({p['num_threads'] for p in env['thread_pools']})}) ---")
        run = {"threads": threads, "config": asdict(cfg), "thread_pools": env["thread_pools"],
               "tables": []}
        for name in args.only:
            table = TABLES[name](cfg)
            print()
            print(table.render())
            run["tables"].append(table.to_json())
        output["runs"].append(run)
    elapsed = time.perf_counter() - start
    print(f"\ntotal {elapsed:.1f} s")
    output["elapsed_s"] = elapsed
    if args.json:
        Path(args.json).write_text(json.dumps(output, indent=2, default=str))
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
