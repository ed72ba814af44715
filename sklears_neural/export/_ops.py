"""ONNX mappings of the engine's operations, one converter per ``Function`` class.

A converter reads the operation's options from its attributes (as the
forward pass set them) and adds the ONNX nodes that compute the same outputs
(opset 17). Recurrent gates are reordered from PyTorch's layout to ONNX's.
"""

import math

import numpy as np

from sklears_neural.autograd import _math as m
from sklears_neural.export._graph import OnnxExportError, tensor_type
from sklears_neural.nn.functional import _activation as act
from sklears_neural.nn.functional import _attention as attention
from sklears_neural.nn.functional import _conv as conv
from sklears_neural.nn.functional import _dense as dense
from sklears_neural.nn.functional import _dropout as dropout
from sklears_neural.nn.functional import _norm as norm
from sklears_neural.nn.functional import _pool as pool
from sklears_neural.nn.functional import _recurrent as recurrent
from sklears_neural.nn.functional import _shape as shape

__all__ = ["CONVERTERS", "OPSET", "activation"]

OPSET = 17
CONVERTERS = {}
_SELU = {"alpha": 1.6732632423543772, "gamma": 1.0507009873554805}


def _converts(*classes):
    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return register


def _scalar(b, value):
    return b.const(np.array(value, dtype=b.float_dtype), "scalar")


