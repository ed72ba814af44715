"""Differentiable operations with PyTorch's names and argument conventions.

Each op is one graph node (a ``Function``) that calls a kernel of the
array's kernel set. Elementary arithmetic is also available as ``Tensor``
operators.
"""

from sklears_neural.autograd._math import (
    add,
    div,
    exp,
    log,
    matmul,
    mean,
    mul,
    neg,
    pow,
    reshape,
    sub,
    sum,
    transpose,
)
from sklears_neural.nn.functional._activation import (
    activation,
    celu,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
    tanhshrink,
)
from sklears_neural.nn.functional._attention import scaled_dot_product_attention
from sklears_neural.nn.functional._conv import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    same_padding,
)
from sklears_neural.nn.functional._dense import linear
from sklears_neural.nn.functional._dropout import alpha_dropout, dropout, gaussian_noise
from sklears_neural.nn.functional._fold import fold, unfold
from sklears_neural.nn.functional._graph import (
    check_edge_index,
    edge_mask,
    edge_mask_for,
    gather_rows,
    global_pool,
    graph_aggregate,
    graph_csr,
    graph_ptr,
    scatter_add_rows,
    segment_softmax,
    take_entries,
)
from sklears_neural.nn.functional._loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    poisson_nll_loss,
)
from sklears_neural.nn.functional._norm import batch_norm, group_norm, layer_norm
from sklears_neural.nn.functional._embedding import embedding
from sklears_neural.nn.functional._recurrent import gru, lstm, rnn
from sklears_neural.nn.functional._shape import cat, stack
from sklears_neural.nn.functional._pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    pad,
    upsample_nearest,
)

__all__ = [
    "cat", "embedding", "gru", "lstm", "rnn", "scaled_dot_product_attention", "stack",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool2d", "max_pool3d", "pad", "same_padding", "upsample_nearest",
    "fold", "unfold", "check_edge_index", "edge_mask", "edge_mask_for", "gather_rows", "global_pool", "graph_aggregate",
    "graph_csr", "graph_ptr", "scatter_add_rows", "segment_softmax", "take_entries",
    "activation", "add", "alpha_dropout", "gaussian_noise", "group_norm", "batch_norm", "binary_cross_entropy_with_logits",
    "cross_entropy", "div", "dropout", "elu", "exp", "gelu", "huber_loss",
    "l1_loss", "layer_norm", "leaky_relu", "linear", "log", "log_softmax",
    "matmul", "mean", "mish", "mse_loss", "mul", "neg", "nll_loss",
    "poisson_nll_loss", "pow", "relu", "reshape", "selu", "sigmoid", "silu",
    "softmax", "softplus", "sub", "sum", "tanh", "transpose",
    "celu", "hardswish", "hardsigmoid", "softsign", "tanhshrink", "logsigmoid", "prelu",
]
