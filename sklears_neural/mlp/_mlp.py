"""``MLPClassifier`` / ``MLPRegressor``: drop-in for scikit-learn's, on our engine."""

import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions

from sklears_neural import nn, optim
from sklears_neural._specs import check_activation
from sklears_neural._specs._scalars import check_option, check_real
from sklears_neural.backend import to_numpy
from sklears_neural.base._checks import OPTIMIZERS
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.base._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from sklears_neural.base._noise import parse_noise
from sklears_neural.base._params import CLASSIFIER_CONSTRAINTS, unit_interval
from sklears_neural.base._routing import RoutedParamsMixin
from sklears_neural.base._trainer import LBFGSTrainer
from sklears_neural.mlp._criteria import (
    HalfPoissonDeviance,
    HalfSquaredError,
    OutputSummedBCEWithLogits,
)
from sklears_neural.mlp._network import MLPNetwork
from sklears_neural.optim import lr_scheduler

__all__ = ["MLPClassifier", "MLPRegressor"]

_SOLVERS = ("adam", "sgd", "lbfgs") + tuple(sorted(set(OPTIMIZERS) - {"adam", "sgd"}))

# learning_rate_init="auto": scikit-learn's 1e-3 (so "adam" and "sgd" train
# exactly as scikit-learn's MLPs do), except for the solvers whose usual
# rates are far from it. Measured on digits (25 % stratified split,
# standardised, only ``solver`` set, random_state 0-4), test accuracy at
# 1e-3 -> at the rate here: adagrad 0.91 -> 0.971-0.978 (0.01, PyTorch's
# default), adadelta 0.25 -> 0.973-0.978 (1.0, Zeiler's and PyTorch's),
# lars 0.18 -> 0.973-0.978 (1.0: its steps are scaled by the trust ratio,
# 1e-3 x ||w|| / ||grad||, so the base rate is that of plain SGD).
_AUTO_LEARNING_RATES = {"adagrad": 0.01, "adadelta": 1.0, "lars": 1.0}
_DEFAULT_LEARNING_RATE = 1e-3
_LEARNING_RATES = ("constant", "invscaling", "adaptive")
_REGRESSION_LOSSES = ("squared_error", "poisson", "absolute_error", "huber")


def _per_layer(name, value, n_layers, check):
    """Broadcast a scalar setting to every hidden layer, or check a per-layer list."""
    if isinstance(value, (list, tuple)):
        if len(value) != n_layers:
            raise ValueError(f"{name} has {len(value)} entries but there are {n_layers} hidden "
                             "layers; give one value or one per hidden layer.")
        values = list(value)
    else:
        values = [value] * n_layers
    for v in values:
        check(v)
    return values


