"""Recurrent layers over a whole sequence: vanilla RNN, LSTM and GRU.

Forward and backward-through-time of one layer in one direction, written
once with ``xp = get_array_module(x)``: with numpy it is the readable
reference the Cython kernels (``sklears_neural._kernels._rnn``) are tested
against, with CuPy it is the GPU path. The Python loop runs over time steps;
everything inside a step is array code.

Conventions (shared with the Cython kernels):

* Time-major: ``x`` is (T, N, F); the layer above handles ``batch_first``.
* Weights in PyTorch's layout and gate order: ``w_ih`` (G*H, F), ``w_hh``
  (G*H, H), biases (G*H,) or None, with gates (i, f, g, o) for the LSTM,
  (r, z, n) for the GRU and G = 1 for the vanilla RNN.
* ``lengths`` (None or integers (N,), 1 <= lengths[n] <= T): steps
  t >= lengths[n] are padding. They leave that sample's state unchanged,
  their output is 0 and they get no gradient. With ``reverse=True`` time
  runs from T-1 down to 0; a sample's state then stays h0 through its
  padding and its sequence runs from lengths[n]-1 down to 0 (PyTorch's
  packed-sequence semantics for a backward direction). ``y[t]`` is always
  the state after consuming ``x[t]``.
* The input projection of all steps is one matrix product (T*N rows); in
  the backward pass the weight gradients are one product each over all
  steps: grad W_ih = G^T @ X and grad W_hh = G^T @ H_prev.

The workspace returned by a forward (and taken by its backward) is a tuple
of arrays whose layout both implementations share:

* ``hs`` (T+1, N, H): the hidden states. Without ``reverse``, ``hs[0]`` is
  h0 and ``hs[t+1]`` the state after step t; with ``reverse``, ``hs[T]`` is
  h0 and ``hs[t]`` the state after step t. So the previous states of all
  steps are the contiguous block ``hs[:T]`` (``hs[1:]`` with ``reverse``).
* LSTM: ``(gates, hs, cs)``, gates (T, N, 4H) the activations (i, f, g, o),
  ``cs`` the cell states laid out as ``hs``.
* GRU: ``(gates, ghn, hs)``, gates (T, N, 3H) the activations (r, z, n),
  ``ghn`` (T, N, H) = W_hn h_prev + b_hn (what r multiplies).
* RNN: ``(hs,)``.

Values in the workspace at padded steps are unspecified.

The argument checks (``rnn_arguments``, ``rnn_grad_arguments``) are shared
with the Cython kernels so both raise the same ``ValueError`` messages.
"""

from sklears_neural._specs._rnn import (  # noqa: F401  (shared checks, re-exported)
    NONLINEARITIES,
    N_GATES,
    check_lengths,
    check_nonlinearity,
    rnn_arguments,
    rnn_grad_arguments,
    workspace_shapes,
)
from sklears_neural._xp._arrays import as_arrays
from sklears_neural.backend import get_array_module

__all__ = [
    "gru_backward",
    "gru_forward",
    "lstm_backward",
    "lstm_forward",
    "rnn_backward",
    "rnn_forward",
]

def _sigmoid(xp, a):
    """1 / (1 + exp(-a)), with exp of non-positive numbers only."""
    e = xp.exp(-xp.abs(a))
    r = 1 / (1 + e)
    return xp.where(a >= 0, r, e * r)


def _mask(xp, lens, T):
    """(T, N, 1) booleans: True where step t is inside sample n's sequence."""
    if lens is None:
        return None
    lens = xp.asarray(lens)
    return (xp.arange(T)[:, None] < lens[None, :])[:, :, None]


def _steps(T, reverse):
    """Time steps in the order the forward consumes them."""
    return range(T - 1, -1, -1) if reverse else range(T)


def _prev_next(t, reverse):
    """Indices into ``hs`` of the state before and after step t."""
    return (t + 1, t) if reverse else (t, t + 1)


def _start(T, reverse):
    return T if reverse else 0


def _prev_block(hs, T, reverse):
    """The previous states of all steps, (T*N, H)."""
    block = hs[1:] if reverse else hs[:T]
    return block.reshape(T * hs.shape[1], hs.shape[2])


def _project(xp, x, w_ih, bias):
    """x (T, N, F) @ w_ih^T (+ bias) as one product over T*N rows."""
    T, N, F = x.shape
    a = (x.reshape(T * N, F) @ w_ih.T).reshape(T, N, w_ih.shape[0])
    if bias is not None:
        a += bias
    return a


