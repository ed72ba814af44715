"""ONNX mappings of the graph layers, each converted whole (``LayerCall`` steps).

A graph layer's structure (the edges in sorted order, self-loops added,
degree normalisation) is computed from ``edge_index`` by NumPy code the trace
cannot see; its ONNX twin recomputes it from the graph's ``edge_index`` and
``batch`` inputs with Gather and ScatterElements nodes (sum and max, opset
18), in the order the edges come: the reductions do not depend on it. A
softmax over a node's incoming edges (GAT) or a graph's nodes (attention
pooling) subtracts each group's own maximum, as the engine's kernel does.
Only the layer classes themselves convert (a subclass that overrides their
parts is refused); GINE (edge features) has no mapping.
"""

import numpy as np

from sklears_neural.export._graph import OnnxExportError, convert_traces, tensor_type
from sklears_neural.export._ops import CONVERTERS, activation
from sklears_neural.export._trace import LayerCall, trace
from sklears_neural.nn.layers.graph import GCNConv, GINConv, GINEConv, GlobalPool, SAGEConv
from sklears_neural.nn.layers.graph_attention import GATConv, GATv2Conv, _GraphAttention
from sklears_neural.nn.layers.graph_pool import AttentionalAggregation

__all__ = ["GRAPH_LAYERS"]

# The classes whose ``forward`` the trace records whole (where ``forward`` is defined).
GRAPH_LAYERS = (GCNConv, SAGEConv, GINConv, GINEConv, _GraphAttention, GlobalPool,
                AttentionalAggregation)
_BIG = 2 ** 62


def _i64(b, values, hint="index"):
    return b.const(np.asarray(values, dtype=np.int64), hint)


def _graph_input(ctx, value, what):
    name = ctx.b.graph_inputs.get(id(value))
    if name is None:
        raise OnnxExportError(f"ONNX export: a {type(ctx.fn.layer).__name__} is called on "
                              f"{what} the network computed itself; export takes the graph's "
                              "own.")
    return name


def _no_wrap(b, index, n):
    """An index with its negative entries pushed out of range: ONNX's Gather would wrap
    them around to the last rows, where the engine raises."""
    return b.node("Where", [b.node("Less", [index, _i64(b, 0)]),
                            b.node("Squeeze", [n, _i64(b, [0])]), index])


def _edges(ctx, n):
    """The graph's sources and targets (1-D int64 names)."""
    edge_index = _graph_input(ctx, ctx.fn.args[1], "edges")
    b = ctx.b
    return tuple(_no_wrap(b, b.node("Gather", [edge_index, _i64(b, k)], axis=0), n)
                 for k in (0, 1))


def _rows(b, x):
    """A 1-D int64 tensor holding x's number of rows."""
    return b.node("Slice", [b.node("Shape", [x]), _i64(b, [0]), _i64(b, [1])])


def _scatter_sum(b, values, index, n_rows, rank, reduction="add"):
    """Rows of ``values`` summed (or maximised) into ``n_rows`` rows by ``index``; a row
    no entry reaches is 0 for a sum, the lowest float for a max."""
    rest = b.node("Slice", [b.node("Shape", [values]), _i64(b, [1]), _i64(b, [_BIG])])
    start = 0 if reduction == "add" else np.finfo(b.float_dtype).min
    initial = b.node("ConstantOfShape", [b.node("Concat", [n_rows, rest], axis=0)],
                     value=b.onnx.numpy_helper.from_array(np.full(1, start, b.float_dtype)))
    if rank > 1:
        index = b.node("Expand", [b.node("Reshape", [index, _i64(b, [-1] + [1] * (rank - 1))]),
                                  b.node("Shape", [values])])
    return b.node("ScatterElements", [initial, index, values], axis=0, reduction=reduction)


def _scatter_max(b, values, index, n_rows, rank):
    """Rows of ``values`` maximised by ``index``; 0 where no entry reaches (the
    engine's max aggregation and pooling)."""
    best = _scatter_sum(b, values, index, n_rows, rank, reduction="max")
    empty = b.node("Equal", [best, b.const(np.full(1, np.finfo(b.float_dtype).min,
                                                   b.float_dtype))])
    return b.node("Where", [empty, b.const(np.zeros(1, b.float_dtype)), best])


def _linear(b, layer, x):
    """A ``Linear`` layer (its fused activation included)."""
    weight = np.asarray(layer.weight.data)
    y = b.node("MatMul", [x, b.const(weight.T, "weight_t")])
    if layer.bias is not None:
        y = b.node("Add", [y, b.const(layer.bias.data, "bias")])
    return activation(b, y, layer.activation or "identity", layer.activation_param)


def _submodule(ctx, module, x, width):
    """A row-wise module applied to ``x`` (traced on two batches of random rows)."""
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal((n, width)).astype(ctx.b.float_dtype) for n in (2, 3)]
    from sklears_neural.autograd import Tensor

    traces = [trace(module, (Tensor(s),)) for s in samples]
    (out,) = convert_traces(ctx.b, *traces, [x], CONVERTERS)
    return out


