"""Multi-head scaled dot-product attention, forward and backward (CPU).

Same names, signatures and semantics as ``sklears_neural._xp._attention``
(which documents the masks; the argument checks both share are in
``sklears_neural._specs._attention``), plus a keyword-only ``n_threads``.

Per (batch, head), on C-contiguous (T, features) blocks:

* forward: one GEMM writes ``scale * Q @ K.T`` straight into ``weights``;
  then one pass per row, while the row is in L1, adds the float mask,
  excludes bool-masked, padding and (causal) future keys, subtracts the row
  max, exponentiates and normalises in place; one GEMM ``out = P @ V``.
  Causal rows only touch their first ``i + 1`` keys (the rest is zeroed).
* backward: ``grad V = P.T @ grad_out`` and ``grad P = grad_out @ V.T``
  (GEMMs; grad P in a reused (Tq, Tk) scratch), one pass per row turning it
  into ``grad S / scale = P * (grad P - rowsum(grad P * P))`` in place, then
  ``grad Q = scale * grad S' @ K`` and ``grad K = scale * grad S'.T @ Q``
  (the scale rides on the GEMMs' alpha). Only the requested gradients are
  computed (grad V alone needs one GEMM).

The exp/normalise part of the forward row pass and the softmax backward
rows are the shared loops of ``_loops.pxi`` (``softmax_rows``,
``softmax_backward_rows``, run in place), taken from the AVX2+FMA build on
CPUs that have it: that halved the time of the row passes against this
module's own baseline-flag loops (perf, B=32, h=4, T=64, d=32, float32:
row passes ~21 % -> ~13 % of forward + backward, the rest being OpenBLAS
and Python overhead).

Measured on the 2-core development machine (shared, so +-20 %), one thread
(threadpoolctl 1, ``torch.set_num_threads(1)``), B=32, h=4, T=64, d=32,
forward + backward of all three inputs, in ms, ours / torch 2.13
``scaled_dot_product_attention`` / the numpy ``_xp`` reference:

* float32: 3.0-3.2 / 4.8-6.5 / 4.4-5.0 (forward alone 1.5 / 1.4 / 2.3)
* float64: 7.3-9.3 / 16.5 / 9.0-9.4; a fifth of it is libm's scalar
  ``exp`` (numpy's float64 exp is SIMD; float32 uses the vectorised
  polynomial of ``_math.pxd``).

These are with glibc's ``MALLOC_TRIM_THRESHOLD_``/``MALLOC_MMAP_THRESHOLD_``
raised: with the defaults, forward + backward allocates ~7 MB of fresh
outputs per call, glibc returns them to the OS on free and every call
page-faults them back (float32 forward + backward then 3 -> 9.6 ms, the
kernels themselves unchanged).

``n_threads`` is accepted for the kernels' common signature but everything
runs serially: the loop over (batch, head) calls BLAS, and an OpenMP pool
around BLAS calls fights BLAS's own (DESIGN.md, "Threads"); BLAS threads
are set with threadpoolctl.
"""

import numpy as np

from libc.math cimport INFINITY
from libc.string cimport memset

cimport sklears_neural._kernels._loops as base
cimport sklears_neural._kernels._loops_avx2 as avx2
cimport sklears_neural._kernels._loops_avx512 as avx512
from sklears_neural._kernels._blas cimport gemm_rowmajor
from sklears_neural._kernels._cpu cimport use_avx2, use_avx512
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport row_max
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._specs._arrays import FLOAT32, as_array, c_array, float_dtype
from sklears_neural._specs._attention import check_attention, check_attention_backward

__all__ = ["attention_backward", "attention_forward"]


cdef struct Dims:
    Py_ssize_t B, H, Tq, Tk, d, dv
    # Offsets, in (Tq, Tk) blocks, of the mask block of batch b / head h:
    # 0 where the mask broadcasts over that axis.
    Py_ssize_t add_sb, add_sh, blk_sb, blk_sh
    bint causal


# ---------------------------------------------------------------------------
# nogil parts
# ---------------------------------------------------------------------------

