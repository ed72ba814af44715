"""Recurrent layers over a whole sequence: vanilla RNN, LSTM, GRU (CPU).

Same names, signatures, semantics and workspace layout as
``sklears_neural._xp._rnn`` (the argument checks both share are in
``sklears_neural._specs._rnn``), plus a keyword-only ``n_threads``.

This module checks the arguments, allocates the outputs, the workspace and
the backward's buffers, and calls the time loops of ``_rnn_steps`` (one
input GEMM, per step a recurrent GEMM and a fused cell pass; backward in
chunks of ``_BWD_CHUNK_ROWS`` gate-gradient rows), whose docstring has the
design and the measurements. The float32 cells are C
(``src/skn_rnn_cells.h``), built for the baseline and for AVX2+FMA.

Threads: ``_seq`` resolves ``n_threads`` once per call
(``resolve_batch_threads``); with more than one, the loops of
``_rnn_steps`` split the batch and the BLAS is held to one thread
(``sklears_neural._threads.serial_blas``), so one pool runs at a time.
"""

from contextlib import nullcontext

import numpy as np

from libc.stdint cimport int64_t

from sklears_neural._kernels._blas cimport pack_shared_b
from sklears_neural._kernels._openmp_helpers cimport (
    resolve_batch_threads,
    resolve_n_threads,
    skn_omp_get_max_threads,
)
from sklears_neural._kernels._rnn_steps cimport (
    Seq,
    _gru_backward_mv,
    _gru_forward_mv,
    _lstm_backward_mv,
    _lstm_forward_mv,
    _rnn_backward_mv,
    _rnn_forward_mv,
)

from sklears_neural._specs._arrays import FLOAT32, as_array, c_array
from sklears_neural._specs._rnn import (
    check_nonlinearity,
    rnn_arguments,
    rnn_grad_arguments,
    workspace_shapes,
)
from sklears_neural._kernels._blas import PRODUCT_PARALLEL_MIN_WORK, products_on_own_gemm
from sklears_neural._threads import batch_threads, serial_blas

__all__ = [
    "gru_backward",
    "gru_forward",
    "lstm_backward",
    "lstm_forward",
    "rnn_backward",
    "rnn_forward",
]


# ---------------------------------------------------------------------------
# Python helpers
# ---------------------------------------------------------------------------

# Below this many multiply-adds per call (forward GEMMs: T N G (F + H)) the
# time loops run on one thread when n_threads is None.
PARALLEL_MIN_WORK = 2**20


cdef Seq _seq(dict d, lens, bint reverse, n_threads, Py_ssize_t G):
    """The loops' view of a call; ``G`` is the width of the gate rows (4H, 3H or H)."""
    cdef Seq s
    cdef const int64_t[::1] lv
    s.T = d["T"]
    s.N = d["N"]
    s.F = d["F"]
    s.H = d["H"]
    s.reverse = reverse
    work = d["T"] * d["N"] * G * (d["F"] + d["H"])
    s.n_threads = batch_threads(
        n_threads, resolve_batch_threads(n_threads, d["N"], work, PARALLEL_MIN_WORK),
        own_products=products_on_own_gemm(d["dtype"]))
    s.lens = NULL
    s.packed = NULL
    if lens is not None:
        lv = lens
        s.lens = &lv[0]
    return s



cdef object _share_recurrent(Seq* s, w_hh, bint forward, dtype):
    """Pack the recurrent weights that every step's product reads (op(b):
    W_hh^T forward, W_hh backward) once for our AVX-512 GEMM, and point
    ``s.packed`` at them; returns the packing (to keep alive through the
    call), or None where the step products do not take it: not on our GEMM,
    or one thread running a product big enough to split over the pool.
    Measured (Zen 5, 2 threads, batch 64, T 50, 32 -> 128 units, one LSTM
    layer): forward 1.84 -> 1.77 ms, backward 2.85 -> 2.74 ms (packing the
    128 x 512 weights at every step took ~4 % of each step's product)."""
    cdef const float[:, ::1] w
    cdef float[::1] out
    G, H = w_hh.shape
    if (s.n_threads == 1 and skn_omp_get_max_threads() > 1
            and s.N * G * H >= PRODUCT_PARALLEL_MIN_WORK):
        return None
    w = c_array(w_hh, FLOAT32) if dtype == FLOAT32 else np.zeros((1, 1), np.float32)
    packed = pack_shared_b(dtype, forward, H if forward else G, G if forward else H,
                           &w[0, 0], H)
    if packed is not None:
        out = packed
        s.packed = &out[0]
    return packed


