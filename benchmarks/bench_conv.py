"""asv benchmarks of the convolution path: a conv2d forward+backward, pooling and
BatchNorm2d forward+backward, and a LeNet training epoch.

The same things ``compare.py``'s tables f, g and h (``--only conv``) put side
by side with numpy and PyTorch, here tracked over commits by asv. Every
benchmark runs single-threaded (all BLAS and OpenMP pools limited to one
thread in ``setup``), as in ``bench_engine.py``.

``Conv2dForwardBackward`` and ``PoolForwardBackward`` time the engine (one
graph node, ``backward`` from a fixed output gradient) and the kernels it
calls directly: the difference is the engine's Python overhead.
"""

import numpy as np
import threadpoolctl

BATCH = 64
# name -> (C_in, C_out, H = W, kernel, padding, groups); compare_tables/conv.py's CONV_CASES
CONV_CASES = {
    "1x28x28->32": (1, 32, 28, 3, 1, 1),
    "32x14x14->64": (32, 64, 14, 3, 1, 1),
    "depthwise64x14x14": (64, 64, 14, 3, 1, 64),
}
POOL_SHAPE = (64, 32, 28, 28)


def _limit_threads():
    """Run on one thread; the limiter must stay referenced while it applies."""
    from sklears_neural._dispatch import kernels_for

    kernels_for(np.zeros(1))  # load the kernels (and their OpenMP runtime) first
    return threadpoolctl.threadpool_limits(limits=1)


class Conv2dForwardBackward:
    """conv2d forward + backward (input, weight and bias gradients), batch 64,
    stride 1, 3x3 kernels with padding 1."""

    params = (list(CONV_CASES), ["float32", "float64"])
    param_names = ["case", "dtype"]

    def setup(self, case, dtype):
        from sklears_neural.autograd import Tensor
        from sklears_neural._dispatch import kernels_for

        self._limiter = _limit_threads()
        c_in, c_out, hw, k, pad, groups = CONV_CASES[case]
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((BATCH, c_in, hw, hw)).astype(dtype)
        self.w = rng.uniform(-0.3, 0.3, (c_out, c_in // groups, k, k)).astype(dtype)
        self.b = rng.uniform(-0.3, 0.3, c_out).astype(dtype)
        out = hw + 2 * pad - k + 1
        self.gy = rng.standard_normal((BATCH, c_out, out, out)).astype(dtype)
        self.pad, self.groups = pad, groups
        self.args = ((1, 1), (pad, pad), (1, 1), groups)
        self.tensors = [Tensor(a, requires_grad=True) for a in (self.x, self.w, self.b)]
        self.k = kernels_for(self.x)

    def _engine_step(self):
        from sklears_neural.nn import functional as F

        x, w, b = self.tensors
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=self.pad, groups=self.groups).backward(self.gy)

    def time_engine(self, case, dtype):
        """F.conv2d on Tensors + backward(grad)."""
        self._engine_step()

    def time_kernels(self, case, dtype):
        """conv_forward + conv_backward, no autograd."""
        self.k.conv_forward(self.x, self.w, self.b, *self.args)
        self.k.conv_backward(self.gy, self.x, self.w, *self.args, True, True, True)

    def peakmem_engine(self, case, dtype):
        """Peak memory of the process around one engine step."""
        self._engine_step()


class PoolForwardBackward:
    """Max pool 2x2 stride 2, average pool 2x2 stride 2 and training-mode
    BatchNorm2d, forward + backward on 64 x 32 x 28 x 28."""

    params = (["max_pool", "avg_pool", "batch_norm"], ["float32", "float64"])
    param_names = ["op", "dtype"]

    def setup(self, op, dtype):
        from sklears_neural import nn
        from sklears_neural.autograd import Tensor
        from sklears_neural._dispatch import kernels_for

        self._limiter = _limit_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(POOL_SHAPE).astype(dtype)
        n, c, h, w = POOL_SHAPE
        out_shape = POOL_SHAPE if op == "batch_norm" else (n, c, h // 2, w // 2)
        self.gy = rng.standard_normal(out_shape).astype(dtype)
        self.x_t = Tensor(self.x, requires_grad=True)
        self.bn = nn.BatchNorm2d(c, dtype=dtype)
        self.gamma = np.array(self.bn.weight.data)
        self.beta = np.array(self.bn.bias.data)
        self.k = kernels_for(self.x)

    def _engine_step(self, op):
        from sklears_neural.nn import functional as F

        self.x_t.grad = None
        if op == "batch_norm":
            self.bn.zero_grad()
            y = self.bn(self.x_t)
        else:
            y = (F.max_pool2d if op == "max_pool" else F.avg_pool2d)(self.x_t, 2)
        y.backward(self.gy)

    def time_engine(self, op, dtype):
        """F.max_pool2d / F.avg_pool2d / nn.BatchNorm2d + backward(grad)."""
        self._engine_step(op)

    def time_kernels(self, op, dtype):
        """The forward and backward kernels, no autograd."""
        k, x, gy = self.k, self.x, self.gy
        if op == "max_pool":
            _, ind = k.max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
            k.max_pool_backward(gy, ind, x.shape)
        elif op == "avg_pool":
            k.avg_pool_forward(x, (2, 2), (2, 2), (0, 0), False, True, None)
            k.avg_pool_backward(gy, x.shape, (2, 2), (2, 2), (0, 0), False, True, None)
        else:
            _, mean, invstd = k.batch_norm_forward(x, self.gamma, self.beta, 1e-5)
            k.batch_norm_backward(gy, x, self.gamma, mean, invstd)


class LeNetEpoch:
    """One training epoch of a LeNet-5-style network (compare.py's table h):
    1024 random 1x28x28 samples, 10 classes, batch 64, Adam, float32."""

    n_samples = 1024
    batch = 64
    timeout = 120

    def setup(self):
        from sklears_neural import nn, optim

        self._limiter = _limit_threads()
        rng = np.random.default_rng(0)
        self.X = rng.standard_normal((self.n_samples, 1, 28, 28), dtype=np.float32)
        self.y = rng.integers(0, 10, size=self.n_samples).astype(np.int64)
        self.model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2, generator=0), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, generator=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120, activation="relu", generator=2),
            nn.Linear(120, 84, activation="relu", generator=3),
            nn.Linear(84, 10, generator=4),
        )
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = optim.Adam(self.model.parameters(), lr=1e-3)
        self.rng = np.random.default_rng(1)
        self._epoch()  # warm-up: optimizer state, first-call paths

    def _epoch(self):
        from sklears_neural.autograd import Tensor

        order = self.rng.permutation(self.n_samples)
        for begin in range(0, self.n_samples, self.batch):
            idx = order[begin:begin + self.batch]
            self.model.zero_grad()
            loss = self.loss_fn(self.model(Tensor(self.X[idx])), self.y[idx])
            loss.backward()
            self.opt.step()
            loss.item()

    def time_epoch(self):
        """Shuffle, then per batch: zero_grad, forward, loss, backward, Adam step."""
        self._epoch()

    def peakmem_epoch(self):
        """Peak memory of the process around one epoch."""
        self._epoch()
