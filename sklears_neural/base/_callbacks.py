"""Callbacks: code that runs at fixed points of the training loop.

Every estimator calls, in order: ``on_train_begin`` once per ``fit`` or
``partial_fit``; per epoch ``on_epoch_begin``, then per batch
``on_backward_end`` (after the gradients exist, before the optimizer step)
and ``on_batch_end``; ``on_epoch_end`` with the epoch's history row; and
``on_train_end``. A callback stops training with ``net.stop_training(reason)``.

Hooks are called with keyword arguments (``on_epoch_end(net, logs=row)``),
and the base class takes ``**kwargs`` everywhere, so information added later
breaks no callback that also takes ``**kwargs``.

The estimators' parameters switch on default callbacks, which run before
the user's: ``StoppingRule`` (scikit-learn's ``tol`` / ``n_iter_no_change``
rule, and ``early_stopping``), ``GradientClipping`` (``clip_grad_norm``),
``ScheduleStep`` (``lr_schedule``) and, after the user's, ``ProgressBar``
(``verbose``). The estimator re-reads its ``callbacks`` at every ``fit`` and
``partial_fit``.
"""

import inspect
import math
import os
import warnings

from sklears_neural.base._safe_format import load, load_metadata, save
from sklears_neural.nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = ["Callback", "EarlyStopping", "LearningRateSchedule", "Checkpoint", "load_checkpoint",
           "ProgressBar", "GradientClipping", "ScheduleStep", "StoppingRule"]


class Callback:
    """Base class: override the hooks you need; all default to doing nothing.

    Callbacks are parameters of an estimator, so ``__init__`` only stores
    its arguments (``get_params`` / ``set_params`` work as for estimators,
    and ``callbacks__<name>__<param>`` routes to them).
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Run at the start of a ``fit`` / ``partial_fit``; ``X`` is the training Dataset.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        X : Dataset, default=None
            The training data.
        y : None, default=None
            Always None; the targets are in ``X``.
        **kwargs : dict
            Further information a later version may pass.
        """

    def on_epoch_begin(self, net, epoch=None, **kwargs):
        """Run at the start of an epoch; ``epoch`` counts from 0 over the estimator's life.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        epoch : int, default=None
            The epoch, counted from 0 over the estimator's life.
        **kwargs : dict
            Further information a later version may pass.
        """

    def on_backward_end(self, net, parameters=None, **kwargs):
        """Run once the gradients of a batch exist, before the optimizer steps.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        parameters : list of Parameter, default=None
            The parameters of ``net.module_``, their gradients filled.
        **kwargs : dict
            Further information a later version may pass.
        """

    def on_batch_end(self, net, batch_loss=None, batch_size=None, **kwargs):
        """Run after the optimizer step of a batch.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        batch_loss : ndarray of shape (), default=None
            The batch's loss, a 0-d array on the training device (``float()`` it
            for a number: on a GPU that waits for the device).
        batch_size : int, default=None
            The number of rows in the batch.
        **kwargs : dict
            Further information a later version may pass.
        """

    def on_epoch_end(self, net, logs=None, **kwargs):
        """Run at the end of an epoch; ``logs`` is its row of ``net.history_``.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        logs : dict, default=None
            The epoch's row of ``net.history_`` (``"epoch"``, ``"train_loss"``,
            ``"valid_loss"``, ``"valid_score"``, ...).
        **kwargs : dict
            Further information a later version may pass.
        """

    def on_train_end(self, net, **kwargs):
        """Run at the end of the fit, also when it stopped on an error.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        **kwargs : dict
            Further information a later version may pass.
        """

    def get_params(self, deep=True):
        """Return the constructor's arguments, as stored on the callback.

        Parameters
        ----------
        deep : bool, default=True
            Accepted for scikit-learn's API; a callback has no sub-objects.

        Returns
        -------
        dict
            Argument name to its current value.
        """
        init = type(self).__init__
        if init is object.__init__:
            return {}
        names = [name for name, p in inspect.signature(init).parameters.items()
                 if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params):
        """Set constructor arguments, as ``set_params`` of an estimator.

        Parameters
        ----------
        **params : dict
            Argument names and their new values.

        Returns
        -------
        Callback
            ``self``.

        Raises
        ------
        ValueError
            If a name is not an argument of the constructor.
        """
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
        The least change of the monitor that counts as an improvement.
    restore_best_weights : bool, default=True
        Load the weights of the best epoch back into the module at the end of
        training.
    """

    def __init__(self, monitor="valid_loss", patience=5, min_delta=0.0,
                 restore_best_weights=True):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Reset the best value and the count of epochs without improvement.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        X : Dataset, default=None
            The training data.
        y : None, default=None
            Always None; the targets are in ``X``.
        **kwargs : dict
            Further information a later version may pass.
        """
        self.best_ = math.inf
        self.wait_ = 0
        self.best_state_ = None
        self.best_epoch_ = None

    def on_epoch_end(self, net, logs=None, **kwargs):
        """Record an improvement, or stop training after ``patience`` epochs without one.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        logs : dict, default=None
            The epoch's row of ``net.history_`` (``"epoch"``, ``"train_loss"``,
            ``"valid_loss"``, ``"valid_score"``, ...).
        **kwargs : dict
            Further information a later version may pass.

        Raises
        ------
        ValueError
            If the history has no value for ``monitor``.
        """
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

    def on_train_end(self, net, **kwargs):
        """Restore the best weights, with ``restore_best_weights``.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        **kwargs : dict
            Further information a later version may pass.
        """
        if self.restore_best_weights and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)