def _flat(a, dtype):
    """``a`` as a flat C-contiguous array of ``dtype`` (a view when it can)."""
    return c_array(a, dtype).reshape(-1)


def _vec_or_zeros(b, n, dtype):
    return np.zeros(n, dtype=dtype) if b is None else _flat(b, dtype)


def _state_or_zeros(a, N, H, dtype):
    return np.zeros((N, H), dtype=dtype) if a is None else c_array(a, dtype).copy()


def _arrays(*arrays):
    return tuple(None if a is None else as_array(a) for a in arrays)


def _grad_buffers(d, G, need_input, need_weights, dtype):
    T, N, F, H = d["T"], d["N"], d["F"], d["H"]
    one = np.zeros(1, dtype=dtype)
    gx = np.empty((T, N, F), dtype=dtype) if need_input else None
    gwi = np.empty((G, F), dtype=dtype) if need_weights else None
    gwh = np.empty((G, H), dtype=dtype) if need_weights else None
    return gx, gwi, gwh, (one if gx is None else gx.reshape(-1),
                          one if gwi is None else gwi.reshape(-1),
                          one if gwh is None else gwh.reshape(-1))


def _prev_block(hs, T, reverse):
    return (hs[1:] if reverse else hs[:T]).reshape(-1)


# Rows of gate gradients per chunk of the backward (``_rnn_steps._lstm_backward``).
_BWD_CHUNK_ROWS = 512


def _chunk_steps(T, N):
    """Steps per chunk: about ``_BWD_CHUNK_ROWS`` rows of gate gradients."""
    return max(1, min(T, _BWD_CHUNK_ROWS // N))


def _grad_y(grad_y, dtype):
    """(flat grad_y or a 1-element dummy, whether it was given)."""
    if grad_y is None:
        return np.zeros(1, dtype=dtype), False
    return _flat(grad_y, dtype), True


def _workspace(workspace, dtype):
    return tuple(c_array(a, dtype) for a in workspace)


# ---------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------

def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, *,
                 n_threads=None):
    """Forward of a one-layer, one-direction LSTM over a whole sequence.

    PyTorch's gates (i, f, g, o) and equations; see
    ``sklears_neural._xp._rnn.lstm_forward``.

    Parameters
    ----------
    x : ndarray of shape (T, N, F)
        Time-major input.
    h0, c0 : ndarrays of shape (N, H) or None
        Initial states (None: zeros).
    w_ih : ndarray of shape (4H, F)
    w_hh : ndarray of shape (4H, H)
    b_ih, b_hh : ndarrays of shape (4H,) or None
    lengths : None or integer ndarray of shape (N,)
        Sequence lengths in [1, T]; steps t >= lengths[n] are padding.
    reverse : bool
        Run from the last (valid) step down to step 0.
    n_threads : None or int, keyword-only
        Threads for the time loops, each running a block of batch rows with a
        single-threaded BLAS. None: every thread of the OpenMP pool once the
        call has ``PARALLEL_MIN_WORK`` multiply-adds, else one. An int: that
        many, never more than the batch rows or the pool's threads.

    Returns
    -------
    y : ndarray of shape (T, N, H)
        0 at padded steps.
    h_n, c_n : ndarrays of shape (N, H)
    workspace : tuple of ndarrays
        ``(gates, hs, cs)``, what ``lstm_backward`` needs.
    """
    kernel = "lstm_forward"
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _arrays(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "lstm", x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths)
    resolve_n_threads(n_threads, 1, 1)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev, n_threads, 4 * H)
    packed_w_hh = _share_recurrent(&s, w_hh, True, dtype)  # s.packed points into it
    if b_ih is None and b_hh is None:
        b = np.zeros(4 * H, dtype=dtype)
    else:
        b = _vec_or_zeros(b_ih, 4 * H, dtype) + _vec_or_zeros(b_hh, 4 * H, dtype)
    gates = np.empty((T, N, 4 * H), dtype=dtype)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    cs = np.empty((T + 1, N, H), dtype=dtype)
    y = np.empty((T, N, H), dtype=dtype)
    start = T if rev else 0
    hs[start] = _state_or_zeros(h0, N, H, dtype)
    cs[start] = _state_or_zeros(c0, N, H, dtype)
    with serial_blas() if s.n_threads > 1 else nullcontext():
        if dtype == FLOAT32:
            _lstm_forward_mv[float](
                &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh.T, dtype), b,
                gates.reshape(-1), hs.reshape(-1), cs.reshape(-1), y.reshape(-1))
        else:
            _lstm_forward_mv[double](
                &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh.T, dtype), b,
                gates.reshape(-1), hs.reshape(-1), cs.reshape(-1), y.reshape(-1))
    end = 0 if rev else T
    return y, hs[end].copy(), cs[end].copy(), (gates, hs, cs)


