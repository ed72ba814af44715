"""Trainers: how an estimator's module is trained on the batches of its data layer.

``MinibatchTrainer`` holds the one epoch loop of the library: every
estimator family trains through it (forward, criterion, backward, penalty,
optimizer step per batch; history, validation and callbacks per epoch).
``LBFGSTrainer`` minimises the full-batch loss with L-BFGS instead, for
scikit-learn's ``solver="lbfgs"``; it shares the step and the bookkeeping.

The loss of every batch stays on the training device and is read once per
epoch, so a GPU is not stalled by a host sync per batch.
"""

import math
import signal
import threading
import time
import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.backend import get_array_module, to_device, to_numpy
from sklears_neural.data import IterableDataset
from sklears_neural.base._l2_fold import plan_l2_fold
from sklears_neural.base._noise import gaussian_like
from sklears_neural.base._regularization import weight_penalty
from sklears_neural._threads import thread_limits
from sklears_neural.nn import eval_mode

__all__ = ["LBFGSTrainer", "MinibatchTrainer", "module_inputs", "sample_rows"]


def module_inputs(batch_input, device):
    """What the module is called with for one batch input of the data layer.

    An array becomes one Tensor; a tuple (``Padded(values, lengths)``, a
    graph batch) is passed unpacked, its float arrays as Tensors and its
    integer arrays (lengths, indices) as they are.
    """
    if isinstance(batch_input, tuple):
        return tuple(_as_input(a, device) for a in batch_input)
    return (_as_input(batch_input, device),)


def sample_rows(features):
    """The per-sample array of checked input: the array itself, or ``Padded``'s values."""
    return features[0] if isinstance(features, tuple) else features


def _as_input(array, device):
    if array is None or getattr(array, "dtype", None) is None or array.dtype.kind != "f":
        return array
    return Tensor(array if device == "cpu" else to_device(array, device))


def _map_floats(batch_input, fn):
    """Apply ``fn`` to the float arrays of a batch input (noise, augmentation)."""
    if isinstance(batch_input, tuple):
        mapped = [fn(a) if getattr(a, "dtype", None) is not None and a.dtype.kind == "f" else a
                  for a in batch_input]
        return type(batch_input)(*mapped) if hasattr(batch_input, "_fields") else tuple(mapped)
    return fn(batch_input)


class _Interrupt:
    """Turns the first Ctrl-C during training into a request to stop at a batch boundary."""

    def __init__(self):
        self.requested = False

    @contextmanager
    def catching(self):
        if threading.current_thread() is not threading.main_thread():
            yield self  # signals only reach the main thread
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN:  # Ctrl-C is ignored here: leave it so
            yield self
            return
        # None: a handler installed from C, which Python cannot reinstate.
        restore = signal.default_int_handler if previous is None else previous

        def handler(signum, frame):
            self.requested = True
            # A second Ctrl-C interrupts for real (and the fit is rolled back).
            signal.signal(signal.SIGINT, restore)

        signal.signal(signal.SIGINT, handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, restore)


def _non_finite_message(net, what):
    causes = ["a learning rate too high for this problem (lower lr / learning_rate_init)",
              "inputs on very different scales (try StandardScaler)"]
    if getattr(net, "alpha", 0) or getattr(net, "l1", 0):
        causes.insert(1, "a penalty too strong for this learning rate (lower alpha / l1)")
    return (f"{what} at epoch {net.n_iter_ + 1}. Likely causes: " + "; ".join(causes) +
            ". The model was left as it was before this fit.")


def check_finite_weights(net):
    """Raise FloatingPointError when a parameter holds NaN or infinity (one host sync)."""
    named = list(net.module_.named_parameters())
    if not named:
        return
    xp = get_array_module(named[0][1].data)
    sums = xp.stack([p.data.sum(dtype=xp.float64) for _, p in named])
    if math.isfinite(float(sums.sum())):
        return
    for name, p in named:
        if not bool(xp.isfinite(p.data).all()):
            raise FloatingPointError(_non_finite_message(
                net, f"The weights ({name}) became non-finite"))


