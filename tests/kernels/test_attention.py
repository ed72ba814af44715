"""Attention kernels: Cython (``_kernels._attention``) vs the numpy reference
(``_xp._attention``), both vs per-(batch, head, query) loops written here
from the definition, finite differences, and PyTorch when it is installed.

Masks: none, additive float ((Tq, Tk), (B, 1, ...), (1, 1, ...),
(B, h, ...), with -inf entries), bool (True = excluded), key padding,
causal, and combinations; sizes include B = 1, h = 1, Tq = 1, Tk = 1,
d = 1, Tq != Tk (both ways) and dv != d.
"""

import itertools

import numpy as np
import pytest

from sklears_neural._kernels import _attention as K
from sklears_neural._xp import _attention as X

IMPLS = {"cython": K, "xp": X}

# float32 results against float64 loops; float64 against float64
TOL = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}


def _close(actual, expected, dtype, what=""):
    assert actual.dtype == dtype, (what, actual.dtype, dtype)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, err_msg=what, **TOL[np.dtype(dtype)])


# ---------------------------------------------------------------------------
# Naive reference: loops over batch, head and query, in float64
# ---------------------------------------------------------------------------

def naive_attention(q, k, v, attn_mask=None, key_padding_mask=None, causal=False,
                    scale=None):
    """out, weights and a closure computing (grad_q, grad_k, grad_v)."""
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    B, h, Tq, d = q.shape
    Tk, dv = v.shape[2:]
    scale = 1 / np.sqrt(d) if scale is None else scale
    mask = None if attn_mask is None else np.broadcast_to(attn_mask, (B, h, Tq, Tk))
    out = np.zeros((B, h, Tq, dv))
    weights = np.zeros((B, h, Tq, Tk))
    for b in range(B):
        for hh in range(h):
            for i in range(Tq):
                s = np.array([scale * np.dot(q[b, hh, i], k[b, hh, j]) for j in range(Tk)])
                allowed = np.ones(Tk, dtype=bool)
                if mask is not None:
                    if mask.dtype == bool:
                        allowed &= ~mask[b, hh, i]
                    else:
                        s = s + mask[b, hh, i].astype(np.float64)
                        allowed &= np.isfinite(s)
                if key_padding_mask is not None:
                    allowed &= ~key_padding_mask[b]
                if causal:
                    allowed &= np.arange(Tk) <= i
                if not allowed.any():
                    continue  # weights and output stay 0
                e = np.zeros(Tk)
                e[allowed] = np.exp(s[allowed] - s[allowed].max())
                p = e / e.sum()
                weights[b, hh, i] = p
                out[b, hh, i] = p @ v[b, hh]

    def backward(go):
        go = go.astype(np.float64)
        gq, gk, gv = np.zeros(q.shape), np.zeros(k.shape), np.zeros(v.shape)
        for b in range(B):
            for hh in range(h):
                for i in range(Tq):
                    p = weights[b, hh, i]
                    gp = v[b, hh] @ go[b, hh, i]
                    gs = p * (gp - np.dot(gp, p)) * scale
                    gq[b, hh, i] = gs @ k[b, hh]
                    gk[b, hh] += np.outer(gs, q[b, hh, i])
                    gv[b, hh] += np.outer(p, go[b, hh, i])
        return gq, gk, gv

    return out, weights, backward


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

# (B, h, Tq, Tk, d, dv)
SIZES = {
    "basic": (2, 3, 5, 7, 4, 6),
    "B1-h1": (1, 1, 4, 4, 3, 3),
    "Tq1": (2, 2, 1, 6, 5, 5),
    "Tk1": (2, 2, 3, 1, 4, 2),
    "d1": (2, 1, 4, 3, 1, 2),
    "d5-dv3": (1, 2, 6, 9, 5, 3),
    "Tq-gt-Tk": (2, 2, 8, 3, 4, 4),
    "longer": (1, 2, 33, 17, 8, 7),
}

# name -> (attn_mask kind, key padding, causal)
MASKS = {
    "none": (None, False, False),
    "float-2d": ("float-2d", False, False),
    "float-b1": ("float-b1", False, False),
    "float-11": ("float-11", False, False),
    "float-bh": ("float-bh", False, False),
    "float-inf": ("float-inf", False, False),
    "bool-2d": ("bool-2d", False, False),
    "bool-1h": ("bool-1h", False, False),
    "bool-bh": ("bool-bh", False, False),
    "padding": (None, True, False),
    "causal": (None, False, True),
    "float+padding+causal": ("float-bh", True, True),
    "bool+padding": ("bool-b1", True, False),
    "bool+causal": ("bool-2d", False, True),
    "float-inf+padding": ("float-inf", True, False),
}