cdef void _softmax_row(floating* s, Py_ssize_t n, Py_ssize_t lim, const floating* add,
                       const unsigned char* blocked, const unsigned char* pad) noexcept nogil:
    """Masked softmax of the scores s[:n] in place: keys j >= lim, and keys
    where ``blocked`` or ``pad`` is set, are excluded (weight 0); ``add`` is
    added first. A row with no key left becomes all zeros. Any pointer may
    be NULL."""
    cdef Py_ssize_t j
    cdef floating m
    cdef floating ninf = -INFINITY
    # Separate loops per mask kind: each one is branch-free and vectorises.
    if add != NULL:
        for j in range(lim):
            s[j] = s[j] + add[j]
    if blocked != NULL:
        for j in range(lim):
            s[j] = ninf if blocked[j] else s[j]
    if pad != NULL:
        for j in range(lim):
            s[j] = ninf if pad[j] else s[j]
    m = row_max(s, lim) if lim > 0 else ninf
    if m == ninf:
        memset(s, 0, n * sizeof(floating))
        return
    # max-subtract, exp (exp(-inf) = 0 for excluded keys), normalise: the
    # shared softmax loop, in place, from the AVX2 build on CPUs that have it.
    if use_avx512():
        avx512.softmax_rows(s, s, 1, lim, False)
    elif use_avx2():
        avx2.softmax_rows(s, s, 1, lim, False)
    else:
        base.softmax_rows(s, s, 1, lim, False)
    if lim < n:
        memset(s + lim, 0, (n - lim) * sizeof(floating))


cdef void _forward_loop(const floating* q, const floating* k, const floating* v,
                        floating* out, floating* w, const floating* add,
                        const unsigned char* blk, const unsigned char* pad,
                        floating scale, const Dims* g) noexcept nogil:
    cdef Py_ssize_t Tq = g.Tq, Tk = g.Tk, d = g.d, dv = g.dv
    cdef Py_ssize_t b, hh, i, bh, lim
    cdef floating* wp
    cdef const floating* addp = NULL
    cdef const unsigned char* blkp = NULL
    cdef const unsigned char* padp = NULL
    for b in range(g.B):
        if pad != NULL:
            padp = pad + b * Tk
        for hh in range(g.H):
            bh = b * g.H + hh
            wp = w + bh * Tq * Tk
            gemm_rowmajor(False, True, <int> Tq, <int> Tk, <int> d, scale,
                          q + bh * Tq * d, <int> d, k + bh * Tk * d, <int> d,
                          0, wp, <int> Tk)
            if add != NULL:
                addp = add + (b * g.add_sb + hh * g.add_sh) * Tq * Tk
            if blk != NULL:
                blkp = blk + (b * g.blk_sb + hh * g.blk_sh) * Tq * Tk
            for i in range(Tq):
                lim = (i + 1 if i + 1 < Tk else Tk) if g.causal else Tk
                _softmax_row(wp + i * Tk, Tk, lim,
                             addp + i * Tk if addp != NULL else NULL,
                             blkp + i * Tk if blkp != NULL else NULL, padp)
            gemm_rowmajor(False, False, <int> Tq, <int> dv, <int> Tk, 1,
                          wp, <int> Tk, v + bh * Tk * dv, <int> dv,
                          0, out + bh * Tq * dv, <int> dv)


cdef void _backward_loop(const floating* go, const floating* q, const floating* k,
                         const floating* v, const floating* w, floating* gq,
                         floating* gk, floating* gv, floating* gs, floating scale,
                         const Dims* g) noexcept nogil:
    """Gradients into gq/gk/gv (each may be NULL); gs: (Tq, Tk) scratch."""
    cdef Py_ssize_t Tq = g.Tq, Tk = g.Tk, d = g.d, dv = g.dv
    cdef Py_ssize_t bh
    cdef const floating* wp
    cdef const floating* gop
    for bh in range(g.B * g.H):
        wp = w + bh * Tq * Tk
        gop = go + bh * Tq * dv
        if gv != NULL:
            gemm_rowmajor(True, False, <int> Tk, <int> dv, <int> Tq, 1,
                          wp, <int> Tk, gop, <int> dv, 0, gv + bh * Tk * dv, <int> dv)
        if gq == NULL and gk == NULL:
            continue
        gemm_rowmajor(False, True, <int> Tq, <int> Tk, <int> dv, 1,
                      gop, <int> dv, v + bh * Tk * dv, <int> dv, 0, gs, <int> Tk)
        # grad S / scale = P * (grad P - rowsum(grad P * P)), in place, by
        # the shared softmax backward loop; the scale goes into the GEMMs.
        if use_avx512():
            avx512.softmax_backward_rows(gs, wp, gs, Tq, Tk, False)
        elif use_avx2():
            avx2.softmax_backward_rows(gs, wp, gs, Tq, Tk, False)
        else:
            base.softmax_backward_rows(gs, wp, gs, Tq, Tk, False)
        if gq != NULL:
            gemm_rowmajor(False, False, <int> Tq, <int> d, <int> Tk, scale,
                          gs, <int> Tk, k + bh * Tk * d, <int> d,
                          0, gq + bh * Tq * d, <int> d)
        if gk != NULL:
            gemm_rowmajor(True, False, <int> Tk, <int> d, <int> Tq, scale,
                          gs, <int> Tk, q + bh * Tq * d, <int> d,
                          0, gk + bh * Tk * d, <int> d)


