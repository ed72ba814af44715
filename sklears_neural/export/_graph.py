"""Two traces of a network (batches of two sizes) become ONNX nodes and initializers.

Each recorded operation is converted by the function ``_ops.CONVERTERS`` holds
for its class. An operation whose inputs are all constants (a weight sliced
into the query, key and value projections, say) is folded: its traced output
becomes a constant. A constant whose shape follows the batch (the zero initial
state of a recurrent layer) is marked, and only the converters that know what
to do with it accept it.
"""

import copy

import numpy as np

from sklears_neural.autograd import Tensor
from sklears_neural.backend import to_numpy

__all__ = ["GraphBuilder", "OnnxExportError", "convert_traces", "network_on_cpu", "tensor_type"]


class OnnxExportError(ValueError):
    """A network or estimator cannot be exported to ONNX; the message says why."""


def _onnx():
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - the test extra installs it
        raise ImportError("ONNX export needs the onnx package: pip install onnx "
                          "(or sklears-neural[onnx]).") from error
    return onnx


class GraphBuilder:
    """Collects ONNX nodes and initializers under unique names.

    Parameters
    ----------
    prefix : str
        Prefix of every name made here (unique inside a larger graph).
    float_dtype : numpy dtype
        The network's float type; float constants are cast to it.
    opset : int, default=17
        The ONNX opset the nodes are written for.
    """

    def __init__(self, prefix, float_dtype, opset=17):
        self.onnx = _onnx()
        self.prefix = prefix
        self.opset = int(opset)
        self.float_dtype = np.dtype(float_dtype)
        self.nodes = []
        self.initializers = []
        self._count = 0
        self._names = {}  # id(tensor) -> name
        self._constants = {}  # id(tensor) -> (array, varies with the batch)
        self._const_names = {}  # id(array) -> initializer name
        self._keep = []
        # graph inputs (edge_index, batch) of the traces, by id: the names they have
        self.graph_inputs = {}

    def fresh(self, hint):
        """A new unique name.

        Parameters
        ----------
        hint : str
            What it names.

        Returns
        -------
        str
            The name.
        """
        self._count += 1
        return f"{self.prefix}{hint}_{self._count}"

    def bind(self, tensor, name):
        """Name a traced tensor computed by the graph.

        Parameters
        ----------
        tensor : Tensor
            The traced tensor.
        name : str
            Its ONNX name.
        """
        self._keep.append(tensor)
        self._names[id(tensor)] = name

    def bind_constant(self, tensor, array, varies):
        """Record that a traced tensor is a constant (``varies``: its shape follows the
        batch).

        Parameters
        ----------
        tensor : Tensor
            The traced tensor.
        array : ndarray
            Its value.
        varies : bool
            Whether its shape follows the batch size.
        """
        self._keep.append(tensor)
        self._constants[id(tensor)] = (np.asarray(array), varies)

    def computed(self, value):
        """Whether ``value`` (a step's input) is computed by the graph.

        Parameters
        ----------
        value : object
            A step's input.

        Returns
        -------
        bool
            True for a bound tensor.
        """
        return isinstance(value, Tensor) and id(value) in self._names

    def name_of(self, value):
        """The name of a computed tensor.

        Parameters
        ----------
        value : Tensor
            A bound tensor.

        Returns
        -------
        str
            Its name.
        """
        return self._names[id(value)]

    def constant_of(self, value):
        """The value of a constant input: ``(array, varies)``.

        Parameters
        ----------
        value : Tensor, ndarray, number or None
            A step's input that the graph does not compute.

        Returns
        -------
        tuple
            The array and whether its shape follows the batch (None, False
            for None).
        """
        if value is None:
            return None, False
        if isinstance(value, Tensor):
            if id(value) in self._constants:
                return self._constants[id(value)]
            return to_numpy(value.data), False
        return to_numpy(value), False

    def const(self, array, hint="const", dtype=None):
        """An initializer holding ``array`` (float arrays in the network's type).

        Parameters
        ----------
        array : array-like
            The value.
        hint : str, default="const"
            What it is.
        dtype : numpy dtype, optional
            Cast to it (default: the float type for floats, int64 for ints).

        Returns
        -------
        str
            Its name.
        """
        raw = array
        array = to_numpy(array)
        if dtype is None:
            dtype = (self.float_dtype if array.dtype.kind in "fc" else
                     np.int64 if array.dtype.kind in "iu" else array.dtype)
        key = (id(raw), np.dtype(dtype).str) if isinstance(raw, np.ndarray) else None
        if key is not None and key in self._const_names:
            return self._const_names[key]
        name = self.fresh(hint)
        value = np.array(array, dtype=dtype, order="C")  # (ascontiguousarray makes 0-d 1-d)
        if value.dtype.kind in "OU":
            tensor = self.onnx.helper.make_tensor(
                name, self.onnx.TensorProto.STRING, value.shape,
                [str(v).encode() for v in value.ravel()])
        else:
            tensor = self.onnx.numpy_helper.from_array(value, name)
        self.initializers.append(tensor)
        if key is not None:
            self._keep.append(raw)
            self._const_names[key] = name
        return name

    def node(self, op_type, inputs, n_outputs=1, **attributes):
        """Add a node.

        Parameters
        ----------
        op_type : str
            The ONNX operator.
        inputs : list of str
            Its inputs ("" for an absent optional one).
        n_outputs : int, default=1
            How many outputs.
        **attributes
            Its attributes.

        Returns
        -------
        str or list of str
            The output name(s).
        """
        inputs = list(inputs)
        while inputs and inputs[-1] == "":  # absent optional inputs at the end: left out
            inputs.pop()
        outputs = [self.fresh(op_type.lower()) for _ in range(n_outputs)]
        self.nodes.append(self.onnx.helper.make_node(
            op_type, inputs, outputs, name=self.fresh(op_type), **attributes))
        return outputs[0] if n_outputs == 1 else outputs


    def reduce_mean(self, x, axes, keepdims=True):
        """A ReduceMean node (``reduce``).

        Parameters
        ----------
        x : str
            The input's name.
        axes : sequence of int
            The axes averaged.
        keepdims : bool, default=True
            Keep them as size 1.

        Returns
        -------
        str
            The output's name.
        """
        return self.reduce("ReduceMean", x, axes, keepdims)

    def reduce(self, op_type, x, axes, keepdims=True):
        """A ReduceMean / ReduceMax node in the form of the builder's opset (axes an
        attribute up to 17, an input from 18).

        Parameters
        ----------
        op_type : {"ReduceMean", "ReduceMax"}
            The reduction.
        x : str
            The input's name.
        axes : sequence of int
            The axes reduced.
        keepdims : bool, default=True
            Keep them as size 1.

        Returns
        -------
        str
            The output's name.
        """
        axes = [int(a) for a in axes]
        if self.opset >= 18:
            return self.node(op_type, [x, self.const(np.array(axes, np.int64), "axes")],
                             keepdims=int(bool(keepdims)))
        return self.node(op_type, [x], axes=axes, keepdims=int(bool(keepdims)))