def _mask(kind, B, h, Tq, Tk, dtype, rng):
    if kind is None:
        return None
    shape = {"2d": (Tq, Tk), "b1": (B, 1, Tq, Tk), "11": (1, 1, Tq, Tk),
             "1h": (1, h, Tq, Tk), "bh": (B, h, Tq, Tk), "inf": (B, 1, Tq, Tk)}
    layout = kind.split("-")[1]
    if kind.startswith("bool"):
        return rng.random(shape[layout]) < 0.3
    m = rng.standard_normal(shape[layout])
    if layout == "inf":
        m[rng.random(m.shape) < 0.3] = -np.inf
    return m.astype(dtype)


def _inputs(size, mask, dtype, rng):
    B, h, Tq, Tk, d, dv = size
    q = rng.standard_normal((B, h, Tq, d)).astype(dtype)
    k = rng.standard_normal((B, h, Tk, d)).astype(dtype)
    v = rng.standard_normal((B, h, Tk, dv)).astype(dtype)
    kind, padding, causal = MASKS[mask]
    kw = {"attn_mask": _mask(kind, B, h, Tq, Tk, dtype, rng), "causal": causal}
    if padding:
        pad = rng.random((B, Tk)) < 0.3
        pad[:, 0] = False  # keep a key for most queries
        kw["key_padding_mask"] = pad
    return q, k, v, kw


@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("size", list(SIZES))
def test_attention_matches_naive_loops(size, mask, dtype, rng):
    q, k, v, kw = _inputs(SIZES[size], mask, dtype, rng)
    out_ref, w_ref, backward = naive_attention(q, k, v, **kw)
    go = rng.standard_normal(out_ref.shape).astype(dtype)
    grads_ref = backward(go)
    for impl, mod in IMPLS.items():
        out, w = mod.attention_forward(q, k, v, **kw)
        assert out.flags.c_contiguous and w.flags.c_contiguous
        _close(out, out_ref, dtype, f"{impl} out")
        _close(w, w_ref, dtype, f"{impl} weights")
        got = mod.attention_backward(go, q, k, v, w)
        for name, g, e in zip(["grad_q", "grad_k", "grad_v"], got, grads_ref):
            _close(g, e, dtype, f"{impl} {name}")


@pytest.mark.parametrize("mask", ["none", "float+padding+causal", "bool+causal",
                                  "float-inf+padding"])
def test_cython_matches_xp(mask, dtype, rng, isa, gemm):
    """Same dtype on both sides, with each build of the shared softmax loops
    (AVX2 and baseline): agreement to the dtype's rounding."""
    q, k, v, kw = _inputs(SIZES["longer"], mask, dtype, rng)
    out_x, w_x = X.attention_forward(q, k, v, **kw)
    out_k, w_k = K.attention_forward(q, k, v, **kw)
    _close(out_k, out_x, dtype)
    _close(w_k, w_x, dtype)
    go = rng.standard_normal(out_x.shape).astype(dtype)
    for g, e in zip(K.attention_backward(go, q, k, v, w_k),
                    X.attention_backward(go, q, k, v, w_x)):
        _close(g, e, dtype)


def test_explicit_scale(rng):
    q, k, v, kw = _inputs(SIZES["basic"], "float-2d", np.float64, rng)
    out_ref, w_ref, backward = naive_attention(q, k, v, scale=0.7, **kw)
    go = rng.standard_normal(out_ref.shape)
    for mod in (K, X):
        out, w = mod.attention_forward(q, k, v, scale=0.7, **kw)
        _close(out, out_ref, np.float64)
        for g, e in zip(mod.attention_backward(go, q, k, v, w, scale=0.7), backward(go)):
            _close(g, e, np.float64)


@pytest.mark.parametrize("need", list(itertools.product([False, True], repeat=3)),
                         ids=lambda v: "".join("qkv"[i] if f else "-" for i, f in enumerate(v)))
