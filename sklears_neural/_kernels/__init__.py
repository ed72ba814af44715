"""Compiled CPU kernels (Cython, nogil, OpenMP where it pays).

The same entry points as ``sklears_neural._xp`` (same names, signatures and
semantics), tested against it; ``sklears_neural._dispatch.kernels_for`` hands
this module out for numpy arrays. Functions that can use several OpenMP
threads take an extra keyword-only ``n_threads`` (default None: one thread;
see ``_openmp_helpers`` for the measurements behind that default).
"""

from sklears_neural._kernels._activation import (
    activation_backward,
    activation_forward,
    log_softmax,
    log_softmax_backward,
    prelu_backward,
    prelu_forward,
    softmax,
    softmax_backward,
)
from sklears_neural._kernels._attention import attention_backward, attention_forward
from sklears_neural._kernels._conv import (
    col2im,
    conv_backward,
    conv_forward,
    conv_transpose_backward,
    conv_transpose_forward,
    im2col,
)
from sklears_neural._kernels._rnn import (
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)
from sklears_neural._kernels._norm import (
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_inference,
)
from sklears_neural._kernels._pool import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)
from sklears_neural._kernels._pool_adaptive import (
    adaptive_avg_pool_backward,
    adaptive_avg_pool_forward,
    adaptive_max_pool_forward,
)
from sklears_neural._kernels._resize import (
    pad_backward,
    pad_forward,
    upsample_nearest_backward,
    upsample_nearest_forward,
)
from sklears_neural._kernels._dense import dense_backward, dense_forward, gemm
from sklears_neural._kernels._loss import (
    bce_with_logits,
    huber_loss,
    l1_loss,
    mse_loss,
    poisson_nll_loss,
    softmax_cross_entropy,
)
from sklears_neural._kernels._openmp_helpers import openmp_enabled, openmp_max_threads
from sklears_neural._kernels._optim import (
    adadelta_step,
    adagrad_step,
    adam_step,
    adamax_step,
    lamb_step,
    lars_step,
    nadam_step,
    radam_step,
    rmsprop_step,
    sgd_step,
)

__all__ = [
    "activation_backward",
    "activation_forward",
    "adadelta_step",
    "adagrad_step",
    "adam_step",
    "adamax_step",
    "adaptive_avg_pool_backward",
    "adaptive_avg_pool_forward",
    "adaptive_max_pool_forward",
    "attention_backward",
    "attention_forward",
    "avg_pool_backward",
    "avg_pool_forward",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_inference",
    "bce_with_logits",
    "col2im",
    "conv_backward",
    "conv_forward",
    "conv_transpose_backward",
    "conv_transpose_forward",
    "dense_backward",
    "dense_forward",
    "gemm",
    "gru_backward",
    "gru_forward",
    "huber_loss",
    "im2col",
    "l1_loss",
    "lamb_step",
    "lars_step",
    "log_softmax",
    "log_softmax_backward",
    "lstm_backward",
    "lstm_forward",
    "max_pool_backward",
    "max_pool_forward",
    "mse_loss",
    "nadam_step",
    "openmp_enabled",
    "openmp_max_threads",
    "pad_backward",
    "pad_forward",
    "poisson_nll_loss",
    "prelu_backward",
    "prelu_forward",
    "radam_step",
    "rmsprop_step",
    "rnn_backward",
    "rnn_forward",
    "sgd_step",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "upsample_nearest_backward",
    "upsample_nearest_forward",
]
