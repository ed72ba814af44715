"""Record the operations a network runs: every ``Function.apply`` during one forward
pass, with its inputs and outputs, in evaluation mode without gradients.

The engine is define-by-run, so a forward pass on a sample input is the graph.
Tracing twice, on batches of two sizes, tells which recorded shapes follow the
batch (a reshape to ``(batch, 64)``, the zero initial state of a recurrent
layer) so the exported graph takes any batch size.
"""

import inspect
import threading
from dataclasses import dataclass

import numpy as np

from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.autograd._function import Function
from sklears_neural.nn import Module, eval_mode

__all__ = ["LayerCall", "Step", "Trace", "trace"]

_TRACING = threading.Lock()


@dataclass
class Step:
    """One recorded operation.

    Attributes
    ----------
    function : Function
        The operation (its options are its attributes).
    inputs : list
        What ``apply`` was given: Tensors, arrays (constants) or None.
    outputs : list of Tensor
        What it returned.
    """

    function: Function
    inputs: list
    outputs: list


@dataclass
class Trace:
    """A forward pass: its steps, the input tensors and the outputs.

    Attributes
    ----------
    steps : list of Step
        In order.
    inputs : list of Tensor
        The network's input tensors.
    outputs : list of Tensor
        Its outputs.
    """

    steps: list
    inputs: list
    outputs: list


class LayerCall:
    """A recorded call of a whole layer (a graph convolution, say), converted as one
    step: ``layer`` and the arguments it was called with.

    Parameters
    ----------
    layer : Module
        The layer.
    args : tuple
        Its positional arguments (tensors and the rest, as given).
    """

    def __init__(self, layer, args):
        self.layer, self.args = layer, args


def trace(module, args, layers=()):
    """Run ``module(*args)`` once and record every operation.

    Parameters
    ----------
    module : Module
        The network.
    args : tuple
        Its inputs (Tensors, or what the module takes beside them).
    layers : tuple of type, default=()
        Layer classes recorded as one ``LayerCall`` step each (their own
        operations are not recorded): layers whose structure (a graph's
        edges) ONNX must recompute rather than replay.

    Returns
    -------
    Trace
        The steps, inputs and outputs.
    """
    if not isinstance(module, Module):
        raise TypeError(f"expected an nn.Module to trace; got {type(module).__name__}.")
    steps = []
    with _TRACING:  # one trace at a time: the patch below is process-wide
        original = Function.apply
        tracing_thread = threading.get_ident()

        inside = [0]  # depth of recorded layer calls: their own operations are not steps

        def ours():
            return threading.get_ident() == tracing_thread and not inside[0]

        def recording_apply(self, *inputs):
            outputs = original(self, *inputs)
            if ours():  # other threads' ops are not ours
                steps.append(Step(self, list(inputs),
                                  list(outputs) if isinstance(outputs, tuple) else [outputs]))
            return outputs

        def layer_recorder(forward):
            signature = inspect.signature(forward)

            def recording_forward(self, *call_args, **kwargs):
                if not ours():
                    return forward(self, *call_args, **kwargs)
                bound = signature.bind(self, *call_args, **kwargs)
                bound.apply_defaults()  # keywords recorded by position, as the converters read
                call_args = tuple(bound.arguments.values())[1:]
                inside[0] += 1
                try:
                    out = forward(self, *call_args)
                finally:
                    inside[0] -= 1
                tensors = [a for a in call_args if isinstance(a, Tensor)]
                steps.append(Step(LayerCall(self, call_args), tensors, [out]))
                return out
            return recording_forward

        missing = [cls.__name__ for cls in layers if "forward" not in cls.__dict__]
        if missing:
            raise TypeError(f"trace: layers= names classes that do not define forward "
                            f"themselves: {missing}.")
        patched = [(cls, cls.__dict__["forward"]) for cls in layers]
        Function.apply = recording_apply
        for cls, forward in patched:
            cls.forward = layer_recorder(forward)
        try:
            with eval_mode(), no_grad():
                result = module(*args)
        finally:
            Function.apply = original
            for cls, forward in patched:
                cls.forward = forward
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    for output in outputs:
        if not isinstance(output, Tensor):
            raise TypeError(f"the network returned a {type(output).__name__}; export needs "
                            "Tensors.")
    inputs = [a for a in args if isinstance(a, Tensor)]
    return Trace(steps, inputs, outputs)


def sample_like(array, n_rows, seed=0):
    """A random batch of ``n_rows`` shaped and typed like ``array``'s rows.

    Parameters
    ----------
    array : ndarray
        An example batch.
    n_rows : int
        Rows wanted.
    seed : int, default=0
        Seeds the draw.

    Returns
    -------
    ndarray
        The batch.
    """
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_rows, *array.shape[1:])).astype(array.dtype)