# ---------------------------------------------------------------------------
# Typed entry points (memoryviews are flat and C-contiguous; sizes may be 0)
# ---------------------------------------------------------------------------

cdef int _forward(const floating[::1] q, const floating[::1] k, const floating[::1] v,
                  floating[::1] out, floating[::1] w, const floating[::1] add,
                  bint has_add, const unsigned char[::1] blk, bint has_blk,
                  const unsigned char[::1] pad, bint has_pad, double scale,
                  const Dims* g) except -1:
    cdef const floating* addp = &add[0] if has_add else NULL
    cdef const unsigned char* blkp = &blk[0] if has_blk else NULL
    cdef const unsigned char* padp = &pad[0] if has_pad else NULL
    with nogil:
        _forward_loop(&q[0], &k[0], &v[0], &out[0], &w[0], addp, blkp, padp,
                      <floating> scale, g)
    return 0


cdef int _backward(const floating[::1] go, const floating[::1] q, const floating[::1] k,
                   const floating[::1] v, const floating[::1] w, floating[::1] gq,
                   floating[::1] gk, floating[::1] gv, floating[::1] gs,
                   bint need_q, bint need_k, bint need_v, double scale,
                   const Dims* g) except -1:
    cdef floating* gqp = &gq[0] if need_q else NULL
    cdef floating* gkp = &gk[0] if need_k else NULL
    cdef floating* gvp = &gv[0] if need_v else NULL
    with nogil:
        _backward_loop(&go[0], &q[0], &k[0], &v[0], &w[0], gqp, gkp, gvp, &gs[0],
                       <floating> scale, g)
    return 0


# ---------------------------------------------------------------------------
# Python faces
# ---------------------------------------------------------------------------

def _flat(a, dtype):
    return c_array(a, dtype).reshape(-1)


def _mask_block_strides(shape, H):
    """(per batch, per head) offsets in (Tq, Tk) blocks of a (Tq, Tk) or
    (B or 1, h or 1, Tq, Tk) mask."""
    if len(shape) == 2:
        return 0, 0
    mb, mh = shape[0], shape[1]
    return (mh if mb > 1 else 0), (1 if mh > 1 else 0)


def _bool_bytes(a):
    """A numpy bool array as flat C-contiguous uint8 (no copy when possible)."""
    return np.ascontiguousarray(a).view(np.uint8).reshape(-1)


cdef Dims _dims(q, k, v):
    cdef Dims g
    g.B, g.H, g.Tq, g.d = q.shape
    g.Tk = k.shape[2]
    g.dv = v.shape[3]
    g.add_sb = g.add_sh = g.blk_sb = g.blk_sh = 0
    g.causal = False
    return g


