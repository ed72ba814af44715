"""Attention maps of Transformer estimators: who attends to whom, per layer."""

import contextlib

import numpy as np

from sklears_neural.autograd import no_grad
from sklears_neural.backend import to_numpy
from sklears_neural.data import Padded
from sklears_neural.inspection._explained import ExplainedModel, n_rows, patched_forward
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
    batches = []
    with contextlib.ExitStack() as stack:
        for recorder in recorders:
            stack.enter_context(patched_forward(recorder.layer, recorder.wrap))
        stack.enter_context(eval_mode())
        stack.enter_context(no_grad())
        for begin in range(0, n_rows(features), batch_size):
            model._run(features, slice(begin, begin + batch_size), input_grad=False)
            batches.append([recorder.pop() for recorder in recorders])
    tokens = max(batch[0].shape[-1] for batch in batches)
    per_input = batches[0][0].shape[1:-2] + (tokens, tokens)  # ([heads,] tokens, tokens)
    out = np.zeros((n_rows(features), len(layers)) + per_input)
    begin = 0
    for batch in batches:
        for index, weights in enumerate(batch):
            t = weights.shape[-1]
            out[begin:begin + len(weights), index, ..., :t, :t] = weights
        begin += len(batch[0])
    if isinstance(features, Padded):  # the queries of padded tokens: nothing to explain
        patch = getattr(model.net, "patch_size_", 1)
        valid = -(-np.asarray(features.lengths) // patch)
        query_valid = np.arange(tokens)[None, :] < valid[:, None]
        out *= query_valid.reshape((len(out),) + (1,) * (out.ndim - 3) + (tokens, 1))
    return out


class _Recorder:
    """Makes one attention layer also compute and keep its probabilities (``wrap``
    its forward with ``patched_forward``)."""

    def __init__(self, layer, average_heads):
        self.layer, self.average_heads = layer, average_heads
        self.weights = None

    def wrap(self, compute):
        def forward(*args, **kwargs):
            kwargs["need_weights"] = True
            kwargs["average_attn_weights"] = self.average_heads
            out, weights = compute(*args, **kwargs)
            self.weights = to_numpy(weights.data if hasattr(weights, "data") else weights)
            return out, weights

        return forward

    def pop(self):
        weights, self.weights = self.weights, None
        if weights is None:
            raise ValueError("an attention layer did not run in the network's forward pass.")
        return weights
