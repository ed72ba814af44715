"""``embedding``: rows of a weight matrix looked up by integer index."""

import numpy as np

from sklears_neural.autograd import Function, Tensor
from sklears_neural.backend import get_array_module

__all__ = ["embedding"]


class _Embedding(Function):
    def __init__(self, indices, padding_idx):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, weight):
        self.num_embeddings = weight.shape[0]
        return weight[self.indices]

    def backward(self, gy):
        xp = get_array_module(gy)
        grad = xp.zeros((self.num_embeddings, gy.shape[-1]), dtype=gy.dtype)
        flat = self.indices.reshape(-1)
        if xp is np:
            np.add.at(grad, flat, gy.reshape(-1, gy.shape[-1]))
        else:  # cupy
            xp.add.at(grad, flat, gy.reshape(-1, gy.shape[-1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return grad


def embedding(input, weight, padding_idx=None):
    """Look up rows of ``weight``, as ``torch.nn.functional.embedding``.

    Parameters
    ----------
    input : int array or Tensor of any shape
        Indices in ``[0, num_embeddings)``.
    weight : Tensor of shape (num_embeddings, embedding_dim)
        The table of embeddings, one row per index.
    padding_idx : int, default=None
        This row gets no gradient (it stays as initialised, usually zeros); a
        negative index counts from the end.

    Returns
    -------
    Tensor of shape (\\*input.shape, embedding_dim)
        The rows of ``weight`` at the indices.

    Raises
    ------
    ValueError
        If the indices are not integers or not in ``[0, num_embeddings)``.
    """
    indices = input.data if isinstance(input, Tensor) else input
    xp = get_array_module(weight.data)
    indices = xp.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise ValueError(f"embedding: indices must be integers; got dtype {indices.dtype}.")
    n = weight.shape[0]
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= n):
        raise ValueError(f"embedding: indices must be in [0, {n}); got values from "
                         f"{int(indices.min())} to {int(indices.max())}.")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return _Embedding(indices, padding_idx).apply(weight)