class _BaseMLP(RoutedParamsMixin, BaseNeuralNet):
    """What the MLP classifier and regressor share."""

    _ROUTES = ("optimizer", "callbacks")
    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints, **CLASSIFIER_CONSTRAINTS,
        "hidden_layer_sizes": "no_validation", "activation": "no_validation",
        "solver": "no_validation", "learning_rate": "no_validation", "loss": "no_validation",
        "dropout": "no_validation",  # a float, or one per hidden layer
        "learning_rate_init": [Interval(Real, 0, None, closed="neither"),
                               StrOptions({"auto"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": unit_interval("both"),
        "nesterovs_momentum": ["boolean"],
        "beta_1": unit_interval(), "beta_2": unit_interval(),
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "batch_norm": ["boolean"], "layer_norm": ["boolean"], "residual": ["boolean"]}

    def __init__(self, hidden_layer_sizes, activation, *, solver, alpha, batch_size,
                 learning_rate, learning_rate_init, power_t, max_iter, shuffle, random_state,
                 tol, verbose, warm_start, momentum, nesterovs_momentum, early_stopping,
                 validation_fraction, beta_1, beta_2, epsilon, n_iter_no_change, max_fun,
                 dropout, batch_norm, layer_norm, residual, l1, clip_grad_norm, noise,
                 lr_schedule, callbacks, device, dtype, n_threads, routed):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.layer_norm = layer_norm
        self.residual = residual
        self.l1 = l1
        self.clip_grad_norm = clip_grad_norm
        self.noise = noise
        self.lr_schedule = lr_schedule
        self.callbacks = callbacks
        self.device = device
        self.dtype = dtype
        self.n_threads = n_threads
        self._store_routed(routed)

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        for s in sizes:
            if not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1:
                raise ValueError(f"hidden_layer_sizes must contain positive integers; got "
                                 f"{self.hidden_layer_sizes!r}.")
        return sizes

    def _extra_validation(self):
        sizes = self._hidden_sizes()
        _per_layer("activation", self.activation, len(sizes), check_activation)
        _per_layer("dropout", self.dropout, len(sizes),
                   lambda p: check_real("dropout", p, ge=0, lt=1))
        if isinstance(self.solver, str):
            check_option("solver", self.solver, _SOLVERS)
        elif not (isinstance(self.solver, type) and issubclass(self.solver, optim.Optimizer)):
            raise ValueError(f"solver must be one of {', '.join(map(repr, _SOLVERS))} or an "
                             f"Optimizer subclass; got {self.solver!r}.")
        check_option("learning_rate", self.learning_rate, _LEARNING_RATES)
        if self.lr_schedule is not None and self.solver == "sgd" and self.learning_rate != "constant":
            raise ValueError(f"learning_rate={self.learning_rate!r} is itself a schedule; use "
                             "learning_rate='constant' with lr_schedule.")
        self._check_routed()
        if self.solver == "lbfgs":
            if self._routed("optimizer"):
                raise ValueError("optimizer__* options apply to stochastic solvers; "
                                 "solver='lbfgs' takes max_fun and tol.")
            if parse_noise(self.noise).std > 0:
                raise ValueError("noise needs a stochastic solver; solver='lbfgs' minimises "
                                 "the full-batch loss.")
            if self.clip_grad_norm is not None:
                raise ValueError("clip_grad_norm needs a stochastic solver; solver='lbfgs' "
                                 "must see the true gradient of the loss.")
        if self.batch_norm and self.layer_norm:
            raise ValueError("batch_norm and layer_norm cannot both be True.")

    # -- building ---------------------------------------------------------------
    def _build_module(self, n_features, n_outputs, generator):
        sizes = self._hidden_sizes()
        noise = parse_noise(self.noise)
        return MLPNetwork(
            n_features, sizes, n_outputs,
            activations=_per_layer("activation", self.activation, len(sizes), lambda a: None),
            dropout=_per_layer("dropout", self.dropout, len(sizes), lambda p: None),
            batch_norm=self.batch_norm, layer_norm=self.layer_norm, residual=self.residual,
            activation_noise=noise.std if noise.on == "activations" else 0.0,
            generator=generator)

    def _optimizer_class(self):
        solver = "adam" if self.solver == "lbfgs" else self.solver
        return OPTIMIZERS[solver] if isinstance(solver, str) else solver

    def _build_optimizer(self, parameters):
        """The solver with scikit-learn's parameter names, overridden by ``optimizer__*``."""
        cls = self._optimizer_class()
        kwargs = {"lr": self._learning_rate_init()}
        if cls is optim.SGD:
            kwargs.update(momentum=self.momentum,
                          nesterov=bool(self.nesterovs_momentum and self.momentum > 0))
        elif cls in (optim.Adam, optim.AdamW, optim.NAdam, optim.Adamax, optim.RAdam,
                     optim.LAMB):
            kwargs.update(betas=(self.beta_1, self.beta_2), eps=self.epsilon)
        return self._make_optimizer(cls, parameters, **kwargs)

    def _learning_rate_init(self):
        """learning_rate_init, with "auto" resolved for the solver (by name or class)."""
        if not (isinstance(self.learning_rate_init, str) and self.learning_rate_init == "auto"):
            return self.learning_rate_init
        rates = {OPTIMIZERS[name]: rate for name, rate in _AUTO_LEARNING_RATES.items()}
        return rates.get(self._optimizer_class(), _DEFAULT_LEARNING_RATE)

    def _validation_share(self):
        # scikit-learn's lbfgs ignores early_stopping: no split unless one is asked for.
        if self.solver == "lbfgs" and self.validation_fraction is None:
            return 0.0
        return super()._validation_share()

    def _make_trainer(self):
        if self.solver == "lbfgs":
            return LBFGSTrainer(max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol)
        return super()._make_trainer()

    # -- penalty and schedule -----------------------------------------------------------
    def _weights(self):
        return [layer.weight for layer in self.module_.linears()]

    # scikit-learn's learning_rate="invscaling" / "adaptive" are schedules:
    # an InverseScalingLR clocked in samples seen, and a ReduceLROnPlateau
    # (factor 1/5, patience n_iter_no_change, absolute threshold tol) on the
    # quantity the stopping rule watches. Training stops only when the rule
    # fires with the rate already at scikit-learn's floor of 1e-6.
    def _sgd_schedule(self):
        return self.learning_rate if self.solver == "sgd" else "constant"

    def _build_scheduler(self):
        schedule = self._sgd_schedule()
        if schedule == "constant":
            return super()._build_scheduler()
        self._schedule_per_batch = False
        self._schedule_metric = schedule == "adaptive"
        if schedule == "invscaling":
            return lr_scheduler.InverseScalingLR(self.optimizer_, power_t=self.power_t)
        mode = "max" if self._monitor() == "valid_score" else "min"
        return lr_scheduler.ReduceLROnPlateau(
            self.optimizer_, mode=mode, factor=0.2, patience=self.n_iter_no_change,
            threshold=self.tol, threshold_mode="abs", eps=0.0)

    def _step_schedule(self, row):
        schedule = self._sgd_schedule()
        if schedule == "invscaling":
            self.scheduler_.step(self.t_)
        elif schedule == "adaptive":
            self.scheduler_.step(row[self._monitor()])
        else:
            super()._step_schedule(row)

    def _on_no_improvement(self):
        if self._sgd_schedule() == "adaptive":
            return self.optimizer_.param_groups[0]["lr"] <= 1e-6
        return True

    @property
    def loss_(self):
        """The training loss of the last epoch (iteration for lbfgs), as scikit-learn's."""
        return self.history_[-1]["train_loss"]

    def _scores_validation(self):
        return True

    # -- coefficients as scikit-learn shows them -------------------------------------------
    @property
    def coefs_(self):
        """Weight matrices, shape (n_in, n_out) per layer, as scikit-learn's."""
        return [to_numpy(W.data).T.copy() for W in self._weights()]

    @property
    def intercepts_(self):
        """Bias vectors per layer."""
        return [to_numpy(layer.bias.data).copy() for layer in self.module_.linears()]

    @property
    def n_layers_(self):
        """Number of layers, input and output included."""
        return len(self.module_.linears()) + 1

    # -- partial_fit only for stochastic solvers ----------------------------------------------
    def _check_stochastic(self):
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers; "
                                 "solver='lbfgs' is not stochastic.")
        return True


# The parameters both MLPs share, in three pieces: each class puts its own between them
# in the order of its signature.
_MLP_DOC = """    hidden_layer_sizes : array-like of int, default=(100,)
        The ith element is the number of units in the ith hidden layer.
    activation : str or list of str, default="relu"
        The scikit-learn names "identity", "logistic", "tanh", "relu", or any
        of leaky_relu, elu, selu, gelu, gelu_tanh, silu, mish, softplus,
        sigmoid; a list gives one per hidden layer.
    solver : str or Optimizer subclass, default="adam"
        "adam", "sgd", "lbfgs" as in scikit-learn, or "adamw", "rmsprop",
        "adagrad", or an ``sklears_neural.optim`` class.
    alpha : float, default=1e-4
        L2 penalty on the weights, divided by the (weighted) batch size.
    batch_size : int or "auto", default="auto"
        ``min(200, n_samples)`` for "auto".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule for solver="sgd", as in scikit-learn.
    learning_rate_init : float or "auto", default="auto"
        The learning rate of the stochastic solvers (the initial one under a
        schedule). "auto": 1e-3, as in scikit-learn, except 0.01 for
        "adagrad", 1.0 for "adadelta" and 1.0 for "lars" (whose steps the
        trust ratio scales), where 1e-3 barely trains (digits: 0.91, 0.25
        and 0.18 test accuracy, against 0.97-0.98 at these rates).
    power_t : float, default=0.5
        The exponent of ``learning_rate="invscaling"``.
    max_iter : int, default=200
        Epochs for stochastic solvers; iterations for lbfgs.
    shuffle : bool, default=True
        Shuffle the rows at every epoch.
    random_state : int, RandomState or None, default=None
        Same seed, same data ⇒ bit-identical model.
    tol : float, default=1e-4
        Training stops when the loss (or, with ``early_stopping``, the
        validation score) has not improved by ``tol`` for more than
        ``n_iter_no_change`` epochs; for lbfgs, scipy's gradient tolerance.
    verbose : bool or int, default=False
        True shows a tqdm progress bar; 2 also prints every epoch.
    warm_start : bool, default=False
        Continue from the fitted weights **and optimizer state**
        (scikit-learn restarts its optimizer; we keep Adam's moments).
    momentum : float, default=0.9
        The momentum of solver="sgd".
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with solver="sgd" and ``momentum > 0``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` (stratified for classifiers), stop
        when the validation score stalls, restore the best weights.
    validation_fraction : float in [0, 1) or None, default=None
        Held-out share scored every epoch (``valid_loss``, ``valid_score``
        in ``history_``), with or without early stopping. None (the
        default) behaves as scikit-learn's 0.1: a split only when
        ``early_stopping`` (or a plateau schedule) needs one. ``fit(X, y,
        validation_data=(X_val, y_val))`` scores given data instead.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        The moment decay rates and the denominator term of Adam (and of the
        Adam-like solvers).
    n_iter_no_change : int, default=10
        The number of epochs without improvement that stops training (see
        ``tol``).
    max_fun : int, default=15000
        For lbfgs only: the maximum number of loss evaluations.
    dropout : float or list of float, default=0.0
        Dropout after each hidden layer (ours).
    batch_norm, layer_norm : bool, default=False
        Normalise each hidden layer before its activation (ours).
    residual : bool, default=False
        Add each hidden layer's input to its output where their widths are
        equal (a residual connection around every hidden layer after the
        first; ours). The rule-propagation explanations (guided backprop,
        DeepLIFT, LRP) do not apply to such networks; the gradient ones do.
    l1 : float, default=0.0
        L1 penalty on the weights, scaled like ``alpha`` (both: elastic net).
    clip_grad_norm : float, optional
        Clip the global gradient norm of each step to this value.
    noise : float or dict, default=0.0
        Gaussian noise in training. A float is the standard deviation of
        noise on the inputs; a dict ``{"std": s, "on": "inputs" | "weights"
        | "activations", "decay": d}`` puts it on the inputs, on the weight
        matrices (gradients are taken at the noisy weights) or after each
        hidden activation, with the standard deviation multiplied by ``d``
        after every epoch.
    lr_schedule : str, scheduler class, callable or (spec, dict), optional
        A learning-rate schedule of ``sklears_neural.optim.lr_scheduler``
        by name ("step", "cosine", "onecycle", "plateau", …) with its
        options in the dict; stepped per epoch (per batch for "cyclic" and
        "onecycle"; "plateau" watches the validation loss).
"""

_MLP_DOC_CALLBACKS = """    callbacks : list of Callback or (name, Callback), optional
        Re-read at every ``fit`` / ``partial_fit``; options settable as
        ``callbacks__<name>__<param>``.
"""

_MLP_DOC_TAIL = """    device : str, default="cpu"
        "cuda" / "cuda:N" trains on a GPU through CuPy.
    dtype : {"float32", "float64"}, default="float32"
        Differs from scikit-learn, which computes in the input's float
        dtype (float64 for most data): float32 is about twice as fast and
        accurate enough for training; pass "float64" to match scikit-learn.
    n_threads : int, optional
        Thread limit for BLAS and OpenMP during fit and predict.
    **kwargs
        ``optimizer__*`` options override the solver's arguments derived
        from the parameters above (e.g. ``solver="adamw",
        optimizer__weight_decay=0.01``); ``optimizer__param_groups`` and
        ``optimizer__no_decay_bias_and_norm`` shape parameter groups (see
        ``NeuralNetClassifier``). ``callbacks__<name>__<param>`` set
        options of named callbacks.
"""


class MLPClassifier(NeuralNetClassifierMixin, _BaseMLP):
    __doc__ = ("""Multi-layer perceptron classifier, scikit-learn's API on our engine.

    Every constructor parameter of ``sklearn.neural_network.MLPClassifier``
    keeps its meaning and default (``validation_fraction=None`` behaves as
    scikit-learn's 0.1 and also scores a split without early stopping when
    set); ours are added at the end.

    Parameters
    ----------
""" + _MLP_DOC + """    label_smoothing : float in [0, 1], default=0.0
        Smooth the one-hot targets of multiclass problems (ours).
""" + _MLP_DOC_CALLBACKS + """    class_weight : "balanced", dict or None, default=None
        Weights per class, multiplied into ``sample_weight`` (ours;
        "balanced": inversely to the class frequencies).
""" + _MLP_DOC_TAIL + """
    Attributes
    ----------
    classes_, coefs_, intercepts_, n_layers_, n_outputs_, out_activation_,
    loss_, loss_curve_, best_loss_, validation_scores_, best_validation_score_,
    n_iter_, t_, n_features_in_, feature_names_in_
        As in scikit-learn.
    history_ : History
        Per epoch: train_loss, valid_loss, valid_score, lr, time and the
        rows of its batches (``history_[:, "train_loss"]``, ``to_frame()``,
        ``plot()``).
    module_ : MLPNetwork
        The fitted network.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklears_neural import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=20, random_state=0).fit(X / 16, y)
    >>> clf.score(X / 16, y) > 0.9
    True
""")

    _binary_single_output = True

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init="auto", power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=None,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, batch_norm=False, layer_norm=False, residual=False, l1=0.0,
                 clip_grad_norm=None,
                 noise=0.0, lr_schedule=None, label_smoothing=0.0, callbacks=None,
                 class_weight=None, device="cpu", dtype="float32", n_threads=None, **kwargs):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
            max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dropout=dropout, batch_norm=batch_norm, layer_norm=layer_norm, residual=residual,
            l1=l1,
            clip_grad_norm=clip_grad_norm, noise=noise, lr_schedule=lr_schedule,
            callbacks=callbacks, device=device, dtype=dtype, n_threads=n_threads,
            routed=kwargs)
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight

    @property
    def out_activation_(self):
        """"softmax" for multiclass, "logistic" for binary and multilabel targets."""
        return "softmax" if self._targets.kind_ == "multiclass" else "logistic"

    def _build_criterion(self):
        if self._targets.kind_ == "multiclass":
            return nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)
        return OutputSummedBCEWithLogits()  # scikit-learn sums the per-output averages

    @available_if(_BaseMLP._check_stochastic)
    def partial_fit(self, X, y=None, sample_weight=None, classes=None):
        """Run one epoch over ``(X, y)``; ``classes`` lists every label on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs; also a Dataset or a stream of the data layer (then
            ``y=None``).
        y : array-like of shape (n_samples,) or (n_samples, n_labels), default=None
            Class labels (an indicator matrix for multilabel targets).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.
        classes : array-like, default=None
            All labels that will ever appear; required when the first batch
            does not contain every class.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


class MLPRegressor(NeuralNetRegressorMixin, _BaseMLP):
    __doc__ = ("""Multi-layer perceptron regressor, scikit-learn's API on our engine.

    Every constructor parameter of ``sklearn.neural_network.MLPRegressor``
    keeps its meaning and default (``validation_fraction=None`` behaves as
    scikit-learn's 0.1 and also scores a split without early stopping when
    set); ours are added at the end.

    Parameters
    ----------
    loss : {"squared_error", "poisson", "absolute_error", "huber"}, default="squared_error"
        "squared_error" and "poisson" are scikit-learn's (half squared error,
        half Poisson deviance with an exp output); "absolute_error" and
        "huber" (delta=1) are ours.
