"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (stacked, bidirectional), and ``Embedding``."""

import math

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.nn import functional as F
from sklears_neural.nn import init
from sklears_neural.nn._module import Module
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers._factory import empty_parameter_array

__all__ = ["GRU", "LSTM", "RNN", "Embedding"]


class _RNNBase(Module):
    """Parameters and the layer/direction loop shared by RNN, LSTM and GRU."""

    _gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, dtype=None, device="cpu", generator=None):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive integer; got {value!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1); got {dropout!r}.")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.generator = as_generator(generator)
        rows = self._gates * hidden_size
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes():
                tag = f"_l{layer}{suffix}"
                setattr(self, "weight_ih" + tag,
                        Parameter(empty_parameter_array((rows, width), dtype, device)))
                setattr(self, "weight_hh" + tag,
                        Parameter(empty_parameter_array((rows, hidden_size), dtype, device)))
                if self.bias:
                    setattr(self, "bias_ih" + tag,
                            Parameter(empty_parameter_array((rows,), dtype, device)))
                    setattr(self, "bias_hh" + tag,
                            Parameter(empty_parameter_array((rows,), dtype, device)))
        self.reset_parameters(self.generator)

    @property
    def num_directions(self):
        """The number of directions: 2 if ``bidirectional``, else 1."""
        return 2 if self.bidirectional else 1

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self, generator=None):
        """Draw every weight and bias uniformly from ``±1/sqrt(hidden_size)``, PyTorch's default.

        Parameters
        ----------
        generator : numpy.random.Generator, int or None, default=None
            The source of the draws.
        """
        rng = as_generator(generator)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound, generator=rng)

    def _layer_params(self, layer, suffix):
        tag = f"_l{layer}{suffix}"
        get = lambda name: getattr(self, name + tag) if self.bias or "weight" in name else None  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _check_input(self, input, lengths):
        name = type(self).__name__
        if input.ndim != 3 or input.shape[2] != self.input_size:
            layout = "(N, T, F)" if self.batch_first else "(T, N, F)"
            raise ValueError(f"{name}({self.input_size}, {self.hidden_size}): expected input "
                             f"{layout} with F={self.input_size}; got {tuple(input.shape)}.")
        if lengths is None:
            return None
        steps = input.shape[1] if self.batch_first else input.shape[0]
        batch = input.shape[0] if self.batch_first else input.shape[1]
        lengths = np.asarray(lengths)
        if (lengths.shape != (batch,) or lengths.dtype.kind not in "iu"
                or lengths.min() < 1 or lengths.max() > steps):
            raise ValueError(f"{name}: lengths must be {batch} integers in [1, {steps}]; got "
                             f"{lengths!r}.")
        return lengths.astype(np.int64)

    def _states(self, hx, batch, input):
        """Initial states as a list per (layer, direction), or Nones."""
        count = self.num_layers * self.num_directions
        if hx is None:
            return [None] * count
        if tuple(hx.shape) != (count, batch, self.hidden_size):
            raise ValueError(f"{type(self).__name__}: initial state must have shape "
                             f"({count}, {batch}, {self.hidden_size}); got {tuple(hx.shape)}.")
        return [hx[i] for i in range(count)]

    def _run(self, x, states, lengths, step):
        """Run every layer and direction; ``step`` runs one of them."""
        finals = [[] for _ in range(self._n_states)]
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                index = layer * self.num_directions + direction
                result = step(layer_input, self._layer_params(layer, suffix),
                              [s[index] for s in states], lengths, direction == 1)
                outputs.append(result[0])
                for final, value in zip(finals, result[1:]):
                    final.append(value)
            layer_input = outputs[0] if len(outputs) == 1 else F.cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True, self.generator)
        return layer_input, [F.stack(final, dim=0) for final in finals]

    def _forward(self, input, hx, lengths):
        lengths = self._check_input(input, lengths)
        x = input.transpose((1, 0, 2)) if self.batch_first else input
        batch = x.shape[1]
        states = [self._states(h, batch, input) for h in (hx if isinstance(hx, tuple)
                                                           else (hx,) * self._n_states)]
        output, finals = self._run(x, states, lengths, self._step)
        if self.batch_first:
            output = output.transpose((1, 0, 2))
        return output, finals

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The sizes, then the options that differ from their defaults.
        """
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


_DOC = """
    Parameters
    ----------
    input_size : int
        F, the number of features of each step of the input.
    hidden_size : int
        H, the number of features of the hidden state.
    num_layers : int, default=1
        Stacked layers; each reads the previous one's output.
    {extra}bias : bool, default=True
        Whether the layers have the biases ``b_ih`` and ``b_hh``.
    batch_first : bool, default=False
        Input and output are (N, T, F) instead of (T, N, F).
    dropout : float, default=0.0
        Dropout on the outputs of every layer but the last, in training.
    bidirectional : bool, default=False
        A second direction reads each sequence backwards; outputs of the
        two are concatenated (2 * hidden_size features).
    dtype : {{"float32", "float64"}}, default=None
        The dtype of the parameters; None means float32.
    device : str, default="cpu"
        The device of the parameters.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial weights (PyTorch's init: uniform in
        ``±1/sqrt(hidden_size)``) and the dropout masks.

    Raises
    ------
    ValueError
        If a size is not a positive integer or ``dropout`` is not in [0, 1).

    Notes
    -----
    Parameters are named as PyTorch's (``weight_ih_l0``, ``weight_hh_l0``,
    ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``), in its layout, so
    weights copy over one to one.
