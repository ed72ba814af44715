"""``to_onnx``: a fitted estimator (X in, labels and probabilities or predictions out)
or an ``nn.Module`` as an ONNX model with a dynamic batch size.

An estimator's graph is its network's, traced, with what the estimator does
around it: how X's columns become the network's input (read by probing the
estimator with coded columns, so any layout is followed exactly), the input
scaling of the sequence estimators, and the probabilities and labels
``predict_proba`` and ``predict`` compute from the network's outputs.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from sklears_neural.autograd import Tensor
from sklears_neural.base._trainer import module_inputs, sample_rows
from sklears_neural.export._graph import (
    GraphBuilder,
    OnnxExportError,
    convert_traces,
    network_on_cpu,
    tensor_type,
)
from sklears_neural.export._graph_export import (
    graph_estimator_graph,
    graph_input_names,
    is_graph_estimator,
    sample_graphs,
)
from sklears_neural.export._ops import CONVERTERS, OPSET
from sklears_neural.export._trace import trace
from sklears_neural.nn import Module

__all__ = ["estimator_graph", "module_graph", "network_dtype", "to_onnx"]

_BATCHES = (2, 3)  # two traces, two batch sizes: what follows the batch is found


def _rows(sample, n):
    sample = np.asarray(sample)
    return sample[np.arange(n) % len(sample)]


def module_graph(module, samples, builder, input_names):
    """Add a module's nodes to ``builder``, its inputs named ``input_names``.

    Parameters
    ----------
    module : Module
        The network.
    samples : list of ndarray
        One example batch per input.
    builder : GraphBuilder
        Where nodes go.
    input_names : list of str
        The graph names of the inputs.

    Returns
    -------
    names : list of str
        The names of the outputs.
    shapes : list of tuple
        Their shapes, "N" for the batch.
    """
    traces = [trace(module, tuple(Tensor(_rows(s, n)) for s in samples)) for n in _BATCHES]
    names = convert_traces(builder, *traces, input_names, CONVERTERS)
    return names, [("N", *out.shape[1:]) for out in traces[0].outputs]


def _check_exportable(estimator):
    if not isinstance(estimator, BaseEstimator) or not hasattr(estimator, "_check_X_fast"):
        raise TypeError(f"to_onnx exports this library's estimators and nn.Modules; got "
                        f"{type(estimator).__name__}.")
    if not hasattr(estimator, "module_"):
        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet: "
                             "call fit before exporting it.")


def _read(estimator, X):
    """The estimator's unscaled network input for X, and its scaling (None, "channel",
    "series")."""
    if hasattr(estimator, "_read_values"):  # sequences: (n, T, F) values before scaling
        values, lengths, _ = estimator._read_values(X)
        if np.any(lengths != values.shape[1]):
            raise OnnxExportError("ONNX export takes sequences of one length (no padding).")
        return values, getattr(estimator, "_fitted_scale", None)
    return sample_rows(estimator._check_X_fast(X)), None


def _column_map(estimator, feature_shape):
    """Which column of flattened X each entry of a network input row reads."""
    width = int(np.prod(feature_shape))
    coded = np.tile(np.arange(1, width + 1, dtype=np.float64).reshape(feature_shape),
                    (2,) + (1,) * len(feature_shape))
    rows, _ = _read(estimator, coded)
    rows = np.asarray(rows, dtype=np.float64)
    columns = np.rint(rows[0].ravel()).astype(np.int64) - 1
    flat = coded.reshape(2, -1)
    if columns.min() < 0 or columns.max() >= width or not np.array_equal(
            flat[:, columns].reshape(rows.shape), rows):
        raise OnnxExportError(f"{type(estimator).__name__} transforms X before its network in "
                              "a way ONNX export does not follow.")
    return columns, rows.shape[1:]


def _input_nodes(estimator, b, x_name, feature_shape, float_dtype):
    """Nodes from X to the network's input."""
    columns, row_shape = _column_map(estimator, feature_shape)
    y = x_name
    if len(feature_shape) != 1:
        y = b.node("Reshape", [y, b.const(np.array([0, -1], np.int64), "flat")])
    if not np.array_equal(columns, np.arange(int(np.prod(feature_shape)))):
        y = b.node("Gather", [y, b.const(columns, "columns")], axis=1)
    if tuple(row_shape) != (int(np.prod(feature_shape)),):
        y = b.node("Reshape", [y, b.const(np.array((-1, *row_shape), np.int64), "rows")])
    if float_dtype != np.float32:
        y = b.node("Cast", [y], to=tensor_type(float_dtype))
    _, scale = _read(estimator, np.zeros((1, *feature_shape)))
    if scale == "channel":
        y = b.node("Div", [b.node("Sub", [y, b.const(estimator.scale_mean_, "scale_mean")]),
                           b.const(estimator.scale_std_, "scale_std")])
    elif scale == "series":
        y = _series_scaling(b, y, row_shape[0])
    return y


