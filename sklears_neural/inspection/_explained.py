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
from sklears_neural.backend import to_device, to_numpy
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.data import Padded
from sklears_neural.nn import eval_mode
from sklears_neural.nn import functional as F

__all__ = ["ExplainedModel"]

OUTPUTS = ("logits", "probabilities")


def _elementwise_affine(step):
    """(scale, offset) with ``step.transform(x) == x * scale + offset``, or None."""
    if isinstance(step, StandardScaler):
        mean = 0.0 if step.mean_ is None else step.mean_
        std = 1.0 if step.scale_ is None else step.scale_
        return 1.0 / std, -mean / std
    if isinstance(step, MinMaxScaler) and not step.clip:
        return step.scale_, step.min_
    if isinstance(step, MaxAbsScaler):
        return 1.0 / step.scale_, 0.0
    if isinstance(step, RobustScaler):
        center = 0.0 if step.center_ is None else step.center_
        scale = 1.0 if step.scale_ is None else step.scale_
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
        """Z (explained space) with the folded scalers applied: what the network reads."""
        return np.asarray(Z) * self.scale + self.offset if self._folds() else Z

    # -- targets -------------------------------------------------------------------------
    def target_indices(self, target, Z):
        """The output index explained for each row, and the targets as the result gives them.

        A classifier takes class labels (as in ``classes_``; None: each row's
        predicted class), a regressor output indices (None: 0 for one output).
        """
        net = self.net
        n_rows = len(Z)
        if not self.classifier:
            n_outputs = net._targets.n_outputs
            if target is None:
                if n_outputs > 1:
                    raise ValueError(f"the regressor has {n_outputs} outputs: pass target, "
                                     "the index of the one to explain.")
                target = 0
            indices = np.broadcast_to(np.asarray(target), (n_rows,))
            if indices.dtype.kind not in "iu" or (indices < 0).any() or (
                    indices >= n_outputs).any():
                raise ValueError(f"target must be an output index in [0, {n_outputs}); got "
                                 f"{target!r}.")
            return indices.astype(np.int64), indices.copy()
        classes = net.classes_
        if target is None:
            if net._targets.kind_ == "multilabel":
                raise ValueError("a multilabel classifier needs target: the label to explain "
                                 f"(one of {classes.tolist()}).")
            labels = net.predict(self.network_input(Z))
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

    # -- the function and its gradient ---------------------------------------------------
    def _selected(self, raw, indices):
        """The explained output of each row, from the network's raw outputs (a Tensor)."""
        n, k = raw.shape
        kind = getattr(self.net._targets, "kind_", "regression")
        if kind == "binary" and k == 1:  # one logit z: class 1 has z, class 0 has -z
            signs = np.where(indices == 1, 1.0, -1.0).astype(raw.dtype)[:, None]
            z = raw * signs
            return F.sigmoid(z).sum(axis=1) if self.output == "probabilities" else z.sum(axis=1)
        if self.output == "probabilities":
            raw = F.softmax(raw, dim=1) if kind == "multiclass" else F.sigmoid(raw)
        onehot = np.zeros((n, k), dtype=raw.dtype)
        onehot[np.arange(n), indices] = 1.0
        return (raw * onehot).sum(axis=1)

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
        for rows, x, raw in self._passes(features, batch_size, input_grad=True):
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
        outputs, activations, grads = [], [], []
        with LayerCapture(layer) as capture:
            batches = self._passes(features, batch_size, input_grad=False)
            for begin in range(0, len(Z), batch_size):
                rows = slice(begin, begin + batch_size)
                capture.replacement = None if replace is None else replace(rows)
                capture.output = None
                _, _, raw = next(batches)
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
        activations = []
        with LayerCapture(layer) as capture:
            for _ in self._passes(features, batch_size, input_grad=False):
                activations.append(to_numpy(capture.checked_output().data))
                capture.output = None
        return np.concatenate(activations)

    def _passes(self, features, batch_size, input_grad):
        """Yield (rows, input Tensor, raw outputs) for each batch of ``features``, with
        the network in evaluation mode and its parameters out of the graph."""
        net = self.net
        padded = isinstance(features, Padded)
        values = features.values if padded else features
        with _inputs_only(net.module_), eval_mode(), enable_grad():
            for begin in range(0, values.shape[0], batch_size):
                rows = slice(begin, begin + batch_size)
                if padded:
                    lengths = features.lengths[rows]
                    x = Tensor(_on(values[rows, :int(lengths.max())], net.device_),
                               requires_grad=input_grad)
                    yield rows, x, net.module_(x, lengths)
                else:
                    x = Tensor(_on(values[rows], net.device_), requires_grad=input_grad)
                    yield rows, x, net.module_(x)


class LayerCapture:
    """Inside the block, ``layer``'s output becomes a leaf of the graph (so that its
    gradient can be read), kept as ``output``; ``replacement``, when set, is
    output instead."""

    def __init__(self, layer):
        self.layer = layer
        self.output = None
        self.replacement = None

    def __enter__(self):
        self._own = self.layer.__dict__.get("forward")
        compute = self.layer.forward

        def forward(*args, **kwargs):
            out = compute(*args, **kwargs)
            data = out.data if self.replacement is None else _on(
                np.asarray(self.replacement, dtype=out.dtype), _device(out))
            if data.shape != out.shape:
                raise ValueError(f"replacement of shape {data.shape} for a layer output of "
                                 f"shape {out.shape}")
            self.output = Tensor(data, requires_grad=True)
            return self.output

        object.__setattr__(self.layer, "forward", forward)
        return self

    def checked_output(self):
        if self.output is None:
            raise ValueError(f"the layer {type(self.layer).__name__} did not run in the "
                             "network's forward pass: pass a layer of the fitted module_.")
        return self.output

    def __exit__(self, *exc_info):
        if self._own is None:
            del self.layer.__dict__["forward"]
        else:
            object.__setattr__(self.layer, "forward", self._own)
        return False


def _device(tensor):
    return "cpu" if isinstance(tensor.data, np.ndarray) else tensor.device


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