def test_backward_need_flags(need, rng):
    q, k, v, kw = _inputs(SIZES["d5-dv3"], "float+padding+causal", np.float64, rng)
    out, w = X.attention_forward(q, k, v, **kw)
    go = rng.standard_normal(out.shape)
    full = X.attention_backward(go, q, k, v, w)
    for mod in (K, X):
        for g, e, wanted in zip(mod.attention_backward(go, q, k, v, w, None, *need),
                                full, need):
            if wanted:
                _close(g, e, np.float64)
            else:
                assert g is None


def test_non_contiguous_inputs(dtype, rng):
    q, k, v, kw = _inputs(SIZES["basic"], "float-bh", dtype, rng)
    out, w = X.attention_forward(q, k, v, **kw)
    go = rng.standard_normal(out.shape).astype(dtype)
    expected = X.attention_backward(go, q, k, v, w)

    def strided(a):
        s = np.repeat(a, 2, axis=-1)[..., ::2]
        assert not s.flags.c_contiguous
        return s

    qs, ks, vs, gos, ws = (strided(a) for a in (q, k, v, go, w))
    mask = np.asfortranarray(kw["attn_mask"])
    for mod in (K, X):
        o, ww = mod.attention_forward(qs, ks, vs, attn_mask=mask)
        _close(o, out, dtype)
        _close(ww, w, dtype)
        for g, e in zip(mod.attention_backward(gos, qs, ks, vs, ws), expected):
            _close(g, e, dtype)


def test_n_threads_gives_the_same_result(rng):
    q, k, v, kw = _inputs(SIZES["basic"], "bool+padding", np.float64, rng)
    out, w = K.attention_forward(q, k, v, **kw)
    out2, w2 = K.attention_forward(q, k, v, **kw, n_threads=2)
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(w2, w)
    go = rng.standard_normal(out.shape)
    for g, e in zip(K.attention_backward(go, q, k, v, w, n_threads=2),
                    K.attention_backward(go, q, k, v, w)):
        np.testing.assert_array_equal(g, e)


# ---------------------------------------------------------------------------
# Fully masked queries and empty sizes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", list(IMPLS))
def test_fully_masked_rows_give_zeros_not_nan(impl, dtype, rng):
    mod = IMPLS[impl]
    B, h, Tq, Tk, d, dv = 2, 2, 4, 5, 3, 3
    q = rng.standard_normal((B, h, Tq, d)).astype(dtype)
    k = rng.standard_normal((B, h, Tk, d)).astype(dtype)
    v = rng.standard_normal((B, h, Tk, dv)).astype(dtype)
    pad = np.zeros((B, Tk), dtype=bool)
    pad[1] = True  # every key of batch element 1 is padding
    bool_mask = np.zeros((Tq, Tk), dtype=bool)
    bool_mask[2] = True  # query 2 sees nothing
    float_mask = np.zeros((Tq, Tk), dtype=dtype)
    float_mask[0] = -np.inf  # query 0 sees nothing
    go = rng.standard_normal((B, h, Tq, dv)).astype(dtype)
    cases = [
        (dict(key_padding_mask=pad), (slice(1, 2), slice(None), slice(None))),
        (dict(attn_mask=bool_mask), (slice(None), slice(None), slice(2, 3))),
        (dict(attn_mask=float_mask), (slice(None), slice(None), slice(0, 1))),
        (dict(attn_mask=float_mask, causal=True, key_padding_mask=pad),
         (slice(1, 2), slice(None), slice(None))),
    ]
    for kw, dead in cases:
        out, w = mod.attention_forward(q, k, v, **kw)
        gq, gk, gv = mod.attention_backward(go, q, k, v, w)
        for a in (out, w, gq, gk, gv):
            assert np.all(np.isfinite(a)), kw
        np.testing.assert_array_equal(out[dead], 0)
        np.testing.assert_array_equal(w[dead], 0)
        np.testing.assert_array_equal(gq[dead], 0)
        out_ref, w_ref, backward = naive_attention(q, k, v, **kw)
        _close(out, out_ref, dtype)
        _close(w, w_ref, dtype)
        for g, e in zip((gq, gk, gv), backward(go)):
            _close(g, e, dtype)


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("size", [(0, 2, 3, 4, 5, 6), (2, 0, 3, 4, 5, 6),
                                  (2, 2, 0, 4, 5, 6), (2, 2, 3, 0, 5, 6),
                                  (2, 2, 3, 4, 5, 0)])
