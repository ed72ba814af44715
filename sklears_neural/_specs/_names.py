"""The kernel entry points both twins export: the one list ``_kernels`` and ``_xp`` share.

Each twin's package re-exports its modules' ``__all__`` and declares
``__all__ = KERNEL_NAMES``; ``tests/kernels/test_twins.py`` checks that both
define every name here and nothing else, with the same signatures.
"""

__all__ = ["KERNEL_NAMES"]

KERNEL_NAMES = (
    # activations
    "activation_backward", "activation_forward", "log_softmax", "log_softmax_backward",
    "prelu_backward", "prelu_forward", "softmax", "softmax_backward",
    # attention
    "attention_backward", "attention_forward",
    # convolutions (im2col/col2im are nn.functional.unfold/fold)
    "col2im", "conv_backward", "conv_forward", "conv_transpose_backward",
    "conv_transpose_forward", "im2col",
    # dense layer with a fused activation
    "dense_backward", "dense_forward",
    # graphs: aggregation over incoming edges, gather/scatter of rows, reductions and
    # softmax over segments
    "gather_rows", "scatter_add_rows", "segment_reduce_backward", "segment_reduce_forward",
    "segment_softmax_backward", "segment_softmax_forward", "spmm_backward", "spmm_forward",
    # losses
    "bce_with_logits", "huber_loss", "l1_loss", "mse_loss", "poisson_nll_loss",
    "softmax_cross_entropy",
    # batch normalisation
    "batch_norm_backward", "batch_norm_forward", "batch_norm_inference",
    # optimizer steps
    "adadelta_step", "adagrad_step", "adam_step", "adamax_step", "lamb_step", "lars_step",
    "nadam_step", "radam_step", "rmsprop_step", "sgd_step",
    # pooling, padding, resizing
    "adaptive_avg_pool_backward", "adaptive_avg_pool_forward", "adaptive_max_pool_forward",
    "avg_pool_backward", "avg_pool_forward", "max_pool_backward", "max_pool_forward",
    "pad_backward", "pad_forward", "upsample_nearest_backward", "upsample_nearest_forward",
    # recurrent layers
    "gru_backward", "gru_forward", "lstm_backward", "lstm_forward", "rnn_backward",
    "rnn_forward",
)
