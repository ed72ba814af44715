"""Recurrent ops over a whole sequence: ``lstm``, ``gru`` and ``rnn``, one graph node each.

One direction of one layer per call, time-major: input (T, N, F), states
(N, H), weights in PyTorch's layout (``weight_ih`` (G·H, F), ``weight_hh``
(G·H, H); gate order i, f, g, o for the LSTM and r, z, n for the GRU). The
time loop runs inside the kernels (``_kernels._rnn`` / ``_xp._rnn``): the
input projection of all steps is one GEMM, each step one recurrent GEMM and
one fused pass over the gates.
"""

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Function, Tensor
from sklears_neural.backend import get_array_module

__all__ = ["gru", "lstm", "rnn"]


def _zeros_state(x, hidden):
    xp = get_array_module(x.data)
    return Tensor(xp.zeros((x.shape[1], hidden), dtype=x.dtype))


def _check(name, x, w_ih):
    if x.ndim != 3:
        raise ValueError(f"{name}: input must be (T, N, F) (time-major); got shape "
                         f"{tuple(x.shape)}.")
    if x.shape[2] != w_ih.shape[1]:
        raise ValueError(f"{name}: input has {x.shape[2]} features but weight_ih of shape "
                         f"{tuple(w_ih.shape)} expects {w_ih.shape[1]}.")


class _LSTM(Function):
    def __init__(self, lengths, reverse):
        self.lengths, self.reverse = lengths, reverse

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        y, h_n, c_n, workspace = kernels_for(x).lstm_forward(
            x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=self.lengths, reverse=self.reverse)
        if any(self.needs_input_grad):
            self.save_for_backward(x, h0, c0, w_ih, w_hh, workspace)
        return y, h_n, c_n

    def backward(self, gy, gh, gc):
        x, h0, c0, w_ih, w_hh, workspace = self.saved
        nx, nh, nc, nwi, nwh, nbi, nbh = self.needs_input_grad
        gx, gh0, gc0, gwi, gwh, gb = kernels_for(x).lstm_backward(
            gy, gh, gc, x, h0, c0, w_ih, w_hh, workspace, lengths=self.lengths,
            reverse=self.reverse, need_input=nx, need_weights=nwi or nwh or nbi or nbh,
            need_state=nh or nc)
        return (gx, gh0 if nh else None, gc0 if nc else None, gwi if nwi else None,
                gwh if nwh else None, gb if nbi else None, gb if nbh else None)


class _GRU(Function):
    def __init__(self, lengths, reverse):
        self.lengths, self.reverse = lengths, reverse

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh):
        y, h_n, workspace = kernels_for(x).gru_forward(
            x, h0, w_ih, w_hh, b_ih, b_hh, lengths=self.lengths, reverse=self.reverse)
        if any(self.needs_input_grad):
            self.save_for_backward(x, h0, w_ih, w_hh, b_hh, workspace)
        return y, h_n

    def backward(self, gy, gh):
        x, h0, w_ih, w_hh, b_hh, workspace = self.saved
        nx, nh, nwi, nwh, nbi, nbh = self.needs_input_grad
        gx, gh0, gwi, gwh, gbi, gbh = kernels_for(x).gru_backward(
            gy, gh, x, h0, w_ih, w_hh, b_hh, workspace, lengths=self.lengths,
            reverse=self.reverse, need_input=nx, need_weights=nwi or nwh or nbi or nbh,
            need_state=nh)
        return (gx, gh0 if nh else None, gwi if nwi else None, gwh if nwh else None,
                gbi if nbi else None, gbh if nbh else None)


class _RNN(Function):
    def __init__(self, nonlinearity, lengths, reverse):
        self.nonlinearity, self.lengths, self.reverse = nonlinearity, lengths, reverse

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh):
        y, h_n, workspace = kernels_for(x).rnn_forward(
            x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=self.nonlinearity,
            lengths=self.lengths, reverse=self.reverse)
        if any(self.needs_input_grad):
            self.save_for_backward(x, h0, w_ih, w_hh, workspace)
        return y, h_n

    def backward(self, gy, gh):
        x, h0, w_ih, w_hh, workspace = self.saved
        nx, nh, nwi, nwh, nbi, nbh = self.needs_input_grad
        gx, gh0, gwi, gwh, gb = kernels_for(x).rnn_backward(
            gy, gh, x, h0, w_ih, w_hh, workspace, nonlinearity=self.nonlinearity,
            lengths=self.lengths, reverse=self.reverse, need_input=nx,
            need_weights=nwi or nwh or nbi or nbh, need_state=nh)
        return (gx, gh0 if nh else None, gwi if nwi else None, gwh if nwh else None,
                gb if nbi else None, gb if nbh else None)


