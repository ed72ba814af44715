"""A fitted estimator (or a Pipeline ending in one) as a differentiable function.

``ExplainedModel`` resolves what an attribution method differentiates: the
network of the last step, the Pipeline steps before it, and the one output
per row to explain. Steps that are element-wise linear (StandardScaler,
MinMaxScaler without clipping, MaxAbsScaler, RobustScaler) right before the
network are folded into the function, so that gradients reach the
features the user gave by the chain rule; if another step comes before
them, the attributions are over that step's output instead (``space``).
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.validation import check_is_fitted

from sklears_neural.autograd import Tensor, enable_grad
from sklears_neural.backend import get_array_module, to_device, to_numpy
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.data import Padded
from sklears_neural.nn import eval_mode
from sklears_neural.nn import functional as F

__all__ = ["ExplainedModel"]

OUTPUTS = ("logits", "probabilities")


def output_targets(n_outputs, target, n_rows):
    """A regressor's output index for each row (None: 0 when there is one output), twice:
    as indices and as the targets the result gives."""
    if target is None:
        if n_outputs > 1:
            raise ValueError(f"the regressor has {n_outputs} outputs: pass target, the index "
                             "of the one to explain.")
        target = 0
    indices = np.broadcast_to(np.asarray(target), (n_rows,))
    if indices.dtype.kind not in "iu" or (indices < 0).any() or (indices >= n_outputs).any():
        raise ValueError(f"target must be an output index in [0, {n_outputs}); got "
                         f"{target!r}.")
    return indices.astype(np.int64), indices.copy()


def class_targets(classes, target, n_rows, predicted, multilabel=False):
    """Each row's column in ``classes`` and its label: ``target`` is one label or one per
    row; None takes ``predicted()``, the predicted labels."""
    if target is None:
        if multilabel:
            raise ValueError("a multilabel classifier needs target: the label to explain "
                             f"(one of {classes.tolist()}).")
        labels = np.asarray(predicted())
    else:
        labels = np.asarray(target)
        if labels.ndim == 0:
            labels = np.full(n_rows, labels.item(), dtype=object)
        if labels.shape != (n_rows,):
            raise ValueError(f"target must be one class label or one per row ({n_rows}); "
                             f"got shape {labels.shape}.")
    found = np.array([np.any(classes == label) for label in labels], dtype=bool)
    if not found.all():
        missing = labels[~found][0]
        raise ValueError(f"target {missing!r} is not one of the classes the model knows: "
                         f"{classes.tolist()} (classes_).")
    indices = np.array([int(np.flatnonzero(classes == label)[0]) for label in labels])
    return indices, classes[indices]


def _elementwise_affine(step):
    """(scale, offset) with ``step.transform(x) == x * scale + offset``, or None."""
    if isinstance(step, StandardScaler):  # mean_ is kept even when not subtracted
        mean = step.mean_ if step.with_mean and step.mean_ is not None else 0.0
        std = step.scale_ if step.with_std and step.scale_ is not None else 1.0
        return 1.0 / std, -mean / std
    if isinstance(step, MinMaxScaler) and not step.clip:
        return step.scale_, step.min_
    if isinstance(step, MaxAbsScaler):
        return 1.0 / step.scale_, 0.0
    if isinstance(step, RobustScaler):
        center = step.center_ if step.with_centering and step.center_ is not None else 0.0
        scale = step.scale_ if step.with_scaling and step.scale_ is not None else 1.0
        return 1.0 / scale, -center / scale
    return None


def _steps(pipeline):
    return [(name, step) for name, step in pipeline.steps[:-1]
            if step is not None and step != "passthrough"]


class ExplainedModel:
    """The function of an estimator's input that attribution methods differentiate.

    Parameters
    ----------
    estimator : fitted estimator of this library, or Pipeline ending in one
    output : {"logits", "probabilities"}
        For classifiers: the network's raw outputs, or the class
        probabilities. Regressors explain their outputs.
    """

    def __init__(self, estimator, output="logits"):
        net = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
        if not isinstance(net, BaseNeuralNet):
            raise TypeError(f"{type(net).__name__} is not an estimator of sklears_neural: "
                            "gradient attributions need the network of one (alone or as the "
                            "last step of a Pipeline); for other models use kernel_shap or "
                            "lime_tabular.")
        check_is_fitted(net, "module_")
        self.net = net
        self.classifier = net._is_classifier()
        if output not in OUTPUTS:
            raise ValueError(f"output must be 'logits' or 'probabilities'; got {output!r}.")
        if output == "probabilities" and not self.classifier:
            raise ValueError("output='probabilities' needs a classifier; "
                             f"{type(net).__name__} is a regressor (leave output='logits').")
        self.output = output if self.classifier else "outputs"
        self._split_pipeline(estimator)

    def _split_pipeline(self, estimator):
        steps = _steps(estimator) if isinstance(estimator, Pipeline) else []
        first_folded = len(steps)
        while first_folded > 0 and _elementwise_affine(steps[first_folded - 1][1]) is not None:
            first_folded -= 1
        self.head = [step for _, step in steps[:first_folded]]
        scale, offset = 1.0, 0.0
        for _, step in steps[first_folded:]:
            step_scale, step_offset = _elementwise_affine(step)
            scale, offset = scale * step_scale, offset * step_scale + step_offset
        self.scale, self.offset = scale, offset
        self.space = ("input" if first_folded == 0 else
                      f"output of step {steps[first_folded - 1][0]!r}")

    # -- input -------------------------------------------------------------------------
    def explained_input(self, X):
        """X carried through the Pipeline steps that are not folded into the function."""
        for step in self.head:
            X = step.transform(X)
        return X

    def _folds(self):
        return not (np.isscalar(self.scale) and self.scale == 1.0
                    and np.isscalar(self.offset) and self.offset == 0.0)

    def network_input(self, Z):
        """Z (explained space) with the folded scalers applied: what the network reads
        (as a frame with its columns when the network was fitted on one)."""
        Z = np.asarray(Z) * self.scale + self.offset if self._folds() else Z
        names = getattr(self.net, "feature_names_in_", None)
        if names is not None and isinstance(Z, np.ndarray) and Z.ndim == 2 and (
                Z.shape[1] == len(names)):
            import pandas as pd

            Z = pd.DataFrame(Z, columns=names)
        return Z

    # -- targets -------------------------------------------------------------------------
    def target_indices(self, target, Z):
        """The output index explained for each row, and the targets as the result gives them.

        A classifier takes class labels (as in ``classes_``; None: each row's
        predicted class), a regressor output indices (None: 0 for one output).
        """
        net = self.net
        if not self.classifier:
            return output_targets(net._targets.n_outputs, target, len(Z))
        multilabel = net._targets.kind_ == "multilabel"
        return class_targets(net.classes_, target, len(Z),
                             lambda: net.predict(self.network_input(Z)), multilabel)

    # -- the function and its gradient ---------------------------------------------------
    def _selected(self, raw, indices):
        """The explained output of each row, from the network's raw outputs (a Tensor)."""
        n, k = raw.shape
        kind = getattr(self.net._targets, "kind_", "regression")
        xp = get_array_module(raw.data)
        if kind == "binary" and k == 1:  # one logit z: class 1 has z, class 0 has -z
            signs = xp.asarray(np.where(indices == 1, 1.0, -1.0)[:, None], dtype=raw.dtype)
            z = raw * signs
            return F.sigmoid(z).sum(axis=1) if self.output == "probabilities" else z.sum(axis=1)
        if self.output == "probabilities":
            raw = F.softmax(raw, dim=1) if kind == "multiclass" else F.sigmoid(raw)
        onehot = np.zeros((n, k))
        onehot[np.arange(n), indices] = 1.0
        return (raw * xp.asarray(onehot, dtype=raw.dtype)).sum(axis=1)

    def outputs_and_gradients(self, Z, indices, batch_size=256):
        """The explained output at each row of Z and its gradient with respect to Z.

        Z is in the explained space (after ``explained_input``); the gradient
        has Z's form. Runs the network in evaluation mode, ``batch_size`` rows
        per pass, without computing gradients of its parameters.
        """
        features, to_input = self.net._gradient_input(self.network_input(Z))
        values = features.values if isinstance(features, Padded) else features
        grads = np.zeros(values.shape, dtype=np.float64)
        outputs = np.empty(values.shape[0], dtype=np.float64)
        with explaining(self.net.module_):
            for begin in range(0, n_rows(features), batch_size):
                rows = slice(begin, begin + batch_size)
                x, raw = self._run(features, rows, input_grad=True)
                selected = self._selected(raw, indices[rows])
                outputs[rows] = to_numpy(selected.data)
                if selected.requires_grad:  # else the output does not depend on the input
                    selected.sum().backward()
                    grad = to_numpy(x.grad)
                    if grad.ndim == 3:  # a padded batch, trimmed to its longest series
                        grads[rows, :grad.shape[1]] = grad
                    else:
                        grads[rows] = grad
        grads = to_input(grads)
        return outputs, grads * self.scale if self._folds() else grads

    def layer_outputs_and_gradients(self, Z, indices, layer, batch_size=256, replace=None):
        """The explained output, and ``layer``'s output and its gradient, for each row.

        ``replace(rows)``, when given, is what the layer outputs for those
        rows instead of what it computes (the path of layer integrated
        gradients). Returns (outputs, activations, gradients) as arrays.
        """
        features, _ = self.net._gradient_input(self.network_input(Z))
        batch_size = _one_pass_if_padded(features, batch_size)
        outputs, activations, grads = [], [], []
        with explaining(self.net.module_), LayerCapture(layer) as capture:
            for begin in range(0, len(Z), batch_size):
                rows = slice(begin, begin + batch_size)
                capture.replacement = None if replace is None else replace(rows)
                capture.output = None
                raw = self._run(features, rows, input_grad=False)[1]
                selected = self._selected(raw, indices[rows])
                leaf = capture.checked_output()
                selected.sum().backward()
                outputs.append(to_numpy(selected.data))
                activations.append(to_numpy(leaf.data))
                grads.append(to_numpy(leaf.grad) if leaf.grad is not None
                             else np.zeros(leaf.shape))
        return np.concatenate(outputs), np.concatenate(activations), np.concatenate(grads)

    def layer_activations(self, Z, layer, batch_size=256):
        """``layer``'s output for each row of Z, in evaluation mode, as an array."""
        features, _ = self.net._gradient_input(self.network_input(Z))
        batch_size = _one_pass_if_padded(features, batch_size)
        activations = []
        with explaining(self.net.module_), LayerCapture(layer) as capture:
            for begin in range(0, len(Z), batch_size):
                capture.output = None
                self._run(features, slice(begin, begin + batch_size), input_grad=False)
                activations.append(to_numpy(capture.checked_output().data))
        return np.concatenate(activations)

    def _run(self, features, rows, input_grad):
        """The input Tensor of ``rows`` and the network's raw outputs for it."""
        net = self.net
        if isinstance(features, Padded):
            lengths = features.lengths[rows]
            x = Tensor(_on(features.values[rows, :int(lengths.max())], net.device_),
                       requires_grad=input_grad)
            return x, net.module_(x, lengths)
        x = Tensor(_on(features[rows], net.device_), requires_grad=input_grad)
        return x, net.module_(x)


