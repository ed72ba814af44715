"""``NeuralNetClassifier`` / ``NeuralNetRegressor``: any ``nn.Module`` as an estimator."""

import copy
import inspect

from sklears_neural import nn
from numbers import Real

from sklearn.utils._param_validation import Interval

from sklears_neural.base._checks import resolve_optimizer
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.base._params import (
    CLASSIFIER_CONSTRAINTS,
    TRAINING_DOC_DEPRECATED,
    TRAINING_DOC_EPOCHS,
    TRAINING_DOC_LOOP,
    TRAINING_DOC_PENALTIES,
)
from sklears_neural.base._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from sklears_neural.base._routing import RoutedParamsMixin

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "build_given_module"]

# Constructor arguments a module class may take that the estimator can fill in.
_FEATURE_ARGS = ("n_features", "in_features")
_OUTPUT_ARGS = ("n_outputs", "out_features", "n_classes")


def build_given_module(module, kwargs, n_features, n_outputs, generator):
    """A user's network: a deep copy of an ``nn.Module`` instance, or an instance of an
    ``nn.Module`` subclass built with ``kwargs`` (``module__*``) and, where its
    constructor takes them and ``kwargs`` does not set them, the input width
    (``n_features`` / ``in_features``), the output width (``n_outputs`` /
    ``out_features`` / ``n_classes``) and ``generator``."""
    if isinstance(module, nn.Module):
        if kwargs:
            raise ValueError("module__* arguments need module to be a class, not an instance.")
        return copy.deepcopy(module)
    if not (isinstance(module, type) and issubclass(module, nn.Module)):
        raise ValueError(f"module must be an nn.Module subclass or instance; got {module!r}.")
    kwargs = dict(kwargs)
    accepted = inspect.signature(module).parameters
    for names, value in ((_FEATURE_ARGS, n_features), (_OUTPUT_ARGS, n_outputs),
                         (("generator",), generator)):
        for name in names:
            if name in accepted and name not in kwargs:
                kwargs[name] = value
    return module(**kwargs)


class _NeuralNet(RoutedParamsMixin, BaseNeuralNet):
    """Routing of ``module__*``, ``optimizer__*``, ``criterion__*``, ``callbacks__*``."""

    _ROUTES = ("module", "optimizer", "criterion", "callbacks")
    _warn_max_epochs = False
    _builds_network = False
    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints, **CLASSIFIER_CONSTRAINTS,
        "module": "no_validation", "criterion": "no_validation", "optimizer": "no_validation",
        "lr": [Interval(Real, 0, None, closed="left")]}

    def _store(self, params, routed):
        for key, value in params.items():
            setattr(self, key, value)
        self._store_routed(routed)

    def _extra_validation(self):
        self._check_routed()
        resolve_optimizer(self.optimizer)
        if self.module is None:
            raise ValueError("module is required: pass an nn.Module subclass (with module__* "
                             "arguments) or an nn.Module instance.")

    def _build_module(self, n_features, n_outputs, generator):
        return build_given_module(self.module, self._routed("module"), n_features, n_outputs,
                                  generator)

    def _build_criterion(self):
        kwargs = self._routed("criterion")
        if self.criterion is None:
            return self._default_criterion(kwargs)
        criterion = self.criterion
        if isinstance(criterion, nn.Module):
            if kwargs:
                raise ValueError("criterion__* arguments need criterion to be a class.")
            return copy.deepcopy(criterion)
        if isinstance(criterion, type) and issubclass(criterion, nn.Module):
            return criterion(**kwargs)
        raise ValueError(f"criterion must be a loss module class or instance; got {criterion!r}.")

    def _optimizer_class(self):
        return resolve_optimizer(self.optimizer)

    def _build_optimizer(self, parameters):
        return self._make_optimizer(self._optimizer_class(), parameters, lr=self.lr)


_SHARED_DOC = """
    Parameters
    ----------
    module : nn.Module subclass or instance
        The network. A class is instantiated at ``fit`` with the
        ``module__*`` arguments; constructor arguments named ``n_features``
        / ``in_features``, ``n_outputs`` / ``out_features`` / ``n_classes``
        and ``generator`` are filled in from the data and ``random_state``
        unless given. An instance is deep-copied.
    criterion : loss module class or instance, optional
        {criterion_default} Options go in ``criterion__*``.
    optimizer : str or Optimizer subclass, default="adam"
        "adam", "adamw", "sgd", "rmsprop", "adagrad" or a class; options in
        ``optimizer__*`` (e.g. ``optimizer__weight_decay``).
    lr : float, default=1e-3
        The learning rate.
"""

_ROUTED_DOC = """    **kwargs
        Routed arguments: ``module__*``, ``optimizer__*``, ``criterion__*``,
        ``callbacks__*``. Two ``optimizer__*`` options shape parameter
        groups instead of going to the optimizer:
        ``optimizer__param_groups=[(pattern, options), ...]`` (skorch's
        convention, see ``optim.param_groups``) and
        ``optimizer__no_decay_bias_and_norm=True`` (no weight decay on
        biases and normalisation parameters).
"""

