"""``CNNClassifier`` / ``CNNRegressor`` (images), and what ``CNN1DClassifier`` /
``CNN1DRegressor`` (signals, in ``_cnn1d``) share with them: convolutional
networks behind scikit-learn's API.

Inputs may be arrays of images (n, C, H, W) or (n, H, W), of signals
(n, C, L), or flat rows (n, features) with ``input_shape`` saying how to
read them — the form they have after a scikit-learn transformer. Inside, the
estimator keeps flat rows (what the shared training loop, validation split
and sparse support expect) and the network's first layer restores the
layout.
"""

import copy
import inspect
import math
import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from sklears_neural import nn
from sklears_neural._specs import check_activation
from sklears_neural.backend import to_device, to_numpy
from sklears_neural.base._checks import resolve_optimizer
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.base._params import (
    CLASSIFIER_CONSTRAINTS,
    TRAINING_DOC_DEPRECATED,
    TRAINING_DOC_EPOCHS,
    TRAINING_DOC_LOOP,
    TRAINING_DOC_PENALTIES,
    unit_interval,
)
from sklears_neural.base._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from sklears_neural.base._noise import parse_noise
from sklears_neural.base._routing import RoutedParamsMixin
from sklears_neural.base._shapes import as_shape_spec, fill_shape
from sklears_neural.cnn._augment import parse_augment
from sklears_neural.cnn._network import CNNNetwork, Unflatten
from sklears_neural.cnn._signal_nets import SIGNAL_ARCHITECTURES

__all__ = ["CNNClassifier", "CNNRegressor"]

_POOLINGS = ("max", "avg", None)
_GLOBAL_POOLS = ("avg", "max", None)
# The parameters of the conv_layers network (CNNNetwork) and their defaults: a
# named architecture has its own layers, so it takes none of them.
_BLOCK_DEFAULTS = {"pooling": "max", "pool_size": 2, "global_pool": None,
                   "hidden_layer_sizes": (128,), "activation": "relu", "batch_norm": True,
                   "dropout": 0.0}


def _flat_rows(X, dims):
    """Flatten an array of images/signals to rows; returns (rows, sample shape or None).

    Anything that is not a >2-D array (flat rows, sparse matrices, frames)
    is returned as is for scikit-learn's validation.
    """
    if isinstance(X, (list, tuple)):
        try:
            array = np.asarray(X)
        except ValueError:  # ragged: scikit-learn's validation says so
            return X, None
    elif isinstance(X, np.ndarray):
        array = X
    else:
        return X, None
    if array.ndim <= 2 or array.dtype == object:
        return X, None
    if array.ndim > dims + 2:
        raise ValueError(f"X has {array.ndim} dimensions; expected (n, features) or "
                         f"{_layouts(dims)}.")
    return array.reshape(array.shape[0], -1), array.shape[1:]


def _layouts(dims):
    return "(n, C, L)" if dims == 1 else "(n, H, W) or (n, C, H, W)"


def _differs(value, default):
    """Whether a parameter differs from its default (sequences compared as
    tuples, a number as a one-entry tuple where the default is a tuple)."""
    try:
        if isinstance(value, (list, np.ndarray)):
            value = tuple(np.ravel(value).tolist())
        if isinstance(default, tuple) and isinstance(value, numbers.Integral):
            value = (int(value),)
        return not (value is default or bool(value == default))
    except (TypeError, ValueError):
        return True