def lstm_backward(grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh, workspace,
                  lengths=None, reverse=False, need_input=True, need_weights=True,
                  need_state=True, *, n_threads=None):
    """Backward-through-time of ``lstm_forward``.

    Parameters
    ----------
    grad_y : ndarray of shape (T, N, H) or None
        Entries at padded steps are ignored; None means zero.
    grad_hn, grad_cn : ndarrays of shape (N, H) or None
    x, h0, c0, w_ih, w_hh : the forward's arguments
        ``h0`` and ``c0`` are only checked (the workspace holds the states).
    workspace : tuple
        Returned by ``lstm_forward`` for the same arguments.
    lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    grad_x : ndarray of shape (T, N, F) or None
    grad_h0, grad_c0 : ndarrays of shape (N, H) or None
    grad_w_ih : ndarray of shape (4H, F) or None
    grad_w_hh : ndarray of shape (4H, H) or None
    grad_b : ndarray of shape (4H,) or None
        The gradient of ``b_ih`` and equally of ``b_hh``.
    """
    kernel = "lstm_backward"
    grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh = _arrays(
        grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh)
    d = rnn_arguments(kernel, "lstm", x, h0, c0, w_ih, w_hh, None, None, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("lstm", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn, grad_cn=grad_cn)
    resolve_n_threads(n_threads, 1, 1)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None, None
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev, n_threads, 4 * H)
    packed_w_hh = _share_recurrent(&s, w_hh, False, dtype)  # s.packed points into it
    gates, hs, cs = _workspace(workspace, dtype)
    gy, has_gy = _grad_y(grad_y, dtype)
    dh = _state_or_zeros(grad_hn, N, H, dtype)
    dc = _state_or_zeros(grad_cn, N, H, dtype)
    chunk = _chunk_steps(T, N)
    Gc = np.empty(chunk * N * 4 * H, dtype=dtype)
    zrow = np.zeros(H, dtype=dtype)
    gx, gwi, gwh, flat = _grad_buffers(d, 4 * H, need_input, need_weights, dtype)
    gb = np.zeros(4 * H if need_weights else 1, dtype=np.float64)
    hprev = _prev_block(hs, T, rev)
    with serial_blas() if s.n_threads > 1 else nullcontext():
        if dtype == FLOAT32:
            _lstm_backward_mv[float](
                &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), cs.reshape(-1),
                _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1),
                dc.reshape(-1), bool(need_state), flat[0], flat[1], flat[2], gb,
                bool(need_input), bool(need_weights))
        else:
            _lstm_backward_mv[double](
                &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), cs.reshape(-1),
                _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1),
                dc.reshape(-1), bool(need_state), flat[0], flat[1], flat[2], gb,
                bool(need_input), bool(need_weights))
    gb = gb.astype(dtype) if need_weights else None
    if not need_state:
        dh = dc = None
    return gx, dh, dc, gwi, gwh, gb


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, *,
                n_threads=None):
    """Forward of a one-layer, one-direction GRU over a whole sequence.

    PyTorch's gates (r, z, n) and equations, with b_hn inside
    ``r * (W_hn h + b_hn)``; see ``sklears_neural._xp._rnn.gru_forward``.

    Parameters
    ----------
    x : ndarray of shape (T, N, F)
    h0 : ndarray of shape (N, H) or None
    w_ih : ndarray of shape (3H, F)
    w_hh : ndarray of shape (3H, H)
    b_ih, b_hh : ndarrays of shape (3H,) or None
    lengths, reverse : as in ``lstm_forward``
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    y : ndarray of shape (T, N, H)
    h_n : ndarray of shape (N, H)
    workspace : tuple of ndarrays
        ``(gates, ghn, hs)``, what ``gru_backward`` needs.
    """
    kernel = "gru_forward"
    x, h0, w_ih, w_hh, b_ih, b_hh = _arrays(x, h0, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "gru", x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths)
    resolve_n_threads(n_threads, 1, 1)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev, n_threads, 3 * H)
    packed_w_hh = _share_recurrent(&s, w_hh, True, dtype)  # s.packed points into it
    gates = np.empty((T, N, 3 * H), dtype=dtype)
    ghn = np.empty((T, N, H), dtype=dtype)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    y = np.empty((T, N, H), dtype=dtype)
    scratch = np.empty(N * 3 * H, dtype=dtype)
    hs[T if rev else 0] = _state_or_zeros(h0, N, H, dtype)
    bi, bh = _vec_or_zeros(b_ih, 3 * H, dtype), _vec_or_zeros(b_hh, 3 * H, dtype)
    with serial_blas() if s.n_threads > 1 else nullcontext():
        if dtype == FLOAT32:
            _gru_forward_mv[float](
                &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh.T, dtype), bi, bh,
                gates.reshape(-1), ghn.reshape(-1), hs.reshape(-1), y.reshape(-1), scratch)
        else:
            _gru_forward_mv[double](
                &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh.T, dtype), bi, bh,
                gates.reshape(-1), ghn.reshape(-1), hs.reshape(-1), y.reshape(-1), scratch)
    return y, hs[0 if rev else T].copy(), (gates, ghn, hs)


