"""Tables f, g and h: conv2d, pooling and BatchNorm2d, a LeNet epoch."""

import functools
import math

import numpy as np
from ._common import (
    ENGINE_POOL_NOTE,
    Table,
    _timing_record,
    engine_pool,
    fmt_ratio,
    iqr,
    measure,
    ms,
    ratio,
    torch,
)
from .dense import _max_rel_err
from .mlp import measure_runs

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


def _conv2d_step(kern, x, w, b, gy, conv_args):
    """Forward + backward (input, weight and bias gradients) of a convolution through
    a kernel set: the Cython kernels, or their plain-numpy twins ``_xp``.
    ``conv_args`` is (stride, padding, dilation, groups). Returns (y, gx, gw, gb)."""
    y = kern.conv_forward(x, w, b, *conv_args)
    return (y, *kern.conv_backward(gy, x, w, *conv_args, True, True, True))


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
                                   f"reference ({what}: max rel. error {err:.2e}).")
    return worst


def bench_conv2d(cfg):
    """Table f: one conv2d forward + backward (input, weight and bias gradients)."""
    from sklears_neural import _xp
    from sklears_neural._dispatch import kernels_for
    from sklears_neural.autograd import Tensor
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
            return _conv2d_step(kern, x, w, b, gy, conv_args)

        def numpy_step(x=x, w=w, b=b, gy=gy, conv_args=conv_args):
            return _conv2d_step(_xp, x, w, b, gy, conv_args)

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

        # Everyone against the _xp kernels run in float64 before timing.
        reference = _conv2d_step(_xp, *(a.astype(np.float64) for a in (x, w, b, gy)),
                                 conv_args)
        y = engine_step()
        results = {"engine": (y.data, x_t.grad, w_t.grad, b_t.grad),
                   "kernels": kernel_step(), "numpy": numpy_step()}
        if torch_step is not None:
            ty = torch_step()
            results["torch"] = tuple(a.detach().numpy() for a in (ty, tx.grad, tw.grad, tb.grad))
        worst = max(worst, _check_close("conv2d", label, results, reference, CONV_CHECK_RTOL))

        cases = [("engine", "ours: engine (F.conv2d on Tensors + backward(grad))", engine_step),
                 ("engine-pool", "ours: engine, engine pool (backend.threads(pool='engine'))",
                  engine_pool(engine_step, cfg)),
                 ("kernels", "ours: conv_forward + conv_backward kernels", kernel_step),
                 ("torch", "PyTorch (F.conv2d + backward(grad))", torch_step),
                 ("numpy", "plain numpy: the _xp conv_forward + conv_backward kernels",
                  numpy_step)]
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
        "plain numpy: the portable _xp kernels (im2col by one strided slice per kernel offset "
        "and a stack, one batched matmul per pass over samples and groups, col2im by k^2 "
        "strided adds). Every row agrees with those kernels run in float64 before timing "
        f"(max rel. error {worst:.1e}, limit {CONV_CHECK_RTOL:g}). Engine overhead over the "
        "direct kernel calls: " + ", ".join(f"{o:.0f}" for o in overheads) + " us/step.")
    table.add_note(ENGINE_POOL_NOTE.format(threads=cfg.threads, what="conv"))
    return table


# ---------------------------------------------------------------------------
# g. Pooling and BatchNorm2d forward + backward
# ---------------------------------------------------------------------------

POOL_SHAPE = (64, 32, 28, 28)
POOL_TARGET = 1.0  # our engine's time over torch's, <=
BN_EPS = 1e-5


# One forward + backward through a kernel set: the Cython kernels, or their
# plain-numpy twins ``_xp``.


def _max_pool_step(kern, x, gy):
    """2x2 stride-2 max pool. (y, gx)."""
    y, ind = kern.max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    return y, kern.max_pool_backward(gy, ind, x.shape)


def _avg_pool_step(kern, x, gy):
    """2x2 stride-2 average pool. (y, gx)."""
    args = ((2, 2), (2, 2), (0, 0), False, True, None)
    return kern.avg_pool_forward(x, *args), kern.avg_pool_backward(gy, x.shape, *args)