class _BaseCNN(RoutedParamsMixin, BaseNeuralNet):
    """What the CNN estimators share: input layouts, the network, augmentation."""

    _ROUTES = ("module", "optimizer", "callbacks")
    _warn_max_epochs = False
    _dims = 2
    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints, **CLASSIFIER_CONSTRAINTS,
        "conv_layers": "no_validation", "input_shape": "no_validation",
        "pooling": "no_validation", "global_pool": "no_validation",
        "hidden_layer_sizes": "no_validation", "activation": "no_validation",
        "module": "no_validation", "augment": "no_validation", "optimizer": "no_validation",
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "batch_norm": ["boolean"], "dropout": unit_interval(),
        "lr": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, conv_layers, *, input_shape, pooling, pool_size, global_pool,
                 hidden_layer_sizes, activation, batch_norm, dropout, module, augment,
                 optimizer, lr, max_iter, max_epochs, batch_size, alpha, l1, clip_grad_norm, noise,
                 lr_schedule, callbacks, validation_fraction, early_stopping, n_iter_no_change,
                 tol, shuffle, warm_start, random_state, device, dtype, verbose, n_threads,
                 routed):
        self.conv_layers = conv_layers
        self.input_shape = input_shape
        self.pooling = pooling
        self.pool_size = pool_size
        self.global_pool = global_pool
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.module = module
        self.augment = augment
        self.optimizer = optimizer
        self.lr = lr
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.l1 = l1
        self.clip_grad_norm = clip_grad_norm
        self.noise = noise
        self.lr_schedule = lr_schedule
        self.callbacks = callbacks
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose
        self.n_threads = n_threads
        self._store_routed(routed)

    # -- parameters -------------------------------------------------------------
    def _architecture(self):
        """The name of a published architecture in conv_layers, or None."""
        if not isinstance(self.conv_layers, str):
            return None
        if self._dims != 1 or self.conv_layers not in SIGNAL_ARCHITECTURES:
            names = ", ".join(repr(n) for n in SIGNAL_ARCHITECTURES)
            where = ("one of " + names if self._dims == 1
                     else "a list of pairs (named architectures are for CNN1D estimators)")
            raise ValueError(f"conv_layers must be {where} or a list of (filters, "
                             f"kernel_size) pairs; got {self.conv_layers!r}.")
        return self.conv_layers

    def _check_block_parameters_unused(self):
        """A named architecture has its own layers: refuse settings it would ignore."""
        changed = [name for name, default in _BLOCK_DEFAULTS.items()
                   if _differs(getattr(self, name), default)]
        if parse_noise(self.noise).on == "activations":
            changed.append("noise (on activations)")
        if changed:
            raise ValueError(
                f"{', '.join(changed)} shape the network of conv_layers=[(filters, "
                f"kernel_size), ...], but conv_layers={self.conv_layers!r} is a published "
                "architecture with its own layers; leave them at their defaults, or give "
                "conv_layers as a list of pairs.")

    def _conv_specs(self):
        layers = self.conv_layers
        if self._architecture() is not None:
            return layers
        if not isinstance(layers, (list, tuple)):
            raise ValueError("conv_layers must be a list of (filters, kernel_size) pairs; got "
                             f"{layers!r}.")
        specs = []
        for layer in layers:
            ok = (isinstance(layer, (list, tuple)) and len(layer) == 2
                  and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                          for v in layer))
            if not ok:
                raise ValueError("conv_layers must be a list of (filters, kernel_size) pairs of "
                                 f"positive ints; got {layer!r} in {layers!r}.")
            specs.append((int(layer[0]), int(layer[1])))
        return specs

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        for s in sizes:
            if not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1:
                raise ValueError("hidden_layer_sizes must contain positive integers; got "
                                 f"{self.hidden_layer_sizes!r}.")
        return sizes

    def _extra_validation(self):
        self._check_routed()
        self._conv_specs()
        if self._architecture() is not None and self.module is None:
            self._check_block_parameters_unused()
        self._hidden_sizes()
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling must be 'max', 'avg' or None; got {self.pooling!r}.")
        if self.global_pool not in _GLOBAL_POOLS:
            raise ValueError(f"global_pool must be 'avg', 'max' or None; got "
                             f"{self.global_pool!r}.")
        check_activation(self.activation)
        resolve_optimizer(self.optimizer)
        self._augmenter = parse_augment(self.augment, self._dims)
        if self.module is not None and not (
                isinstance(self.module, nn.Module)
                or isinstance(self.module, type) and issubclass(self.module, nn.Module)):
            raise ValueError(f"module must be None, an nn.Module subclass or an instance; got "
                             f"{self.module!r}.")

    # -- input layout -----------------------------------------------------------------
    def _sample_shape(self, n_features, seen_shape):
        """The (C, *spatial) shape of one sample, from X and ``input_shape``."""
        d = self._dims
        if seen_shape is not None and len(seen_shape) == d:
            seen_shape = (1, *seen_shape)  # (n, H, W) images: one channel
        given = self.input_shape
        if given is None:
            if seen_shape is not None:
                return tuple(int(s) for s in seen_shape)
            if d == 1:
                return (1, n_features)  # a flat row is one univariate signal
            raise ValueError(f"{type(self).__name__} got flat X of shape (n, {n_features}): "
                             "pass input_shape=(C, H, W) (or (H, W)) to say how to read each "
                             f"row as an image, or pass X as {_layouts(d)}.")
        shape = as_shape_spec(given, (d, d + 1))
        if shape is None:
            form = "(C, L)" if d == 1 else "(C, H, W) or (H, W)"
            raise ValueError(f"input_shape must be a tuple {form} of positive ints (one may be "
                             f"-1, inferred); got {given!r}.")
        shape = fill_shape((1, *shape) if len(shape) == d else shape, n_features, given)
        if seen_shape is not None and tuple(seen_shape) != shape:
            raise ValueError(f"input_shape={given!r} contradicts X, whose samples have shape "
                             f"{tuple(seen_shape)}.")
        return shape

    def _check_X_y(self, X, y, reset):
        X, seen = _flat_rows(X, self._dims)
        X, y = super()._check_X_y(X, y, reset)
        shape = self._sample_shape(X.shape[1], seen)
        if reset:
            self.input_shape_ = shape
        elif shape != self.input_shape_:
            raise ValueError(f"X has samples of shape {shape}; the model was fitted on "
                             f"{self.input_shape_}.")
        return X, y

    def _check_X_fast(self, X):
        X, seen = _flat_rows(X, self._dims)
        if seen is not None:
            seen = (1, *seen) if len(seen) == self._dims else tuple(seen)
            if seen != self.input_shape_:
                raise ValueError(f"X has samples of shape {seen}; the model was fitted on "
                                 f"{self.input_shape_}.")
        return super()._check_X_fast(X)

    # -- building ---------------------------------------------------------------------
    # The convolutions run batch-parallel on the engine's own threads with a
    # single-threaded BLAS inside (sklears_neural._threads, "one pool per fit").
    _thread_pool = "engine"

    def _batch_work(self, rows=None):
        """Multiply-adds of one batch, roughly: a convolution's weights are applied
        at every position, so the parameter count is scaled by the positions of
        one sample (an upper bound that only the thread policy reads)."""
        return super()._batch_work(rows) * math.prod(self.input_shape_[1:])

    def _build_module(self, n_features, n_outputs, generator):
        if self.module is not None:
            return nn.Sequential(Unflatten(self.input_shape_), self._user_module(n_outputs,
                                                                                generator))
        architecture = self._architecture()
        if architecture is not None:
            return SIGNAL_ARCHITECTURES[architecture](self.input_shape_, n_outputs,
                                                      generator=generator)
        noise = parse_noise(self.noise)
        return CNNNetwork(
            self.input_shape_, self._conv_specs(), n_outputs, dims=self._dims,
            pooling=self.pooling, pool_size=self.pool_size, global_pool=self.global_pool,
            hidden_layer_sizes=self._hidden_sizes(), activation=self.activation,
            batch_norm=self.batch_norm, dropout=self.dropout,
            activation_noise=noise.std if noise.on == "activations" else 0.0,
            generator=generator)

    def _user_module(self, n_outputs, generator):
        kwargs = self._routed("module")
        if isinstance(self.module, nn.Module):
            if kwargs:
                raise ValueError("module__* arguments need module to be a class, not an instance.")
            return copy.deepcopy(self.module)
        accepted = inspect.signature(self.module).parameters
        fill = {"in_channels": self.input_shape_[0], "n_outputs": n_outputs,
                "out_features": n_outputs, "n_classes": n_outputs, "generator": generator}
        kwargs.update({k: v for k, v in fill.items() if k in accepted and k not in kwargs})
        return self.module(**kwargs)

    def _optimizer_class(self):
        return resolve_optimizer(self.optimizer)

    def _build_optimizer(self, parameters):
        return self._make_optimizer(self._optimizer_class(), parameters, lr=self.lr)

    # -- augmentation -------------------------------------------------------------------
    def _augment_batch(self, xb):
        if self._augmenter is None:
            return xb
        images = to_numpy(xb).reshape(xb.shape[0], *self.input_shape_)
        out = self._augmenter(images, self._rng).reshape(xb.shape)
        return out if self.device_ == "cpu" else to_device(out, self.device_)


