"""The one training loop that every estimator of the library shares.

``BaseNeuralNet`` turns arrays into batches of tensors, runs epochs of
forward / loss / backward / optimizer step, keeps the history, applies the
stopping rule, calls callbacks, and handles ``partial_fit``, ``warm_start``,
pickling, devices and dtypes. Subclasses say what to build
(``_build_module``, ``_build_criterion``, ``_build_optimizer``) and how
targets are encoded (``_make_targets``).
"""

import copy
import functools
import math
import time
import warnings
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from threadpoolctl import ThreadpoolController

from sklears_neural import optim
from sklears_neural.optim import lr_scheduler
from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.backend import check_dtype, parse_device, to_device, to_numpy
from sklears_neural.base._callbacks import Callback, ProgressBar
from sklears_neural.base._noise import gaussian_like, parse_noise
from sklears_neural.base._regularization import weight_penalty
from sklears_neural.nn import GaussianNoise
from sklears_neural.nn.utils import clip_grad_norm_

__all__ = ["BaseNeuralNet", "resolve_optimizer"]

OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD,
              "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad, "nadam": optim.NAdam,
              "adamax": optim.Adamax, "radam": optim.RAdam, "adadelta": optim.Adadelta,
              "lamb": optim.LAMB, "lars": optim.LARS}

_FITTED_STATE = ("module_", "optimizer_", "criterion_", "history_", "loss_curve_",
                 "validation_scores_", "best_loss_", "best_validation_score_", "n_iter_", "t_",
                 "n_features_in_", "feature_names_in_", "classes_", "n_outputs_", "callbacks_",
                 "device_", "scheduler_", "_targets", "_rng", "_best_state", "_best_monitored",
                 "_no_improvement", "_parameter_count")


def resolve_optimizer(optimizer):
    """Return the optimizer class for a name or class, or raise listing the names."""
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(sorted(OPTIMIZERS))} or an "
                             f"Optimizer subclass; got {optimizer!r}.")
        return OPTIMIZERS[key]
    if isinstance(optimizer, type) and issubclass(optimizer, optim.Optimizer):
        return optimizer
    raise ValueError(f"optimizer must be one of {', '.join(sorted(OPTIMIZERS))} or an "
                     f"Optimizer subclass; got {optimizer!r}.")


def _check_number(name, value, low=None, high=None, integer=False, low_open=False,
                  high_open=False, allow_none=False):
    """Validate one numeric hyperparameter; the error names it and its range."""
    if value is None and allow_none:
        return
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, (int, np.integer)) if integer else isinstance(
        value, (int, float, np.integer, np.floating))
    ok = ok and not isinstance(value, bool)
    if ok:
        ok = not (low is not None and (value < low or (low_open and value == low)))
        ok = ok and not (high is not None and (value > high or (high_open and value == high)))
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        span = f" in {lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ValueError(f"{name} must be {kind}{span}; got {value!r}.")


# Below this much work per batch (rows x parameters, about the multiply-adds of
# one forward pass) a second BLAS thread gains nothing on 2 cores, and idle
# workers that spin while the other core is busy made small steps up to 20x
# slower. Above it, 2 threads train the 784-256-128-10 MLP 1.36x faster at
# batch 128 and 1.66x at batch 512 (idle machine, 2 cores; see the note of
# the MLP issue). So: one thread for small work, the libraries' default above.
SERIAL_BELOW_WORK = 2**24
# OpenBLAS itself stays single-threaded for a GEMM below 65536 * 4 multiply-adds
# (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD); setting a limit for such
# work would only cost time (a single-row predict spends ~30 us on it).
OPENBLAS_SERIAL_BELOW = 2**18


@functools.lru_cache(maxsize=None)
def _thread_controller():
    # Built once: inspecting the loaded libraries costs ~0.2 ms, a limit ~4 us.
    return ThreadpoolController()