class LearningRateSchedule(Callback):
    """Set the learning rate at the start of every epoch.

    (Formerly ``LRScheduler``; that name is deprecated because
    ``optim.lr_scheduler.LRScheduler`` is a different thing: the base class of
    the engine's schedulers, which step an optimizer directly.)

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, initial_lr) -> lr`` with ``epoch`` counted from 0
        over the estimator's whole life (``warm_start`` and ``partial_fit``
        continue the count).
    """

    def __init__(self, schedule):
        self.schedule = schedule

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Record the optimizer's initial learning rates (at the first fit only).

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        X : Dataset, default=None
            The training data.
        y : None, default=None
            Always None; the targets are in ``X``.
        **kwargs : dict
            Further information a later version may pass.

        Raises
        ------
        ValueError
            If ``schedule`` is not callable.
        """
        if not callable(self.schedule):
            raise ValueError(f"LearningRateSchedule: schedule must be callable; got "
                             f"{self.schedule!r}.")
        self.initial_lrs_ = getattr(self, "initial_lrs_", None) or [
            g["lr"] for g in net.optimizer_.param_groups]

    def on_epoch_begin(self, net, epoch=None, **kwargs):
        """Write ``schedule(epoch, initial_lr)`` into every parameter group.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        epoch : int, default=None
            The epoch, counted from 0 over the estimator's life.
        **kwargs : dict
            Further information a later version may pass.
        """
        for group, initial in zip(net.optimizer_.param_groups, self.initial_lrs_):
            lr = float(self.schedule(epoch, initial))
            if not lr >= 0:
                raise ValueError(f"LearningRateSchedule: schedule gave lr={lr} at epoch {epoch}.")
            group["lr"] = lr


# Files the checkpoints of this process wrote (absolute paths): theirs to overwrite.
_WRITTEN = set()


class Checkpoint(Callback):
    """Save the whole estimator whenever the monitor improves, in ``io.save``'s safe format.

    The best state goes to ``path``; with ``save_last`` the state after every
    epoch also goes to ``last_path`` (``path`` with ``.last`` before its
    suffix). ``sklears_neural.io.load_checkpoint`` (or ``io.load``) restores
    either as a fitted estimator that predicts and can continue training.
    A file that exists when training starts and that no checkpoint of this
    session wrote (a clone in a search, a refit and a warm start share
    their files) is not overwritten unless ``overwrite=True``.

    Parameters
    ----------
    path : str or path-like
        The best state's file. Its directory must exist.
    monitor : str, default="valid_loss"
        As for ``EarlyStopping``; ``"train_loss"`` works without validation.
    save_last : bool, default=False
        Also keep the last epoch's state in ``last_path``.
    overwrite : bool, default=False
        Replace files this checkpoint did not write.

    Attributes
    ----------
    best_ : float
        The best monitored value so far (negated for scores).
    best_epoch_ : int
        Its epoch.
    """

    def __init__(self, path, monitor="valid_loss", save_last=False, overwrite=False):
        self.path = path
        self.monitor = monitor
        self.save_last = save_last
        self.overwrite = overwrite

    @property
    def last_path(self):
        """The last epoch's file: ``path`` with ``.last`` before its suffix."""
        root, suffix = os.path.splitext(os.fspath(self.path))
        return f"{root}.last{suffix}"

    def _targets(self):
        return [os.fspath(self.path)] + ([self.last_path] if self.save_last else [])

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Check the files can be written, and reset the best value of the monitor.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        X : Dataset, default=None
            The training data.
        y : None, default=None
            Always None; the targets are in ``X``.
        **kwargs : dict
            Further information a later version may pass.

        Raises
        ------
        FileExistsError
            If a file exists that this checkpoint did not write, without
            ``overwrite``.
        FileNotFoundError
            If the directory of ``path`` does not exist.
        """
        for target in self._targets():
            folder = os.path.dirname(os.path.abspath(target))
            if not os.path.isdir(folder):
                raise FileNotFoundError(f"Checkpoint: the directory {folder!r} of {target!r} "
                                        "does not exist; create it first.")
            if (os.path.exists(target) and not self.overwrite
                    and os.path.abspath(target) not in _WRITTEN):
                raise FileExistsError(
                    f"Checkpoint: {target!r} exists and no checkpoint of this session wrote "
                    "it; pass overwrite=True to replace it, or choose another path.")
        if not getattr(net, "history_", None) or not hasattr(self, "best_"):
            self.best_ = math.inf  # a fresh fit; a continued one keeps its best
            self.best_epoch_ = None

    def on_epoch_end(self, net, logs=None, **kwargs):
        """Save the estimator if the monitor improved (and the last state, if asked).

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        logs : dict, default=None
            The epoch's row of ``net.history_`` (``"epoch"``, ``"train_loss"``,
            ``"valid_loss"``, ``"valid_score"``, ...).
        **kwargs : dict
            Further information a later version may pass.

        Raises
        ------
        ValueError
            If the history has no value for ``monitor``.
        """
        value = logs.get(self.monitor)
        if value is None:
            raise ValueError(f"Checkpoint: history has no {self.monitor!r}.")
        value = value if _lower_is_better(self.monitor) else -value
        notes = {"checkpoint": True, "epoch": int(logs["epoch"]), "monitor": self.monitor,
                 "value": float(logs[self.monitor])}
        if value < self.best_:
            self.best_, self.best_epoch_ = value, int(logs["epoch"])
            _WRITTEN.add(os.path.abspath(save(net, self.path, metadata={**notes,
                                                                         "which": "best"})))
        if self.save_last:
            _WRITTEN.add(os.path.abspath(save(net, self.last_path,
                                              metadata={**notes, "which": "last"})))


def load_checkpoint(path, which="best", *, trusted=None):
    """The estimator a ``Checkpoint`` saved, fitted as it was at that epoch.

    Parameters
    ----------
    path : str or path-like
        The checkpoint's ``path``.
    which : {"best", "last"}, default="best"
        The best state, or the last epoch's (``save_last=True``).
    trusted : list of str, optional
        As for ``sklears_neural.io.load``.

    Returns
    -------
    estimator
        A new fitted estimator: it predicts, and ``partial_fit`` or a
        ``warm_start`` fit continue from that state.

    Raises
    ------
    ValueError
        If ``which`` is neither, or the file is not a checkpoint's.
    """
    if which not in ("best", "last"):
        raise ValueError(f"which must be 'best' or 'last'; got {which!r}.")
    if which == "last":
        root, suffix = os.path.splitext(os.fspath(path))
        path = f"{root}.last{suffix}"
    notes = load_metadata(path)["metadata"]
    if not isinstance(notes, dict) or "checkpoint" not in notes:
        raise ValueError(f"{os.fspath(path)!r} was saved by io.save, not by a Checkpoint; "
                         "load it with sklears_neural.io.load.")
    return load(path, trusted=trusted)


class ProgressBar(Callback):
    """A tqdm progress bar over epochs showing the latest losses and score.

    Parameters
    ----------
    desc : str, default=None
        The bar's label; None uses the estimator's class name.
    """

    def __init__(self, desc=None):
        self.desc = desc

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Open the bar.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        X : Dataset, default=None
            The training data.
        y : None, default=None
            Always None; the targets are in ``X``.
        **kwargs : dict
            Further information a later version may pass.
        """
        from tqdm.auto import tqdm

        total = getattr(net, "_planned_epochs", None)
        self.bar_ = tqdm(total=total, desc=self.desc or type(net).__name__, unit="epoch",
                         leave=True)

    def on_epoch_end(self, net, logs=None, **kwargs):
        """Advance the bar and show the epoch's losses and score.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        logs : dict, default=None
            The epoch's row of ``net.history_`` (``"epoch"``, ``"train_loss"``,
            ``"valid_loss"``, ``"valid_score"``, ...).
        **kwargs : dict
            Further information a later version may pass.
        """
        shown = {k: f"{logs[k]:.4g}" for k in ("train_loss", "valid_loss", "valid_score")
                 if logs.get(k) is not None}
        self.bar_.set_postfix(shown, refresh=False)
        self.bar_.update(1)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)  # the open bar is a view of training, not its state
        return state

    def on_train_end(self, net, **kwargs):
        """Close the bar.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        **kwargs : dict
            Further information a later version may pass.
        """
        if hasattr(self, "bar_"):
            self.bar_.close()
            del self.bar_


