"""The spine that every estimator of the library shares.

``BaseNeuralNet`` turns user input into a Dataset of the data layer, builds
the collaborators of a model — the module, the criterion (a loss module),
the optimizer and a trainer — and hands batches to the trainer, which holds
the one epoch loop (``_trainer.py``). A family estimator is thin: it builds
its module from readable parameters and says how its X becomes a Dataset
(``_check_X_y`` / ``_check_X_fast`` read and check X, ``_dataset`` wraps it).

A fit is a transaction: any exception restores the estimator exactly as it
was before the call. Ctrl-C stops at a batch boundary and keeps the model
trained so far, with a warning. Evaluation runs in ``nn.eval_mode()`` and
never changes the mode of the module being trained.
"""

import copy
import math
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from sklears_neural._dispatch import products_pool
from sklears_neural._threads import thread_limits
from sklears_neural._versions import checked_state, with_versions
from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.backend import check_dtype, parse_device, to_device, to_numpy
from sklears_neural.base._callbacks import (
    Callback,
    EarlyStopping,
    GradientClipping,
    LearningRateSchedule,
    ProgressBar,
    ScheduleStep,
    StoppingRule,
)
from sklears_neural.base._checks import OPTIMIZERS, resolve_optimizer
from sklears_neural.base._history import History
from sklears_neural.base._l2_fold import foldable, split_penalized
from sklears_neural.base._noise import gaussian_like, parse_noise
from sklears_neural.base._params import TRAINING_CONSTRAINTS
from sklears_neural.base._streaming import EncodedStream
from sklears_neural.base._trainer import (
    MinibatchTrainer,
    evaluate_outputs,
    sample_rows,
)
from sklears_neural.data import ArrayDataset, DataLoader, IterableDataset
from sklears_neural.data import Dataset as _Dataset
from sklears_neural.nn import BatchNorm1d, GaussianNoise
from sklears_neural.optim import lr_scheduler

__all__ = ["BaseNeuralNet", "resolve_optimizer", "OPTIMIZERS"]

def _copy_callbacks(named):
    """Copies of fitted callbacks (their state changes during a fit); as they are if a
    callback cannot be copied."""
    copied = []
    for name, cb in named:
        try:
            copied.append((name, copy.deepcopy(cb)))
        except Exception:  # e.g. an open file or lock: keep the object itself
            copied.append((name, cb))
    return copied


def _drop_unweighted(dataset):
    """The rows of weight > 0, so that weight-0 rows change neither batches nor shuffling."""
    weights = dataset.sample_weight
    if weights is None:
        return dataset
    if not weights.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    keep = weights > 0
    return dataset if keep.all() else dataset.subset(np.flatnonzero(keep))