def test_empty_sizes(impl, size, rng):
    mod = IMPLS[impl]
    B, h, Tq, Tk, d, dv = size
    q = rng.standard_normal((B, h, Tq, d)).astype(np.float32)
    k = rng.standard_normal((B, h, Tk, d)).astype(np.float32)
    v = rng.standard_normal((B, h, Tk, dv)).astype(np.float32)
    out, w = mod.attention_forward(q, k, v, causal=True)
    assert out.shape == (B, h, Tq, dv) and out.dtype == np.float32
    assert w.shape == (B, h, Tq, Tk) and w.dtype == np.float32
    np.testing.assert_array_equal(out, 0 if Tk == 0 else out)
    go = np.ones(out.shape, dtype=np.float32)
    gq, gk, gv = mod.attention_backward(go, q, k, v, w)
    assert (gq.shape, gk.shape, gv.shape) == (q.shape, k.shape, v.shape)
    assert gq.dtype == gk.dtype == gv.dtype == np.float32


@pytest.mark.parametrize("size", [(0, 1, 2, 3, 2, 2), (1, 0, 2, 3, 2, 2), (2, 1, 0, 3, 2, 2),
                                  (2, 1, 3, 0, 2, 2), (2, 1, 3, 4, 0, 2), (2, 1, 3, 4, 2, 0),
                                  (1, 1, 1, 1, 0, 0), (0, 0, 0, 0, 0, 0)])
@pytest.mark.parametrize("causal", [False, True])
def test_empty_sizes_agree_with_xp(size, causal, rng):
    """The compiled kernels handle every empty size themselves and agree with the
    reference: a zero head dimension still gives masked, uniform weights."""
    B, h, Tq, Tk, d, dv = size
    q = rng.standard_normal((B, h, Tq, d))
    k = rng.standard_normal((B, h, Tk, d))
    v = rng.standard_normal((B, h, Tk, dv))
    padding = rng.random((B, Tk)) < 0.3
    out, w = IMPLS["cython"].attention_forward(q, k, v, None, padding, causal, 1.0)
    out_ref, w_ref = IMPLS["xp"].attention_forward(q, k, v, None, padding, causal, 1.0)
    np.testing.assert_allclose(out, out_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12)
    go = rng.standard_normal(out.shape)
    for g, g_ref in zip(IMPLS["cython"].attention_backward(go, q, k, v, w, 1.0),
                        IMPLS["xp"].attention_backward(go, q, k, v, w_ref, 1.0)):
        assert g.shape == g_ref.shape
        np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# Finite differences (float64)
# ---------------------------------------------------------------------------