class GradientClipping(Callback):
    """Clip gradients after backward, before the optimizer step.

    Parameters
    ----------
    max_norm : float, default=None
        Rescale all gradients together so their global L2 norm is at most this.
    clip_value : float, default=None
        Clip every gradient element to ``[-clip_value, clip_value]``.
    """

    def __init__(self, max_norm=None, clip_value=None):
        self.max_norm = max_norm
        self.clip_value = clip_value

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Check the options.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        X : Dataset, default=None
            The training data.
        y : None, default=None
            Always None; the targets are in ``X``.
        **kwargs : dict
            Further information a later version may pass.

        Raises
        ------
        ValueError
            If an option is not positive, or neither is given.
        """
        for name in ("max_norm", "clip_value"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"GradientClipping: {name} must be positive; got {value!r}.")
        if self.max_norm is None and self.clip_value is None:
            raise ValueError("GradientClipping: give max_norm, clip_value or both.")

    def on_backward_end(self, net, parameters=None, **kwargs):
        """Clip the gradients, elementwise first, then by their global norm.

        Parameters
        ----------
        net : BaseNeuralNet
            The estimator being trained.
        parameters : list of Parameter, default=None
            The parameters of ``net.module_``, their gradients filled.
        **kwargs : dict
            Further information a later version may pass.
        """
        if self.clip_value is not None:
            clip_grad_value_(parameters, self.clip_value)
        if self.max_norm is not None:
            clip_grad_norm_(parameters, self.max_norm)


class StoppingRule(Callback):
    """scikit-learn's stopping rule, the estimators' default callback.

    The monitored value (the training loss, or with ``early_stopping`` the
    validation score or loss) must beat its best by ``tol``; after more than
    ``n_iter_no_change`` epochs without that, training stops. With early
    stopping the best weights are kept and restored at the end. It also
    keeps scikit-learn's ``validation_scores_``, ``best_validation_score_``
    and ``best_loss_`` up to date.
    """

    def on_epoch_end(self, net, logs=None, **kwargs):
        key = net._monitor()
        value = logs[key] if key != "valid_score" else -logs[key]  # minimise
        improved = value <= net._best_monitored - net.tol
        if value < net._best_monitored:
            net._best_monitored = value
            if key != "train_loss":
                net._best_state = net.module_.state_dict()
        if logs["valid_score"] is not None:
            if net.validation_scores_ is None:
                net.validation_scores_, net.best_validation_score_ = [], -math.inf
            net.validation_scores_.append(logs["valid_score"])
            net.best_validation_score_ = max(net.best_validation_score_, logs["valid_score"])
        if net.best_loss_ is not None:
            net.best_loss_ = min(net.best_loss_, logs["train_loss"])
        net._no_improvement = 0 if improved else net._no_improvement + 1
        if net._no_improvement > net.n_iter_no_change:
            if net._on_no_improvement():
                what = {"valid_score": "Validation score", "valid_loss": "Validation loss",
                        "train_loss": "Training loss"}[key]
                net.stop_training(f"{what} did not improve more than tol={net.tol} for "
                                  f"{net.n_iter_no_change} consecutive epochs.")
            else:
                net._no_improvement = 0

    def on_train_end(self, net, **kwargs):
        if net.early_stopping and net._best_state is not None:
            net.module_.load_state_dict(net._best_state)


class ScheduleStep(Callback):
    """Steps the estimator's ``lr_schedule`` (per batch or per epoch), its default callback."""

    def on_batch_end(self, net, batch_loss=None, batch_size=None, **kwargs):
        net._step_schedule_batch()

    def on_epoch_end(self, net, logs=None, **kwargs):
        net._step_schedule(logs)


def __getattr__(name):
    if name == "LRScheduler":
        warnings.warn("sklears_neural.base.LRScheduler was renamed LearningRateSchedule "
                      "(optim.lr_scheduler.LRScheduler is the engine's scheduler base class); "
                      "the old name will be removed in the next release.", FutureWarning,
                      stacklevel=2)
        return LearningRateSchedule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