def _sum_biases(b_ih, b_hh):
    if b_ih is None:
        return b_hh
    if b_hh is None:
        return b_ih
    return b_ih + b_hh


def _state(xp, s, N, H, dtype):
    return xp.zeros((N, H), dtype=dtype) if s is None else s


def _weight_grads(xp, G, x, hs, w_ih, T, reverse, need_input, need_weights):
    """grad_x = G @ W_ih, grad W_ih = G^T X, grad W_hh = G^T H_prev over all
    steps at once (G is (T, N, G*H), zero at padded steps)."""
    TN = G.shape[0] * G.shape[1]
    G2 = G.reshape(TN, G.shape[2])
    gx = gwi = gwh = None
    if need_input:
        gx = (G2 @ w_ih).reshape(x.shape)
    if need_weights:
        gwi = G2.T @ x.reshape(TN, x.shape[2])
        gwh = G2.T @ _prev_block(hs, T, reverse)
    return gx, gwi, gwh, G2


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------

def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """Forward of a one-layer, one-direction LSTM over a whole sequence.

    With gates i, f, g, o (PyTorch's order and equations)::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g
        h' = o * tanh(c')

    Parameters
    ----------
    x : array of shape (T, N, F)
        Time-major input.
    h0, c0 : arrays of shape (N, H) or None
        Initial hidden and cell states (None: zeros).
    w_ih : array of shape (4H, F)
    w_hh : array of shape (4H, H)
    b_ih, b_hh : arrays of shape (4H,) or None
    lengths : None or integer array of shape (N,)
        Sequence lengths in [1, T]; steps t >= lengths[n] are padding.
    reverse : bool
        Run from the last (valid) step down to step 0.

    Returns
    -------
    y : array of shape (T, N, H)
        ``y[t]`` is the hidden state after step t; 0 at padded steps.
    h_n, c_n : arrays of shape (N, H)
        The states after each sample's last step.
    workspace : tuple of arrays
        What ``lstm_backward`` needs (see the module docstring).
    """
    kernel = "lstm_forward"
    args = as_arrays(x, h0, c0, w_ih, w_hh, b_ih, b_hh)  # checked as arrays, as in Cython
    d = rnn_arguments(kernel, "lstm", *args, lengths)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = as_arrays(*args, dtype=d["dtype"])
    xp = get_array_module(x)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    pre = _project(xp, x, w_ih, _sum_biases(b_ih, b_hh))
    mask = _mask(xp, d["lengths"], T)
    gates = xp.empty((T, N, 4 * H), dtype=dtype)
    hs = xp.empty((T + 1, N, H), dtype=dtype)
    cs = xp.empty((T + 1, N, H), dtype=dtype)
    y = xp.empty((T, N, H), dtype=dtype)
    hs[_start(T, reverse)] = _state(xp, h0, N, H, dtype)
    cs[_start(T, reverse)] = _state(xp, c0, N, H, dtype)
    for t in _steps(T, reverse):
        p, o = _prev_next(t, reverse)
        a = pre[t] + hs[p] @ w_hh.T
        i = _sigmoid(xp, a[:, :H])
        f = _sigmoid(xp, a[:, H:2 * H])
        g = xp.tanh(a[:, 2 * H:3 * H])
        og = _sigmoid(xp, a[:, 3 * H:])
        c = f * cs[p] + i * g
        h = og * xp.tanh(c)
        gates[t] = xp.concatenate([i, f, g, og], axis=1)
        if mask is not None:
            c = xp.where(mask[t], c, cs[p])
            y[t] = xp.where(mask[t], h, 0)
            h = xp.where(mask[t], h, hs[p])
        else:
            y[t] = h
        hs[o] = h
        cs[o] = c
    end = 0 if reverse else T
    return y, hs[end].copy(), cs[end].copy(), (gates, hs, cs)