class MinibatchTrainer:
    """The epoch loop: minibatches from a ``DataLoader``, one optimizer step each."""

    def train(self, net, loader, valid, n_epochs, callbacks):
        """Run up to ``n_epochs`` epochs; ``valid`` is a Dataset or None."""
        params = list(net.module_.parameters())
        interrupt = _Interrupt()
        net._stop_reason = None
        if net.loss_curve_ is None:  # continuing from an lbfgs fit, which keeps no curve
            net.loss_curve_ = []
        net._l2_fold = plan_l2_fold(net, callbacks)
        try:
            for cb in callbacks:
                cb.on_train_begin(net, X=loader.dataset, y=None)
            with (interrupt.catching(),
                  thread_limits(net.n_threads, net._batch_work(), net._thread_pool)):
                for _ in range(n_epochs):
                    self._epoch(net, loader, valid, params, callbacks, interrupt)
                    if interrupt.requested:
                        warnings.warn(
                            f"{type(net).__name__}: training interrupted (Ctrl-C) at epoch "
                            f"{net.n_iter_}; the model trained so far is kept.", UserWarning)
                        break
                    if net._stop_reason is not None:
                        break
                else:
                    if n_epochs > 1 and net._warn_max_epochs:
                        warnings.warn(f"{type(net).__name__}: the maximum number of epochs "
                                      f"({n_epochs}) was reached and the optimization has not "
                                      "converged yet.", ConvergenceWarning)
        finally:
            if net._l2_fold is not None:
                net._l2_fold.restore()
                net._l2_fold = None
            for cb in callbacks:
                cb.on_train_end(net)

    def _epoch(self, net, loader, valid, params, callbacks, interrupt):
        net._set_noise_level()
        for cb in callbacks:
            cb.on_epoch_begin(net, epoch=net.n_iter_)
        start = time.perf_counter()
        net.module_.train()
        values, sizes = [], []
        for batch in loader:
            value, size = net_step(net, batch, params, callbacks)
            values.append(value)
            sizes.append(size)
            if interrupt.requested:
                break
        if not values:
            raise ValueError(
                f"The training data gave no batch in epoch {net.n_iter_ + 1}. A stream must "
                "yield its chunks again at every epoch (GeneratorStream takes the function "
                "that creates the generator, not the generator), and not be empty.")
        # The one host sync of the epoch: every batch loss read together.
        losses = to_numpy(get_array_module(values[0]).stack(values))
        rows = sum(sizes)
        train_loss = float(losses.astype(np.float64) @ np.asarray(sizes, dtype=np.float64)) / rows
        if not math.isfinite(train_loss):
            raise FloatingPointError(_non_finite_message(
                net, f"The training loss became {train_loss}"))
        check_finite_weights(net)
        net.n_iter_ += 1
        net.t_ += rows
        row = {"epoch": net.n_iter_, "train_loss": train_loss, "valid_loss": None,
               "valid_score": None, "lr": net.optimizer_.param_groups[0]["lr"]}
        if valid is not None:
            row["valid_loss"], row["valid_score"] = net._evaluate(valid)
        row["time"] = time.perf_counter() - start
        if interrupt.requested:
            row["interrupted"] = True
        row["batches"] = [{"loss": float(v), "size": s} for v, s in zip(losses, sizes)]
        net.history_.append(row)
        net.loss_curve_.append(train_loss)
        for cb in callbacks:
            cb.on_epoch_end(net, logs=net.history_[-1])
        if net.verbose > 1:
            print(", ".join(f"{k}={v:.6g}" for k, v in row.items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)))


def net_step(net, batch, params, callbacks):
    """One optimizer step on ``batch``; returns (loss on the device, rows)."""
    inputs, yb = batch[0], batch[1]
    wb = batch[2] if len(batch) > 2 else None
    size = len(yb)
    wsum = size if wb is None else float(wb.sum())  # host arrays: no device sync
    device = net.device_
    if device != "cpu":
        yb = to_device(yb, device)
        wb = None if wb is None else to_device(wb, device)
    inputs = net._augment_batch(inputs)
    std, on = net._noise_std, net._noise.on
    if std and on == "inputs":
        inputs = _map_floats(inputs, lambda a: a + gaussian_like(net._rng, a, std, "cpu"))
    perturbed = net._perturb_weights(std) if std and on == "weights" else ()
    net.optimizer_.zero_grad()
    output = net.module_(*module_inputs(inputs, device))
    loss = net._criterion_loss(output, yb, wb)
    loss.backward()
    for weight, noise in perturbed:  # the gradient was taken at the noisy weights
        weight.data -= noise
    value = loss.data
    if net.alpha or net.l1:
        fold = net._l2_fold
        if fold is not None:
            fold.set_batch(wsum)
        value = value + weight_penalty(net._penalized_weights(), net.alpha, net.l1, wsum,
                                       l2_gradient=fold is None)
    for cb in callbacks:
        cb.on_backward_end(net, parameters=params)
    net.optimizer_.step()
    for cb in callbacks:
        cb.on_batch_end(net, batch_loss=value, batch_size=size)
    return value, size