# In the order of the signatures: the loop's options before the penalties.
_TRAINING_PARAMS = (TRAINING_DOC_EPOCHS + TRAINING_DOC_LOOP + TRAINING_DOC_PENALTIES).format(
    max_iter=10, batch_size=128)
_TAIL_PARAMS = TRAINING_DOC_DEPRECATED + _ROUTED_DOC


class NeuralNetClassifier(NeuralNetClassifierMixin, _NeuralNet):
    __doc__ = ("""Any ``nn.Module`` producing logits, trained as a scikit-learn classifier.

    The module maps (n, n_features) float arrays to (n, n_classes) logits
    (or (n, n_labels) for multilabel targets).
""" + _SHARED_DOC.format(criterion_default="Default: CrossEntropyLoss (BCEWithLogitsLoss for "
                         "multilabel targets).") + _TRAINING_PARAMS
               + """    label_smoothing : float in [0, 1], default=0.0
        For the default cross-entropy criterion.
    class_weight : "balanced", dict or None, default=None
        Multiplies the sample weights per class ("balanced": inversely to the
        class frequencies).
""" + _TAIL_PARAMS + """
    Attributes
    ----------
    module_, optimizer_, criterion_ : Module, Optimizer, Module
        The fitted network, its optimizer and the loss.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    history_ : History
        Per epoch: epoch, train_loss, valid_loss, valid_score (accuracy), lr,
        time and the epoch's batches (loss, size).
    loss_curve_, validation_scores_, best_loss_, best_validation_score_, n_iter_, t_
        As in scikit-learn's MLP.
""")

    def __init__(self, module=None, criterion=None, optimizer="adam", lr=1e-3, max_iter=10,
                 batch_size=128, callbacks=None, validation_fraction=None, early_stopping=False,
                 n_iter_no_change=10, tol=1e-4, shuffle=True, warm_start=False,
                 random_state=None, device="cpu", dtype="float32", verbose=0, n_threads=None,
                 alpha=0.0, l1=0.0, clip_grad_norm=None, noise=0.0, lr_schedule=None,
                 label_smoothing=0.0, class_weight=None, max_epochs="deprecated", **kwargs):
        self._store(dict(module=module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_iter=max_iter, max_epochs=max_epochs, batch_size=batch_size,
                         callbacks=callbacks,
                         validation_fraction=validation_fraction, early_stopping=early_stopping,
                         n_iter_no_change=n_iter_no_change, tol=tol, shuffle=shuffle,
                         warm_start=warm_start, random_state=random_state, device=device,
                         dtype=dtype, verbose=verbose, n_threads=n_threads, alpha=alpha, l1=l1,
                         clip_grad_norm=clip_grad_norm, noise=noise, lr_schedule=lr_schedule,
                         label_smoothing=label_smoothing, class_weight=class_weight), kwargs)

    def _default_criterion(self, kwargs):
        if self._targets.kind_ == "multilabel":
            return nn.BCEWithLogitsLoss(**kwargs)
        return nn.CrossEntropyLoss(**{"label_smoothing": self.label_smoothing, **kwargs})


class NeuralNetRegressor(NeuralNetRegressorMixin, _NeuralNet):
    __doc__ = ("""Any ``nn.Module`` trained as a scikit-learn regressor.

    The module maps (n, n_features) float arrays to (n, n_outputs).
""" + _SHARED_DOC.format(criterion_default="Default: MSELoss.") + _TRAINING_PARAMS
               + _TAIL_PARAMS + """
    Attributes
    ----------
    module_, optimizer_, criterion_ : Module, Optimizer, Module
        The fitted network, its optimizer and the loss.
    history_ : History
        Per epoch: epoch, train_loss, valid_loss, valid_score (R²), lr,
        time and the epoch's batches (loss, size).
    loss_curve_, validation_scores_, best_loss_, best_validation_score_, n_iter_, t_
        As in scikit-learn's MLP.
""")

    def __init__(self, module=None, criterion=None, optimizer="adam", lr=1e-3, max_iter=10,
                 batch_size=128, callbacks=None, validation_fraction=None, early_stopping=False,
                 n_iter_no_change=10, tol=1e-4, shuffle=True, warm_start=False,
                 random_state=None, device="cpu", dtype="float32", verbose=0, n_threads=None,
                 alpha=0.0, l1=0.0, clip_grad_norm=None, noise=0.0, lr_schedule=None,
                 max_epochs="deprecated", **kwargs):
        self._store(dict(module=module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_iter=max_iter, max_epochs=max_epochs, batch_size=batch_size,
                         callbacks=callbacks,
                         validation_fraction=validation_fraction, early_stopping=early_stopping,
                         n_iter_no_change=n_iter_no_change, tol=tol, shuffle=shuffle,
                         warm_start=warm_start, random_state=random_state, device=device,
                         dtype=dtype, verbose=verbose, n_threads=n_threads, alpha=alpha, l1=l1,
                         clip_grad_norm=clip_grad_norm, noise=noise, lr_schedule=lr_schedule),
                    kwargs)

    def _default_criterion(self, kwargs):
        return nn.MSELoss(**kwargs)