def _gcn(ctx):
    layer, b, x = ctx.fn.layer, ctx.b, ctx.name(0)
    weight = ctx.fn.args[2] if len(ctx.fn.args) > 2 else None
    n = _rows(b, x)
    source, target = _edges(ctx, n)
    if layer.add_self_loops:  # a loop of weight 1 for every node that has none
        is_loop = b.node("Cast", [b.node("Equal", [source, target])], to=tensor_type(b.float_dtype))
        loops = _scatter_sum(b, is_loop, source, n, 1)
        missing = b.node("Reshape", [b.node("NonZero", [b.node("Equal", [
            loops, b.const(np.zeros(1, b.float_dtype))])]), _i64(b, [-1])])
        source = b.node("Concat", [source, missing], axis=0)
        target = b.node("Concat", [target, missing], axis=0)
    weights = b.node("ConstantOfShape", [b.node("Shape", [source])],
                     value=b.onnx.numpy_helper.from_array(np.ones(1, b.float_dtype)))
    if weight is not None:  # the graph's edge weights, then 1 for each added loop
        given = _graph_input(ctx, weight, "edge weights")
        if np.dtype(b.float_dtype) != np.float32:
            given = b.node("Cast", [given], to=tensor_type(b.float_dtype))
        added = b.node("Slice", [weights, b.node("Shape", [given]), _i64(b, [_BIG])])
        weights = b.node("Concat", [given, added], axis=0)
    degree = _scatter_sum(b, weights, target, n, 1)
    positive = b.node("Greater", [degree, b.const(np.zeros(1, b.float_dtype))])
    inverse = b.node("Where", [positive, b.node("Pow", [
        b.node("Max", [degree, b.const(np.full(1, 1e-30, b.float_dtype))]),
        b.const(np.full(1, -0.5, b.float_dtype))]), b.const(np.zeros(1, b.float_dtype))])
    norm = b.node("Mul", [b.node("Mul", [b.node("Gather", [inverse, source], axis=0),
                                         weights]),
                          b.node("Gather", [inverse, target], axis=0)])
    h = _linear(b, layer.lin, x)
    messages = b.node("Mul", [b.node("Gather", [h, source], axis=0),
                              b.node("Unsqueeze", [norm, _i64(b, [1])])])
    out = _scatter_sum(b, messages, target, n, 2)
    return out if layer.bias is None else b.node("Add", [out, b.const(layer.bias.data, "bias")])


def _reduce_by(b, values, index, n_rows, reduce):
    """Rows of ``values`` grouped by ``index`` into ``n_rows`` rows: their sum, mean or
    max (0 for a group no row reaches, as the engine's kernels)."""
    if reduce == "max":
        return _scatter_max(b, values, index, n_rows, 2)
    total = _scatter_sum(b, values, index, n_rows, 2)
    if reduce == "sum":
        return total
    ones = b.node("ConstantOfShape", [b.node("Shape", [index])],
                  value=b.onnx.numpy_helper.from_array(np.ones(1, b.float_dtype)))
    count = b.node("Max", [_scatter_sum(b, ones, index, n_rows, 1),
                           b.const(np.ones(1, b.float_dtype))])
    return b.node("Div", [total, b.node("Unsqueeze", [count, _i64(b, [1])])])


def _neighbours(ctx, x, reduce):
    """Each node's incoming neighbours' features, reduced."""
    n = _rows(ctx.b, x)
    source, target = _edges(ctx, n)
    return _reduce_by(ctx.b, ctx.b.node("Gather", [x, source], axis=0), target, n, reduce)


def _sage(ctx):
    layer, b, x = ctx.fn.layer, ctx.b, ctx.name(0)
    neighbours = _neighbours(ctx, x, layer.aggr)
    return b.node("Add", [_linear(b, layer.lin_l, neighbours), _linear(b, layer.lin_r, x)])


def _gin(ctx):
    layer, b, x = ctx.fn.layer, ctx.b, ctx.name(0)
    if isinstance(layer, GINEConv):
        raise OnnxExportError("ONNX export: GINEConv (edge features) has no mapping.")
    eps = float(np.asarray(getattr(layer.eps, "data", layer.eps)).reshape(-1)[0])
    own = b.node("Mul", [x, b.const(np.full(1, eps + 1.0, b.float_dtype))])
    summed = b.node("Add", [_neighbours(ctx, x, "sum"), own])
    return _submodule(ctx, layer.nn, summed, ctx.input_shape(0)[1])


def _attention_edges(ctx, layer, n):
    b = ctx.b
    source, target = _edges(ctx, n)
    if layer.add_self_loops:  # PyG's: every self-loop removed, then one per node added
        keep = b.node("Not", [b.node("Equal", [source, target])])
        loops = b.node("Range", [_i64(b, 0), b.node("Squeeze", [n, _i64(b, [0])]), _i64(b, 1)])
        source = b.node("Concat", [b.node("Compress", [source, keep], axis=0), loops], axis=0)
        target = b.node("Concat", [b.node("Compress", [target, keep], axis=0), loops], axis=0)
    return source, target