def _numeric_grad(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(*a.shape):
        old = a[i]
        a[i] = old + eps
        up = f()
        a[i] = old - eps
        down = f()
        a[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("mask", ["none", "float+padding+causal", "bool+padding",
                                  "float-inf", "causal"])
def test_backward_finite_differences(impl, mask, rng):
    mod = IMPLS[impl]
    q, k, v, kw = _inputs((1, 2, 3, 4, 3, 2), mask, np.float64, rng)
    r = rng.standard_normal((1, 2, 3, 2))

    def loss():
        return float(np.sum(mod.attention_forward(q, k, v, **kw)[0] * r))

    _, w = mod.attention_forward(q, k, v, **kw)
    for g, a in zip(mod.attention_backward(r, q, k, v, w), (q, k, v)):
        np.testing.assert_allclose(g, _numeric_grad(loss, a), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------
# Argument checks (same messages from both implementations)
# ---------------------------------------------------------------------------

def _qkv(dtype=np.float64, B=2, h=3, Tq=4, Tk=5, d=6, dv=7):
    return (np.zeros((B, h, Tq, d), dtype), np.zeros((B, h, Tk, d), dtype),
            np.zeros((B, h, Tk, dv), dtype))


@pytest.mark.parametrize("impl", list(IMPLS))
def test_forward_argument_errors(impl):
    mod = IMPLS[impl]
    f = mod.attention_forward
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="q has dtype float64 but k has dtype float32"):
        f(q, k.astype(np.float32), v)
    with pytest.raises(ValueError, match="float16; the kernels take float32 or float64"):
        f(q.astype(np.float16), k, v)
    with pytest.raises(ValueError, match=r"k must be 4-D .* got shape \(3, 5, 6\)"):
        f(q, k[0], v)
    with pytest.raises(ValueError, match=r"share \(B, h\)"):
        f(q, k[:1], v[:1])
    with pytest.raises(ValueError, match=r"q has shape \(2, 3, 4, 6\) and k has shape "
                                         r"\(2, 3, 5, 5\); their last sizes"):
        f(q, k[..., :5], v)
    with pytest.raises(ValueError, match=r"v has shape \(2, 3, 4, 7\); they must have "
                                         "the same number of keys"):
        f(q, k, v[:, :, :4])
    for bad in [np.zeros((5, 4)), np.zeros((3, 4, 5)), np.zeros((2, 2, 4, 5)),
                np.zeros((3, 1, 4, 5))]:
        with pytest.raises(ValueError, match=rf"attn_mask has shape {bad.shape!r}".replace(
                "(", r"\(").replace(")", r"\)")):
            f(q, k, v, attn_mask=bad)
    with pytest.raises(ValueError, match="attn_mask has dtype float32; it must be bool"):
        f(q, k, v, attn_mask=np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError, match="attn_mask has dtype int64"):
        f(q, k, v, attn_mask=np.zeros((4, 5), np.int64))
    with pytest.raises(ValueError, match="key_padding_mask has dtype float64; it must "
                                         "be bool"):
        f(q, k, v, key_padding_mask=np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"key_padding_mask has shape \(2, 4\) .* "
                                         r"\(B, Tk\) = \(2, 5\)"):
        f(q, k, v, key_padding_mask=np.zeros((2, 4), bool))
    with pytest.raises(ValueError, match="needs d >= 1"):
        f(*_qkv(d=0))
    with pytest.raises(ValueError, match="scale must be finite"):
        f(q, k, v, scale=float("nan"))


@pytest.mark.parametrize("impl", list(IMPLS))
def test_backward_argument_errors(impl):
    mod = IMPLS[impl]
    q, k, v = _qkv()
    go = np.zeros((2, 3, 4, 7))
    w = np.zeros((2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"grad_out has shape \(2, 3, 4, 6\) .* need "
                                         r"\(2, 3, 4, 7\)"):
        mod.attention_backward(go[..., :6], q, k, v, w)
    with pytest.raises(ValueError, match=r"weights has shape \(2, 3, 5, 4\) .* need "
                                         r"\(2, 3, 4, 5\)"):
        mod.attention_backward(go, q, k, v, w.reshape(2, 3, 5, 4))
    with pytest.raises(ValueError, match="grad_out has dtype float32"):
        mod.attention_backward(go.astype(np.float32), q, k, v, w)


# ---------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("case", ["float-mask", "bool-mask", "causal", "causal-Tq-lt-Tk",
                                  "causal-Tq-gt-Tk"])
def test_matches_torch_sdpa(impl, case, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    mod = IMPLS[impl]
    B, h, Tq, Tk, d, dv = 2, 3, 5, 7, 4, 6
    if case == "causal-Tq-gt-Tk":
        Tq, Tk = 7, 5
    q = rng.standard_normal((B, h, Tq, d))
    k = rng.standard_normal((B, h, Tk, d))
    v = rng.standard_normal((B, h, Tk, dv))
    go = rng.standard_normal((B, h, Tq, dv))
    kw, tkw = {}, {}
    if case == "float-mask":
        kw["attn_mask"] = rng.standard_normal((B, 1, Tq, Tk))
        tkw["attn_mask"] = torch.from_numpy(kw["attn_mask"])
    elif case == "bool-mask":
        m = rng.random((Tq, Tk)) < 0.3
        m[:, 0] = False  # torch gives NaN for fully masked queries
        kw["attn_mask"] = m
        tkw["attn_mask"] = torch.from_numpy(~m)  # torch: True = may attend
    else:
        kw["causal"] = tkw["is_causal"] = True
    tq, tk, tv = (torch.from_numpy(a).requires_grad_() for a in (q, k, v))
    t_out = F.scaled_dot_product_attention(tq, tk, tv, **tkw)
    t_out.backward(torch.from_numpy(go))
    out, w = mod.attention_forward(q, k, v, **kw)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-10, atol=1e-10)
    for g, t in zip(mod.attention_backward(go, q, k, v, w), (tq, tk, tv)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-10)