def n_rows(features):
    """The number of inputs in checked features (an array, or ``Padded``)."""
    return features.values.shape[0] if isinstance(features, Padded) else features.shape[0]


def _one_pass_if_padded(features, batch_size):
    """Padded series in one pass: each batch is padded to its own longest series, and
    layer outputs of batches with different lengths would not stack."""
    return n_rows(features) if isinstance(features, Padded) else batch_size


class explaining:
    """The network in evaluation mode with gradients on, and its parameters out of the
    graph (backward computes no gradient for them), for the block."""

    def __init__(self, module):
        self._contexts = (_inputs_only(module), eval_mode(), enable_grad())

    def __enter__(self):
        for context in self._contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc_info):
        for context in reversed(self._contexts):
            context.__exit__(*exc_info)
        return False


def patched_forward(layer, wrap):
    """A context in which ``layer.forward`` is ``wrap(original forward)``; what the
    instance held before is restored on exit."""
    return _PatchedForward(layer, wrap)


class _PatchedForward:
    def __init__(self, layer, wrap):
        self.layer, self.wrap = layer, wrap

    def __enter__(self):
        self._own = self.layer.__dict__.get("forward")
        object.__setattr__(self.layer, "forward", self.wrap(self.layer.forward))
        return self

    def __exit__(self, *exc_info):
        if self._own is None:
            self.layer.__dict__.pop("forward", None)
        else:
            object.__setattr__(self.layer, "forward", self._own)
        return False