def thread_limits(n_threads, work):
    """Context that caps BLAS/OpenMP threads for batches of ``work`` multiply-adds.

    ``n_threads=None`` picks one thread for small work and leaves the
    libraries' defaults otherwise; an integer is applied as given.
    """
    if n_threads is None:
        if work < OPENBLAS_SERIAL_BELOW:
            return nullcontext()  # the BLAS runs such products on one thread anyway
        n_threads = 1 if work < SERIAL_BELOW_WORK else None
    if n_threads is None:
        return nullcontext()
    return _thread_controller().limit(limits=n_threads)


def _drop_unweighted(X, y, sample_weight):
    """Remove rows of weight 0, so that they cannot change batches or shuffling."""
    if sample_weight is None:
        return X, y, sample_weight
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    keep = sample_weight > 0
    if keep.all():
        return X, y, sample_weight
    return X[keep], y[keep], sample_weight[keep]


class BaseNeuralNet(BaseEstimator):
    """Shared fitting machinery; not used directly.

    Subclasses define the constructor parameters. The loop reads these
    attributes: ``batch_size``, ``shuffle``, ``random_state``, ``verbose``,
    ``warm_start``, ``device``, ``dtype``, ``tol``, ``n_iter_no_change``,
    ``early_stopping``, ``validation_fraction``, ``callbacks`` and
    ``n_threads``; the number of epochs comes from ``_max_epochs()``.
    """

    # -- what subclasses provide -----------------------------------------------
    def _build_module(self, n_features, n_outputs, generator):
        raise NotImplementedError

    def _build_criterion(self):
        raise NotImplementedError

    #: Whether the estimator builds its network from readable parameters (and
    #: so can place noise layers in it), rather than taking a user's module.
    _builds_network = True

    def _optimizer_parameters(self):
        """What the optimizer is built on: the module's parameters, or groups of them."""
        return list(self.module_.parameters())

    def _build_optimizer(self, parameters):
        raise NotImplementedError

    def _make_targets(self):
        raise NotImplementedError

    def _max_epochs(self):
        raise NotImplementedError

    def _compute_loss(self, output, target, sample_weight):
        """Loss tensor of one batch (subclasses may add scaling or constants)."""
        return self.criterion_(output, target, sample_weight=sample_weight)

    def _penalized_weights(self):
        """Parameters the L1/L2 penalties apply to: weight matrices, not biases or norms."""
        return [p for p in self.module_.parameters() if p.ndim >= 2]

    def _penalty(self, sample_weight_sum):
        """Add the L1/L2 penalties' gradient in place; return their value."""
        return weight_penalty(self._penalized_weights(), self.alpha, self.l1, sample_weight_sum)

    def _validation_score(self, X, y, sample_weight):
        """Score reported (and monitored) on the validation split, or None."""
        return None

    def _on_no_improvement(self):
        """Called when the monitored value stalls; return True to stop."""
        return True

    def _extra_validation(self):
        """Check subclass parameters at the start of ``fit``."""

    def _check_targets(self, y):
        """Check ``y`` beyond what scikit-learn's validation does (e.g. its sign)."""

    # Warn when fit ends on max epochs without the stopping rule firing
    # (scikit-learn's MLP does; a fixed-epoch NeuralNet need not).
    _warn_max_epochs = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- public API -------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Train on ``(X, y)``.

        With ``warm_start=True`` and a fitted model, training continues from
        the current weights and optimizer state; otherwise it starts afresh.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights of the loss; rows with weight 0 do not
            influence the model.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """Run one epoch over ``(X, y)``, initialising the model on the first call."""
        return self._fit(X, y, sample_weight, incremental=True, **kwargs)

    def stop_training(self, reason):
        """Ask the loop to stop after the current epoch (used by callbacks)."""
        self._stop_reason = reason

    # -- fitting ------------------------------------------------------------------
    def _validate_common(self):
        if self.batch_size != "auto":
            _check_number("batch_size", self.batch_size, low=1, integer=True)
        _check_number("tol", self.tol, low=0.0)
        _check_number("n_iter_no_change", self.n_iter_no_change, low=1, integer=True)
        _check_number("validation_fraction", self.validation_fraction, low=0.0, high=1.0,
                      high_open=True)
        _check_number("alpha", self.alpha, low=0.0)
        _check_number("l1", self.l1, low=0.0)
        noise = parse_noise(self.noise)
        if noise.on == "activations" and noise.std > 0 and not self._builds_network:
            raise ValueError("noise={'on': 'activations', ...} needs an estimator that builds "
                             "its own network (MLP, CNN, ...); put nn.GaussianNoise layers in "
                             "your module instead.")
        _check_number("clip_grad_norm", self.clip_grad_norm, low=0.0, low_open=True,
                      allow_none=True)
        _check_number("label_smoothing", getattr(self, "label_smoothing", 0.0), low=0.0, high=1.0)
        if self._schedule_needs_metric() and not self.validation_fraction:
            raise ValueError("lr_schedule='plateau' (ReduceLROnPlateau) watches the validation "
                             "loss: set validation_fraction > 0.")
        if self.lr_schedule is not None:
            self._schedule_spec()  # checks the (spec, options) form
        if self.early_stopping and self.validation_fraction <= 0:
            raise ValueError("early_stopping=True needs validation_fraction > 0; got "
                             f"{self.validation_fraction!r}.")
        _check_number("n_threads", self.n_threads, low=1, integer=True, allow_none=True)
        parse_device(self.device)
        check_dtype(self.dtype)
        if self.callbacks is not None and not isinstance(self.callbacks, (list, tuple)):
            raise ValueError("callbacks must be a list of Callback instances or of "
                             f"(name, Callback) pairs; got {self.callbacks!r}.")
        self._extra_validation()

    def _check_X(self, X, reset):
        dtype = check_dtype(self.dtype)
        return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=dtype, reset=reset)

    def _check_X_y(self, X, y, reset):
        dtype = check_dtype(self.dtype)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=dtype,
                             multi_output=True, y_numeric=not self._is_classifier(), reset=reset)
        if self._is_classifier() and y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if sp.issparse(X):
            X = X.tocsr()
        return X, y

    def _is_classifier(self):
        return is_classifier(self)

    def _named_callbacks(self):
        named = []
        for i, entry in enumerate(self.callbacks or ()):
            name, cb = entry if isinstance(entry, tuple) else (type(entry).__name__.lower(), entry)
            if not isinstance(cb, Callback):
                raise ValueError(f"callbacks[{i}] is {cb!r}, not a Callback instance.")
            named.append((name, copy.deepcopy(cb)))
        if self.verbose and not any(isinstance(cb, ProgressBar) for _, cb in named):
            named.append(("progressbar", ProgressBar()))
        return named

    def _initialize(self, X, y):
        """Build targets, module, criterion, optimizer and history for a new model."""
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(np.iinfo(np.int32).max)
        self._rng = np.random.default_rng(seed)
        self._targets = self._make_targets().fit(y)
        if hasattr(self._targets, "classes_"):
            self.classes_ = self._targets.classes_
        self.n_outputs_ = self._targets.n_outputs
        self.device_ = self.device
        self.module_ = self._build_module(X.shape[1], self.n_outputs_, self._rng)
        self.module_.to(device=self.device_, dtype=self.dtype)
        self._parameter_count = sum(p.size for p in self.module_.parameters())
        self.criterion_ = self._build_criterion()
        self.optimizer_ = self._build_optimizer(self._optimizer_parameters())
        self.scheduler_ = self._build_scheduler()
        self.history_ = []
        self.loss_curve_ = []
        validating = self._uses_validation()
        self.validation_scores_ = [] if validating else None
        self.best_validation_score_ = -math.inf if validating else None
        self.best_loss_ = None if self.early_stopping else math.inf
        self._best_monitored = math.inf
        self._best_state = None
        self._no_improvement = 0
        self.n_iter_ = 0
        self.t_ = 0

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        self._validate_common()
        fitted = hasattr(self, "module_")
        continuing = fitted and (incremental or self.warm_start)
        X, y = self._check_X_y(X, y, reset=not continuing)
        self._check_targets(y)
        if sample_weight is not None:
            from sklearn.utils.validation import _check_sample_weight

            sample_weight = _check_sample_weight(sample_weight, X, dtype=check_dtype(self.dtype),
                                                 ensure_non_negative=True)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True: one epoch "
                             "per call leaves nothing to stop; use fit.")
        snapshot = self._snapshot() if continuing else None
        try:
            if not continuing:
                self._initialize(X, self._initial_targets(y, classes))
                self.callbacks_ = self._named_callbacks()
            else:
                self._refresh_optimizer()
            X, y, sample_weight = _drop_unweighted(X, y, sample_weight)
            self._train(X, y, sample_weight, n_epochs=1 if incremental else self._max_epochs())
        except FloatingPointError:
            self._restore(snapshot)
            raise
        return self

    def _initial_targets(self, y, classes):
        return y

    def _batch_rows(self, n_samples):
        """Rows per minibatch: ``batch_size``, "auto" = min(200, n), never above n."""
        size = 200 if self.batch_size == "auto" else self.batch_size
        return min(size, n_samples)

    def _refresh_optimizer(self):
        """Apply changed optimizer settings when training continues.

        The optimizer is rebuilt from the current parameters (so a new
        learning rate or solver takes effect); if its class is unchanged
        its state (moments, step counts) carries over.
        """
        fresh = self._build_optimizer(self._optimizer_parameters())
        if type(fresh) is type(self.optimizer_):
            fresh.state = self.optimizer_.state
        self.optimizer_ = fresh
        old_scheduler, self.scheduler_ = self.scheduler_, self._build_scheduler()
        if old_scheduler is not None and type(old_scheduler) is type(self.scheduler_):
            self.scheduler_.load_state_dict(old_scheduler.state_dict())

    # -- learning-rate schedule ----------------------------------------------------
    def _schedule_spec(self):
        spec = self.lr_schedule
        if isinstance(spec, tuple):
            if len(spec) != 2 or not isinstance(spec[1], dict):
                raise ValueError("lr_schedule as a tuple must be (name or class, dict of options); "
                                 f"got {spec!r}.")
            return spec
        return spec, {}

    def _build_scheduler(self):
        if self.lr_schedule is None:
            return None
        spec, options = self._schedule_spec()
        scheduler = lr_scheduler.make_scheduler(spec, self.optimizer_, **options)
        self._schedule_per_batch = lr_scheduler.scheduler_steps_per_batch(scheduler)
        self._schedule_metric = lr_scheduler.needs_metric(scheduler)
        if self._schedule_metric and not self._uses_validation():
            raise ValueError("lr_schedule is a ReduceLROnPlateau, which watches the validation "
                             "loss: set validation_fraction > 0.")
        return scheduler

    def _schedule_needs_metric(self):
        """Whether the schedule, as given, is a plateau schedule (known before building it)."""
        if self.lr_schedule is None:
            return False
        spec, _ = self._schedule_spec()
        return spec == "plateau" or (isinstance(spec, type)
                                     and issubclass(spec, lr_scheduler.ReduceLROnPlateau))

    def _step_schedule(self, row):
        """Per-epoch schedule step (plateau schedules get the validation loss)."""
        if self.scheduler_ is None or self._schedule_per_batch:
            return
        if self._schedule_metric:
            self.scheduler_.step(row["valid_loss"])
        else:
            self.scheduler_.step()

    def _sample_weights(self, y, sample_weight):
        """Per-sample weights used by the loss (None when all are 1)."""
        return sample_weight

    def _uses_validation(self):
        """True when part of the data is held out to report validation loss/score."""
        return bool(self.validation_fraction) and (self.early_stopping or self._wants_validation())

    def _split(self, X, y, weights):
        if not self._uses_validation():
            return (X, y, weights), None
        stratify = self._targets.stratify(y) if self._is_classifier() else None
        arrays = [X, y] + ([weights] if weights is not None else [])
        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        try:
            parts = train_test_split(*arrays, test_size=self.validation_fraction,
                                     random_state=seed, stratify=stratify)
        except ValueError:  # a class too rare to stratify
            parts = train_test_split(*arrays, test_size=self.validation_fraction,
                                     random_state=seed)
        train, valid = parts[0::2], parts[1::2]
        if valid[0].shape[0] < 2:
            raise ValueError("The validation set is too small: increase validation_fraction "
                             "or the number of samples.")
        pad = (None,) if weights is None else ()
        return tuple(train) + pad, tuple(valid) + pad

    def _wants_validation(self):
        return self._schedule_needs_metric()

    def _train(self, X, y, sample_weight, n_epochs):
        dtype = check_dtype(self.dtype)
        weights = self._sample_weights(y, sample_weight)
        (X_train, y_train, w_train), valid = self._split(X, y, weights)
        targets = self._targets.transform(y_train, dtype)
        n = X_train.shape[0]
        batch_size = self._batch_rows(n)
        callbacks = [cb for _, cb in self.callbacks_]
        params = list(self.module_.parameters())
        self._planned_epochs = n_epochs
        self._stop_reason = None
        if n_epochs > 1:
            self._no_improvement = 0
        for cb in callbacks:
            cb.on_train_begin(self, X_train, y_train)
        with thread_limits(self.n_threads, batch_size * self._n_parameters()):
            try:
                for _ in range(n_epochs):
                    self._set_noise_level()
                    for cb in callbacks:
                        cb.on_epoch_begin(self, self.n_iter_)
                    start = time.perf_counter()
                    train_loss = self._run_epoch(X_train, targets, w_train, batch_size, params,
                                                 callbacks)
                    self.n_iter_ += 1
                    self.t_ += n
                    row = {"epoch": self.n_iter_, "train_loss": train_loss, "valid_loss": None,
                           "valid_score": None, "lr": self.optimizer_.param_groups[0]["lr"]}
                    if valid is not None:
                        row["valid_loss"], row["valid_score"] = self._evaluate(*valid)
                    row["time"] = time.perf_counter() - start
                    self.history_.append(row)
                    self.loss_curve_.append(train_loss)
                    self._update_stopping(row)
                    self._step_schedule(row)
                    for cb in callbacks:
                        cb.on_epoch_end(self, row)
                    if self.verbose > 1:
                        print(", ".join(f"{k}={v:.6g}" for k, v in row.items() if v is not None))
                    if self._stop_reason is not None:
                        break
                else:
                    if n_epochs > 1 and self._warn_max_epochs:
                        warnings.warn(f"{type(self).__name__}: the maximum number of epochs "
                                      f"({n_epochs}) was reached and the optimization has not "
                                      "converged yet.", ConvergenceWarning)
            finally:
                for cb in callbacks:
                    cb.on_train_end(self)
        if self.early_stopping and self._best_state is not None:
            self.module_.load_state_dict(self._best_state)
        self.module_.zero_grad()
        self.module_.eval()

    def _run_epoch(self, X, targets, weights, batch_size, params, callbacks):
        """One pass over the (shuffled) training data; returns the mean loss."""
        n = X.shape[0]
        self.module_.train()
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        total = 0.0
        for begin in range(0, n, batch_size):
            idx = order[begin:begin + batch_size]
            w = None if weights is None else weights[idx]
            total += self._step(self._batch(X, idx), targets[idx], w, params, callbacks) * len(idx)
        train_loss = total / n
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"The training loss became {train_loss} at epoch {self.n_iter_ + 1}. "
                "Likely causes: a learning rate too high for this problem (lower lr / "
                "learning_rate_init), unscaled inputs (try StandardScaler), or extreme "
                "targets. The model was left as it was before this fit.")
        return train_loss

    def _batch(self, X, idx):
        xb = X[idx]
        xb = xb.toarray() if sp.issparse(xb) else xb
        return xb if self.device_ == "cpu" else to_device(xb, self.device_)

    def _step(self, xb, yb, wb, params, callbacks):
        if self.device_ != "cpu":
            yb = to_device(yb, self.device_)
            wb = None if wb is None else to_device(wb, self.device_)
        xb = self._augment_batch(xb)
        std, on = self._noise_std, self._noise.on
        if std and on == "inputs":
            xb = xb + gaussian_like(self._rng, xb, std, self.device_)
        perturbed = self._perturb_weights(std) if std and on == "weights" else ()
        self.optimizer_.zero_grad()
        loss = self._compute_loss(self.module_(Tensor(xb)), yb, wb)
        loss.backward()
        for weight, noise in perturbed:  # the gradient was taken at the noisy weights
            weight.data -= noise
        penalty = self._penalty(len(yb) if wb is None else float(wb.sum()))
        if self.clip_grad_norm is not None:
            clip_grad_norm_(params, self.clip_grad_norm)
        for cb in callbacks:
            cb.on_backward_end(self, params)
        self.optimizer_.step()
        if self.scheduler_ is not None and self._schedule_per_batch:
            self.scheduler_.step()
        value = loss.item() + penalty
        for cb in callbacks:
            cb.on_batch_end(self, value, len(yb))
        return value

    def _augment_batch(self, xb):
        """Random augmentation of one training batch (none by default)."""
        return xb

    def _perturb_weights(self, std):
        """Add noise to the weight matrices for one step; returns what to take off again."""
        perturbed = []
        for weight in self._penalized_weights():
            noise = gaussian_like(self._rng, weight.data, std, self.device_)
            weight.data += noise
            perturbed.append((weight, noise))
        return perturbed

    def _set_noise_level(self):
        """This epoch's noise level (``noise`` decays per epoch, counted over warm starts)."""
        self._noise = parse_noise(self.noise)
        self._noise_std = self._noise.std_at(self.n_iter_)
        if self._noise.on == "activations":
            for layer in self.module_.modules():
                if isinstance(layer, GaussianNoise):
                    layer.std = self._noise_std

    def _evaluate(self, X, y, w):
        """Validation loss (no penalty) and score."""
        dtype = check_dtype(self.dtype)
        targets = self._targets.transform(y, dtype)
        outputs = self._forward(X)
        with no_grad():
            out = Tensor(outputs if self.device_ == "cpu" else to_device(outputs, self.device_))
            tgt = targets if self.device_ == "cpu" else to_device(targets, self.device_)
            wt = w if w is None or self.device_ == "cpu" else to_device(w, self.device_)
            loss = float(self._compute_loss(out, tgt, wt).item())
        return loss, self._validation_score(X, y, w)

    def _monitor(self):
        """Which history key the built-in stopping rule watches."""
        if self.early_stopping:
            return "valid_score" if self._scores_validation() else "valid_loss"
        return "train_loss"

    def _scores_validation(self):
        return False

    def _update_stopping(self, row):
        """scikit-learn's rule: stall for more than n_iter_no_change epochs, then stop.

        The monitored value must beat its best by ``tol`` to count as an
        improvement; with early stopping the best weights are remembered and
        restored at the end.
        """
        key = self._monitor()
        value = row[key] if key != "valid_score" else -row[key]  # minimise
        improved = value <= self._best_monitored - self.tol
        if value < self._best_monitored:
            self._best_monitored = value
            if key != "train_loss":
                self._best_state = self.module_.state_dict()
        if row["valid_score"] is not None:
            self.validation_scores_.append(row["valid_score"])
            self.best_validation_score_ = max(self.best_validation_score_, row["valid_score"])
        if self.best_loss_ is not None:
            self.best_loss_ = min(self.best_loss_, row["train_loss"])
        self._no_improvement = 0 if improved else self._no_improvement + 1
        if self._no_improvement > self.n_iter_no_change:
            if self._on_no_improvement():
                what = {"valid_score": "Validation score", "valid_loss": "Validation loss",
                        "train_loss": "Training loss"}[key]
                self.stop_training(f"{what} did not improve more than tol={self.tol} for "
                                   f"{self.n_iter_no_change} consecutive epochs.")
            else:
                self._no_improvement = 0

    # -- prediction ----------------------------------------------------------------
    def _forward(self, X, batch_size=None):
        """Network outputs for ``X`` as a numpy array, in inference mode."""
        batch_size = batch_size or max(1024, self.batch_size if isinstance(self.batch_size, int) else 0)
        if self.module_.training:
            self.module_.eval()
        outputs = []
        with no_grad():
            for begin in range(0, X.shape[0], batch_size):
                xb = self._batch(X, slice(begin, begin + batch_size))
                outputs.append(to_numpy(self.module_(Tensor(xb)).data))
        if not outputs:
            raise ValueError("X has 0 samples.")
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def _predict_outputs(self, X):
        check_is_fitted(self, "module_")
        X = self._check_X_fast(X)
        with thread_limits(self.n_threads, X.shape[0] * self._n_parameters()):
            return self._forward(X)

    def _n_parameters(self):
        # Counted once per model (in _initialize): walking the modules costs more
        # than a small predict.
        return self._parameter_count

    def _check_X_fast(self, X):
        """``validate_data`` for prediction, with a short path for plain arrays.

        A float ndarray given to a model fitted without feature names needs
        only the checks below; everything else (lists, frames, sparse,
        memmaps) goes through scikit-learn's validation. A single-row
        ``predict`` spends most of its time here otherwise.
        """
        if (type(X) is not np.ndarray or X.ndim != 2 or X.dtype.kind != "f"
                or hasattr(self, "feature_names_in_") or X.shape[0] == 0):
            return self._check_X(X, reset=False)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")
        X = X.astype(check_dtype(self.dtype), copy=False)
        if not np.isfinite(X.sum()) and not np.isfinite(X).all():
            return self._check_X(X, reset=False)  # raises scikit-learn's NaN/inf error
        return X

    # -- persistence ----------------------------------------------------------------
    def _snapshot(self):
        snap = {k: list(v) if isinstance(v, list) else v
                for k, v in self.__dict__.items() if k in _FITTED_STATE}
        snap["module_state"] = self.module_.state_dict()
        snap["optimizer_state"] = self.optimizer_.state_dict()
        snap["scheduler_state"] = None if self.scheduler_ is None else self.scheduler_.state_dict()
        snap["rng_state"] = copy.deepcopy(self._rng.bit_generator.state)
        return snap

    def _restore(self, snapshot):
        """Undo a failed fit: back to the snapshot, or to an unfitted estimator."""
        if snapshot is None:
            for key in _FITTED_STATE:
                self.__dict__.pop(key, None)
            return
        module_state = snapshot.pop("module_state")
        optimizer_state = snapshot.pop("optimizer_state")
        scheduler_state = snapshot.pop("scheduler_state")
        rng_state = snapshot.pop("rng_state")
        self.__dict__.update(snapshot)
        self.module_.load_state_dict(module_state)
        self.optimizer_.load_state_dict(optimizer_state)
        if scheduler_state is not None:
            self.scheduler_.load_state_dict(scheduler_state)
        self._rng.bit_generator.state = rng_state

    def __getstate__(self):
        state = self.__dict__.copy()
        if "module_" in state:
            module = state["module_"]
            if self.device_ != "cpu":
                module = copy.deepcopy(module).to(device="cpu")
                state["device_"] = "cpu"  # reloads and predicts without a GPU
            state["module_"] = module
            state["optimizer_"] = None
            state["_optimizer_state"] = self.optimizer_.state_dict()
            state["scheduler_"] = None
            if self.scheduler_ is not None:
                state["_scheduler_state"] = self.scheduler_.state_dict()
        return state

    def __setstate__(self, state):
        optimizer_state = state.pop("_optimizer_state", None)
        scheduler_state = state.pop("_scheduler_state", None)
        self.__dict__.update(state)
        if optimizer_state is not None:
            self.optimizer_ = self._build_optimizer(self._optimizer_parameters())
            self.optimizer_.load_state_dict(optimizer_state)
        if scheduler_state is not None:
            self.scheduler_ = self._build_scheduler()
            self.scheduler_.load_state_dict(scheduler_state)