_PARAMS_DOC = """
    Parameters
    ----------
    conv_layers : list of (int, int), default=((32, 3), (64, 3))
        (filters, kernel_size) of each convolution block: convolution
        ("same" padding), batch norm, activation, pooling.
    input_shape : tuple of int, optional
        How to read one sample: {shape_doc}. Needed for flat X (e.g. after a
        scikit-learn transformer); one entry may be -1 (inferred from the
        number of features). Checked against X at ``fit``.
    pooling : {{"max", "avg", None}}, default="max"
        Pooling after each block (window and stride ``pool_size``,
        ``ceil_mode``: a dimension of size 1 stays 1).
    pool_size : int, default=2
        The window and stride of the pooling.
    global_pool : {{"avg", "max", None}}, default=None
        Pool every channel to one value before the dense head; None
        flattens the last feature maps.
    hidden_layer_sizes : tuple of int, default=(128,)
        Dense layers of the head.
    activation : str, default="relu"
        Any fused activation ("relu", "gelu", "silu", "elu", ...).
    batch_norm : bool, default=True
        Batch norm in every convolution block.
    dropout : float in [0, 1), default=0.0
        Dropout before each dense layer of the head.
    module : nn.Module subclass or instance, optional
        Use this network instead; it receives (n, {layout}) tensors. A
        class gets ``module__*`` arguments, and ``in_channels``,
        ``n_outputs`` / ``out_features`` / ``n_classes`` and ``generator``
        when it takes them.
    augment : dict, optional
        Random augmentation of training batches (never at predict), seeded
        by ``random_state``: keys {augment_keys}.
    optimizer : str or Optimizer subclass, default="adam"
        Options as ``optimizer__*``.
    lr : float, default=1e-3
        The learning rate.
"""
# In the order of the signatures; a classifier's own parameters go between the two.
_TRAINING_HEAD = (TRAINING_DOC_EPOCHS + TRAINING_DOC_PENALTIES).format(max_iter=20, batch_size=64)
_TRAINING_TAIL = TRAINING_DOC_LOOP.format() + TRAINING_DOC_DEPRECATED + """    **kwargs
        ``module__*``, ``optimizer__*``, ``callbacks__*`` routed arguments.
"""
_TRAINING_PARAMS = _TRAINING_HEAD + _TRAINING_TAIL
_CLASSIFIER_PARAMS = """    label_smoothing : float in [0, 1], default=0.0
        Smooth the one-hot targets of multiclass problems by this much.
    class_weight : "balanced", dict or None, default=None
        Weights per class, multiplied into ``sample_weight`` ("balanced":
        inversely to the class frequencies).
"""

