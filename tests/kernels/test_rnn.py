"""Recurrent kernels (vanilla RNN, LSTM, GRU over a whole sequence): Cython
(``_kernels._rnn``) vs the numpy reference (``_xp._rnn``), the reference vs
PyTorch's documented equations written here one sample and one step at a
time, finite differences, variable lengths, and torch.nn when installed.
"""

import numpy as np
import pytest

from sklears_neural._kernels import _rnn as K
from sklears_neural._xp import _rnn as X

IMPLS = {"cython": K, "xp": X}
MODES = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
SHAPES = [(1, 1, 1, 1), (7, 1, 5, 3), (7, 4, 5, 3), (3, 5, 1, 2)]  # T, N, F, H

TOL = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}


def _close(actual, expected, dtype, what=""):
    assert actual.dtype == dtype, (what, actual.dtype, dtype)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, err_msg=what, **TOL[np.dtype(dtype)])


def make_case(mode, T, N, F, H, dtype=np.float64, seed=0, lengths=False):
    """Inputs, weights and output gradients of one call, in ``dtype``."""
    rng = np.random.default_rng(seed)
    G = GATES[mode]

    def r(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    case = dict(
        x=r(T, N, F), h0=r(N, H, scale=0.5), c0=r(N, H, scale=0.5) if mode == "lstm" else None,
        w_ih=r(G * H, F, scale=0.6), w_hh=r(G * H, H, scale=0.6),
        b_ih=r(G * H, scale=0.3), b_hh=r(G * H, scale=0.3),
        gy=r(T, N, H), ghn=r(N, H), gcn=r(N, H) if mode == "lstm" else None,
        lengths=rng.integers(1, T + 1, size=N).astype(np.int64) if lengths else None,
    )
    if lengths and N > 1:
        case["lengths"][0] = T          # the full length and the shortest
        case["lengths"][-1] = 1
    return case


def forward(impl, mode, c, reverse=False, lengths="case", **kw):
    """(outputs, workspace): outputs are y, h_n (, c_n)."""
    lens = c["lengths"] if lengths == "case" else lengths
    if mode == "lstm":
        y, hn, cn, ws = impl.lstm_forward(c["x"], c["h0"], c["c0"], c["w_ih"], c["w_hh"],
                                          c["b_ih"], c["b_hh"], lengths=lens,
                                          reverse=reverse, **kw)
        return [y, hn, cn], ws
    if mode == "gru":
        y, hn, ws = impl.gru_forward(c["x"], c["h0"], c["w_ih"], c["w_hh"], c["b_ih"],
                                     c["b_hh"], lengths=lens, reverse=reverse, **kw)
        return [y, hn], ws
    y, hn, ws = impl.rnn_forward(c["x"], c["h0"], c["w_ih"], c["w_hh"], c["b_ih"],
                                 c["b_hh"], nonlinearity=mode[4:], lengths=lens,
                                 reverse=reverse, **kw)
    return [y, hn], ws


def backward(impl, mode, c, ws, reverse=False, lengths="case", **kw):
    """Named gradients w.r.t. x, h0 (c0), w_ih, w_hh, b_ih, b_hh."""
    lens = c["lengths"] if lengths == "case" else lengths
    if mode == "lstm":
        gx, gh0, gc0, gwi, gwh, gb = impl.lstm_backward(
            c["gy"], c["ghn"], c["gcn"], c["x"], c["h0"], c["c0"], c["w_ih"], c["w_hh"],
            ws, lengths=lens, reverse=reverse, **kw)
        return dict(x=gx, h0=gh0, c0=gc0, w_ih=gwi, w_hh=gwh, b_ih=gb, b_hh=gb)
    if mode == "gru":
        gx, gh0, gwi, gwh, gbi, gbh = impl.gru_backward(
            c["gy"], c["ghn"], c["x"], c["h0"], c["w_ih"], c["w_hh"], c["b_hh"], ws,
            lengths=lens, reverse=reverse, **kw)
        return dict(x=gx, h0=gh0, w_ih=gwi, w_hh=gwh, b_ih=gbi, b_hh=gbh)
    gx, gh0, gwi, gwh, gb = impl.rnn_backward(
        c["gy"], c["ghn"], c["x"], c["h0"], c["w_ih"], c["w_hh"], ws,
        nonlinearity=mode[4:], lengths=lens, reverse=reverse, **kw)
    return dict(x=gx, h0=gh0, w_ih=gwi, w_hh=gwh, b_ih=gb, b_hh=gb)


# ---------------------------------------------------------------------------
# PyTorch's documented equations, one sample and one step at a time
# ---------------------------------------------------------------------------

def _sig(a):
    return 1 / (1 + np.exp(-a))


def naive_sample(mode, c, n, reverse):
    """y (T, H) and the final states of sample n alone, truncated to its length."""
    T, H = c["x"].shape[0], c["h0"].shape[1]
    L = T if c["lengths"] is None else int(c["lengths"][n])
    Wi, Wh, bi, bh = c["w_ih"], c["w_hh"], c["b_ih"], c["b_hh"]
    h = c["h0"][n].astype(np.float64)
    cell = c["c0"][n].astype(np.float64) if mode == "lstm" else None
    y = np.zeros((T, H))
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        xt = c["x"][t, n]
        if mode == "lstm":
            gi = Wi @ xt + bi + Wh @ h + bh
            i, f = _sig(gi[:H]), _sig(gi[H:2 * H])
            g, o = np.tanh(gi[2 * H:3 * H]), _sig(gi[3 * H:])
            cell = f * cell + i * g
            h = o * np.tanh(cell)
        elif mode == "gru":
            a, b = Wi @ xt + bi, Wh @ h + bh
            r = _sig(a[:H] + b[:H])
            z = _sig(a[H:2 * H] + b[H:2 * H])
            nn = np.tanh(a[2 * H:] + r * b[2 * H:])
            h = (1 - z) * nn + z * h
        else:
            a = Wi @ xt + bi + Wh @ h + bh
            h = np.tanh(a) if mode == "rnn_tanh" else np.maximum(a, 0)
        y[t] = h
    return y, h, cell


# ---------------------------------------------------------------------------
# Cython vs _xp
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_cython_matches_xp(mode, shape, dtype, lengths, reverse, gemm):
    c = make_case(mode, *shape, dtype=dtype, lengths=lengths)
    out_k, ws_k = forward(K, mode, c, reverse)
    out_x, ws_x = forward(X, mode, c, reverse)
    for name, a, b in zip(["y", "h_n", "c_n"], out_k, out_x):
        _close(a, b, dtype, name)
    g_k = backward(K, mode, c, ws_k, reverse)
    g_x = backward(X, mode, c, ws_x, reverse)
    for name in g_x:
        if g_x[name] is not None:
            _close(g_k[name], g_x[name], dtype, "grad " + name)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_float32_cells_of_both_builds_match_xp(mode, reverse, isa):
    """The float32 cells are C (``src/skn_rnn_cells.h``) in both builds of the
    loops (``isa``); H = 19 runs their vector loops and a remainder."""
    c = make_case(mode, 5, 3, 4, 19, dtype=np.float32, lengths=True, seed=3)
    out_k, ws_k = forward(K, mode, c, reverse)
    out_x, ws_x = forward(X, mode, c, reverse)
    for name, a, b in zip(["y", "h_n", "c_n"], out_k, out_x):
        _close(a, b, np.float32, name)
    g_k = backward(K, mode, c, ws_k, reverse)
    g_x = backward(X, mode, c, ws_x, reverse)
    for name in g_x:
        if g_x[name] is not None:
            _close(g_k[name], g_x[name], np.float32, "grad " + name)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chunk_rows", [1, 3, "2N+1", "3N"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_cython_backward_in_chunks_matches_xp(monkeypatch, mode, chunk_rows, dtype,
                                              lengths, reverse):
    """The backward runs per chunk of about ``_BWD_CHUNK_ROWS`` gate-gradient
    rows (whole steps): with a few rows (1, 2 or 3 steps per chunk, T = 7 so
    the last chunk is short) it matches _xp, in every need_* combination."""
    T, N, F, H = 7, 4, 5, 3
    rows = {"2N+1": 2 * N + 1, "3N": 3 * N}.get(chunk_rows, chunk_rows)
    monkeypatch.setattr(K, "_BWD_CHUNK_ROWS", rows)
    assert K._chunk_steps(T, N) == max(1, rows // N) < T
    c = make_case(mode, T, N, F, H, dtype=dtype, lengths=lengths, seed=5)
    _, ws_k = forward(K, mode, c, reverse)
    _, ws_x = forward(X, mode, c, reverse)
    g_x = backward(X, mode, c, ws_x, reverse)
    for flags in [{}, dict(need_weights=False, need_state=False),
                  dict(need_input=False, need_state=False),
                  dict(need_input=False, need_weights=False)]:
        g_k = backward(K, mode, c, ws_k, reverse, **flags)
        for name in g_x:
            if g_k[name] is not None:
                _close(g_k[name], g_x[name], dtype, f"grad {name} {flags}")
            elif g_x[name] is not None:
                assert flags, name


@pytest.mark.parametrize("mode", MODES)
def test_cython_none_gradients_and_states(mode):
    """grad_y / grad_hn / grad_cn None are zeros; h0 / c0 None are zeros."""
    c = make_case(mode, 4, 3, 2, 3)
    c.update(h0=None, gy=None, ghn=c["ghn"] * 0 if mode == "gru" else None)
    if mode == "lstm":
        c.update(c0=None, ghn=c["ghn"], gcn=None)
    for impl in (K, X):
        out, ws = forward(impl, mode, c)
        g = backward(impl, mode, c, ws)
        if impl is K:
            ref = (out, g)
        else:
            for a, b in zip(ref[0], out):
                _close(a, b, np.float64)
            for name in g:
                _close(ref[1][name], g[name], np.float64, name)


@pytest.mark.parametrize("impl", ["cython", "xp"])
@pytest.mark.parametrize("mode", MODES)
def test_need_flags(impl, mode):
    impl = IMPLS[impl]
    c = make_case(mode, 3, 2, 2, 2)
    _, ws = forward(impl, mode, c)
    full = backward(impl, mode, c, ws)
    only_x = backward(impl, mode, c, ws, need_weights=False, need_state=False)
    only_w = backward(impl, mode, c, ws, need_input=False, need_state=False)
    only_s = backward(impl, mode, c, ws, need_input=False, need_weights=False)
    none = backward(impl, mode, c, ws, need_input=False, need_weights=False,
                    need_state=False)
    assert all(v is None for v in none.values())
    group = {"x": only_x, "h0": only_s, "c0": only_s}
    for name in full:
        owner = group.get(name, only_w)
        _close(owner[name], full[name], np.float64, name)
        for other in (only_x, only_w, only_s):
            if other is not owner:
                assert other[name] is None, name


def test_cython_noncontiguous_inputs():
    c = make_case("lstm", 5, 3, 4, 3)
    out_ref, ws = forward(K, "lstm", c)
    g_ref = backward(K, "lstm", c, ws)
    c2 = dict(c)
    c2["x"] = np.asfortranarray(c["x"])
    c2["w_ih"] = np.asfortranarray(c["w_ih"])
    wide = np.zeros((c["w_hh"].shape[0], 2 * c["w_hh"].shape[1]))
    wide[:, ::2] = c["w_hh"]
    c2["w_hh"] = wide[:, ::2]
    out, ws2 = forward(K, "lstm", c2)
    g = backward(K, "lstm", c2, ws2)
    for a, b in zip(out, out_ref):
        _close(a, b, np.float64)
    for name in g:
        _close(g[name], g_ref[name], np.float64, name)


# ---------------------------------------------------------------------------
# _xp vs the equations; variable lengths
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_xp_matches_naive_equations(mode, lengths, reverse):
    c = make_case(mode, 6, 4, 3, 5, lengths=lengths, seed=1)
    out, _ = forward(X, mode, c, reverse)
    for n in range(4):
        y, h, cell = naive_sample(mode, c, n, reverse)
        np.testing.assert_allclose(out[0][:, n], y, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(out[1][n], h, rtol=1e-12, atol=1e-13)
        if mode == "lstm":
            np.testing.assert_allclose(out[2][n], cell, rtol=1e-12, atol=1e-13)


def _alone(c, n, L):
    """The case of sample n alone, truncated to its length L."""
    one = dict(c)
    for k in ("x", "gy"):
        one[k] = np.ascontiguousarray(c[k][:L, n:n + 1])
    for k in ("h0", "c0", "ghn", "gcn"):
        if c[k] is not None:
            one[k] = np.ascontiguousarray(c[k][n:n + 1])
    one["lengths"] = None
    return one


@pytest.mark.parametrize("impl", ["cython", "xp"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_padded_batch_equals_each_sequence_alone(impl, mode, reverse):
    impl = IMPLS[impl]
    c = make_case(mode, 6, 4, 3, 2, lengths=True, seed=2)
    out, ws = forward(impl, mode, c, reverse)
    g = backward(impl, mode, c, ws, reverse)
    weight_sums = {k: 0 for k in ("w_ih", "w_hh", "b_ih", "b_hh")}
    for n, L in enumerate(c["lengths"]):
        one = _alone(c, n, L)
        o1, ws1 = forward(impl, mode, one, reverse)
        g1 = backward(impl, mode, one, ws1, reverse)
        np.testing.assert_allclose(out[0][:L, n], o1[0][:, 0], rtol=1e-12, atol=1e-13)
        assert np.all(out[0][L:, n] == 0)
        for a, b in zip(out[1:], o1[1:]):
            np.testing.assert_allclose(a[n], b[0], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(g["x"][:L, n], g1["x"][:, 0], rtol=1e-11, atol=1e-12)
        assert np.all(g["x"][L:, n] == 0)
        for k in ("h0", "c0"):
            if g.get(k) is not None:
                np.testing.assert_allclose(g[k][n], g1[k][0], rtol=1e-11, atol=1e-12)
        for k in weight_sums:
            weight_sums[k] = weight_sums[k] + g1[k]
    for k, v in weight_sums.items():
        np.testing.assert_allclose(g[k], v, rtol=1e-11, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("impl", ["cython", "xp"])
def test_grad_y_at_padded_steps_is_ignored(impl):
    impl = IMPLS[impl]
    c = make_case("gru", 5, 3, 2, 2, lengths=True)
    _, ws = forward(impl, "gru", c)
    g = backward(impl, "gru", c, ws)
    c["gy"] = c["gy"].copy()
    for n, L in enumerate(c["lengths"]):
        c["gy"][L:, n] = 1e3
    g2 = backward(impl, "gru", c, ws)
    for k in g:
        np.testing.assert_allclose(g2[k], g[k], rtol=1e-12, atol=1e-13, err_msg=k)


# ---------------------------------------------------------------------------
# Finite differences (float64)
# ---------------------------------------------------------------------------

def _loss(impl, mode, c, reverse):
    out, _ = forward(impl, mode, c, reverse)
    total = np.sum(out[0] * c["gy"]) + np.sum(out[1] * c["ghn"])
    if mode == "lstm":
        total += np.sum(out[2] * c["gcn"])
    return total


@pytest.mark.parametrize("impl", ["cython", "xp"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_finite_differences(impl, mode, lengths, reverse):
    impl = IMPLS[impl]
    c = make_case(mode, 3, 2, 2, 2, lengths=lengths, seed=3)
    if mode == "rnn_relu":
        c["h0"] = np.abs(c["h0"]) + 0.5   # away from relu's kink
        c["b_ih"] = c["b_ih"] + 1.0
    _, ws = forward(impl, mode, c, reverse)
    g = backward(impl, mode, c, ws, reverse)
    eps = 1e-6
    for name, grad in g.items():
        a = c[name]
        num = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            old = a[idx]
            a[idx] = old + eps
            up = _loss(impl, mode, c, reverse)
            a[idx] = old - eps
            down = _loss(impl, mode, c, reverse)
            a[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8, err_msg=name)


# ---------------------------------------------------------------------------
# torch.nn
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("impl", ["cython", "xp"])
def test_matches_torch(mode, impl):
    torch = pytest.importorskip("torch")
    impl = IMPLS[impl]
    c = make_case(mode, 6, 3, 4, 5, seed=4)
    F, H = 4, 5
    if mode == "lstm":
        m = torch.nn.LSTM(F, H)
    elif mode == "gru":
        m = torch.nn.GRU(F, H)
    else:
        m = torch.nn.RNN(F, H, nonlinearity=mode[4:])
    m = m.double()
    with torch.no_grad():
        for p, k in ((m.weight_ih_l0, "w_ih"), (m.weight_hh_l0, "w_hh"),
                     (m.bias_ih_l0, "b_ih"), (m.bias_hh_l0, "b_hh")):
            p.copy_(torch.from_numpy(c[k]))
    x = torch.tensor(c["x"], requires_grad=True)
    h0 = torch.tensor(c["h0"][None], requires_grad=True)
    if mode == "lstm":
        c0 = torch.tensor(c["c0"][None], requires_grad=True)
        y, (hn, cn) = m(x, (h0, c0))
        outs = [y, hn[0], cn[0]]
        grads = [c["gy"], c["ghn"], c["gcn"]]
    else:
        y, hn = m(x, h0)
        outs = [y, hn[0]]
        grads = [c["gy"], c["ghn"]]
    torch.autograd.backward(outs, [torch.from_numpy(g) for g in grads])
    ours, ws = forward(impl, mode, c)
    for a, b in zip(ours, outs):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = backward(impl, mode, c, ws)
    expected = dict(x=x.grad, h0=h0.grad[0], w_ih=m.weight_ih_l0.grad,
                    w_hh=m.weight_hh_l0.grad, b_ih=m.bias_ih_l0.grad,
                    b_hh=m.bias_hh_l0.grad)
    if mode == "lstm":
        expected["c0"] = c0.grad[0]
    for k, v in expected.items():
        np.testing.assert_allclose(g[k], v.numpy(), rtol=1e-10, atol=1e-10, err_msg=k)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def _lstm_args(T=3, N=2, F=4, H=5, dtype=np.float64):
    c = make_case("lstm", T, N, F, H, dtype=dtype)
    return [c["x"], c["h0"], c["c0"], c["w_ih"], c["w_hh"], c["b_ih"], c["b_hh"]]


@pytest.mark.parametrize("impl", ["cython", "xp"])
@pytest.mark.parametrize("change, match", [
    (lambda a: a.__setitem__(0, a[0].astype(np.float32)), "dtype"),
    (lambda a: a.__setitem__(3, np.zeros((20, 3))), r"\(3, 2, 4\).*\(20, 3\)"),
    (lambda a: a.__setitem__(1, np.zeros((3, 5))), r"h0 has shape \(3, 5\).*\(2, 5\)"),
    (lambda a: a.__setitem__(2, np.zeros((2, 4))), r"c0 has shape \(2, 4\)"),
    (lambda a: a.__setitem__(4, np.zeros((20, 4))), r"w_hh has shape \(20, 4\)"),
    (lambda a: a.__setitem__(5, np.zeros(19)), r"b_ih has shape \(19,\)"),
    (lambda a: a.__setitem__(3, np.zeros((19, 4))), r"w_ih has shape \(19, 4\)"),
    (lambda a: a.__setitem__(0, np.zeros((0, 2, 4))), "T, the batch size"),
    (lambda a: a.__setitem__(0, np.zeros((2, 4))), "3-D"),
])
def test_forward_errors(impl, change, match):
    args = _lstm_args()
    change(args)
    with pytest.raises(ValueError, match=match):
        IMPLS[impl].lstm_forward(*args)


@pytest.mark.parametrize("impl", ["cython", "xp"])
@pytest.mark.parametrize("lengths, match", [
    (np.array([1, 4]), r"\[1, 3\]"),
    (np.array([0, 2]), r"\[1, 3\]"),
    (np.array([1, 2, 3]), r"lengths has shape \(3,\).*\(3, 2, 4\)"),
    (np.array([1.0, 2.0]), "integer"),
])
def test_lengths_errors(impl, lengths, match):
    with pytest.raises(ValueError, match=match):
        IMPLS[impl].lstm_forward(*_lstm_args(), lengths=lengths)


@pytest.mark.parametrize("impl", ["cython", "xp"])
def test_backward_and_option_errors(impl):
    impl = IMPLS[impl]
    args = _lstm_args()
    y, hn, cn, ws = impl.lstm_forward(*args)
    x, h0, c0, w_ih, w_hh = args[:5]
    with pytest.raises(ValueError, match=r"grad_y has shape \(3, 2, 4\)"):
        impl.lstm_backward(np.zeros((3, 2, 4)), None, None, x, h0, c0, w_ih, w_hh, ws)
    with pytest.raises(ValueError, match="workspace"):
        impl.lstm_backward(y, None, None, x, h0, c0, w_ih, w_hh, ws[:2])
    with pytest.raises(ValueError, match="dtype"):
        impl.lstm_backward(y.astype(np.float32), None, None, x, h0, c0, w_ih, w_hh, ws)
    with pytest.raises(ValueError, match="nonlinearity"):
        impl.rnn_forward(x, None, np.zeros((5, 4)), np.zeros((5, 5)), None, None,
                         nonlinearity="sigmoid")


def test_n_threads_keyword():
    args = _lstm_args(dtype=np.float32)
    y1 = K.lstm_forward(*args)[0]
    y2 = K.lstm_forward(*args, n_threads=2)[0]
    np.testing.assert_array_equal(y1, y2)


# ---------------------------------------------------------------------------
# Batch-parallel time loops: any thread count computes what _xp computes
# ---------------------------------------------------------------------------

@pytest.fixture
def omp_threads_4():
    """Let the kernels use 4 OpenMP threads, more than this machine may have,
    so the threaded loops run (and more threads than rows) on any CI box."""
    import threadpoolctl

    with threadpoolctl.threadpool_limits(limits=4, user_api="openmp"):
        yield


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n_threads", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(7, 5, 4, 6), (3, 1, 2, 3), (6, 3, 5, 4)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["fwd", "rev"])
def test_cython_threads_match_xp(monkeypatch, mode, n_threads, shape, lengths, reverse,
                                 omp_threads_4):
    """Blocks of batch rows per thread (N = 1 with 4 threads: more threads than
    rows), short backward chunks so that several chunks run threaded."""
    monkeypatch.setattr(K, "_BWD_CHUNK_ROWS", 2 * shape[1] + 1)
    c = make_case(mode, *shape, dtype=np.float64, lengths=lengths, seed=11)
    out_k, ws_k = forward(K, mode, c, reverse, n_threads=n_threads)
    out_x, ws_x = forward(X, mode, c, reverse)
    for name, a, b in zip(["y", "h_n", "c_n"], out_k, out_x):
        _close(a, b, np.float64, name)
    g_x = backward(X, mode, c, ws_x, reverse)
    for flags in [{}, dict(need_weights=False), dict(need_input=False, need_state=False)]:
        g_k = backward(K, mode, c, ws_k, reverse, n_threads=n_threads, **flags)
        for name in g_x:
            if g_k[name] is not None:
                _close(g_k[name], g_x[name], np.float64, f"grad {name} {flags}")
