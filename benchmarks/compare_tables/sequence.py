"""Tables i and j: LSTM/GRU and TransformerEncoderLayer, forward and backward."""

import numpy as np
from ._common import ENGINE_POOL_NOTE, Table, engine_pool, measure, torch
from .conv import _add_rows_vs_torch, _check_close, _torch_ratio_check

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
    from sklears_neural._dispatch import kernels_for
    from sklears_neural.autograd import Tensor

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
                     ("engine-pool", "ours: engine, engine pool (backend.threads(pool='engine'))",
                      engine_pool(engine_step, cfg)),
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
    table.add_note(ENGINE_POOL_NOTE.format(threads=cfg.threads, what="recurrent"))
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