"""


class RNN(_RNNBase):
    __doc__ = """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, as ``torch.nn.RNN``.

    ``forward(input, hx=None, lengths=None)`` returns ``(output, h_n)``:
    output (T, N, D*H) (batch-first if set), h_n (num_layers*D, N, H).
    ``lengths`` (N,) marks variable-length sequences in a padded batch:
    padded steps neither update the state nor receive gradient.
""" + _DOC.format(extra='nonlinearity : {"tanh", "relu"}, default="tanh"\n'
                  '        The activation ``act``.\n    ')

    _n_states = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, dtype=None,
                 device="cpu", generator=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}.")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, device=device, generator=generator)
        self.nonlinearity = nonlinearity

    def _step(self, x, params, states, lengths, reverse):
        return F.rnn(x, *params, h0=states[0], nonlinearity=self.nonlinearity, lengths=lengths,
                     reverse=reverse)

    def forward(self, input, hx=None, lengths=None):
        """Run the layers over a batch of sequences.

        Parameters
        ----------
        input : Tensor of shape (T, N, input_size)
            The sequences; (N, T, input_size) if ``batch_first``.
        hx : Tensor of shape (num_layers * D, N, hidden_size), default=None
            The initial hidden state of each layer and direction (D = 2 if
            bidirectional else 1); None means zeros.
        lengths : int array-like of shape (N,), default=None
            Valid steps of each sequence of a padded batch, in [1, T]: padded
            steps neither update the state nor receive gradient. None means all T.

        Returns
        -------
        output : Tensor of shape (T, N, D * hidden_size)
            The last layer's hidden state at every step, the directions
            concatenated; (N, T, D * hidden_size) if ``batch_first``.
        h_n : Tensor of shape (num_layers * D, N, hidden_size)
            The final hidden state of each layer and direction.

        Raises
        ------
        ValueError
            If the input, ``hx`` or ``lengths`` does not fit the layer.
        """
        output, (h_n,) = self._forward(input, hx, lengths)
        return output, h_n


class GRU(_RNNBase):
    __doc__ = """Gated recurrent unit layer with PyTorch's gate equations, as ``torch.nn.GRU``.

    ``forward(input, hx=None, lengths=None)`` returns ``(output, h_n)`` as ``RNN``.