def _series_scaling(b, values, steps):
    """Each sequence's features standardised over its steps (a constant one: centred)."""
    mean = b.reduce_mean(values, [1])
    centered = b.node("Sub", [values, mean])
    variance = b.reduce_mean(b.node("Mul", [centered, centered]), [1])
    eps = float(np.finfo(np.float64).eps)
    count = float(steps)
    bound = b.node("Add", [b.node("Mul", [variance, b.const(np.array(count * eps))]),
                           b.node("Mul", [b.node("Mul", [mean, mean]),
                                          b.const(np.array((count * eps) ** 2))])])
    constant = b.node("LessOrEqual", [variance, bound])
    std = b.node("Where", [constant, b.const(np.array(1.0)), b.node("Sqrt", [variance])])
    return b.node("Div", [centered, std])


def estimator_graph(estimator, b, x_name, feature_shape):
    """Add an estimator's nodes, from X (float32, shape (N, *feature_shape)) to its
    outputs.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator of this library.
    b : GraphBuilder
        Where nodes go.
    x_name : str
        The graph name of X.
    feature_shape : tuple of int
        One row of X's shape.

    Returns
    -------
    dict
        For a classifier "label" and "probabilities" (float32), for a
        regressor "variable" (float32, shape (N, n_outputs)).
    """
    _check_exportable(estimator)
    module = network_on_cpu(estimator)
    float_dtype = np.dtype(b.float_dtype)
    network_input = _input_nodes(estimator, b, x_name, feature_shape, float_dtype)
    rng = np.random.default_rng(0)
    traces = []
    for n in _BATCHES:
        X = rng.standard_normal((n, *feature_shape))
        args = module_inputs(estimator._check_X_fast(X), "cpu")
        traces.append(trace(module, args))
    (outputs,) = convert_traces(b, *traces, [network_input], CONVERTERS)
    return _estimator_outputs(estimator, b, outputs)


def _estimator_outputs(estimator, b, outputs):
    """Probabilities and labels (classifiers) or predictions (regressors), float32, from
    the network's outputs."""
    if np.dtype(b.float_dtype) != np.float32:
        outputs = b.node("Cast", [outputs], to=tensor_type(np.float32))
    targets = estimator._targets
    if targets.kind_ == "regression":
        if getattr(estimator, "loss", None) == "poisson":
            outputs = b.node("Exp", [outputs])
        return {"variable": outputs}
    return _classifier_outputs(b, targets, outputs)


def _classifier_outputs(b, targets, logits):
    classes = np.asarray(targets.classes_)
    if targets.kind_ != "multilabel" and len(classes) == 1:
        raise OnnxExportError("a classifier fitted on one class has no ONNX export.")
    f32 = np.float32
    if targets.kind_ == "multiclass":
        probabilities = b.node("Softmax", [logits], axis=1)
    else:
        p = b.node("Sigmoid", [logits])
        if targets.kind_ == "multilabel":
            label = b.node("Cast", [b.node("Greater", [p, b.const(np.array(0.5), dtype=f32)])],
                           to=tensor_type(np.int64))
            return {"label": label, "probabilities": p}
        one = b.const(np.array(1.0), dtype=f32)
        probabilities = b.node("Concat", [b.node("Sub", [one, p]), p], axis=1)
    index = b.node("ArgMax", [probabilities], axis=1, keepdims=0)
    if classes.dtype.kind in "iub":
        table = b.const(classes.astype(np.int64), "classes", dtype=np.int64)
    elif classes.dtype.kind in "UO":
        table = b.const(classes.astype(str), "classes", dtype=np.dtype(object))
    else:
        raise OnnxExportError(f"ONNX export: class labels of dtype {classes.dtype} (integers "
                              "or strings export).")
    return {"label": b.node("Gather", [table, index], axis=0), "probabilities": probabilities}


def network_dtype(estimator):
    """The float dtype an estimator's network computes in."""
    from sklears_neural.backend import check_dtype

    return np.dtype(check_dtype(getattr(estimator, "dtype", None) or "float32"))


def _feature_shape(estimator, X):
    if X is not None:
        if isinstance(X, (list, tuple)) and len({np.shape(x) for x in X}) > 1:
            raise OnnxExportError("ONNX export takes sequences of one length, as an array "
                                  "of rows; X is a list of sequences of several lengths.")
        X = np.asarray(X)
        if X.ndim < 2:
            raise ValueError(f"X must have a batch axis: got shape {X.shape}.")
        return tuple(X.shape[1:])
    return (int(estimator.n_features_in_),)