""" + _MLP_DOC + _MLP_DOC_CALLBACKS + _MLP_DOC_TAIL + """
    Attributes
    ----------
    coefs_, intercepts_, n_layers_, n_outputs_, out_activation_, loss_,
    loss_curve_, best_loss_, validation_scores_, best_validation_score_,
    n_iter_, t_, n_features_in_, feature_names_in_
        As in scikit-learn.
    history_ : History
        Per epoch: train_loss, valid_loss, valid_score, lr, time and the
        epoch's batches.
    module_ : MLPNetwork
        The fitted network.
""")

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init="auto", power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=None,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, batch_norm=False, layer_norm=False, residual=False, l1=0.0,
                 clip_grad_norm=None,
                 noise=0.0, lr_schedule=None, callbacks=None, device="cpu", dtype="float32",
                 n_threads=None, **kwargs):
        self.loss = loss
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
            max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dropout=dropout, batch_norm=batch_norm, layer_norm=layer_norm, residual=residual,
            l1=l1,
            clip_grad_norm=clip_grad_norm, noise=noise, lr_schedule=lr_schedule,
            callbacks=callbacks, device=device, dtype=dtype, n_threads=n_threads,
            routed=kwargs)

    def _extra_validation(self):
        check_option("loss", self.loss, _REGRESSION_LOSSES)
        super()._extra_validation()

    @property
    def out_activation_(self):
        """"exp" for the Poisson loss, else "identity"."""
        return "exp" if self.loss == "poisson" else "identity"

    def _output_transform(self, outputs):
        return np.exp(outputs) if self.loss == "poisson" else outputs

    def _build_criterion(self):
        if self.loss == "absolute_error":
            return nn.L1Loss()
        if self.loss == "huber":
            return nn.HuberLoss()
        return HalfPoissonDeviance() if self.loss == "poisson" else HalfSquaredError()

    def _check_targets(self, y):
        if self.loss == "poisson" and np.any(np.asarray(y) < 0):
            raise ValueError("loss='poisson' needs non-negative targets y.")

    @available_if(_BaseMLP._check_stochastic)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch over ``(X, y)``, initialising the model on the first call.

        ``X`` may also be a Dataset or a stream of the data layer (then ``y=None``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)