def tensor_type(dtype):
    """The ONNX element type of a NumPy dtype.

    Parameters
    ----------
    dtype : numpy dtype
        The dtype.

    Returns
    -------
    int
        Its ``onnx.TensorProto`` type.
    """
    return int(_onnx().helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def network_on_cpu(estimator):
    """A fitted estimator's network, copied to the CPU when it was fitted on a GPU.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator of this library.

    Returns
    -------
    Module
        Its ``module_``, or a CPU copy.
    """
    module = estimator.module_
    if getattr(estimator, "device_", "cpu") != "cpu":
        module = copy.deepcopy(module).to(device="cpu")
    return module


class StepContext:
    """What a converter sees of one recorded operation.

    Attributes
    ----------
    b : GraphBuilder
        Where nodes go.
    fn, other : Function
        The operation in the first trace and in the second (other batch size).
    step : Step
        The first trace's step.
    """

    def __init__(self, builder, step, other):
        self.b, self.step, self.fn, self.other = builder, step, step.function, other.function
        self._other_step = other

    @property
    def n_inputs(self):
        """Number of inputs."""
        return len(self.step.inputs)

    def is_computed(self, i):
        """Whether input ``i`` is computed by the graph (not a constant)."""
        return self.b.computed(self.step.inputs[i])

    def constant(self, i):
        """Input ``i`` as an array, or None where absent (it must be a constant)."""
        if self.is_computed(i):
            raise OnnxExportError(f"{type(self.fn).__name__}: input {i} is computed from the "
                                  "network's input, where ONNX export needs a constant (a "
                                  "weight).")
        array, _ = self.b.constant_of(self.step.inputs[i])
        return array

    def varies(self, i):
        """Whether constant input ``i`` has a shape that follows the batch."""
        value, other = self.step.inputs[i], self._other_step.inputs[i]
        if self.b.computed(value) or value is None:
            return False
        array, varies = self.b.constant_of(value)
        other_array = to_numpy(getattr(other, "data", other))
        return varies or _differ(array, other_array)

    def name(self, i, hint="const"):
        """Input ``i`` as a name ("" where absent); a constant becomes an initializer."""
        value = self.step.inputs[i]
        if value is None:
            return ""
        if self.b.computed(value):
            return self.b.name_of(value)
        if self.varies(i):
            raise OnnxExportError(
                f"{type(self.fn).__name__}: input {i} is a constant whose shape follows the "
                "batch size; ONNX export cannot turn it into an input-independent value.")
        return self.b.const(self.b.constant_of(value)[0], hint)

    def input_shape(self, i):
        """The traced shape of input ``i``."""
        value = self.step.inputs[i]
        return tuple(np.shape(getattr(value, "data", value)))

    def output_shape(self, k=0):
        """The traced shape of output ``k``."""
        return tuple(self.step.outputs[k].shape)

    def batch_axes(self, shape_a, shape_b):
        """Positions where two traced shapes differ (they follow the batch)."""
        return [i for i, (a, b) in enumerate(zip(shape_a, shape_b)) if a != b]


def convert_traces(builder, first, second, input_names, converters):
    """Add the nodes of a traced network to ``builder``.

    Parameters
    ----------
    builder : GraphBuilder
        Where nodes go.
    first, second : Trace
        The network traced on batches of two sizes.
    input_names : list of str
        Names of the traced input tensors, in order.
    converters : dict
        Function class -> converter(StepContext) returning output names.

    Returns
    -------
    list of str
        The names of the network's outputs.

    Raises
    ------
    OnnxExportError
        If an operation has no ONNX mapping, or the network runs other
        operations for another batch size.
    """
    if [type(s.function) for s in first.steps] != [type(s.function) for s in second.steps]:
        raise OnnxExportError("the network runs different operations for different batch "
                              "sizes, so one ONNX graph cannot represent it.")
    for tensor, name in zip(first.inputs, input_names):
        builder.bind(tensor, name)
    for step, other in zip(first.steps, second.steps):
        if not any(builder.computed(v) for v in step.inputs):  # constants only: fold
            for out, out_other in zip(step.outputs, other.outputs):
                value, other_value = to_numpy(out.data), to_numpy(out_other.data)
                builder.bind_constant(out, value, _differ(value, other_value))
            continue
        converter = _lookup(converters, type(step.function))
        if converter is None:
            raise OnnxExportError(
                f"ONNX export: the operation {type(step.function).__name__} has no ONNX "
                "mapping. Export supports the operations of this library's estimators "
                "(dense, convolution, pooling, normalisation, recurrent and attention "
                "layers, activations and tensor arithmetic).")
        names = converter(StepContext(builder, step, other))
        names = [names] if isinstance(names, str) else list(names)
        for out, name in zip(step.outputs, names):
            if name is not None:
                builder.bind(out, name)
    outputs = []
    for out in first.outputs:
        if not builder.computed(out):
            raise OnnxExportError("a network output does not depend on its input.")
        outputs.append(builder.name_of(out))
    return outputs


def _differ(a, b):
    """Whether a constant changed between the two traces: it follows the batch."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def _lookup(converters, cls):
    for base in cls.__mro__:
        if base in converters:
            return converters[base]
    return None