class BaseNeuralNet(BaseEstimator):
    """Shared fitting machinery; not used directly.

    Subclasses define the constructor parameters and build the module
    (``_build_module``), the criterion (``_build_criterion``) and the
    optimizer (``_build_optimizer``). The spine reads ``batch_size``,
    ``shuffle``, ``random_state``, ``verbose``, ``warm_start``, ``device``,
    ``dtype``, ``tol``, ``n_iter_no_change``, ``early_stopping``,
    ``validation_fraction``, ``callbacks``, ``n_threads``, ``alpha``,
    ``l1``, ``clip_grad_norm``, ``noise``, ``lr_schedule`` and ``max_iter``.
    """

    # -- what subclasses provide -----------------------------------------------
    def _build_module(self, n_features, n_outputs, generator):
        raise NotImplementedError

    def _build_criterion(self):
        raise NotImplementedError

    def _build_optimizer(self, parameters):
        raise NotImplementedError

    def _make_trainer(self):
        """The trainer that runs the epochs (minibatch by default)."""
        return MinibatchTrainer()

    #: Whether the estimator builds its network from readable parameters (and
    #: so can place noise layers in it), rather than taking a user's module.
    _builds_network = True
    @property
    def _thread_pool(self):
        """Which thread pool owns the cores during fit and predict (``_threads``).

        The one that runs the matrix products (``_dispatch.products_pool``):
        the BLAS's, or the engine's where float32 products run on our AVX-512
        GEMM. Convolutional and recurrent estimators set ``"engine"``: their
        kernels run batch-parallel loops with a single-threaded BLAS inside.
        """
        return products_pool(check_dtype(self.dtype))

    #: Warn when fit ends on max_iter without the stopping rule firing.
    _warn_max_epochs = True

    def _optimizer_parameters(self):
        """What the optimizer is built on: the module's parameters, or groups of them."""
        return list(self.module_.parameters())

    def _make_targets(self):
        raise NotImplementedError

    def _optimizer_groups(self):
        """``_optimizer_parameters``, with the penalised weights in groups of their own
        when ``alpha`` is set and the optimizer can add the L2 gradient in its step
        (each group, yours from ``optimizer__param_groups`` included, is split in two)."""
        parameters = self._optimizer_parameters()
        options = self._routed("optimizer") if hasattr(self, "_routed") else {}
        if self.alpha and foldable(self._optimizer_class(), options):
            return split_penalized(parameters, self._penalized_weights())
        return parameters

    def _penalized_weights(self):
        """Parameters the L1/L2 penalties apply to: weight matrices, not biases or norms."""
        return self._weight_matrices

    def _score_outputs(self, outputs, targets, sample_weight):
        """Score of encoded targets from network outputs (accuracy, R²)."""
        raise NotImplementedError

    def _on_no_improvement(self):
        """Called when the monitored value stalls; return True to stop."""
        return True

    def _extra_validation(self):
        """Check subclass parameters at the start of ``fit``."""

    def _check_targets(self, y):
        """Check ``y`` beyond what scikit-learn's validation does (e.g. its sign)."""

    def _augment_batch(self, inputs):
        """Random augmentation of one training batch input (none by default)."""
        return inputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- public API -------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None, *, validation_data=None):
        """Train on ``(X, y)``.

        With ``warm_start=True`` and a fitted model, training continues from
        the current weights and optimizer state; otherwise it starts afresh.
        If anything raises, the estimator is left exactly as it was before
        the call.

        Parameters
        ----------
        X : {array-like, sparse matrix}, Dataset or IterableDataset
            Training inputs, or a dataset of ``sklears_neural.data`` that
            holds the targets too (then ``y`` is None). An
            ``IterableDataset`` (``ArrayStream``, ``GeneratorStream``)
            streams chunks that never sit whole in memory.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets; None when ``X`` is a dataset that holds them (or for an
            estimator that needs none).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss; rows with weight 0 do not
            influence the model.
        validation_data : tuple (X_val, y_val) or (X_val, y_val, w_val), default=None
            Held-out data scored every epoch (``valid_loss`` and
            ``valid_score`` in ``history_``) instead of a
            ``validation_fraction`` split.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False,
                         validation_data=validation_data)

    def partial_fit(self, X, y=None, sample_weight=None, **kwargs):
        """Run one epoch over ``(X, y)``, initialising the model on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix}, Dataset or IterableDataset
            Training inputs, as for ``fit``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets, as for ``fit``.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.
        **kwargs : dict
            ``classes`` (a classifier's full set of classes, required on its first
            call) and ``validation_data``, as for ``fit``.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, **kwargs)

    def stop_training(self, reason):
        """Ask the loop to stop after the current epoch (used by callbacks).

        Parameters
        ----------
        reason : str
            A description of why training stops.
        """
        self._stop_reason = reason

    # -- parameters -----------------------------------------------------------------
    def _max_epochs(self):
        """Epochs of one ``fit``: ``max_iter`` (``max_epochs``, deprecated, if given)."""
        old = getattr(self, "max_epochs", "deprecated")
        if not (isinstance(old, str) and old == "deprecated"):
            return old
        return self.max_iter

    _parameter_constraints = dict(TRAINING_CONSTRAINTS)

    def _validate_common(self):
        """Check every parameter at the start of ``fit`` (nothing is checked before)."""
        self._validate_params()
        old = getattr(self, "max_epochs", "deprecated")
        if not (isinstance(old, str) and old == "deprecated"):
            warnings.warn("max_epochs was renamed max_iter (scikit-learn's name) and will be "
                          "removed in the next release; use max_iter.", FutureWarning)
        noise = parse_noise(self.noise)
        if noise.on == "activations" and noise.std > 0 and not self._builds_network:
            raise ValueError("noise={'on': 'activations', ...} needs an estimator that builds "
                             "its own network (MLP, CNN, ...); put nn.GaussianNoise layers in "
                             "your module instead.")
        if self.lr_schedule is not None:
            self._schedule_spec()  # checks the (spec, options) form
        parse_device(self.device)
        check_dtype(self.dtype)
        self._extra_validation()

    def _validation_share(self):
        """The held-out share: ``validation_fraction``, or 0.1 when None and something
        watches the validation data (early stopping, a plateau schedule). Nothing is held
        out when ``fit`` got ``validation_data``."""
        if getattr(self, "_validation_given", False):
            return 0.0
        if self.validation_fraction is not None:
            return float(self.validation_fraction)
        return 0.1 if (self.early_stopping or self._schedule_needs_metric()) else 0.0

    def _validates(self):
        """Whether every epoch is scored on validation data."""
        return getattr(self, "_validation_given", False) or bool(self._validation_share())

    # -- the data adapter: X -> Dataset ---------------------------------------------
    def _check_X(self, X, reset):
        dtype = check_dtype(self.dtype)
        return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=dtype, reset=reset)

    def _check_X_y(self, X, y, reset):
        dtype = check_dtype(self.dtype)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=dtype,
                             multi_output=True, y_numeric=not self._is_classifier(), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # scikit-learn's DataConversionWarning
        if sp.issparse(X):
            X = X.tocsr()
        return X, y

    def _dataset(self, features, y=None, sample_weight=None):
        """The Dataset that the trainer and prediction read ``features`` through."""
        return ArrayDataset(features, y, sample_weight)

    def _is_classifier(self):
        return is_classifier(self)

    # -- fitting ------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, incremental, classes=None, validation_data=None):
        self._validate_common()
        if self.early_stopping and self.validation_fraction == 0 and validation_data is None:
            raise ValueError("early_stopping=True needs validation data: set "
                             "validation_fraction > 0 (or None for 0.1), or pass "
                             "fit(..., validation_data=(X_val, y_val)).")
        fitted = hasattr(self, "module_")
        continuing = fitted and (incremental or self.warm_start)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True: one epoch "
                             "per call leaves nothing to stop; use fit.")
        snapshot = self._snapshot(continuing)
        self._validation_given = validation_data is not None
        try:
            train, valid = self._training_data(X, y, sample_weight, continuing, classes,
                                               validation_data)
            if continuing:
                self._refresh_optimizer()
            self.callbacks_ = self._named_callbacks()
            callbacks = [cb for _, cb in self.callbacks_]
            loader = self._loader(train)
            self._check_batch_norm(loader)
            n_epochs = 1 if incremental else self._max_epochs()
            self._planned_epochs = n_epochs
            if n_epochs > 1:
                self._no_improvement = 0
            self._make_trainer().train(self, loader, valid, n_epochs, callbacks)
        except BaseException:
            self._restore(snapshot)
            raise
        finally:
            if hasattr(self, "module_"):
                self.module_.zero_grad()
                self.module_.eval()
        return self

    def _training_data(self, X, y, sample_weight, continuing, classes, validation_data):
        """Validate the input, set up a new model if needed; return (train, valid) datasets."""
        dtype = check_dtype(self.dtype)
        if isinstance(X, IterableDataset):
            return self._stream_data(X, y, sample_weight, continuing, classes, validation_data)
        if isinstance(X, _Dataset):
            if y is not None or sample_weight is not None:
                raise ValueError("X is a Dataset, which holds its targets and weights: pass "
                                 "y=None and sample_weight=None.")
            # An ArrayDataset gives its rows; other datasets go to the family's reader.
            X, y, sample_weight = (X.X if isinstance(X, ArrayDataset) else X), X.y, X.sample_weight
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None.")
        features, y = self._check_X_y(X, y, reset=not continuing)
        self._check_targets(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, sample_rows(features), dtype=dtype,
                                                 ensure_non_negative=True)
        if not continuing:
            self._initialize(self._initial_targets(y, classes))
        weights = self._sample_weights(y, sample_weight)
        encoded = self._targets.transform(y, dtype)
        data = _drop_unweighted(self._dataset(features, encoded, weights))
        if validation_data is not None:
            return data, self._validation_dataset(validation_data)
        share = self._validation_share()
        if not share:
            return data, None
        return self._split(data, share)

    def _validation_dataset(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
                             f"sample_weight_val); got {type(validation_data).__name__}.")
        X_val, y_val = validation_data[:2]
        w_val = validation_data[2] if len(validation_data) == 3 else None
        features, y_val = self._check_X_y(X_val, y_val, reset=False)
        dtype = check_dtype(self.dtype)
        if w_val is not None:
            w_val = _check_sample_weight(w_val, sample_rows(features), dtype=dtype,
                                         ensure_non_negative=True)
        return self._dataset(features, self._targets.transform(y_val, dtype),
                             self._sample_weights(y_val, w_val))

    def _split(self, data, share):
        """Hold out ``share`` of the rows (stratified for classifiers) for validation."""
        n = len(data)
        stratify = self._targets.stratify_encoded(data.y) if self._is_classifier() else None
        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        try:
            train_idx, valid_idx = train_test_split(np.arange(n), test_size=share,
                                                    random_state=seed, stratify=stratify)
        except ValueError:  # a class too rare to stratify
            train_idx, valid_idx = train_test_split(np.arange(n), test_size=share,
                                                    random_state=seed)
        if len(valid_idx) < 2:
            raise ValueError("The validation set is too small: increase validation_fraction "
                             "or the number of samples.")
        return data.subset(train_idx), data.subset(valid_idx)

    def _stream_data(self, stream, y, sample_weight, continuing, classes, validation_data):
        if y is not None or sample_weight is not None:
            raise ValueError("X is a stream that yields its own targets (and weights): pass "
                             "y=None and sample_weight=None.")
        if self._validation_share() and validation_data is None:
            raise ValueError("A streamed fit cannot hold out a validation_fraction: set "
                             "validation_fraction=0 or pass validation_data=(X_val, y_val).")
        stream = EncodedStream(self, stream, reset=not continuing)
        balanced = (self._is_classifier() and isinstance(self.class_weight, str)
                    and self.class_weight == "balanced")
        targets = stream.all_targets() if balanced or (
            not continuing and classes is None and self._is_classifier()) else None
        if not continuing:
            self._initialize(np.asarray(classes if classes is not None else targets)
                             if self._is_classifier() else stream.first_targets())
        if balanced:
            stream.balance_classes(self.classes_, targets)
        valid = None if validation_data is None else self._validation_dataset(validation_data)
        return stream, valid

    def _loader(self, dataset):
        """Minibatches of the training data.

        A last batch of one row is merged into the one before it, so that
        batch normalisation always sees at least two rows per batch.
        """
        streamed = isinstance(dataset, IterableDataset)
        batch_size = self._batch_rows(None if streamed else len(dataset))
        shuffle = bool(self.shuffle) and not streamed
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                          generator=self._rng if shuffle else None,
                          min_batch_size=min(2, batch_size), prefetch=False)

    def _check_batch_norm(self, loader):
        """Batch normalisation needs two rows per batch: say so in terms of ``batch_size``."""
        streamed = isinstance(loader.dataset, IterableDataset)
        rows = None if streamed else len(loader.dataset)
        if loader.batch_size >= 2 and (streamed or rows >= 2):
            return
        if any(isinstance(m, BatchNorm1d) for m in self.module_.modules()):
            samples = "a stream" if streamed else (
                "1 sample" if rows == 1 else f"{rows} samples")
            raise ValueError(
                f"batch_size={self.batch_size!r} with {samples} gives batches of one row, which "
                "batch normalisation cannot train on (it needs the statistics of at least 2 "
                "rows): use batch_size >= 2 with at least 2 training samples, or turn batch "
                "normalisation off.")

    def _batch_rows(self, n_samples):
        """Rows per minibatch: ``batch_size``, "auto" = min(200, n), never above n."""
        size = 200 if self.batch_size == "auto" else self.batch_size
        return size if n_samples is None else max(1, min(size, n_samples))

    def _batch_work(self, rows=None):
        """Multiply-adds of one batch, roughly, for the thread policy."""
        rows = rows or self._batch_rows(None)
        return rows * self._parameter_count

    def _initial_targets(self, y, classes):
        return y

    def _sample_weights(self, y, sample_weight):
        """Per-sample weights used by the loss (None when all are 1)."""
        return sample_weight

    def _initialize(self, y):
        """Targets, module, criterion, optimizer and history for a new model."""
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(np.iinfo(np.int32).max)
        self._rng = np.random.default_rng(seed)
        self._targets = self._make_targets().fit(y)
        if hasattr(self._targets, "classes_"):
            self.classes_ = self._targets.classes_
        self.n_outputs_ = self._targets.n_outputs
        self.device_ = self.device
        self.module_ = self._build_module(self.n_features_in_, self.n_outputs_, self._rng)
        self.module_.to(device=self.device_, dtype=self.dtype)
        self._on_new_module()
        self.criterion_ = self._build_criterion()
        self.optimizer_ = self._build_optimizer(self._optimizer_groups())
        self.scheduler_ = self._build_scheduler()
        self.history_ = History()
        self.loss_curve_ = []
        validating = self._validates()
        self.validation_scores_ = [] if validating else None
        self.best_validation_score_ = -math.inf if validating else None
        self.best_loss_ = None if self.early_stopping else math.inf
        self._best_monitored = math.inf
        self._best_state = None
        self._no_improvement = 0
        self._callback_sources = {}
        self._l2_fold = None
        self.n_iter_ = 0
        self.t_ = 0

    def _on_new_module(self):
        """Cache what is read per batch or per predict from the module's structure."""
        self._parameter_count = sum(p.size for p in self.module_.parameters())
        self._weight_matrices = [p for p in self.module_.parameters() if p.ndim >= 2]

    def _refresh_optimizer(self):
        """Apply changed optimizer settings when training continues.

        The optimizer is rebuilt from the current parameters (so a new
        learning rate or solver takes effect); if its class is unchanged
        its state (moments, step counts) carries over.
        """
        fresh = self._build_optimizer(self._optimizer_groups())
        if type(fresh) is type(self.optimizer_):
            fresh.state = self.optimizer_.state
        self.optimizer_ = fresh
        old_scheduler, self.scheduler_ = self.scheduler_, self._build_scheduler()
        if old_scheduler is not None and type(old_scheduler) is type(self.scheduler_):
            self.scheduler_.load_state_dict(old_scheduler.state_dict())

    # -- callbacks: the parameters switch on the default ones ----------------------
    def _named_callbacks(self):
        """This fit's callbacks, re-read from ``callbacks`` (a callback given again
        keeps the state of its fitted copy; a removed one no longer runs)."""
        sources = getattr(self, "_callback_sources", {})
        fitted = dict(getattr(self, "callbacks_", ()))
        named = [("stopping", StoppingRule())]
        if self.clip_grad_norm is not None:
            named.append(("gradientclipping", GradientClipping(max_norm=self.clip_grad_norm)))
        if self.scheduler_ is not None:
            named.append(("schedule", ScheduleStep()))
        new_sources = {}
        for i, entry in enumerate(self.callbacks or ()):
            name, cb = entry if isinstance(entry, tuple) else (type(entry).__name__.lower(), entry)
            if not isinstance(cb, Callback):
                raise ValueError(f"callbacks[{i}] is {cb!r}, not a Callback instance.")
            same = sources.get(name) is cb and name in fitted
            named.append((name, fitted[name] if same else copy.deepcopy(cb)))
            new_sources[name] = cb
        self._check_one_mechanism([cb for _, cb in named[len(named) - len(new_sources):]])
        names = [name for name, _ in named]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"Callback names must be unique; {repeated} appear more than once "
                             "(a callback is named after its class unless given as a (name, "
                             "callback) pair; 'stopping', 'gradientclipping' and 'schedule' "
                             "are the default callbacks').")
        if self.verbose and not any(isinstance(cb, ProgressBar) for _, cb in named):
            named.append(("progressbar", ProgressBar()))
        self._callback_sources = new_sources
        return named

    def _check_one_mechanism(self, user_callbacks):
        """A parameter and a callback doing the same job would fight: refuse the pair."""
        pairs = ((EarlyStopping, "early_stopping", self.early_stopping),
                 (LearningRateSchedule, "lr_schedule", self.lr_schedule is not None),
                 (GradientClipping, "clip_grad_norm", self.clip_grad_norm is not None))
        for kind, parameter, switched_on in pairs:
            if switched_on and any(isinstance(cb, kind) for cb in user_callbacks):
                raise ValueError(
                    f"{parameter} and a {kind.__name__} callback both do this job and would "
                    f"disagree: set {parameter} (which switches on the default callback) or "
                    f"pass the {kind.__name__} callback, not both.")

    # -- one step: criterion, noise ---------------------------------------------------
    def _criterion_loss(self, output, target, sample_weight):
        if sample_weight is None:
            return self.criterion_(output, target)
        return self.criterion_(output, target, sample_weight=sample_weight)

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

    # -- learning-rate schedule ----------------------------------------------------
    def _schedule_spec(self):
        spec = self.lr_schedule
        if isinstance(spec, tuple):
            if len(spec) != 2 or not isinstance(spec[1], dict):
                raise ValueError("lr_schedule as a tuple must be (name or class, dict of options); "
                                 f"got {spec!r}.")
            return spec
        if isinstance(spec, str) and spec == "cosine":
            return spec, {"T_max": self._max_epochs()}  # one cosine over the whole fit
        return spec, {}

    def _build_scheduler(self):
        if self.lr_schedule is None:
            return None
        spec, options = self._schedule_spec()
        scheduler = lr_scheduler.make_scheduler(spec, self.optimizer_, **options)
        self._schedule_per_batch = lr_scheduler.scheduler_steps_per_batch(scheduler)
        self._schedule_metric = lr_scheduler.needs_metric(scheduler)
        if self._schedule_metric and not self._validates():
            raise ValueError("lr_schedule is a ReduceLROnPlateau, which watches the validation "
                             "loss: set validation_fraction > 0 (or leave it None), or pass "
                             "fit(..., validation_data=(X_val, y_val)).")
        return scheduler

    def _schedule_needs_metric(self):
        """Whether the schedule, as given, is a plateau schedule (known before building it)."""
        if self.lr_schedule is None:
            return False
        spec, _ = self._schedule_spec()
        return (isinstance(spec, str) and spec == "plateau") or (
            isinstance(spec, type) and issubclass(spec, lr_scheduler.ReduceLROnPlateau))

    def _step_schedule(self, row):
        """Per-epoch schedule step (plateau schedules get the validation loss)."""
        if self.scheduler_ is None or self._schedule_per_batch:
            return
        if self._schedule_metric:
            self.scheduler_.step(row["valid_loss"])
        else:
            self.scheduler_.step()

    def _step_schedule_batch(self):
        if self.scheduler_ is not None and self._schedule_per_batch:
            self.scheduler_.step()

    # -- stopping rule (run by the StoppingRule callback) ----------------------------
    def _monitor(self):
        """Which history key the built-in stopping rule watches."""
        if self.early_stopping and self._validates():
            return "valid_score" if self._scores_validation() else "valid_loss"
        return "train_loss"

    def _scores_validation(self):
        return False

    # -- evaluation ------------------------------------------------------------------
    def _evaluate(self, dataset):
        """Validation loss (no penalty) and score, from one forward pass."""
        outputs = evaluate_outputs(self, dataset, self._predict_batch_rows())
        batch = dataset.__getitems__(slice(None))
        targets = batch[1]
        weights = batch[2] if len(batch) > 2 else None
        with no_grad():
            device = self.device_
            tgt = targets if device == "cpu" else to_device(targets, device)
            wt = weights if weights is None or device == "cpu" else to_device(weights, device)
            loss = float(self._criterion_loss(Tensor(outputs), tgt, wt).item())
        return loss, self._score_outputs(to_numpy(outputs), targets, weights)

    def _predict_batch_rows(self):
        return max(1024, self.batch_size if isinstance(self.batch_size, int) else 0)

    # -- prediction ----------------------------------------------------------------
    def _forward(self, features):
        """Network outputs for checked ``features`` as a numpy array, in evaluation mode."""
        data = features if type(features) is np.ndarray else self._dataset(features)
        return to_numpy(evaluate_outputs(self, data, self._predict_batch_rows()))

    def _predict_outputs(self, X):
        check_is_fitted(self, "module_")
        features = self._check_X_fast(X)
        n = sample_rows(features).shape[0]
        with thread_limits(self.n_threads, self._batch_work(n), self._thread_pool):
            return self._forward(features)

    def _gradient_input(self, X):
        """The network's input for X, and how to put a gradient over it in X's form.

        Returns ``(features, to_input)``: ``features`` as ``_check_X_fast``
        gives them, and a function that maps an array shaped like their float
        values (the rows, or ``Padded``'s values) to the form of X, so that
        ``sklears_neural.inspection`` can give attributions shaped like X.
        Here rows are X's samples flattened in C order (an ndarray X gets its
        shape back); estimators that read X otherwise override this.
        """
        features = self._check_X_fast(X)
        shape = X.shape if isinstance(X, np.ndarray) else None

        def to_input(grad):
            if shape is not None and grad.size == math.prod(shape):
                return grad.reshape(shape)
            return grad

        return features, to_input

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

    # -- transactions and persistence -------------------------------------------------
    def _snapshot(self, continuing):
        """What ``_restore`` needs to undo a failed fit.

        Every attribute is kept by reference (a fresh fit replaces the
        objects, so the old ones stay intact); a continuing fit changes the
        module, optimizer, scheduler, random state and lists in place, so
        those are copied.
        """
        state = dict(self.__dict__)
        if not continuing or "module_" not in state:
            return state, None
        inplace = {"module": self.module_.state_dict(),
                   "optimizer": self.optimizer_.state_dict(),
                   "optimizer_object": self.optimizer_,
                   "scheduler": None if self.scheduler_ is None else self.scheduler_.state_dict(),
                   "rng": copy.deepcopy(self._rng.bit_generator.state),
                   # Rows of past epochs are never changed: a shallow copy keeps them.
                   "history": self.history_.copy(),
                   "callbacks": _copy_callbacks(state.get("callbacks_", ()))}
        for key, value in state.items():
            if isinstance(value, list) and key != "history_":
                state[key] = list(value)
        return state, inplace

    def _restore(self, snapshot):
        """Undo a failed fit: back to the snapshot, or to an unfitted estimator."""
        state, inplace = snapshot
        self.__dict__.clear()
        self.__dict__.update(state)
        if inplace is None:
            return
        self.module_.load_state_dict(inplace["module"])
        self.optimizer_ = inplace["optimizer_object"]
        self.optimizer_.load_state_dict(inplace["optimizer"])
        if inplace["scheduler"] is not None:
            self.scheduler_.load_state_dict(inplace["scheduler"])
        self._rng.bit_generator.state = inplace["rng"]
        self.history_ = inplace["history"]
        self.callbacks_ = inplace["callbacks"]

    def __getstate__(self):
        state = with_versions(self.__dict__.copy())
        state.pop("_parent_callback_ctx", None)  # scikit-learn's, live only during a fit
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
            state.pop("_weight_matrices", None)
        return state

    def __setstate__(self, state):
        state = checked_state(state, type(self).__name__)
        optimizer_state = state.pop("_optimizer_state", None)
        scheduler_state = state.pop("_scheduler_state", None)
        self.__dict__.update(state)
        if "module_" in state:
            self._on_new_module()
        if optimizer_state is not None:
            self.optimizer_ = self._build_optimizer(self._optimizer_groups())
            self.optimizer_.load_state_dict(optimizer_state)
        if scheduler_state is not None:
            self.scheduler_ = self._build_scheduler()
            self.scheduler_.load_state_dict(scheduler_state)