_IMAGE_DOC = dict(shape_doc="(C, H, W), or (H, W) for one channel",
                  layout="C, H, W",
                  augment_keys='"flip" ("horizontal", "vertical", "both"), "crop_padding" '
                               '(pixels), "shift" (pixels), "rotation" (degrees), "noise" (std)')
_SIGNAL_DOC = dict(shape_doc="(C, L); flat rows default to one channel (1, n_features)",
                   layout="C, L",
                   augment_keys='"flip" ("horizontal": reverse time), "crop_padding", '
                                '"shift" (steps), "noise" (std)')


class _CNNClassifier(NeuralNetClassifierMixin, _BaseCNN):
    def __init__(self, conv_layers=((32, 3), (64, 3)), *, input_shape=None, pooling="max",
                 pool_size=2, global_pool=None, hidden_layer_sizes=(128,), activation="relu",
                 batch_norm=True, dropout=0.0, module=None, augment=None, optimizer="adam",
                 lr=1e-3, max_iter=20, batch_size=64, alpha=0.0, l1=0.0,
                 clip_grad_norm=None, noise=0.0, lr_schedule=None, label_smoothing=0.0,
                 class_weight=None, callbacks=None, validation_fraction=None,
                 early_stopping=False, n_iter_no_change=10, tol=1e-4, shuffle=True,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0, n_threads=None, max_epochs="deprecated", **kwargs):
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        _BaseCNN.__init__(
            self, conv_layers, input_shape=input_shape, pooling=pooling, pool_size=pool_size,
            global_pool=global_pool, hidden_layer_sizes=hidden_layer_sizes,
            activation=activation, batch_norm=batch_norm, dropout=dropout, module=module,
            augment=augment, optimizer=optimizer, lr=lr, max_iter=max_iter, max_epochs=max_epochs,
            batch_size=batch_size, alpha=alpha, l1=l1, clip_grad_norm=clip_grad_norm,
            noise=noise, lr_schedule=lr_schedule, callbacks=callbacks,
            validation_fraction=validation_fraction, early_stopping=early_stopping,
            n_iter_no_change=n_iter_no_change, tol=tol, shuffle=shuffle,
            warm_start=warm_start, random_state=random_state, device=device, dtype=dtype,
            verbose=verbose, n_threads=n_threads, routed=kwargs)

    def _build_criterion(self):
        if self._targets.kind_ == "multilabel":
            return nn.BCEWithLogitsLoss()
        return nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)