def attention_forward(q, k, v, attn_mask=None, key_padding_mask=None, causal=False,
                      scale=None, *, n_threads=None):
    """Multi-head scaled dot-product attention.

    Parameters
    ----------
    q : array-like of shape (B, h, Tq, d)
    k : array-like of shape (B, h, Tk, d)
    v : array-like of shape (B, h, Tk, dv)
        One dtype, float32 or float64 (copied if not C-contiguous).
    attn_mask : array-like or None
        Float (q's dtype): added to the scaled scores (``-inf`` excludes a
        key). Bool: True excludes the key (``nn.MultiheadAttention``'s
        convention, the opposite of ``scaled_dot_product_attention``'s).
        Shape (Tq, Tk) or (B or 1, h or 1, Tq, Tk).
    key_padding_mask : bool array-like of shape (B, Tk) or None
        True marks a padding key, excluded for every query.
    causal : bool
        Exclude keys j > i for query i (top-left aligned, as PyTorch's
        ``is_causal``).
    scale : float or None
        Multiplies ``Q @ K.T``; default ``1 / sqrt(d)``.
    n_threads : None or int, keyword-only
        Accepted for the kernels' common signature; the work runs on one
        thread (BLAS's own threads, as set by threadpoolctl, in the GEMMs).

    Returns
    -------
    out : ndarray of shape (B, h, Tq, dv)
    weights : ndarray of shape (B, h, Tq, Tk)
        The attention probabilities (what ``attention_backward`` needs). A
        query whose keys are all excluded gets weights 0 and output 0, not
        NaN.
    """
    kernel = "attention_forward"
    dtype = float_dtype(kernel, ("q", q), ("k", k), ("v", v))
    q, k, v = c_array(q, dtype), c_array(k, dtype), c_array(v, dtype)
    if attn_mask is not None:
        attn_mask = as_array(attn_mask)
    if key_padding_mask is not None:
        key_padding_mask = as_array(key_padding_mask)
    dtype, scale_f, mask_kind = check_attention(kernel, q, k, v, attn_mask,
                                                key_padding_mask, scale)
    resolve_n_threads(n_threads, 1, 1)
    cdef Dims g = _dims(q, k, v)
    g.causal = bool(causal)
    out = np.empty((g.B, g.H, g.Tq, g.dv), dtype=dtype)
    w = np.empty((g.B, g.H, g.Tq, g.Tk), dtype=dtype)
    add = np.zeros(1, dtype=dtype)
    blk = pad = np.zeros(1, dtype=np.uint8)
    if mask_kind == "float":
        add = _flat(attn_mask, dtype)
        g.add_sb, g.add_sh = _mask_block_strides(attn_mask.shape, g.H)
    elif mask_kind == "bool":
        blk = _bool_bytes(attn_mask)
        g.blk_sb, g.blk_sh = _mask_block_strides(attn_mask.shape, g.H)
    if key_padding_mask is not None:
        pad = _bool_bytes(key_padding_mask)
    qf, kf, vf = _flat(q, dtype), _flat(k, dtype), _flat(v, dtype)
    has_add, has_blk = mask_kind == "float", mask_kind == "bool"
    has_pad = key_padding_mask is not None
    if dtype == FLOAT32:
        _forward[float](qf, kf, vf, out.reshape(-1), w.reshape(-1), add, has_add,
                        blk, has_blk, pad, has_pad, scale_f, &g)
    else:
        _forward[double](qf, kf, vf, out.reshape(-1), w.reshape(-1), add, has_add,
                         blk, has_blk, pad, has_pad, scale_f, &g)
    return out, w


def attention_backward(grad_out, q, k, v, weights, scale=None, need_q=True, need_k=True,
                       need_v=True, *, n_threads=None):
    """Backward of ``attention_forward``.

    Excluded keys have weight 0, so the masks are not needed here: their
    entries get no gradient.

    Parameters
    ----------
    grad_out : array-like of shape (B, h, Tq, dv)
    q, k, v : the forward inputs
    weights : array-like of shape (B, h, Tq, Tk)
        The forward's ``weights``.
    scale : float or None
        As in the forward.
    need_q, need_k, need_v : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``attention_forward``.

    Returns
    -------
    grad_q, grad_k, grad_v : ndarrays or None
        Shapes of q, k and v, C-contiguous.
    """
    kernel = "attention_backward"
    dtype = float_dtype(kernel, ("q", q), ("k", k), ("v", v), ("grad_out", grad_out),
                        ("weights", weights))
    grad_out, q, k, v, weights = (c_array(a, dtype) for a in (grad_out, q, k, v, weights))
    dtype, scale_f = check_attention_backward(kernel, grad_out, q, k, v, weights, scale)
    resolve_n_threads(n_threads, 1, 1)
    need_q, need_k, need_v = bool(need_q), bool(need_k), bool(need_v)
    cdef Dims g = _dims(q, k, v)
    dummy = np.zeros(1, dtype=dtype)
    gq = np.empty(q.shape, dtype=dtype) if need_q else None
    gk = np.empty(k.shape, dtype=dtype) if need_k else None
    gv = np.empty(v.shape, dtype=dtype) if need_v else None
    gs = np.empty(g.Tq * g.Tk if (need_q or need_k) else 1, dtype=dtype)
    gof, qf, kf = _flat(grad_out, dtype), _flat(q, dtype), _flat(k, dtype)
    vf, wf = _flat(v, dtype), _flat(weights, dtype)
    gqf = gq.reshape(-1) if need_q else dummy
    gkf = gk.reshape(-1) if need_k else dummy
    gvf = gv.reshape(-1) if need_v else dummy
    if dtype == FLOAT32:
        _backward[float](gof, qf, kf, vf, wf, gqf, gkf, gvf, gs, need_q, need_k, need_v,
                         scale_f, &g)
    else:
        _backward[double](gof, qf, kf, vf, wf, gqf, gkf, gvf, gs, need_q, need_k,
                          need_v, scale_f, &g)
    return gq, gk, gv