def gru_backward(grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh, workspace, lengths=None,
                 reverse=False, need_input=True, need_weights=True, need_state=True, *,
                 n_threads=None):
    """Backward-through-time of ``gru_forward``.

    Parameters
    ----------
    grad_y : ndarray of shape (T, N, H) or None
    grad_hn : ndarray of shape (N, H) or None
    x, h0, w_ih, w_hh, b_hh : the forward's arguments
        ``h0`` and ``b_hh`` are only checked (the workspace holds what
        depends on them).
    workspace : tuple
        Returned by ``gru_forward`` for the same arguments.
    lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    grad_x : ndarray of shape (T, N, F) or None
    grad_h0 : ndarray of shape (N, H) or None
    grad_w_ih : ndarray of shape (3H, F) or None
    grad_w_hh : ndarray of shape (3H, H) or None
    grad_b_ih, grad_b_hh : ndarrays of shape (3H,) or None
    """
    kernel = "gru_backward"
    grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh = _arrays(
        grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh)
    d = rnn_arguments(kernel, "gru", x, h0, None, w_ih, w_hh, None, b_hh, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("gru", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn)
    resolve_n_threads(n_threads, 1, 1)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None, None
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev, n_threads, 3 * H)
    packed_w_hh = _share_recurrent(&s, w_hh, False, dtype)  # s.packed points into it
    gates, ghn, hs = _workspace(workspace, dtype)
    gy, has_gy = _grad_y(grad_y, dtype)
    dh = _state_or_zeros(grad_hn, N, H, dtype)
    chunk = _chunk_steps(T, N)
    Gi = np.empty(chunk * N * 3 * H, dtype=dtype)
    Gh = np.empty(chunk * N * 3 * H, dtype=dtype)
    zrow = np.zeros(H, dtype=dtype)
    gx, gwi, gwh, flat = _grad_buffers(d, 3 * H, need_input, need_weights, dtype)
    gbi = np.zeros(3 * H if need_weights else 1, dtype=np.float64)
    gbh = np.zeros(3 * H if need_weights else 1, dtype=np.float64)
    hprev = _prev_block(hs, T, rev)
    with serial_blas() if s.n_threads > 1 else nullcontext():
        if dtype == FLOAT32:
            _gru_backward_mv[float](
                &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), ghn.reshape(-1),
                _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gi, Gh, dh.reshape(-1),
                bool(need_state), flat[0], flat[1], flat[2], gbi, gbh, bool(need_input),
                bool(need_weights))
        else:
            _gru_backward_mv[double](
                &s, gy, has_gy, zrow, _flat(w_hh, dtype), gates.reshape(-1), ghn.reshape(-1),
                _flat(x, dtype), _flat(w_ih, dtype), hprev, chunk, Gi, Gh, dh.reshape(-1),
                bool(need_state), flat[0], flat[1], flat[2], gbi, gbh, bool(need_input),
                bool(need_weights))
    if need_weights:
        gbi = gbi.astype(dtype)
        gbh = gbh.astype(dtype)
    else:
        gbi = gbh = None
    return gx, (dh if need_state else None), gwi, gwh, gbi, gbh


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", lengths=None,
                reverse=False, *, n_threads=None):
    """Forward of a one-layer, one-direction Elman RNN over a whole sequence.

    ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, ``act`` tanh or relu.

    Parameters
    ----------
    x : ndarray of shape (T, N, F)
    h0 : ndarray of shape (N, H) or None
    w_ih : ndarray of shape (H, F)
    w_hh : ndarray of shape (H, H)
    b_ih, b_hh : ndarrays of shape (H,) or None
    nonlinearity : {"tanh", "relu"}
    lengths, reverse : as in ``lstm_forward``
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    y : ndarray of shape (T, N, H)
    h_n : ndarray of shape (N, H)
    workspace : tuple of ndarrays
        ``(hs,)``, what ``rnn_backward`` needs.
    """
    kernel = "rnn_forward"
    check_nonlinearity(kernel, nonlinearity)
    x, h0, w_ih, w_hh, b_ih, b_hh = _arrays(x, h0, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "rnn", x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths)
    resolve_n_threads(n_threads, 1, 1)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev, n_threads, H)
    packed_w_hh = _share_recurrent(&s, w_hh, True, dtype)  # s.packed points into it
    b = _vec_or_zeros(b_ih, H, dtype) + _vec_or_zeros(b_hh, H, dtype)
    relu = nonlinearity == "relu"
    pre = np.empty(T * N * H, dtype=dtype)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    y = np.empty((T, N, H), dtype=dtype)
    hs[T if rev else 0] = _state_or_zeros(h0, N, H, dtype)
    with serial_blas() if s.n_threads > 1 else nullcontext():
        if dtype == FLOAT32:
            _rnn_forward_mv[float](
                &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh.T, dtype), b, pre,
                hs.reshape(-1), y.reshape(-1), relu)
        else:
            _rnn_forward_mv[double](
                &s, _flat(x, dtype), _flat(w_ih, dtype), _flat(w_hh.T, dtype), b, pre,
                hs.reshape(-1), y.reshape(-1), relu)
    return y, hs[0 if rev else T].copy(), (hs,)


