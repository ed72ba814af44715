"""Attention maps of Transformer estimators: who attends to whom, per layer."""

import numpy as np

from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.backend import to_numpy
from sklears_neural.data import Padded
from sklears_neural.inspection._explained import ExplainedModel, _on
from sklears_neural.inspection._gradients import _positive_int, as_values
from sklears_neural.nn import MultiheadAttention, eval_mode

__all__ = ["attention_maps"]


def attention_maps(estimator, X, *, average_heads=True, batch_size=256):
    """The attention probabilities of every self-attention layer for each input.

    Parameters
    ----------
    estimator : fitted TransformerClassifier or TransformerRegressor, or Pipeline ending in one
        The steps before it are applied to X first.
    X : array-like or list of sequences
        The inputs, in the form the estimator predicts on.
    average_heads : bool, default=True
        Average the probabilities over the heads of each layer.
    batch_size : int, default=256
        Inputs per engine pass.

    Returns
    -------
    ndarray of shape (n_samples, n_layers, [n_heads,] tokens, tokens)
        ``[i, l, (h,) q, k]``: how much token q of input i attends to token
        k in layer l. Tokens are the network's steps: patches of
        ``patch_size_`` time steps. Padded tokens of shorter sequences
        attend and are attended with probability 0.
    """
    model = ExplainedModel(estimator)
    layers = [m for _, m in model.net.module_.named_modules()
              if isinstance(m, MultiheadAttention)]
    if not layers:
        raise ValueError(f"attention_maps needs a network with self-attention; "
                         f"{type(model.net).__name__}'s has none.")
    Z = as_values(model.explained_input(X))
    features, _ = model.net._gradient_input(model.network_input(Z))
    batch_size = _positive_int(batch_size, "batch_size")
    recorders = [_Recorder(layer, average_heads) for layer in layers]
    padded = isinstance(features, Padded)
    values = features.values if padded else features
    batches = []
    try:
        for recorder in recorders:
            recorder.attach()
        with eval_mode(), no_grad():
            for begin in range(0, len(values), batch_size):
                rows = slice(begin, begin + batch_size)
                if padded:
                    lengths = features.lengths[rows]
                    model.net.module_(_tensor(values[rows, :int(lengths.max())], model),
                                      lengths)
                else:
                    model.net.module_(_tensor(values[rows], model))
                batches.append([recorder.pop() for recorder in recorders])
    finally:
        for recorder in recorders:
            recorder.detach()
    tokens = max(batch[0].shape[-1] for batch in batches)
    out = np.zeros((len(values), len(layers)) + batches[0][0].shape[1:-2] + (tokens, tokens))
    begin = 0
    for batch in batches:
        for index, weights in enumerate(batch):
            t = weights.shape[-1]
            out[begin:begin + len(weights), index, ..., :t, :t] = weights
        begin += len(batch[0])
    if padded:  # the queries of padded tokens: nothing to explain there
        patch = getattr(model.net, "patch_size_", 1)
        valid = -(-np.asarray(features.lengths) // patch)
        query_valid = np.arange(tokens)[None, :] < valid[:, None]
        out *= query_valid.reshape((len(out),) + (1,) * (out.ndim - 3) + (tokens, 1))
    return out


def _tensor(array, model):
    return Tensor(_on(array, model.net.device_))


class _Recorder:
    """Makes one attention layer also compute and keep its probabilities."""

    def __init__(self, layer, average_heads):
        self.layer, self.average_heads = layer, average_heads
        self.weights = None

    def attach(self):
        compute = self.layer.forward

        def forward(*args, **kwargs):
            kwargs["need_weights"] = True
            kwargs["average_attn_weights"] = self.average_heads
            out, weights = compute(*args, **kwargs)
            self.weights = to_numpy(weights.data if hasattr(weights, "data") else weights)
            return out, weights

        object.__setattr__(self.layer, "forward", forward)

    def pop(self):
        weights, self.weights = self.weights, None
        if weights is None:
            raise ValueError("an attention layer did not run in the network's forward pass.")
        return weights

    def detach(self):
        self.layer.__dict__.pop("forward", None)