class LBFGSTrainer:
    """Full-batch L-BFGS-B through scipy, as scikit-learn's ``solver="lbfgs"``.

    The whole run is one step of the history: callbacks get ``on_train_begin``,
    one ``on_epoch_end`` and ``on_train_end`` (no batch hooks: L-BFGS must see
    the true gradient of the loss). scipy's minimiser cannot stop at a boundary,
    so Ctrl-C interrupts it and the fit is rolled back.

    Parameters
    ----------
    max_iter : int
        Iterations of L-BFGS.
    max_fun : int
        Evaluations of the loss.
    tol : float
        Stopping tolerance on the projected gradient and the loss change.
    """

    def __init__(self, max_iter, max_fun, tol):
        self.max_iter = max_iter
        self.max_fun = max_fun
        self.tol = tol

    def train(self, net, loader, valid, n_epochs, callbacks):
        from sklears_neural import optim

        dataset = loader.dataset
        if isinstance(dataset, IterableDataset):
            raise ValueError("solver='lbfgs' minimises the loss of the whole training set at "
                             "once, which a stream never holds: use a stochastic solver "
                             "(e.g. solver='adam') to fit from a stream.")
        batch = dataset.__getitems__(slice(None))
        inputs, targets = batch[0], batch[1]
        weights = batch[2] if len(batch) > 2 else None
        wsum = len(targets) if weights is None else float(weights.sum())
        device = net.device_
        if device != "cpu":
            targets = to_device(targets, device)
            weights = None if weights is None else to_device(weights, device)
        module_args = module_inputs(inputs, device)
        solver = optim.LBFGS(net.module_.parameters(), max_iter=self.max_iter,
                             max_fun=self.max_fun, tol=self.tol)
        net.module_.train()
        start = time.perf_counter()

        def closure():
            loss = net._criterion_loss(net.module_(*module_args), targets, weights)
            loss.backward()
            return float(loss.item()) + float(weight_penalty(
                net._penalized_weights(), net.alpha, net.l1, wsum))

        try:
            for cb in callbacks:
                cb.on_train_begin(net, X=dataset, y=None)
            with thread_limits(net.n_threads, net._batch_work(len(targets)),
                               net._thread_pool):
                solver.step(closure)
            result = solver.result_
            if not math.isfinite(result.fun):
                raise FloatingPointError(f"L-BFGS reached a non-finite loss ({result.fun}); "
                                         "scale the inputs or increase alpha. The model was "
                                         "left as it was before this fit.")
            check_finite_weights(net)
            net.n_iter_ = int(result.nit)
            net.t_ += len(targets)
            net.loss_curve_ = None  # scikit-learn's lbfgs keeps no per-epoch curve
            net.best_loss_ = None
            row = {"epoch": net.n_iter_, "train_loss": float(result.fun), "valid_loss": None,
                   "valid_score": None, "lr": None}
            if valid is not None:
                row["valid_loss"], row["valid_score"] = net._evaluate(valid)
            row["time"] = time.perf_counter() - start
            row["batches"] = []
            net.history_.append(row)
            for cb in callbacks:
                cb.on_epoch_end(net, logs=net.history_[-1])
            if result.status == 1:
                warnings.warn(f"lbfgs failed to converge after {net.n_iter_} iterations: "
                              f"{result.message}. Increase max_iter or scale the data.",
                              ConvergenceWarning)
        finally:
            for cb in callbacks:
                cb.on_train_end(net)


def evaluate_outputs(net, dataset, batch_size):
    """Module outputs for every row of ``dataset``, in evaluation mode, without a graph.

    ``dataset`` is a Dataset, or a plain ndarray of rows (prediction's short path).
    """
    n = len(dataset)
    if type(dataset) is np.ndarray:
        inputs = (dataset[begin:begin + batch_size] for begin in range(0, n, batch_size))
    else:
        inputs = (dataset.__getitems__(slice(begin, begin + batch_size))[0]
                  for begin in range(0, n, batch_size))
    outputs = []
    with eval_mode(), no_grad():
        for batch_input in inputs:
            outputs.append(net.module_(*module_inputs(batch_input, net.device_)).data)
    if not outputs:
        raise ValueError("X has 0 samples.")
    return outputs[0] if len(outputs) == 1 else get_array_module(outputs[0]).concatenate(outputs)