def activation(b, x, name, param=None):
    """The ONNX nodes of one of the engine's activations.

    Parameters
    ----------
    b : GraphBuilder
        Where nodes go.
    x : str
        The input's name.
    name : str
        The activation ("relu", "gelu", ...).
    param : float, optional
        Its parameter (negative slope, alpha, beta), default as the engine's.

    Returns
    -------
    str
        The output's name.
    """
    from sklears_neural._specs import default_param

    param = default_param(name) if param is None else param
    simple = {"identity": "Identity", "relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid",
              "softsign": "Softsign", "hardswish": "HardSwish"}
    if name in simple:
        return b.node(simple[name], [x])
    if name == "leaky_relu":
        return b.node("LeakyRelu", [x], alpha=float(param))
    if name == "elu":
        return b.node("Elu", [x], alpha=float(param))
    if name == "celu":
        return b.node("Celu", [x], alpha=float(param))
    if name == "selu":
        return b.node("Selu", [x], **_SELU)
    if name == "hardsigmoid":
        return b.node("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
    if name == "gelu":  # 0.5 x (1 + erf(x / sqrt 2))
        erf = b.node("Erf", [b.node("Mul", [x, _scalar(b, 1.0 / math.sqrt(2.0))])])
        return b.node("Mul", [b.node("Mul", [x, _scalar(b, 0.5)]),
                              b.node("Add", [erf, _scalar(b, 1.0)])])
    if name == "gelu_tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = b.node("Mul", [b.node("Mul", [x, x]), x])
        inner = b.node("Add", [x, b.node("Mul", [cube, _scalar(b, 0.044715)])])
        t = b.node("Tanh", [b.node("Mul", [inner, _scalar(b, math.sqrt(2.0 / math.pi))])])
        return b.node("Mul", [b.node("Mul", [x, _scalar(b, 0.5)]),
                              b.node("Add", [t, _scalar(b, 1.0)])])
    if name == "silu":
        return b.node("Mul", [x, b.node("Sigmoid", [x])])
    if name == "mish":
        return b.node("Mul", [x, b.node("Tanh", [b.node("Softplus", [x])])])
    if name == "softplus":  # log(1 + exp(beta x)) / beta
        beta = float(param)
        if beta == 1.0:
            return b.node("Softplus", [x])
        inner = b.node("Softplus", [b.node("Mul", [x, _scalar(b, beta)])])
        return b.node("Div", [inner, _scalar(b, beta)])
    if name == "tanhshrink":
        return b.node("Sub", [x, b.node("Tanh", [x])])
    if name == "logsigmoid":
        return b.node("Neg", [b.node("Softplus", [b.node("Neg", [x])])])
    raise OnnxExportError(f"ONNX export: the activation {name!r} has no ONNX mapping.")


@_converts(dense.Dense)
def _dense(ctx):
    b, x = ctx.b, ctx.name(0)
    weight = ctx.name(1, "weight")
    if len(ctx.input_shape(0)) == 2:
        inputs = [x, weight] + ([ctx.name(2, "bias")] if ctx.step.inputs[2] is not None else [])
        y = b.node("Gemm", inputs, transB=1)
    else:
        y = b.node("MatMul", [x, b.const(ctx.constant(1).T, "weight_t")])
        if ctx.step.inputs[2] is not None:
            y = b.node("Add", [y, ctx.name(2, "bias")])
    return activation(b, y, ctx.fn.activation, ctx.fn.activation_param)


@_converts(act.Activation)
def _activation(ctx):
    return activation(ctx.b, ctx.name(0), ctx.fn.name, ctx.fn.activation_param)


@_converts(act.PReLU)
def _prelu(ctx):
    return ctx.b.node("PRelu", [ctx.name(0), ctx.name(1, "slope")])


@_converts(act.Softmax)
def _softmax(ctx):
    return ctx.b.node("Softmax", [ctx.name(0)], axis=int(ctx.fn.dim))


@_converts(act.LogSoftmax)
def _log_softmax(ctx):
    return ctx.b.node("LogSoftmax", [ctx.name(0)], axis=int(ctx.fn.dim))


@_converts(norm._Affine)
def _affine(ctx):
    """Eval-mode batch norm folded into one multiply and one add per channel."""
    fn, b = ctx.fn, ctx.b
    mean = np.asarray(fn.running_mean, dtype=np.float64)
    inv_std = 1.0 / np.sqrt(np.asarray(fn.running_var, dtype=np.float64) + fn.eps)
    gamma = ctx.constant(1) if ctx.n_inputs > 1 else None
    beta = ctx.constant(2) if ctx.n_inputs > 2 else None
    scale = inv_std * (1.0 if gamma is None else gamma.astype(np.float64))
    shift = (0.0 if beta is None else beta.astype(np.float64)) - mean * scale
    scaled = b.node("Mul", [ctx.name(0), b.const(scale.reshape(fn.param_shape), "bn_scale")])
    return b.node("Add", [scaled, b.const(shift.reshape(fn.param_shape), "bn_shift")])


@_converts(norm._Normalize)
def _normalize(ctx):
    """Layer (or eval-time batch-statistic) normalisation over ``axes``."""
    fn, b = ctx.fn, ctx.b
    axes = [int(a) for a in fn.axes]
    x = ctx.name(0)
    centered = b.node("Sub", [x, b.reduce_mean(x, axes)])
    var = b.reduce_mean(b.node("Mul", [centered, centered]), axes)
    y = b.node("Div", [centered, b.node("Sqrt", [b.node("Add", [var, _scalar(b, fn.eps)])])])
    if ctx.step.inputs[1] is not None:
        y = b.node("Mul", [y, b.const(ctx.constant(1).reshape(fn.param_shape), "gamma")])
    if ctx.step.inputs[2] is not None:
        y = b.node("Add", [y, b.const(ctx.constant(2).reshape(fn.param_shape), "beta")])
    return y


@_converts(conv._Conv)
def _conv(ctx):
    fn = ctx.fn
    padding = [int(p) for p in fn.padding]
    inputs = [ctx.name(0), ctx.name(1, "conv_weight")]
    if ctx.step.inputs[2] is not None:
        inputs.append(ctx.name(2, "conv_bias"))
    return ctx.b.node("Conv", inputs, strides=[int(s) for s in fn.stride],
                      pads=padding + padding, dilations=[int(d) for d in fn.dilation],
                      group=int(fn.groups),
                      kernel_shape=list(ctx.input_shape(1)[2:]))


@_converts(pool._MaxPool)
def _max_pool(ctx):
    kernel, stride, padding, dilation, ceil_mode = ctx.fn.args
    padding = [int(p) for p in padding]
    return ctx.b.node("MaxPool", [ctx.name(0)], kernel_shape=[int(k) for k in kernel],
                      strides=[int(s) for s in stride], pads=padding + padding,
                      dilations=[int(d) for d in dilation], ceil_mode=int(bool(ceil_mode)))


@_converts(pool._AvgPool)
def _avg_pool(ctx):
    kernel, stride, padding, ceil_mode, count_include_pad, divisor = ctx.fn.args
    if divisor is not None:
        raise OnnxExportError("ONNX export: average pooling with divisor_override has no "
                              "ONNX mapping.")
    padding = [int(p) for p in padding]
    return ctx.b.node("AveragePool", [ctx.name(0)], kernel_shape=[int(k) for k in kernel],
                      strides=[int(s) for s in stride], pads=padding + padding,
                      ceil_mode=int(bool(ceil_mode)),
                      count_include_pad=int(bool(count_include_pad)))


@_converts(pool._AdaptiveAvgPool)
def _adaptive_avg_pool(ctx):
    return _adaptive(ctx, "GlobalAveragePool", "AveragePool")


@_converts(pool._AdaptiveMaxPool)
def _adaptive_max_pool(ctx):
    return _adaptive(ctx, "GlobalMaxPool", "MaxPool")


def _adaptive(ctx, global_op, window_op):
    spatial = ctx.input_shape(0)[2:]
    out = tuple(int(o) for o in np.broadcast_to(ctx.fn.output_size, (len(spatial),)))
    if all(o == 1 for o in out):
        return ctx.b.node(global_op, [ctx.name(0)])
    if any(s % o for s, o in zip(spatial, out)):
        raise OnnxExportError(f"ONNX export: adaptive pooling from {spatial} to {out} has no "
                              "ONNX mapping (only whole divisions).")
    window = [s // o for s, o in zip(spatial, out)]
    return ctx.b.node(window_op, [ctx.name(0)], kernel_shape=window, strides=window)


@_converts(pool._Pad)
def _pad(ctx):
    fn, ndim = ctx.fn, len(ctx.input_shape(0))
    begins, ends = [0] * ndim, [0] * ndim
    for k in range(len(fn.pad) // 2):
        begins[ndim - 1 - k], ends[ndim - 1 - k] = int(fn.pad[2 * k]), int(fn.pad[2 * k + 1])
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(fn.mode)
    if mode is None:
        raise OnnxExportError(f"ONNX export: padding mode {fn.mode!r} has no ONNX mapping at "
                              f"opset {OPSET}.")
    pads = ctx.b.const(np.array(begins + ends, dtype=np.int64), "pads")
    inputs = [ctx.name(0), pads] + ([_scalar(ctx.b, fn.value)] if mode == "constant" else [])
    return ctx.b.node("Pad", inputs, mode=mode)


@_converts(shape._Cat)
def _cat(ctx):
    return ctx.b.node("Concat", [ctx.name(i) for i in range(ctx.n_inputs)],
                      axis=int(ctx.fn.axis))


_BINARY = {m.Add: "Add", m.Sub: "Sub", m.Mul: "Mul", m.Div: "Div", m.Pow: "Pow"}


@_converts(*_BINARY)
def _binary(ctx):
    return ctx.b.node(_BINARY[type(ctx.fn)], [ctx.name(0), ctx.name(1)])


@_converts(m.Neg)
def _neg(ctx):
    return ctx.b.node("Neg", [ctx.name(0)])


@_converts(m.Exp)
def _exp(ctx):
    return ctx.b.node("Exp", [ctx.name(0)])


@_converts(m.Log)
def _log(ctx):
    return ctx.b.node("Log", [ctx.name(0)])


@_converts(m.PowScalar)
def _pow_scalar(ctx):
    return ctx.b.node("Pow", [ctx.name(0), _scalar(ctx.b, ctx.fn.exponent)])


@_converts(m.MatMul)
def _matmul(ctx):
    return ctx.b.node("MatMul", [ctx.name(0), ctx.name(1)])


@_converts(m.Mean)
def _mean(ctx):
    fn = ctx.fn
    if fn.count != int(np.prod([fn.shape[a] for a in fn.axes])):
        raise OnnxExportError("ONNX export: a mean over some entries only has no mapping.")
    return ctx.b.reduce_mean(ctx.name(0), fn.axes, keepdims=fn.keepdims)


@_converts(m.Sum)
def _sum(ctx):
    axes = ctx.b.const(np.array(ctx.fn.axes, dtype=np.int64), "axes")
    return ctx.b.node("ReduceSum", [ctx.name(0), axes], keepdims=int(bool(ctx.fn.keepdims)))


@_converts(m.Reshape)
def _reshape(ctx):
    target, other = list(ctx.fn.shape), list(ctx.other.shape)
    if len(target) != len(other):
        raise OnnxExportError("ONNX export: a reshape changes rank with the batch size.")
    batch = ctx.batch_axes(target, other)
    if len(batch) > 1 or (batch and -1 in target):
        raise OnnxExportError(f"ONNX export: a reshape to {tuple(target)} has more than one "
                              "dimension that follows the batch size.")
    for axis in batch:
        target[axis] = -1
    return ctx.b.node("Reshape", [ctx.name(0), ctx.b.const(np.array(target, np.int64),
                                                           "shape")])


@_converts(m.Transpose)
def _transpose(ctx):
    axes = ctx.fn.axes
    if axes is None:
        axes = tuple(reversed(range(len(ctx.input_shape(0)))))
    return ctx.b.node("Transpose", [ctx.name(0)], perm=[int(a) for a in axes])


@_converts(m.GetItem)
def _get_item(ctx):
    index = ctx.fn.index if isinstance(ctx.fn.index, tuple) else (ctx.fn.index,)
    other = ctx.other.index if isinstance(ctx.other.index, tuple) else (ctx.other.index,)
    if other != index:
        raise OnnxExportError("ONNX export: an index that follows the batch size.")
    big = 2 ** 62
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, item in enumerate(index):
        if isinstance(item, (int, np.integer)):
            start = int(item)
            starts.append(start)
            ends.append(start + 1 if start != -1 else big)
            steps.append(1)
            axes.append(axis)
            squeeze.append(axis)
        elif isinstance(item, slice):
            if item == slice(None):
                continue
            step = 1 if item.step is None else int(item.step)
            starts.append(int(item.start) if item.start is not None else
                          (0 if step > 0 else big))
            ends.append(int(item.stop) if item.stop is not None else
                        (big if step > 0 else -big))
            steps.append(step)
            axes.append(axis)
        else:
            raise OnnxExportError(f"ONNX export: indexing with {type(item).__name__} has no "
                                  "ONNX mapping (only integers and slices).")
    b, y = ctx.b, ctx.name(0)
    if axes:
        y = b.node("Slice", [y, b.const(np.array(starts, np.int64), "starts"),
                             b.const(np.array(ends, np.int64), "ends"),
                             b.const(np.array(axes, np.int64), "axes"),
                             b.const(np.array(steps, np.int64), "steps")])
    if squeeze:
        y = b.node("Squeeze", [y, b.const(np.array(squeeze, np.int64), "axes")])
    return y


@_converts(m.AsType)
def _as_type(ctx):
    return ctx.b.node("Cast", [ctx.name(0)], to=tensor_type(ctx.fn.dtype))


@_converts(dropout.Dropout, dropout._AddNoise, dropout._AlphaDropout)
def _identity(ctx):
    return ctx.b.node("Identity", [ctx.name(0)])


@_converts(attention._Attention)
def _attention(ctx):
    fn, b = ctx.fn, ctx.b
    q, k, v = ctx.name(0), ctx.name(1), ctx.name(2)
    for mask in ("attn_mask", "key_padding_mask"):  # masks shaped by the batch are not fixed
        mine, other = getattr(fn, mask), getattr(ctx.other, mask)
        if (mine is None) != (other is None) or (mine is not None and np.shape(
                getattr(mine, "data", mine)) != np.shape(getattr(other, "data", other))):
            raise OnnxExportError(f"ONNX export: an attention {mask} that follows the batch "
                                  "has no mapping.")
    if fn.key_padding_mask is not None and np.asarray(fn.key_padding_mask).any():
        raise OnnxExportError("ONNX export: attention over padded sequences has no mapping; "
                              "export takes sequences of one length.")
    scale = fn._scale(np.empty(ctx.input_shape(0)))
    scores = b.node("Mul", [b.node("MatMul", [q, b.node("Transpose", [k], perm=[0, 1, 3, 2])]),
                            _scalar(b, scale)])
    t_q, t_k = ctx.input_shape(0)[2], ctx.input_shape(1)[2]
    blocked = np.zeros((t_q, t_k), dtype=bool)
    if fn.causal:
        blocked |= np.arange(t_k)[None, :] > np.arange(t_q)[:, None]
    if fn.attn_mask is not None:
        mask = np.asarray(getattr(fn.attn_mask, "data", fn.attn_mask))
        if mask.dtype == bool:
            blocked = blocked | mask
        else:
            scores = b.node("Add", [scores, b.const(mask, "attn_mask")])
    if blocked.any():
        fill = np.where(blocked, -np.inf, 0.0)
        scores = b.node("Add", [scores, b.const(fill, "attn_block")])
    weights = b.node("Softmax", [scores], axis=-1)
    return b.node("MatMul", [weights, v])


def _gates(array, order, hidden):
    """Rows of a (G*H, ...) gate-stacked array reordered by gate ``order``."""
    return np.concatenate([array[g * hidden:(g + 1) * hidden] for g in order], axis=0)


def _recurrent(ctx, op_type, order, n_states, **attributes):
    fn, b = ctx.fn, ctx.b
    if fn.lengths is not None and np.any(np.asarray(fn.lengths) != ctx.input_shape(0)[0]):
        raise OnnxExportError("ONNX export: recurrent layers over padded sequences have no "
                              "mapping; export takes sequences of one length.")
    first = 1 + n_states  # x, states..., w_ih, w_hh, b_ih, b_hh
    w_ih, w_hh = ctx.constant(first), ctx.constant(first + 1)
    hidden = w_hh.shape[1]
    weights = b.const(_gates(w_ih, order, hidden)[None], "w")
    recurrence = b.const(_gates(w_hh, order, hidden)[None], "r")
    biases = []
    for i in (first + 2, first + 3):
        bias = ctx.constant(i)
        biases.append(np.zeros(len(order) * hidden) if bias is None else
                      _gates(bias, order, hidden))
    inputs = [ctx.name(0), weights, recurrence, b.const(np.concatenate(biases)[None], "b"), ""]
    for i in range(1, 1 + n_states):  # initial states: omitted when zero
        if not ctx.is_computed(i) and not np.any(ctx.constant(i)):
            inputs.append("")
        else:
            inputs.append(b.node("Unsqueeze", [ctx.name(i), b.const(np.array([0], np.int64))]))
    direction = "reverse" if fn.reverse else "forward"
    outputs = b.node(op_type, inputs, n_outputs=1 + n_states, hidden_size=int(hidden),
                     direction=direction, **attributes)
    sequence = b.node("Squeeze", [outputs[0], b.const(np.array([1], np.int64))])
    states = [b.node("Squeeze", [o, b.const(np.array([0], np.int64))]) for o in outputs[1:]]
    return [sequence, *states]


@_converts(recurrent._LSTM)
def _lstm(ctx):
    return _recurrent(ctx, "LSTM", order=(0, 3, 1, 2), n_states=2)  # i f g o -> i o f g


@_converts(recurrent._GRU)
def _gru(ctx):
    return _recurrent(ctx, "GRU", order=(1, 0, 2), n_states=1, linear_before_reset=1)


@_converts(recurrent._RNN)
def _rnn(ctx):
    name = {"tanh": "Tanh", "relu": "Relu"}.get(ctx.fn.nonlinearity)
    if name is None:
        raise OnnxExportError(f"ONNX export: RNN nonlinearity {ctx.fn.nonlinearity!r}.")
    return _recurrent(ctx, "RNN", order=(0,), n_states=1, activations=[name])