""" + _DOC.format(extra="")

    _gates = 3
    _n_states = 1

    def _step(self, x, params, states, lengths, reverse):
        return F.gru(x, *params, h0=states[0], lengths=lengths, reverse=reverse)

    def forward(self, input, hx=None, lengths=None):
        """Run the layers over a batch of sequences.

        Parameters
        ----------
        input : Tensor of shape (T, N, input_size)
            The sequences; (N, T, input_size) if ``batch_first``.
        hx : Tensor of shape (num_layers * D, N, hidden_size), default=None
            The initial hidden state of each layer and direction (D = 2 if
            bidirectional else 1); None means zeros.
        lengths : int array-like of shape (N,), default=None
            Valid steps of each sequence of a padded batch, in [1, T]: padded
            steps neither update the state nor receive gradient. None means all T.

        Returns
        -------
        output : Tensor of shape (T, N, D * hidden_size)
            The last layer's hidden state at every step, the directions
            concatenated; (N, T, D * hidden_size) if ``batch_first``.
        h_n : Tensor of shape (num_layers * D, N, hidden_size)
            The final hidden state of each layer and direction.

        Raises
        ------
        ValueError
            If the input, ``hx`` or ``lengths`` does not fit the layer.
        """
        output, (h_n,) = self._forward(input, hx, lengths)
        return output, h_n


class LSTM(_RNNBase):
    __doc__ = """Long short-term memory layer with PyTorch's gate equations, as ``torch.nn.LSTM``.

    ``forward(input, hx=None, lengths=None)`` with ``hx = (h_0, c_0)`` returns
    ``(output, (h_n, c_n))``; shapes as ``RNN``.
""" + _DOC.format(extra="")

    _gates = 4
    _n_states = 2

    def _step(self, x, params, states, lengths, reverse):
        return F.lstm(x, *params, h0=states[0], c0=states[1], lengths=lengths, reverse=reverse)

    def forward(self, input, hx=None, lengths=None):
        """Run the layers over a batch of sequences.

        Parameters
        ----------
        input : Tensor of shape (T, N, input_size)
            The sequences; (N, T, input_size) if ``batch_first``.
        hx : tuple of (Tensor, Tensor), default=None
            The initial hidden and cell states ``(h_0, c_0)``, each of shape
            (num_layers * D, N, hidden_size) with D = 2 if bidirectional else 1;
            None means zeros.
        lengths : int array-like of shape (N,), default=None
            Valid steps of each sequence of a padded batch, in [1, T]: padded
            steps neither update the state nor receive gradient. None means all T.

        Returns
        -------
        output : Tensor of shape (T, N, D * hidden_size)
            The last layer's hidden state at every step, the directions
            concatenated; (N, T, D * hidden_size) if ``batch_first``.
        (h_n, c_n) : tuple of Tensor of shape (num_layers * D, N, hidden_size)
            The final hidden and cell states of each layer and direction.

        Raises
        ------
        ValueError
            If the input, ``hx`` or ``lengths`` does not fit the layer.
        """
        if hx is not None and not (isinstance(hx, tuple) and len(hx) == 2):
            raise ValueError("LSTM: hx must be a tuple (h_0, c_0).")
        output, (h_n, c_n) = self._forward(input, hx, lengths)
        return output, (h_n, c_n)


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors, as ``torch.nn.Embedding``.

    Parameters
    ----------
    num_embeddings : int
        The number of vectors (rows) in the table.
    embedding_dim : int
        The size of each vector.
    padding_idx : int, default=None
        This row starts at zero and never gets a gradient; a negative index counts
        from the end.
    dtype : {"float32", "float64"}, default=None
        The dtype of the table; None means float32.
    device : str, default="cpu"
        The device of the table.
    generator : numpy.random.Generator, int or None, default=None
        Seeds the initial table (standard normal draws).

    Attributes
    ----------
    weight : Parameter of shape (num_embeddings, embedding_dim)
        The table.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, dtype=None,
                 device="cpu", generator=None):
        super().__init__()
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                             f"{num_embeddings}); got {padding_idx!r}.")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.weight = Parameter(empty_parameter_array((num_embeddings, embedding_dim), dtype,
                                                      device))
        init.normal_(self.weight, generator=as_generator(generator))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        """Look up the rows of the table at the indices.

        Parameters
        ----------
        input : int array or Tensor of any shape
            Indices in ``[0, num_embeddings)``.

        Returns
        -------
        Tensor of shape (*input.shape, embedding_dim)
            The vectors.
        """
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        """Return the settings shown in the layer's repr.

        Returns
        -------
        str
            The sizes, and ``padding_idx`` when set.
        """
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
