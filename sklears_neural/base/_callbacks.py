"""Callbacks: code that runs at fixed points of the training loop.

Every estimator calls, in order: ``on_train_begin`` once per ``fit`` or
``partial_fit``; per epoch ``on_epoch_begin``, then per batch
``on_backward_end`` (after the gradients exist, before the optimizer step)
and ``on_batch_end``; ``on_epoch_end`` with the epoch's history row; and
``on_train_end``. A callback stops training with ``net.stop_training(reason)``.
"""

import math

import joblib

from sklears_neural.nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = ["Callback", "EarlyStopping", "LRScheduler", "Checkpoint", "ProgressBar",
           "GradientClipping"]


class Callback:
    """Base class: override the hooks you need; all default to doing nothing.

    Callbacks are parameters of an estimator, so ``__init__`` only stores
    its arguments (``get_params`` / ``set_params`` work as for estimators,
    and ``callbacks__<name>__<param>`` routes to them).
    """

    def on_train_begin(self, net, X=None, y=None):
        pass

    def on_epoch_begin(self, net, epoch):
        pass

    def on_backward_end(self, net, parameters):
        pass

    def on_batch_end(self, net, batch_loss, batch_size):
        pass

    def on_epoch_end(self, net, logs):
        pass

    def on_train_end(self, net):
        pass

    def get_params(self, deep=True):
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid "
                                 f"parameters are {sorted(self.get_params())}.")
            setattr(self, name, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _lower_is_better(monitor):
    return monitor.endswith("loss")


class EarlyStopping(Callback):
    """Stop when a monitored quantity stops improving; restore the best weights.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        A key of the history rows: ``"train_loss"``, ``"valid_loss"``,
        ``"valid_score"``. Names ending in ``loss`` are minimised, others
        maximised.
    patience : int, default=5
        Epochs without an improvement of more than ``min_delta`` before stopping.
    min_delta : float, default=0.0
    restore_best_weights : bool, default=True
    """

    def __init__(self, monitor="valid_loss", patience=5, min_delta=0.0,
                 restore_best_weights=True):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, net, X=None, y=None):
        self.best_ = math.inf
        self.wait_ = 0
        self.best_state_ = None
        self.best_epoch_ = None

    def on_epoch_end(self, net, logs):
        if self.monitor not in logs or logs[self.monitor] is None:
            raise ValueError(f"EarlyStopping: history has no {self.monitor!r} (available: "
                             f"{sorted(k for k, v in logs.items() if v is not None)}); "
                             "valid_* needs a validation split.")
        sign = 1.0 if _lower_is_better(self.monitor) else -1.0
        value = sign * logs[self.monitor]
        if value < self.best_ - self.min_delta:
            self.best_, self.wait_, self.best_epoch_ = value, 0, logs["epoch"]
            if self.restore_best_weights:
                self.best_state_ = net.module_.state_dict()
        else:
            self.wait_ += 1
            if self.wait_ >= self.patience:
                net.stop_training(f"{self.monitor} did not improve by more than "
                                  f"{self.min_delta} for {self.patience} epochs")

    def on_train_end(self, net):
        if self.restore_best_weights and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)


class LRScheduler(Callback):
    """Set the learning rate at the start of every epoch.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, initial_lr) -> lr`` with ``epoch`` counted from 0
        over the estimator's whole life (``warm_start`` and ``partial_fit``
        continue the count).
    """

    def __init__(self, schedule):
        self.schedule = schedule

    def on_train_begin(self, net, X=None, y=None):
        if not callable(self.schedule):
            raise ValueError(f"LRScheduler: schedule must be callable; got {self.schedule!r}.")
        self.initial_lrs_ = getattr(self, "initial_lrs_", None) or [
            g["lr"] for g in net.optimizer_.param_groups]

    def on_epoch_begin(self, net, epoch):
        for group, initial in zip(net.optimizer_.param_groups, self.initial_lrs_):
            lr = float(self.schedule(epoch, initial))
            if not lr >= 0:
                raise ValueError(f"LRScheduler: schedule gave lr={lr} at epoch {epoch}.")
            group["lr"] = lr


class Checkpoint(Callback):
    """Save the module's weights with joblib whenever the monitor improves.

    Parameters
    ----------
    path : str or path-like
        File to write (overwritten at each improvement).
    monitor : str, default="valid_loss"
        As for ``EarlyStopping``; ``"train_loss"`` works without validation.
    """

    def __init__(self, path, monitor="valid_loss"):
        self.path = path
        self.monitor = monitor

    def on_train_begin(self, net, X=None, y=None):
        self.best_ = math.inf

    def on_epoch_end(self, net, logs):
        value = logs.get(self.monitor)
        if value is None:
            raise ValueError(f"Checkpoint: history has no {self.monitor!r}.")
        value = value if _lower_is_better(self.monitor) else -value
        if value < self.best_:
            self.best_ = value
            joblib.dump({"epoch": logs["epoch"], "state_dict": net.module_.state_dict()},
                        self.path)


class ProgressBar(Callback):
    """A tqdm progress bar over epochs showing the latest losses and score."""

    def __init__(self, desc=None):
        self.desc = desc

    def on_train_begin(self, net, X=None, y=None):
        from tqdm.auto import tqdm

        total = getattr(net, "_planned_epochs", None)
        self.bar_ = tqdm(total=total, desc=self.desc or type(net).__name__, unit="epoch",
                         leave=True)

    def on_epoch_end(self, net, logs):
        shown = {k: f"{logs[k]:.4g}" for k in ("train_loss", "valid_loss", "valid_score")
                 if logs.get(k) is not None}
        self.bar_.set_postfix(shown, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net):
        self.bar_.close()
        del self.bar_


class GradientClipping(Callback):
    """Clip gradients after backward, before the optimizer step.

    Parameters
    ----------
    max_norm : float, optional
        Rescale all gradients together so their global L2 norm is at most this.
    clip_value : float, optional
        Clip every gradient element to ``[-clip_value, clip_value]``.
    """

    def __init__(self, max_norm=None, clip_value=None):
        self.max_norm = max_norm
        self.clip_value = clip_value

    def on_train_begin(self, net, X=None, y=None):
        for name in ("max_norm", "clip_value"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"GradientClipping: {name} must be positive; got {value!r}.")
        if self.max_norm is None and self.clip_value is None:
            raise ValueError("GradientClipping: give max_norm, clip_value or both.")

    def on_backward_end(self, net, parameters):
        if self.clip_value is not None:
            clip_grad_value_(parameters, self.clip_value)
        if self.max_norm is not None:
            clip_grad_norm_(parameters, self.max_norm)