def rnn_backward(grad_y, grad_hn, x, h0, w_ih, w_hh, workspace, nonlinearity="tanh",
                 lengths=None, reverse=False, need_input=True, need_weights=True,
                 need_state=True, *, n_threads=None):
    """Backward-through-time of ``rnn_forward``.

    Parameters
    ----------
    grad_y : ndarray of shape (T, N, H) or None
    grad_hn : ndarray of shape (N, H) or None
    x, h0, w_ih, w_hh : the forward's arguments (``h0`` is only checked)
    workspace : tuple
        Returned by ``rnn_forward`` for the same arguments.
    nonlinearity, lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``lstm_forward``.

    Returns
    -------
    grad_x : ndarray of shape (T, N, F) or None
    grad_h0 : ndarray of shape (N, H) or None
    grad_w_ih : ndarray of shape (H, F) or None
    grad_w_hh : ndarray of shape (H, H) or None
    grad_b : ndarray of shape (H,) or None
        The gradient of ``b_ih`` and equally of ``b_hh``.
    """
    kernel = "rnn_backward"
    check_nonlinearity(kernel, nonlinearity)
    grad_y, grad_hn, x, h0, w_ih, w_hh = _arrays(grad_y, grad_hn, x, h0, w_ih, w_hh)
    d = rnn_arguments(kernel, "rnn", x, h0, None, w_ih, w_hh, None, None, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("rnn", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn)
    resolve_n_threads(n_threads, 1, 1)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None
    cdef bint rev = bool(reverse)
    cdef Seq s = _seq(d, d["lengths"], rev, n_threads, H)
    packed_w_hh = _share_recurrent(&s, w_hh, False, dtype)  # s.packed points into it
    (hs,) = _workspace(workspace, dtype)
    gy, has_gy = _grad_y(grad_y, dtype)
    dh = _state_or_zeros(grad_hn, N, H, dtype)
    chunk = _chunk_steps(T, N)
    Gc = np.empty(chunk * N * H, dtype=dtype)
    zrow = np.zeros(H, dtype=dtype)
    gx, gwi, gwh, flat = _grad_buffers(d, H, need_input, need_weights, dtype)
    gb = np.zeros(H if need_weights else 1, dtype=np.float64)
    hprev = _prev_block(hs, T, rev)
    relu = nonlinearity == "relu"
    with serial_blas() if s.n_threads > 1 else nullcontext():
        if dtype == FLOAT32:
            _rnn_backward_mv[float](
                &s, gy, has_gy, zrow, _flat(w_hh, dtype), hs.reshape(-1), _flat(x, dtype),
                _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1), bool(need_state), relu,
                flat[0], flat[1], flat[2], gb, bool(need_input), bool(need_weights))
        else:
            _rnn_backward_mv[double](
                &s, gy, has_gy, zrow, _flat(w_hh, dtype), hs.reshape(-1), _flat(x, dtype),
                _flat(w_ih, dtype), hprev, chunk, Gc, dh.reshape(-1), bool(need_state), relu,
                flat[0], flat[1], flat[2], gb, bool(need_input), bool(need_weights))
    gb = gb.astype(dtype) if need_weights else None
    return gx, (dh if need_state else None), gwi, gwh, gb
