"""asv benchmarks of the engine: a dense forward+backward step, an Adam step and
one step of every optimizer.

The same things ``compare.py`` puts side by side with numpy and PyTorch,
here tracked over commits by asv (``asv continuous``, ``asv run``). Every
benchmark runs single-threaded (all BLAS and OpenMP pools limited to one
thread in ``setup``) so that results are comparable from machine to machine
and free of thread-pool interference; ``compare.py --threads 1,2`` shows
what a second core adds.

``DenseForwardBackward`` and ``AdamStep`` time the engine (autograd graph,
modules, optimizer objects) and the kernels it calls directly: the
difference is the Python overhead of the engine. ``OptimizerStep`` times
``step()`` of every optimizer class.
"""

import numpy as np
import threadpoolctl

SIZES = (784, 256, 128, 10)


def _limit_threads():
    """Run on one thread; the limiter must stay referenced while it applies."""
    from sklears_neural._dispatch import kernels_for

    kernels_for(np.zeros(1))  # load the kernels (and their OpenMP runtime) first
    return threadpoolctl.threadpool_limits(limits=1)


class DenseForwardBackward:
    """One training step's forward + backward of a 784-256-128-10 relu MLP
    with a softmax cross-entropy loss (no optimizer update)."""

    params = (["float32", "float64"], [32, 128, 512])
    param_names = ["dtype", "batch"]

    def setup(self, dtype, batch):
        from sklears_neural import nn
        from sklears_neural.autograd import Tensor
        from sklears_neural._dispatch import kernels_for

        self._limiter = _limit_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((batch, SIZES[0])).astype(dtype)
        self.y = rng.integers(0, SIZES[-1], size=batch).astype(np.int64)
        layers = [
            nn.Linear(i, o, activation="relu" if j < len(SIZES) - 2 else None,
                      dtype=dtype, generator=j)
            for j, (i, o) in enumerate(zip(SIZES[:-1], SIZES[1:]))
        ]
        self.model = nn.Sequential(*layers)
        self.loss_fn = nn.CrossEntropyLoss()
        self.x_t = Tensor(self.x)
        self.Ws = [layer.weight.data for layer in layers]
        self.bs = [layer.bias.data for layer in layers]
        self.k = kernels_for(self.x)

    def _engine_step(self):
        self.model.zero_grad()
        loss = self.loss_fn(self.model(self.x_t), self.y)
        loss.backward()

    def time_engine(self, dtype, batch):
        """nn.Sequential + nn.CrossEntropyLoss + backward()."""
        self._engine_step()

    def time_kernels(self, dtype, batch):
        """dense_forward x3, softmax_cross_entropy, dense_backward x3, no autograd."""
        k, x, y, Ws, bs = self.k, self.x, self.y, self.Ws, self.bs
        h1, p1 = k.dense_forward(x, Ws[0], bs[0], "relu", None)
        h2, p2 = k.dense_forward(h1, Ws[1], bs[1], "relu", None)
        z, p3 = k.dense_forward(h2, Ws[2], bs[2], "identity", None)
        _, g3 = k.softmax_cross_entropy(z, y, None, 0.0, 1.0 / x.shape[0])
        g2, _, _ = k.dense_backward(g3, h2, Ws[2], z, p3, "identity", None, True, True, True)
        g1, _, _ = k.dense_backward(g2, h1, Ws[1], h2, p2, "relu", None, True, True, True)
        k.dense_backward(g1, x, Ws[0], h1, p1, "relu", None, False, True, True)

    def time_engine_inference(self, dtype, batch):
        """Forward only, under no_grad (what predict does)."""
        from sklears_neural.autograd import no_grad

        with no_grad():
            self.model(self.x_t)

    def peakmem_engine(self, dtype, batch):
        """Peak memory of the process around one engine step."""
        self._engine_step()


class AdamStep:
    """One Adam update of 1,000,000 parameters split into 1, 10 or 100 tensors."""

    params = (["float32", "float64"], [1, 10, 100])
    param_names = ["dtype", "n_tensors"]
    total = 1_000_000

    def setup(self, dtype, n_tensors):
        from sklears_neural import nn, optim
        from sklears_neural._dispatch import kernels_for

        self._limiter = _limit_threads()
        rng = np.random.default_rng(n_tensors)
        size = self.total // n_tensors
        values = [rng.standard_normal(size).astype(dtype) for _ in range(n_tensors)]
        grads = [rng.standard_normal(size).astype(dtype) for _ in range(n_tensors)]
        self.params = [nn.Parameter(v.copy()) for v in values]
        for p, g in zip(self.params, grads):
            p.grad = g
        self.opt = optim.Adam(self.params, lr=1e-3)
        self.opt.step()  # allocate the state outside the timed calls
        self.raw = [(v.copy(), g, np.zeros_like(v), np.zeros_like(v))
                    for v, g in zip(values, grads)]
        self.k = kernels_for(values[0])
        self.step = 0

    def time_optim(self, dtype, n_tensors):
        """optim.Adam.step()."""
        self.opt.step()

    def time_kernel(self, dtype, n_tensors):
        """The fused adam_step kernel, one call per tensor."""
        self.step += 1
        for p, g, m, v in self.raw:
            self.k.adam_step(p, g, m, v, None, self.step, 1e-3, 0.9, 0.999, 1e-8,
                             0.0, False, False, False)

    def peakmem_optim(self, dtype, n_tensors):
        """Peak memory of the process around one optim.Adam.step()."""
        self.opt.step()


# Keyword arguments beyond the defaults, per optimizer (the same as
# compare.py's "optim" table): SGD with Nesterov momentum; LARS has no
# default learning rate.
OPTIMIZER_KWARGS = {
    "SGD": {"momentum": 0.9, "nesterov": True},
    "Adam": {},
    "AdamW": {},
    "RMSprop": {},
    "Adagrad": {},
    "NAdam": {},
    "Adamax": {},
    "RAdam": {},
    "Adadelta": {},
    "LAMB": {},
    "LARS": {"lr": 0.1},
}


class OptimizerStep:
    """One step of each optimizer of ``sklears_neural.optim`` on 1,000,000
    parameters in one tensor, default hyperparameters."""

    params = (list(OPTIMIZER_KWARGS), ["float32", "float64"])
    param_names = ["optimizer", "dtype"]
    total = 1_000_000

    def setup(self, optimizer, dtype):
        from sklears_neural import nn, optim

        self._limiter = _limit_threads()
        rng = np.random.default_rng(0)
        self.param = nn.Parameter(rng.standard_normal(self.total).astype(dtype))
        self.param.grad = rng.standard_normal(self.total).astype(dtype)
        self.opt = getattr(optim, optimizer)([self.param], **OPTIMIZER_KWARGS[optimizer])
        self.opt.step()  # allocate the state outside the timed calls

    def time_step(self, optimizer, dtype):
        """optim.<optimizer>.step()."""
        self.opt.step()