def _batch_norm_step(kern, x, gamma, beta, gy):
    """Training-mode batch norm, eps ``BN_EPS``. (y, gx, ggamma, gbeta)."""
    y, mean, invstd = kern.batch_norm_forward(x, gamma, beta, BN_EPS)
    return (y, *kern.batch_norm_backward(gy, x, gamma, mean, invstd))


def bench_pool(cfg):
    """Table g: max-pool, avg-pool and BatchNorm2d forward + backward."""
    from sklears_neural import _xp, nn
    from sklears_neural._dispatch import kernels_for
    from sklears_neural.autograd import Tensor
    from sklears_neural.nn import functional as F

    shape = POOL_SHAPE
    n, c, h, w = shape
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape, dtype=np.float32)
    gy_pool = rng.standard_normal((n, c, h // 2, w // 2), dtype=np.float32)
    gy_bn = rng.standard_normal(shape, dtype=np.float32)
    kern = kernels_for(x)
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

    def avg_engine():
        x_t.grad = None
        y = F.avg_pool2d(x_t, 2)
        y.backward(gy_pool)
        return y.data, x_t.grad

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

    ops = [
        ("max-pool 2x2 s2", "max", 2.5, max_engine, _max_pool_step, (x, gy_pool),
         "F.max_pool2d", "max_pool_forward/backward"),
        ("avg-pool 2x2 s2", "avg", 2.5, avg_engine, _avg_pool_step, (x, gy_pool),
         "F.avg_pool2d", "avg_pool_forward/backward"),
        ("BatchNorm2d (training)", "bn", 5.0, bn_engine, _batch_norm_step,
         (x, gamma, beta, gy_bn), "nn.BatchNorm2d", "batch_norm_forward/backward"),
    ]
    for label, key, streams, engine_fn, step, args, eng, kname in ops:
        kernel_fn = functools.partial(step, kern, *args)
        numpy_fn = functools.partial(step, _xp, *args)
        ref = step(_xp, *(a.astype(np.float64) for a in args))
        results = {"engine": engine_fn(), "kernels": kernel_fn(), "numpy": numpy_fn()}
        if torch_fns[key] is not None:
            results["torch"] = torch_fns[key]()
        worst = max(worst, _check_close("pool", label, results, ref, 1e-4))
        cases = [("engine", f"ours: engine ({eng} + backward(grad))", engine_fn),
                 ("kernels", f"ours: {kname} kernels", kernel_fn),
                 ("torch", "PyTorch (" + ("nn.BatchNorm2d" if key == "bn" else
                                          f"F.{key}_pool2d") + " + backward(grad))",
                  torch_fns[key]),
                 ("numpy", f"plain numpy: the _xp {kname} kernels", numpy_fn)]
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
        "rows also update the running statistics, the kernel and numpy rows do not. plain "
        "numpy: the portable _xp kernels (one strided slice per window offset for the pools, "
        "statistics and backward in float64 for the norm). Every row agrees with those "
        f"kernels run in float64 before timing (max rel. error {worst:.1e}). "
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


class _LeNetEpochs:
    """One epoch of a LeNet trainer: a fresh shuffle, then ``batch_loss`` (zero_grad,
    forward, loss, backward) and an optimizer step per batch; the mean loss."""

    def epoch(self):
        n, total = self.X.shape[0], 0.0
        order = self.rng.permutation(n)
        for begin in range(0, n, LENET_BATCH):
            idx = order[begin:begin + LENET_BATCH]
            loss = self.batch_loss(idx)
            self.opt.step()
            total += loss.item() * len(idx)
        return total / n


class OursLeNetTrainer(_LeNetEpochs):
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


class TorchLeNetTrainer(_LeNetEpochs):
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
    epochs = {key: t.epoch for key, t in trainers.items()}
    epochs["ours-pool"] = engine_pool(ours.epoch, cfg)
    names["ours-pool"] = "ours, engine pool (backend.threads(pool='engine'))"
    timed = measure_runs(epochs, budget, max_runs, min_runs=3 if not cfg.quick else 1)
    torch_t = timed["torch"][0] if "torch" in timed else None
    for key in ("ours", "ours-pool", "torch"):
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
        "losses differ a little. 'ours' and its engine-pool row train one model in turn, so "
        "its loss falls about twice as fast as torch's.")
    table.add_note(ENGINE_POOL_NOTE.format(threads=cfg.threads, what="conv"))
    return table
