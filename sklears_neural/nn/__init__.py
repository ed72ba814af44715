"""Neural-network building blocks: modules, layers, losses and initialisers."""

from sklears_neural.nn import functional, init, utils
from sklears_neural.nn._loss import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    PoissonNLLLoss,
)
from sklears_neural.nn._module import Module, eval_mode
from sklears_neural.nn._parameter import Parameter
from sklears_neural.nn.layers.activation import (
    Activation,
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
    Tanhshrink,
)
from sklears_neural.nn.layers.attention import (
    AttentionPooling,
    LearnedPositionalEncoding,
    MultiheadAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from sklears_neural.nn.layers.container import Sequential
from sklears_neural.nn.layers.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseSeparableConv2d,
    ResidualBlock2d,
)
from sklears_neural.nn.layers.dense import Linear
from sklears_neural.nn.layers.graph import GCNConv, GINConv, GINEConv, GlobalPool, SAGEConv
from sklears_neural.nn.layers.graph_attention import GATConv, GATv2Conv
from sklears_neural.nn.layers.graph_pool import AttentionalAggregation, TopKPooling
from sklears_neural.nn.layers.dropout import AlphaDropout, Dropout, GaussianNoise
from sklears_neural.nn.layers.norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm
from sklears_neural.nn.layers.recurrent import GRU, LSTM, RNN, Embedding
from sklears_neural.nn.layers.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    Upsample,
)
from sklears_neural.nn.layers.spectral_norm import SpectralNorm

__all__ = [
    "AttentionPooling", "Embedding", "GRU", "LSTM", "LearnedPositionalEncoding",
    "MultiheadAttention", "RNN", "SinusoidalPositionalEncoding", "TransformerEncoder",
    "TransformerEncoderLayer",
    "Activation",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "BatchNorm2d", "BatchNorm3d", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "DepthwiseSeparableConv2d", "Flatten", "MaxPool1d",
    "MaxPool2d", "MaxPool3d", "ResidualBlock2d", "Upsample",
    "AlphaDropout", "GaussianNoise", "GroupNorm", "SpectralNorm", "utils",
    "AttentionalAggregation", "GATConv", "GATv2Conv", "GCNConv", "GINConv", "GINEConv",
    "GlobalPool", "SAGEConv", "TopKPooling",
    "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "ELU", "GELU",
    "HuberLoss", "Identity", "L1Loss", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax",
    "MSELoss", "Mish", "Module", "Parameter", "PoissonNLLLoss", "ReLU", "SELU", "eval_mode",
    "Sequential", "SiLU", "Sigmoid", "Softmax", "Softplus", "Tanh", "functional", "init",
    "CELU", "Hardswish", "Hardsigmoid", "Softsign", "Tanhshrink", "LogSigmoid", "PReLU",
]
