"""Table a: one dense MLP step, forward and backward."""

import numpy as np
from scipy.linalg.blas import sgemm

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


def _kernel_dense_step(k, x, y, Ws, bs):
    """Forward + backward through a kernel set directly: the Cython kernels, or
    their plain-numpy twins ``_xp`` (the numpy row). Returns (loss, gWs, gbs)."""
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
    from sklears_neural import _xp, nn
    from sklears_neural._dispatch import kernels_for
    from sklears_neural._kernels import _blas, _cpu
    from sklears_neural.autograd import Tensor

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
        return _kernel_dense_step(_xp, x, y, Ws, bs)

    # The same 8 GEMMs, preallocated, through the kernels' own GEMM routing
    # (our AVX-512 GEMM where the CPU has it, else scipy's BLAS), through
    # scipy's BLAS, and through numpy's matmul (numpy bundles its own
    # OpenBLAS build).
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

    def gemms_kernels():
        for j, W in enumerate(Ws):
            _blas._gemm(acts[j], W, outs[j], False, True, 1.0, 0.0)
        for j in reversed(range(len(Ws))):
            _blas._gemm(grads[j], acts[j], gWs[j], True, False, 1.0, 0.0)
            if j > 0:
                _blas._gemm(grads[j], Ws[j], gxs[j - 1], False, False, 1.0, 0.0)

    def gemms_numpy():
        for j, W in enumerate(Ws):
            np.matmul(acts[j], W.T, out=outs[j])
        for j in reversed(range(len(Ws))):
            np.matmul(grads[j].T, acts[j], out=gWs[j])
            if j > 0:
                np.matmul(grads[j], Ws[j], out=gxs[j - 1])

    torch_step, tmodel = _torch_dense_model(x, y, Ws, bs)

    # Check that everyone computes the same gradients before timing anyone.
    ref_loss, ref_gW, _ = numpy_step()
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
            raise RuntimeError(f"dense: {name} disagrees with _xp (max rel. grad error "
                               f"{err:.2e}, loss {losses[name]} vs {losses['numpy']}).")

    flops = _dense_gemm_flops(n, sizes)
    cases = [
        ("ours: engine (nn.Sequential + CrossEntropyLoss + backward)", engine_step),
        ("ours: kernels called directly", kernel_step),
        ("plain numpy: the _xp kernels", numpy_step),
        ("PyTorch (nn.Sequential Linear/ReLU + F.cross_entropy)", torch_step),
        (f"GEMMs alone: 3 fwd + 5 bwd, the kernels' GEMM ({_cpu.gemm_in_use()})",
         gemms_kernels),
        ("GEMMs alone: 3 fwd + 5 bwd, scipy sgemm (OpenBLAS)", gemms_scipy),
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
    gemm = timings[cases[4][0]].median  # the kernels' own GEMM
    torch_t = timings[cases[3][0]]
    table.add_check("ours / GEMMs alone", ratio(ours, gemm), 1.3, "<=")
    table.add_check("numpy / ours", ratio(timings[cases[2][0]].median, ours))
    table.add_check("torch / ours", ratio(None if torch_t is None else torch_t.median, ours))
    kern = timings[cases[1][0]].median
    table.add_note(f"engine overhead over direct kernel calls: {(ours - kern) * 1e6:.0f} us/step "
                   f"({(ours - kern) / ours:.0%} of the step); kernels / GEMMs alone = "
                   f"{kern / gemm:.2f}")
    table.add_note(f"{flops / 1e6:.1f} MFLOP of GEMM per step. plain numpy: the same kernel calls "
                   "through the portable _xp kernels (numpy arrays); every row's loss and weight "
                   "gradients are checked against them before timing (max rel. error "
                   f"{max(errors.values()):.1e})")
    return table