def lstm(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, c0=None,
         lengths=None, reverse=False):
    """One LSTM layer, one direction, over a whole sequence (PyTorch's equations).

    Parameters
    ----------
    input : Tensor of shape (T, N, F)
        The sequences, time-major.
    weight_ih : Tensor of shape (4H, F)
        The input-to-hidden weights, gate rows (i, f, g, o) in PyTorch's order.
    weight_hh : Tensor of shape (4H, H)
        The hidden-to-hidden weights, gate rows in the same order.
    bias_ih, bias_hh : Tensor of shape (4H,), default=None
        The biases; None for none.
    h0, c0 : Tensor of shape (N, H), default=None
        Initial hidden and cell states (zeros by default).
    lengths : int array of shape (N,), default=None
        Valid steps per sample; later steps are padding: they leave the
        state unchanged, output zeros and get no gradient. None means all T.
    reverse : bool, default=False
        Run each sample from its last valid step back to the first (the
        backward direction of a bidirectional layer).

    Returns
    -------
    output : Tensor of shape (T, N, H)
        The hidden state at every step.
    h_n, c_n : Tensor of shape (N, H)
        The final hidden and cell states (at each sample's last valid step).

    Raises
    ------
    ValueError
        If ``input`` is not 3-D or its features do not match ``weight_ih``.
    """
    _check("lstm", input, weight_ih)
    hidden = weight_hh.shape[1]
    h0 = _zeros_state(input, hidden) if h0 is None else h0
    c0 = _zeros_state(input, hidden) if c0 is None else c0
    return _LSTM(lengths, reverse).apply(input, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)


def gru(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, lengths=None,
        reverse=False):
    """One GRU layer, one direction, over a whole sequence (PyTorch's equations).

    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Parameters
    ----------
    input : Tensor of shape (T, N, F)
        The sequences, time-major.
    weight_ih : Tensor of shape (3H, F)
        The input-to-hidden weights, gate rows (r, z, n) in PyTorch's order.
    weight_hh : Tensor of shape (3H, H)
        The hidden-to-hidden weights, gate rows in the same order.
    bias_ih, bias_hh : Tensor of shape (3H,), default=None
        The biases; None for none.
    h0 : Tensor of shape (N, H), default=None
        The initial hidden state (zeros by default).
    lengths : int array of shape (N,), default=None
        Valid steps per sample; later steps are padding: they leave the
        state unchanged, output zeros and get no gradient. None means all T.
    reverse : bool, default=False
        Run each sample from its last valid step back to the first (the
        backward direction of a bidirectional layer).

    Returns
    -------
    output : Tensor of shape (T, N, H)
        The hidden state at every step.
    h_n : Tensor of shape (N, H)
        The final hidden state (at each sample's last valid step).

    Raises
    ------
    ValueError
        If ``input`` is not 3-D or its features do not match ``weight_ih``.
    """
    _check("gru", input, weight_ih)
    h0 = _zeros_state(input, weight_hh.shape[1]) if h0 is None else h0
    return _GRU(lengths, reverse).apply(input, h0, weight_ih, weight_hh, bias_ih, bias_hh)


def rnn(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None,
        nonlinearity="tanh", lengths=None, reverse=False):
    """One Elman RNN layer, one direction: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``.

    Parameters
    ----------
    input : Tensor of shape (T, N, F)
        The sequences, time-major.
    weight_ih : Tensor of shape (1H, F)
        The input-to-hidden weights, one row per hidden unit.
    weight_hh : Tensor of shape (1H, H)
        The hidden-to-hidden weights, gate rows in the same order.
    bias_ih, bias_hh : Tensor of shape (1H,), default=None
        The biases; None for none.
    h0 : Tensor of shape (N, H), default=None
        The initial hidden state (zeros by default).
    nonlinearity : {"tanh", "relu"}, default="tanh"
        The activation ``act``.
    lengths : int array of shape (N,), default=None
        Valid steps per sample; later steps are padding: they leave the
        state unchanged, output zeros and get no gradient. None means all T.
    reverse : bool, default=False
        Run each sample from its last valid step back to the first (the
        backward direction of a bidirectional layer).

    Returns
    -------
    output : Tensor of shape (T, N, H)
        The hidden state at every step.
    h_n : Tensor of shape (N, H)
        The final hidden state (at each sample's last valid step).

    Raises
    ------
    ValueError
        If ``input`` is not 3-D or its features do not match ``weight_ih``,
        or ``nonlinearity`` is unknown.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}.")
    _check("rnn", input, weight_ih)
    h0 = _zeros_state(input, weight_hh.shape[1]) if h0 is None else h0
    return _RNN(nonlinearity, lengths, reverse).apply(input, h0, weight_ih, weight_hh, bias_ih,
                                                      bias_hh)
