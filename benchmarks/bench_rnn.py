"""asv benchmarks of the sequence models: LSTM and GRU forward+backward, and a
TransformerEncoderLayer forward+backward.

The same things ``compare.py``'s tables i and j (``--only sequence``) put side
by side with PyTorch, here tracked over commits by asv. Every benchmark runs
single-threaded (all BLAS and OpenMP pools limited to one thread in
``setup``), as in ``bench_engine.py`` and ``bench_conv.py``.

``RecurrentForwardBackward`` times the engine (``nn.LSTM`` / ``nn.GRU`` on a
Tensor, ``backward`` from a fixed output gradient) and the per-layer kernels
it calls directly: the difference is the engine's Python overhead.
"""

import numpy as np
import threadpoolctl

# compare.py's table i: batch 64, T = 50, 32 -> 128, time-major
RNN_BATCH, RNN_STEPS, RNN_INPUT, RNN_HIDDEN = 64, 50, 32, 128
# compare.py's table j
ENCODER_BATCH, ENCODER_STEPS, ENCODER_D, ENCODER_HEADS, ENCODER_FF = 32, 64, 128, 4, 512


def _limit_threads():
    """Run on one thread; the limiter must stay referenced while it applies."""
    from sklears_neural._dispatch import kernels_for

    kernels_for(np.zeros(1))  # load the kernels (and their OpenMP runtime) first
    return threadpoolctl.threadpool_limits(limits=1)


class RecurrentForwardBackward:
    """LSTM / GRU forward over 50 steps + backward (input, weight and bias
    gradients), batch 64, 32 -> 128, zero initial states."""

    params = (["lstm", "gru"], [1, 2], ["float32", "float64"])
    param_names = ["cell", "num_layers", "dtype"]

    def setup(self, cell, num_layers, dtype):
        from sklears_neural import nn
        from sklears_neural.autograd import Tensor
        from sklears_neural._dispatch import kernels_for

        self._limiter = _limit_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((RNN_STEPS, RNN_BATCH, RNN_INPUT)).astype(dtype)
        self.gy = rng.standard_normal((RNN_STEPS, RNN_BATCH, RNN_HIDDEN)).astype(dtype)
        cls = nn.LSTM if cell == "lstm" else nn.GRU
        self.module = cls(RNN_INPUT, RNN_HIDDEN, num_layers=num_layers, dtype=dtype,
                          generator=0)
        self.x_t = Tensor(self.x, requires_grad=True)
        self.layers = [tuple(np.array(getattr(self.module, f"{name}_l{layer}").data)
                             for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                       for layer in range(num_layers)]
        self.k = kernels_for(self.x)

    def _engine_step(self):
        self.x_t.grad = None
        self.module.zero_grad()
        y, _ = self.module(self.x_t)
        y.backward(self.gy)

    def time_engine(self, cell, num_layers, dtype):
        """nn.LSTM / nn.GRU on a Tensor + backward(grad)."""
        self._engine_step()

    def time_kernels(self, cell, num_layers, dtype):
        """lstm_/gru_forward per layer, then lstm_/gru_backward per layer, no autograd."""
        k, inputs, workspaces = self.k, [], []
        h = self.x
        for w_ih, w_hh, b_ih, b_hh in self.layers:
            inputs.append(h)
            if cell == "lstm":
                h, _, _, ws = k.lstm_forward(h, None, None, w_ih, w_hh, b_ih, b_hh)
            else:
                h, _, ws = k.gru_forward(h, None, w_ih, w_hh, b_ih, b_hh)
            workspaces.append(ws)
        g = self.gy
        for i in reversed(range(len(self.layers))):
            w_ih, w_hh, _, b_hh = self.layers[i]
            if cell == "lstm":
                g = k.lstm_backward(g, None, None, inputs[i], None, None, w_ih, w_hh,
                                    workspaces[i], need_state=False)[0]
            else:
                g = k.gru_backward(g, None, inputs[i], None, w_ih, w_hh, b_hh, workspaces[i],
                                   need_state=False)[0]

    def peakmem_engine(self, cell, num_layers, dtype):
        """Peak memory of the process around one engine step."""
        self._engine_step()


class EncoderLayerForwardBackward:
    """TransformerEncoderLayer (d_model 128, 4 heads, dim_feedforward 512, relu,
    post-norm, dropout 0, batch_first) and its self-attention block alone,
    forward + backward on batch 32 x T 64."""

    params = (["layer", "self_attn"], ["float32", "float64"])
    param_names = ["block", "dtype"]

    def setup(self, block, dtype):
        from sklears_neural import nn
        from sklears_neural.autograd import Tensor

        self._limiter = _limit_threads()
        rng = np.random.default_rng(0)
        shape = (ENCODER_BATCH, ENCODER_STEPS, ENCODER_D)
        self.x = rng.standard_normal(shape).astype(dtype)
        self.gy = rng.standard_normal(shape).astype(dtype)
        self.layer = nn.TransformerEncoderLayer(ENCODER_D, ENCODER_HEADS,
                                                dim_feedforward=ENCODER_FF, dropout=0.0,
                                                batch_first=True, dtype=dtype, generator=0)
        self.x_t = Tensor(self.x, requires_grad=True)

    def _engine_step(self, block):
        self.x_t.grad = None
        self.layer.zero_grad()
        if block == "layer":
            y = self.layer(self.x_t)
        else:
            y, _ = self.layer.self_attn(self.x_t, self.x_t, self.x_t, need_weights=False)
        y.backward(self.gy)

    def time_engine(self, block, dtype):
        """The block on a Tensor + backward(grad)."""
        self._engine_step(block)

    def peakmem_engine(self, block, dtype):
        """Peak memory of the process around one engine step."""
        self._engine_step(block)
