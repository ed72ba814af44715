"""A Pipeline's StandardScaler folded into its MLP's first layer: the network that
explanations through the Pipeline must agree with."""

import copy

import numpy as np


def fold_scaler(pipe):
    """A copy of ``pipe``'s MLP whose first layer applies ``pipe``'s StandardScaler."""
    scaler, net = pipe[0], pipe[-1]
    folded = copy.deepcopy(net)
    first = folded.module_.layers[0]
    W, b = np.array(first.weight.data), np.array(first.bias.data)
    first.weight.data[...] = W / scaler.scale_
    first.bias.data[...] = b - W @ (scaler.mean_ / scaler.scale_)
    return folded