class LayerCapture:
    """Inside the block, ``layer``'s output becomes a leaf of the graph (so that its
    gradient can be read), kept as ``output``; ``replacement``, when set, is
    output instead."""

    def __init__(self, layer):
        self.layer = layer
        self.output = None
        self.replacement = None
        self._patch = patched_forward(layer, self._wrap)

    def _wrap(self, compute):
        def forward(*args, **kwargs):
            out = compute(*args, **kwargs)
            data = out.data if self.replacement is None else _on(
                np.asarray(self.replacement, dtype=out.dtype), out.device)
            if data.shape != out.shape:
                raise ValueError(f"replacement of shape {data.shape} for a layer output of "
                                 f"shape {out.shape}")
            self.output = Tensor(data, requires_grad=True)
            return self.output

        return forward

    def checked_output(self):
        if self.output is None:
            raise ValueError(f"the layer {type(self.layer).__name__} did not run in the "
                             "network's forward pass: pass a layer of the fitted module_.")
        return self.output

    def __enter__(self):
        self._patch.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self._patch.__exit__(*exc_info)


def _on(array, device):
    return array if device == "cpu" else to_device(array, device)


class _inputs_only:
    """Backward computes no gradient for the module's parameters inside the block."""

    def __init__(self, module):
        self.parameters = list(module.parameters())

    def __enter__(self):
        self.saved = [p.requires_grad for p in self.parameters]
        for p in self.parameters:
            p.requires_grad = False
        return self

    def __exit__(self, *exc_info):
        for p, saved in zip(self.parameters, self.saved):
            p.requires_grad = saved
        return False