def to_onnx(model, X=None, *, name=None, opset=OPSET):
    """Export a fitted estimator of this library, or an ``nn.Module``, to ONNX.

    The batch size is dynamic. Dropout is off and batch normalisation uses its
    running statistics (folded into one multiply-add), as in ``predict``.

    Parameters
    ----------
    model : estimator or Module
        A fitted MLP, CNN, CNN1D, RNN, Transformer or graph estimator
        (classifier or regressor; GIN, GCN, GraphSAGE, GAT and GATv2
        convolutions, mean, sum, max and attention pooling; written at opset
        18 or later), or a network.
    X : array-like, optional
        An example input: for an estimator, rows as ``predict`` takes them
        (default: rows of ``n_features_in_`` columns; for a graph
        estimator, graphs, default a small path graph); for a Module, a
        batch (required), or a tuple of batches for several inputs.
    name : str, optional
        The graph's name (default: the class name).
    opset : int, default=17
        The ONNX opset (17 or later; the nodes are written in its form).

    Returns
    -------
    onnx.ModelProto
        For an estimator, input "X" (float32) and outputs "label" and
        "probabilities" (classifiers) or "variable" (regressors), as
        skl2onnx names them; a graph estimator takes "x" (float32 node
        features), "edge_index" (int64, (2, n_edges)), "edge_weight"
        (float32, a GCN's, when the example graphs carry weights) and, for
        whole graphs, "batch" (int64, each node's graph numbered from 0),
        and gives one output row per graph or per node; for a Module, inputs "input" (or
        "input_k") and outputs "output" (or "output_k") in the network's
        float type.

    Raises
    ------
    NotFittedError
        If the estimator is not fitted.
    OnnxExportError
        If the network uses an operation with no ONNX mapping (named), or
        the estimator reads X in a way export does not follow (sequences of
        several lengths, graph input).
    """
    import onnx
    from onnx import helper

    if opset < OPSET:
        raise ValueError(f"opset must be at least {OPSET}; got {opset}.")
    graph_name = name or type(model).__name__
    if isinstance(model, Module):
        if X is None:
            raise ValueError("to_onnx(module, X): X, an example batch, is needed to trace "
                             "the network.")
        samples = [np.asarray(x) for x in (X if isinstance(X, tuple) else (X,))]
        float_dtype = next((s.dtype for s in samples if s.dtype.kind == "f"), np.float32)
        b = GraphBuilder("", float_dtype, opset)
        names = ["input"] if len(samples) == 1 else [f"input_{k}" for k in range(len(samples))]
        outputs, shapes = module_graph(model, samples, b, names)
        inputs = [helper.make_tensor_value_info(n, tensor_type(s.dtype),
                                                ["N", *s.shape[1:]])
                  for n, s in zip(names, samples)]
        out_names = ["output"] if len(outputs) == 1 else [f"output_{k}" for k in
                                                         range(len(outputs))]
        for source, target in zip(outputs, out_names):
            b.nodes.append(helper.make_node("Identity", [source], [target]))
        out_info = [helper.make_tensor_value_info(n, tensor_type(float_dtype), list(shape))
                    for n, shape in zip(out_names, shapes)]
    elif is_graph_estimator(model):
        _check_exportable(model)
        opset = max(opset, 18)  # ScatterElements' max (per-node and per-graph softmax)
        float_dtype = network_dtype(model)
        b = GraphBuilder("", float_dtype, opset)
        graphs = sample_graphs(model, X)
        names = {name: name for name in graph_input_names(model, graphs)}
        x = names["x"] if float_dtype == np.float32 else b.node(
            "Cast", ["x"], to=tensor_type(float_dtype))
        results = _estimator_outputs(model, b, graph_estimator_graph(
            model, b, {**names, "x": x}, graphs))
        n_features = int(model.n_features_in_)
        inputs = [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", n_features]),
                  helper.make_tensor_value_info("edge_index", onnx.TensorProto.INT64, [2, "E"])]
        if "edge_weight" in names:
            inputs.append(helper.make_tensor_value_info("edge_weight", onnx.TensorProto.FLOAT,
                                                        ["E"]))
        if "batch" in names:
            inputs.append(helper.make_tensor_value_info("batch", onnx.TensorProto.INT64, ["N"]))
        out_info = []
        for key, source in results.items():
            b.nodes.append(helper.make_node("Identity", [source], [key]))
            out_info.append(helper.make_tensor_value_info(key, _output_type(model, key),
                                                          _output_shape(model, key, "G")))
    else:
        _check_exportable(model)
        feature_shape = _feature_shape(model, X)
        float_dtype = network_dtype(model)
        b = GraphBuilder("", float_dtype, opset)
        results = estimator_graph(model, b, "X", feature_shape)
        inputs = [helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT,
                                                ["N", *feature_shape])]
        out_info = []
        for key, source in results.items():
            b.nodes.append(helper.make_node("Identity", [source], [key]))
            out_info.append(helper.make_tensor_value_info(key, _output_type(model, key),
                                                          _output_shape(model, key)))
    graph = helper.make_graph(b.nodes, graph_name, inputs, out_info, b.initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                   producer_name="sklears-neural")
    onnx_model.ir_version = min(onnx_model.ir_version, 10)
    onnx.checker.check_model(onnx_model)
    return onnx_model


def _output_shape(estimator, key, rows="N"):
    targets = estimator._targets
    if key == "variable":
        return [rows, int(targets.n_outputs)]
    if key == "label" and targets.kind_ != "multilabel":
        return [rows]
    return [rows, len(targets.classes_)]


def _output_type(estimator, key):
    import onnx

    if key != "label":
        return onnx.TensorProto.FLOAT
    classes = np.asarray(estimator.classes_)
    return onnx.TensorProto.STRING if classes.dtype.kind in "UO" else onnx.TensorProto.INT64