def _softmax_by(b, scores, group, n_groups, rank):
    """Softmax of ``scores`` rows within each group, shifted by the group's maximum."""
    peak = _scatter_sum(b, scores, group, n_groups, rank, reduction="max")
    shifted = b.node("Sub", [scores, b.node("Gather", [peak, group], axis=0)])
    e = b.node("Exp", [shifted])
    total = _scatter_sum(b, e, group, n_groups, rank)
    return b.node("Div", [e, b.node("Gather", [total, group], axis=0)])


def _gat(ctx):
    layer, b, x = ctx.fn.layer, ctx.b, ctx.name(0)
    if len(ctx.fn.args) > 2 and ctx.fn.args[2]:
        raise OnnxExportError("ONNX export: a graph attention layer asked for its attention "
                              "weights has no mapping.")
    heads, width = layer.heads, layer.out_features
    n = _rows(b, x)
    source, target = _attention_edges(ctx, layer, n)
    per_head = _i64(b, [0, heads, width])
    if isinstance(layer, GATConv):
        values = _linear(b, layer.lin, x)
        h = b.node("Reshape", [values, per_head])
        score_src = b.node("ReduceSum", [b.node("Mul", [h, b.const(layer.att_src.data)]),
                                         _i64(b, [2])], keepdims=0)
        score_dst = b.node("ReduceSum", [b.node("Mul", [h, b.const(layer.att_dst.data)]),
                                         _i64(b, [2])], keepdims=0)
        scores = b.node("LeakyRelu", [b.node("Add", [
            b.node("Gather", [score_src, source], axis=0),
            b.node("Gather", [score_dst, target], axis=0)])], alpha=float(layer.negative_slope))
    elif isinstance(layer, GATv2Conv):
        values = _linear(b, layer.lin_l, x)
        right = values if layer.share_weights else _linear(b, layer.lin_r, x)
        pair = b.node("LeakyRelu", [b.node("Add", [
            b.node("Gather", [values, source], axis=0),
            b.node("Gather", [right, target], axis=0)])], alpha=float(layer.negative_slope))
        scores = b.node("ReduceSum", [b.node("Mul", [
            b.node("Reshape", [pair, _i64(b, [-1, heads, width])]), b.const(layer.att.data)]),
            _i64(b, [2])], keepdims=0)
    else:
        raise OnnxExportError(f"ONNX export: {type(layer).__name__} has no mapping.")
    alpha = _softmax_by(b, scores, target, n, 2)
    messages = b.node("Mul", [b.node("Gather", [b.node("Reshape", [values, per_head]), source],
                                     axis=0), b.node("Unsqueeze", [alpha, _i64(b, [2])])])
    out = _scatter_sum(b, messages, target, n, 3)
    out = (b.node("Reshape", [out, _i64(b, [0, heads * width])]) if layer.concat
           else b.reduce_mean(out, [1], keepdims=False))
    return out if layer.bias is None else b.node("Add", [out, b.const(layer.bias.data, "bias")])


def _graphs(ctx, batch_arg):
    """The batch vector's name and the number of graphs (max + 1, as a 1-D tensor)."""
    b = ctx.b
    batch = _graph_input(ctx, batch_arg, "a batch vector")
    count = b.node("Add", [b.reduce("ReduceMax", batch, [0]), _i64(b, [1])])
    return _no_wrap(b, batch, count), count


def _global_pool(ctx):
    layer, b, x = ctx.fn.layer, ctx.b, ctx.name(0)
    batch, count = _graphs(ctx, ctx.fn.args[1])
    return _reduce_by(b, x, batch, count, layer.reduce)


def _attention_pool(ctx):
    layer, b, x = ctx.fn.layer, ctx.b, ctx.name(0)
    width = ctx.input_shape(0)[1]
    batch, count = _graphs(ctx, ctx.fn.args[1])
    gate = _submodule(ctx, layer.gate_nn, x, width)
    weights = _softmax_by(b, gate, batch, count, 2)
    values = x if layer.nn is None else _submodule(ctx, layer.nn, x, width)
    return _scatter_sum(b, b.node("Mul", [values, weights]), batch, count, 2)


_LAYERS = ((GCNConv, _gcn), (SAGEConv, _sage), (GINConv, _gin), (_GraphAttention, _gat),
           (GlobalPool, _global_pool), (AttentionalAggregation, _attention_pool))


def _layer_call(ctx):
    for cls, convert in _LAYERS:
        if type(ctx.fn.layer) in _EXACT.get(cls, (cls,)):
            return convert(ctx)
    raise OnnxExportError(f"ONNX export: the layer {type(ctx.fn.layer).__name__} has no "
                          "mapping (a subclass of a graph layer may compute otherwise than "
                          "the layer it extends).")


# The classes each converter writes exactly (subclasses may override their parts).
_EXACT = {_GraphAttention: (GATConv, GATv2Conv), GINConv: (GINConv, GINEConv)}


CONVERTERS[LayerCall] = _layer_call