def lstm_backward(grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh, workspace,
                  lengths=None, reverse=False, need_input=True, need_weights=True,
                  need_state=True):
    """Backward-through-time of ``lstm_forward``.

    Parameters
    ----------
    grad_y : array of shape (T, N, H) or None
        Gradient w.r.t. ``y`` (None: zero). Entries at padded steps are ignored.
    grad_hn, grad_cn : arrays of shape (N, H) or None
        Gradients w.r.t. ``h_n`` and ``c_n`` (None: zero).
    x, h0, c0, w_ih, w_hh : the forward's arguments
        ``h0`` and ``c0`` are only checked (the workspace holds the states).
    workspace : tuple
        Returned by ``lstm_forward`` for the same arguments.
    lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    grad_x : array of shape (T, N, F) or None
    grad_h0, grad_c0 : arrays of shape (N, H) or None
    grad_w_ih : array of shape (4H, F) or None
    grad_w_hh : array of shape (4H, H) or None
    grad_b : array of shape (4H,) or None
        The gradient of ``b_ih`` and equally of ``b_hh``.
    """
    kernel = "lstm_backward"
    grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh = as_arrays(
        grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh)
    d = rnn_arguments(kernel, "lstm", x, h0, c0, w_ih, w_hh, None, None, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("lstm", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn, grad_cn=grad_cn)
    grad_y, grad_hn, grad_cn, x, w_ih, w_hh = as_arrays(grad_y, grad_hn, grad_cn, x, w_ih,
                                                        w_hh, dtype=dtype)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None, None
    xp = get_array_module(x)
    gates, hs, cs = workspace
    mask = _mask(xp, d["lengths"], T)
    dh = _state(xp, grad_hn, N, H, dtype)
    dc = _state(xp, grad_cn, N, H, dtype)
    G = xp.empty((T, N, 4 * H), dtype=dtype)
    for t in reversed(_steps(T, reverse)):
        p, o = _prev_next(t, reverse)
        i, f, g, og = (gates[t][:, k * H:(k + 1) * H] for k in range(4))
        tc = xp.tanh(cs[o])
        dh_t = dh if grad_y is None else dh + grad_y[t]
        dc_t = dc + dh_t * og * (1 - tc * tc)
        gt = xp.concatenate([
            dc_t * g * i * (1 - i),
            dc_t * cs[p] * f * (1 - f),
            dc_t * i * (1 - g * g),
            dh_t * tc * og * (1 - og),
        ], axis=1)
        if mask is not None:
            gt = xp.where(mask[t], gt, 0)
            dc = xp.where(mask[t], dc_t * f, dc)
            dh = xp.where(mask[t], gt @ w_hh, dh)
        else:
            dc = dc_t * f
            dh = gt @ w_hh
        G[t] = gt
    gx, gwi, gwh, G2 = _weight_grads(xp, G, x, hs, w_ih, T, reverse, need_input,
                                     need_weights)
    gb = G2.sum(axis=0) if need_weights else None
    if not need_state:
        dh = dc = None
    return gx, dh, dc, gwi, gwh, gb


# ---------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------

def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """Forward of a one-layer, one-direction GRU over a whole sequence.

    With gates r, z, n (PyTorch's order and equations)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Parameters
    ----------
    x : array of shape (T, N, F)
    h0 : array of shape (N, H) or None
    w_ih : array of shape (3H, F)
    w_hh : array of shape (3H, H)
    b_ih, b_hh : arrays of shape (3H,) or None
    lengths, reverse : as in ``lstm_forward``

    Returns
    -------
    y : array of shape (T, N, H)
    h_n : array of shape (N, H)
    workspace : tuple of arrays
        What ``gru_backward`` needs.
    """
    kernel = "gru_forward"
    args = as_arrays(x, h0, None, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "gru", *args, lengths)
    x, h0, _, w_ih, w_hh, b_ih, b_hh = as_arrays(*args, dtype=d["dtype"])
    xp = get_array_module(x)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    gi = _project(xp, x, w_ih, b_ih)
    mask = _mask(xp, d["lengths"], T)
    gates = xp.empty((T, N, 3 * H), dtype=dtype)
    ghn = xp.empty((T, N, H), dtype=dtype)
    hs = xp.empty((T + 1, N, H), dtype=dtype)
    y = xp.empty((T, N, H), dtype=dtype)
    hs[_start(T, reverse)] = _state(xp, h0, N, H, dtype)
    for t in _steps(T, reverse):
        p, o = _prev_next(t, reverse)
        gh = hs[p] @ w_hh.T
        if b_hh is not None:
            gh += b_hh
        r = _sigmoid(xp, gi[t, :, :H] + gh[:, :H])
        z = _sigmoid(xp, gi[t, :, H:2 * H] + gh[:, H:2 * H])
        n = xp.tanh(gi[t, :, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * n + z * hs[p]
        gates[t] = xp.concatenate([r, z, n], axis=1)
        ghn[t] = gh[:, 2 * H:]
        if mask is not None:
            y[t] = xp.where(mask[t], h, 0)
            h = xp.where(mask[t], h, hs[p])
        else:
            y[t] = h
        hs[o] = h
    return y, hs[0 if reverse else T].copy(), (gates, ghn, hs)


def gru_backward(grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh, workspace, lengths=None,
                 reverse=False, need_input=True, need_weights=True, need_state=True):
    """Backward-through-time of ``gru_forward``.

    Parameters
    ----------
    grad_y : array of shape (T, N, H) or None
    grad_hn : array of shape (N, H) or None
    x, h0, w_ih, w_hh, b_hh : the forward's arguments
        ``h0`` and ``b_hh`` are only checked (the workspace holds what
        depends on them).
    workspace : tuple
        Returned by ``gru_forward`` for the same arguments.
    lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    grad_x : array of shape (T, N, F) or None
    grad_h0 : array of shape (N, H) or None
    grad_w_ih : array of shape (3H, F) or None
    grad_w_hh : array of shape (3H, H) or None
    grad_b_ih, grad_b_hh : arrays of shape (3H,) or None
        They differ in the n part: b_hn sits inside ``r * (...)``.
    """
    kernel = "gru_backward"
    grad_y, grad_hn, x, h0, w_ih, w_hh, b_hh = as_arrays(grad_y, grad_hn, x, h0, w_ih, w_hh,
                                                         b_hh)
    d = rnn_arguments(kernel, "gru", x, h0, None, w_ih, w_hh, None, b_hh, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("gru", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn)
    grad_y, grad_hn, x, w_ih, w_hh = as_arrays(grad_y, grad_hn, x, w_ih, w_hh, dtype=dtype)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None, None
    xp = get_array_module(x)
    gates, ghn, hs = workspace
    mask = _mask(xp, d["lengths"], T)
    dh = _state(xp, grad_hn, N, H, dtype)
    Gi = xp.empty((T, N, 3 * H), dtype=dtype)   # w.r.t. the input projection
    Gh = xp.empty((T, N, 3 * H), dtype=dtype)   # w.r.t. W_hh h + b_hh
    for t in reversed(_steps(T, reverse)):
        p, o = _prev_next(t, reverse)
        r, z, n = (gates[t][:, k * H:(k + 1) * H] for k in range(3))
        dh_t = dh if grad_y is None else dh + grad_y[t]
        dn = dh_t * (1 - z) * (1 - n * n)
        dz = dh_t * (hs[p] - n) * z * (1 - z)
        dr = dn * ghn[t] * r * (1 - r)
        gi = xp.concatenate([dr, dz, dn], axis=1)
        gh = xp.concatenate([dr, dz, dn * r], axis=1)
        dh_new = dh_t * z + gh @ w_hh
        if mask is not None:
            gi = xp.where(mask[t], gi, 0)
            gh = xp.where(mask[t], gh, 0)
            dh = xp.where(mask[t], dh_new, dh)
        else:
            dh = dh_new
        Gi[t] = gi
        Gh[t] = gh
    gx, gwi, _, Gi2 = _weight_grads(xp, Gi, x, hs, w_ih, T, reverse, need_input,
                                    need_weights)
    gwh = gbi = gbh = None
    if need_weights:
        Gh2 = Gh.reshape(T * N, 3 * H)
        gwh = Gh2.T @ _prev_block(hs, T, reverse)
        gbi = Gi2.sum(axis=0)
        gbh = Gh2.sum(axis=0)
    return gx, (dh if need_state else None), gwi, gwh, gbi, gbh


# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------

def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", lengths=None,
                reverse=False):
    """Forward of a one-layer, one-direction Elman RNN over a whole sequence.

    ``h' = act(W_ih x + b_ih + W_hh h + b_hh)`` with ``act`` tanh or relu.

    Parameters
    ----------
    x : array of shape (T, N, F)
    h0 : array of shape (N, H) or None
    w_ih : array of shape (H, F)
    w_hh : array of shape (H, H)
    b_ih, b_hh : arrays of shape (H,) or None
    nonlinearity : {"tanh", "relu"}
    lengths, reverse : as in ``lstm_forward``

    Returns
    -------
    y : array of shape (T, N, H)
    h_n : array of shape (N, H)
    workspace : tuple of arrays
        What ``rnn_backward`` needs.
    """
    kernel = "rnn_forward"
    check_nonlinearity(kernel, nonlinearity)
    args = as_arrays(x, h0, None, w_ih, w_hh, b_ih, b_hh)
    d = rnn_arguments(kernel, "rnn", *args, lengths)
    x, h0, _, w_ih, w_hh, b_ih, b_hh = as_arrays(*args, dtype=d["dtype"])
    xp = get_array_module(x)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    pre = _project(xp, x, w_ih, _sum_biases(b_ih, b_hh))
    mask = _mask(xp, d["lengths"], T)
    hs = xp.empty((T + 1, N, H), dtype=dtype)
    y = xp.empty((T, N, H), dtype=dtype)
    hs[_start(T, reverse)] = _state(xp, h0, N, H, dtype)
    for t in _steps(T, reverse):
        p, o = _prev_next(t, reverse)
        a = pre[t] + hs[p] @ w_hh.T
        h = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
        if mask is not None:
            y[t] = xp.where(mask[t], h, 0)
            h = xp.where(mask[t], h, hs[p])
        else:
            y[t] = h
        hs[o] = h
    return y, hs[0 if reverse else T].copy(), (hs,)


def rnn_backward(grad_y, grad_hn, x, h0, w_ih, w_hh, workspace, nonlinearity="tanh",
                 lengths=None, reverse=False, need_input=True, need_weights=True,
                 need_state=True):
    """Backward-through-time of ``rnn_forward``.

    Parameters
    ----------
    grad_y : array of shape (T, N, H) or None
    grad_hn : array of shape (N, H) or None
    x, h0, w_ih, w_hh : the forward's arguments (``h0`` is only checked)
    workspace : tuple
        Returned by ``rnn_forward`` for the same arguments.
    nonlinearity, lengths, reverse : as in the forward
    need_input, need_weights, need_state : bool
        Which gradients to compute; the others are returned as None.

    Returns
    -------
    grad_x : array of shape (T, N, F) or None
    grad_h0 : array of shape (N, H) or None
    grad_w_ih : array of shape (H, F) or None
    grad_w_hh : array of shape (H, H) or None
    grad_b : array of shape (H,) or None
        The gradient of ``b_ih`` and equally of ``b_hh``.
    """
    kernel = "rnn_backward"
    check_nonlinearity(kernel, nonlinearity)
    grad_y, grad_hn, x, h0, w_ih, w_hh = as_arrays(grad_y, grad_hn, x, h0, w_ih, w_hh)
    d = rnn_arguments(kernel, "rnn", x, h0, None, w_ih, w_hh, None, None, lengths)
    T, N, H, dtype = d["T"], d["N"], d["H"], d["dtype"]
    rnn_grad_arguments(kernel, d, workspace, workspace_shapes("rnn", T, N, H),
                       grad_y=grad_y, grad_hn=grad_hn)
    grad_y, grad_hn, x, w_ih, w_hh = as_arrays(grad_y, grad_hn, x, w_ih, w_hh, dtype=dtype)
    if not (need_input or need_weights or need_state):
        return None, None, None, None, None
    xp = get_array_module(x)
    (hs,) = workspace
    mask = _mask(xp, d["lengths"], T)
    dh = _state(xp, grad_hn, N, H, dtype)
    G = xp.empty((T, N, H), dtype=dtype)
    for t in reversed(_steps(T, reverse)):
        p, o = _prev_next(t, reverse)
        h = hs[o]
        dh_t = dh if grad_y is None else dh + grad_y[t]
        if nonlinearity == "tanh":
            gt = dh_t * (1 - h * h)
        else:
            gt = xp.where(h > 0, dh_t, 0)
        if mask is not None:
            gt = xp.where(mask[t], gt, 0)
            dh = xp.where(mask[t], gt @ w_hh, dh)
        else:
            dh = gt @ w_hh
        G[t] = gt
    gx, gwi, gwh, G2 = _weight_grads(xp, G, x, hs, w_ih, T, reverse, need_input,
                                     need_weights)
    gb = G2.sum(axis=0) if need_weights else None
    return gx, (dh if need_state else None), gwi, gwh, gb
