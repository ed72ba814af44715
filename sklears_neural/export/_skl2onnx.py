"""Converters registered with skl2onnx, so ``skl2onnx.to_onnx`` exports a Pipeline whose
steps include our estimators (with scikit-learn's preprocessing in front).

Each estimator class gets a shape calculator (label and probabilities for a
classifier, as scikit-learn's classifiers give them, ZipMap included unless
``options={"zipmap": False}``; one float column per output for a regressor)
and a converter that writes the estimator's graph (``estimator_graph``) into
skl2onnx's container.
"""

import numpy as np

from sklears_neural.export._export import estimator_graph, network_dtype
from sklears_neural.export._graph import GraphBuilder
from sklears_neural.export._ops import OPSET

__all__ = ["EXPORTED_ESTIMATORS", "register_skl2onnx"]

# (module, class) of every estimator with an ONNX export.
EXPORTED_ESTIMATORS = (
    ("sklears_neural.mlp", "MLPClassifier"), ("sklears_neural.mlp", "MLPRegressor"),
    ("sklears_neural.cnn", "CNNClassifier"), ("sklears_neural.cnn", "CNNRegressor"),
    ("sklears_neural.cnn", "CNN1DClassifier"), ("sklears_neural.cnn", "CNN1DRegressor"),
    ("sklears_neural.rnn", "RNNClassifier"), ("sklears_neural.rnn", "RNNRegressor"),
    ("sklears_neural.rnn", "TransformerClassifier"),
    ("sklears_neural.rnn", "TransformerRegressor"),
    ("sklears_neural.base", "NeuralNetClassifier"), ("sklears_neural.base", "NeuralNetRegressor"),
)


def _shape_calculator(operator):
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    estimator = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    targets = estimator._targets
    if targets.kind_ == "regression":
        operator.outputs[0].type = FloatTensorType([n, int(targets.n_outputs)])
        return
    classes = np.asarray(estimator.classes_)
    multilabel = targets.kind_ == "multilabel"
    label_type = StringTensorType if classes.dtype.kind in "UO" else Int64TensorType
    operator.outputs[0].type = label_type([n, len(classes)] if multilabel else [n])
    operator.outputs[1].type = FloatTensorType([n, len(classes)])


def _converter(scope, operator, container):
    from onnx import TensorProto, helper

    estimator = operator.raw_operator
    opset = max(OPSET, int(container.target_opset or OPSET))
    builder = GraphBuilder(scope.get_unique_variable_name(type(estimator).__name__) + "_",
                           network_dtype(estimator), opset)
    x = operator.inputs[0].full_name
    if operator.inputs[0].type.to_onnx_type().tensor_type.elem_type != TensorProto.FLOAT:
        x = builder.node("Cast", [x], to=int(TensorProto.FLOAT))
    results = estimator_graph(estimator, builder, x, (int(estimator.n_features_in_),))
    for tensor in builder.initializers:
        if tensor.data_type == TensorProto.STRING:
            container.add_initializer(tensor.name, TensorProto.STRING, list(tensor.dims),
                                      list(tensor.string_data))
        else:
            container.add_initializer(tensor.name, tensor.data_type, list(tensor.dims), tensor)
    for node in builder.nodes:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(node.op_type, list(node.input), list(node.output), name=node.name,
                           op_version=opset, **attributes)
    keys = ["variable"] if "variable" in results else ["label", "probabilities"]
    for key, output in zip(keys, operator.outputs):
        container.add_node("Identity", [results[key]], [output.full_name],
                           name=scope.get_unique_operator_name("Identity"))


def register_skl2onnx():
    """Register our estimators' converters with skl2onnx.

    Importing ``sklears_neural.export`` does it when skl2onnx is installed.
    After it, ``skl2onnx.to_onnx(model, X_sample)`` exports our estimators
    alone or inside a Pipeline. Classifiers take skl2onnx's ``zipmap``
    option (``options={id(clf): {"zipmap": False}}`` for a probability
    matrix).

    Returns
    -------
    list of type
        The registered classes.
    """
    import importlib

    from skl2onnx import update_registered_converter

    registered = []
    for module_name, class_name in EXPORTED_ESTIMATORS:
        cls = getattr(importlib.import_module(module_name), class_name)
        classifier = class_name.endswith("Classifier")
        update_registered_converter(
            cls, f"SklearsNeural{class_name}", _shape_calculator, _converter,
            options={"zipmap": [True, False, "columns"], "nocl": [True, False],
                     "output_class_labels": [False, True]} if classifier else None)
        registered.append(cls)
    return registered
