"""``Function``: one node of the graph, with forward and backward on raw arrays."""

from sklears_neural.autograd._grad_mode import is_grad_enabled

__all__ = ["Function"]


class Function:
    """Base class of every differentiable operation.

    A subclass implements ``forward(*arrays)`` and ``backward(*grad_outputs)``
    on raw arrays (numpy or cupy). ``forward`` keeps what backward needs with
    ``save_for_backward`` and may read ``self.needs_input_grad`` to skip
    saving what no gradient will use; ``backward`` returns one gradient per
    input (None where ``needs_input_grad`` is False or the input is not
    differentiable). Call an operation with ``SomeFunction(options).apply(...)``;
    each instance is used once.

    Examples
    --------
    >>> class Square(Function):
    ...     def forward(self, x):
    ...         self.save_for_backward(x)
    ...         return x * x
    ...     def backward(self, gy):
    ...         (x,) = self.saved
    ...         return 2 * x * gy
    """

    needs_input_grad = ()
    saved = ()
    inputs = ()

    def forward(self, *arrays):
        """Compute the outputs from the inputs' arrays; a subclass implements it.

        Parameters
        ----------
        *arrays : ndarray or None
            The raw arrays (numpy or cupy) of the tensors given to ``apply``, in
            order; None for an absent optional input.

        Returns
        -------
        ndarray or tuple of ndarray
            One output array, or a tuple of them for an operation with several
            outputs.

        Raises
        ------
        NotImplementedError
            Always, on the base class.
        """
        raise NotImplementedError

    def backward(self, *grad_outputs):
        """Compute the gradients of the inputs; a subclass implements it.

        Parameters
        ----------
        *grad_outputs : ndarray or None
            The gradient with respect to each output of ``forward``, in order
            (None for an output that received no gradient).

        Returns
        -------
        ndarray or None, or tuple of them
            One gradient per input of ``forward`` (a bare array when there is one
            input), None where ``needs_input_grad`` is False or the input is not
            differentiable.

        Raises
        ------
        NotImplementedError
            Always, on the base class.
        """
        raise NotImplementedError

    def save_for_backward(self, *arrays):
        """Keep ``arrays`` for ``backward`` as ``self.saved``.

        Parameters
        ----------
        *arrays : ndarray or None
            What ``backward`` needs, read back there as the tuple ``self.saved``.
        """
        self.saved = arrays

    def apply(self, *inputs):
        """Run forward on the inputs' arrays and link the outputs into the graph.

        Parameters
        ----------
        *inputs : Tensor, array or None
            Arrays are wrapped as constants; None stands for an absent
            optional input (a layer without bias, say).

        Returns
        -------
        Tensor or tuple of Tensor
            The output of ``forward`` wrapped as tensors (a tuple when ``forward``
            returns one); they require grad, and link to this node, when grad mode
            is on and some input requires grad.
        """
        from sklears_neural.autograd._tensor import Tensor, check_compatible

        tensors = tuple(
            x if x is None or isinstance(x, Tensor) else Tensor(x) for x in inputs
        )
        check_compatible(type(self).__name__, tensors)
        record = is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)
        self.needs_input_grad = tuple(
            record and t is not None and t.requires_grad for t in tensors
        )
        outputs = self.forward(*(None if t is None else t.data for t in tensors))
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        results = tuple(Tensor(y, requires_grad=record) for y in outputs)
        if record:
            self.inputs = tensors
            self.n_outputs = len(results)
            for index, result in enumerate(results):
                result.grad_fn = self
                result.output_index = index
        else:
            self.saved = ()
        return results[0] if single else results

    def release(self):
        """Drop the saved arrays and input links once backward has used them."""
        self.saved = None
        self.inputs = None

    def __repr__(self):
        return f"<{type(self).__name__}>"