class _CNNRegressor(NeuralNetRegressorMixin, _BaseCNN):
    def __init__(self, conv_layers=((32, 3), (64, 3)), *, input_shape=None, pooling="max",
                 pool_size=2, global_pool=None, hidden_layer_sizes=(128,), activation="relu",
                 batch_norm=True, dropout=0.0, module=None, augment=None, optimizer="adam",
                 lr=1e-3, max_iter=20, batch_size=64, alpha=0.0, l1=0.0,
                 clip_grad_norm=None, noise=0.0, lr_schedule=None, callbacks=None,
                 validation_fraction=None, early_stopping=False, n_iter_no_change=10, tol=1e-4,
                 shuffle=True, warm_start=False, random_state=None, device="cpu",
                 dtype="float32", verbose=0, n_threads=None, max_epochs="deprecated", **kwargs):
        _BaseCNN.__init__(
            self, conv_layers, input_shape=input_shape, pooling=pooling, pool_size=pool_size,
            global_pool=global_pool, hidden_layer_sizes=hidden_layer_sizes,
            activation=activation, batch_norm=batch_norm, dropout=dropout, module=module,
            augment=augment, optimizer=optimizer, lr=lr, max_iter=max_iter, max_epochs=max_epochs,
            batch_size=batch_size, alpha=alpha, l1=l1, clip_grad_norm=clip_grad_norm,
            noise=noise, lr_schedule=lr_schedule, callbacks=callbacks,
            validation_fraction=validation_fraction, early_stopping=early_stopping,
            n_iter_no_change=n_iter_no_change, tol=tol, shuffle=shuffle,
            warm_start=warm_start, random_state=random_state, device=device, dtype=dtype,
            verbose=verbose, n_threads=n_threads, routed=kwargs)

    def _build_criterion(self):
        return nn.MSELoss()


_CLASSIFIER_EXTRA = """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    input_shape_ : tuple of int
        The (C, {spatial}) shape of one sample, as the network reads it.
    module_, optimizer_, history_, loss_curve_, n_iter_, n_features_in_
        As for NeuralNetClassifier.
"""

_REGRESSOR_EXTRA = """
    Attributes
    ----------
    input_shape_ : tuple of int
        The (C, {spatial}) shape of one sample, as the network reads it.
    module_, optimizer_, history_, loss_curve_, n_iter_, n_features_in_
        As for NeuralNetRegressor.
"""


class CNNClassifier(_CNNClassifier):
    __doc__ = ("""Convolutional network classifier for images.

    X may be (n, C, H, W), (n, H, W), or flat (n, C*H*W) rows with
    ``input_shape``; y as for any scikit-learn classifier.
""" + _PARAMS_DOC.format(**_IMAGE_DOC) + _TRAINING_HEAD + _CLASSIFIER_PARAMS + _TRAINING_TAIL
               + _CLASSIFIER_EXTRA.format(spatial="H, W")
               + """
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklears_neural import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(8, 8), max_iter=2, random_state=0)
    >>> clf.fit(X[:300] / 16, y[:300]).score(X[:300] / 16, y[:300]) > 0.5
    True
""")


class CNNRegressor(_CNNRegressor):
    __doc__ = ("""Convolutional network regressor for images.

    X as for CNNClassifier; y of shape (n,) or (n, n_outputs).
""" + _PARAMS_DOC.format(**_IMAGE_DOC) + _TRAINING_PARAMS + _REGRESSOR_EXTRA.format(spatial="H, W"))
