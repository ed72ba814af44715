"""``Module``: a container of parameters, buffers and sub-modules."""

import threading
from collections import OrderedDict

from sklears_neural.autograd import Tensor
from sklears_neural.backend import check_dtype, get_array_module, to_device, to_numpy
from sklears_neural.nn._parameter import Parameter

__all__ = ["Module", "eval_mode"]

_local = threading.local()


class eval_mode:
    """Run every module as in ``eval()`` in this thread only, without changing its mode.

    Inside the block ``module.training`` reads False in the calling thread,
    so dropout is off and batch norm uses its running statistics, while
    another thread that is training the same module still sees its own
    mode. The estimators evaluate (``predict``, validation) this way, so a
    ``predict`` from another thread during ``fit`` changes nothing for the
    training.

    Examples
    --------
    >>> from sklears_neural import nn
    >>> net = nn.Dropout(0.5)
    >>> with nn.eval_mode():
    ...     net.training
    False
    >>> net.training
    True
    """

    # A class, not a generator-based context manager: predict enters it once per call.
    def __enter__(self):
        _local.depth = getattr(_local, "depth", 0) + 1
        return self

    def __exit__(self, *exc_info):
        _local.depth -= 1
        return False


class Module:
    """Base class of layers and networks, in PyTorch's manner.

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it;
    ``register_buffer`` registers state that is saved but not trained
    (running statistics). Subclasses implement ``forward``; calling the
    module calls it.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_training", True)

    @property
    def training(self):
        """The mode set by ``train()``/``eval()``; False inside ``eval_mode()`` in this thread."""
        if getattr(_local, "depth", 0):
            return False
        return self.__dict__.get("_training", True)

    @training.setter
    def training(self, mode):
        object.__setattr__(self, "_training", bool(mode))

    # -- registration ------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() was called; "
                "call super().__init__() first in your module's __init__."
            )
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, array):
        """Register ``array`` (a raw numpy/cupy array or None) as saved state.

        Parameters
        ----------
        name : str
            The attribute name the buffer is read back as.
        array : ndarray or None
            The state; ``state_dict``, ``load_state_dict`` and ``to`` include it.
        """
        self.__dict__.pop(name, None)
        self._buffers[name] = array

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) under ``name``.

        Parameters
        ----------
        name : str
            The attribute name of the parameter.
        param : Parameter or None
            The parameter; None sets the attribute to None (an absent parameter,
            such as a layer's bias when ``bias=False``).
        """
        if param is None:
            self.__dict__.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name, module):
        """Register ``module`` as a child under ``name``.

        Parameters
        ----------
        name : str
            The attribute name of the child.
        module : Module
            The child module.
        """
        setattr(self, name, module)

    # -- traversal ---------------------------------------------------------
    def named_modules(self, prefix=""):
        """Yield ``(name, module)`` for this module and every descendant.

        Parameters
        ----------
        prefix : str, default=""
            Prepended to the dotted names; this module's own name.

        Yields
        ------
        name : str
            The dotted name of the module (``prefix`` for this one).
        module : Module
            The module; each is yielded once, depth first.
        """
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop(0)
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack[:0] = [(f"{name}.{child}" if name else child, sub)
                         for child, sub in module._modules.items() if sub is not None]

    def modules(self):
        """Yield this module and every descendant.

        Yields
        ------
        Module
            This module, then its descendants depth first, each once.
        """
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield ``(name, module)`` for the direct children.

        Yields
        ------
        name : str
            The attribute name of the child.
        module : Module
            The child.
        """
        yield from ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        """Yield the direct children.

        Yields
        ------
        Module
            Each child, in registration order.
        """
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix="", recurse=True):
        """Yield ``(dotted_name, parameter)``, each parameter once.

        Parameters
        ----------
        prefix : str, default=""
            Prepended to the dotted names.
        recurse : bool, default=True
            Include the parameters of the descendants, not only this module's.

        Yields
        ------
        dotted_name : str
            The name of the parameter, e.g. ``"hidden.weight"``.
        parameter : Parameter
            The parameter.
        """
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse=True):
        """Yield every parameter once.

        Parameters
        ----------
        recurse : bool, default=True
            Include the parameters of the descendants, not only this module's.

        Yields
        ------
        Parameter
            Each parameter once, in the order of ``named_parameters``.
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix=""):
        """Yield ``(dotted_name, array)`` for every registered buffer.

        Parameters
        ----------
        prefix : str, default=""
            Prepended to the dotted names.

        Yields
        ------
        dotted_name : str
            The name of the buffer, e.g. ``"norm.running_mean"``.
        array : ndarray
            The buffer (buffers that are None are skipped).
        """
        for module_name, module in self.named_modules(prefix):
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buf

    # -- modes -------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (dropout active, batch statistics) recursively.

        Parameters
        ----------
        mode : bool, default=True
            True for training mode, False for evaluation mode.

        Returns
        -------
        Module
            ``self``.
        """
        for module in self.modules():
            object.__setattr__(module, "_training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode recursively.

        Returns
        -------
        Module
            ``self``.
        """
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient.

        Parameters
        ----------
        set_to_none : bool, default=True
            Set the gradients to None; otherwise fill the existing ones with zeros.
        """
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad[...] = 0

    # -- state -------------------------------------------------------------
    def state_dict(self):
        """Return an ordered dict of numpy copies of parameters and buffers.

        Numpy copies make the dict safe to pickle and to load on a machine
        without a GPU.

        Returns
        -------
        collections.OrderedDict
            Dotted name to a numpy copy of each parameter, then of each buffer.
        """
        state = OrderedDict()
        for name, param in self.named_parameters():
            state[name] = to_numpy(param.data).copy()
        for name, buf in self.named_buffers():
            state[name] = to_numpy(buf).copy()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into the parameters and buffers.

        Values are cast to each parameter's dtype and moved to its device.

        Parameters
        ----------
        state_dict : dict
            Dotted names to arrays (or tensors), as ``state_dict`` returns.
        strict : bool, default=True
            Require the keys to match the module's exactly; otherwise keys the
            module lacks are ignored and missing ones left as they are.

        Returns
        -------
        Module
            ``self``.

        Raises
        ------
        KeyError
            With ``strict``, if keys are missing or unexpected.
        ValueError
            If a shape differs.
        """
        own = dict(self.named_parameters())
        buffers = {}
        for module_name, module in self.named_modules():
            for name, buf in module._buffers.items():
                if buf is not None:
                    buffers[f"{module_name}.{name}" if module_name else name] = (module, name)
        expected = set(own) | set(buffers)
        missing = sorted(expected - set(state_dict))
        unexpected = sorted(set(state_dict) - expected)
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}.")
        for key, value in state_dict.items():
            value = value.data if isinstance(value, Tensor) else value
            if key in own:
                target = own[key].data
            elif key in buffers:
                module, name = buffers[key]
                target = module._buffers[name]
            else:
                continue
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"load_state_dict: {key!r} has shape {tuple(value.shape)} in the "
                                 f"state dict but {tuple(target.shape)} in the module.")
            xp = get_array_module(target)
            target[...] = xp.asarray(value).astype(target.dtype, copy=False)
        return self

    def to(self, device=None, dtype=None):
        """Move (and/or cast) every parameter and buffer in place; returns self.

        Gradients are dropped.

        Parameters
        ----------
        device : str, default=None
            ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; None keeps the device.
        dtype : dtype-like, default=None
            The new dtype of the floating-point arrays, float32 or float64; None
            keeps the dtype.

        Returns
        -------
        Module
            ``self``.
        """
        dtype = None if dtype is None else check_dtype(dtype)

        def convert(a):
            if device is not None:
                a = to_device(a, device)
            if dtype is not None and a.dtype.kind == "f":
                a = a.astype(dtype, copy=False)
            return a

        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    param.data = convert(param.data)
                    param.grad = None
            for name, buf in module._buffers.items():
                if buf is not None:
                    module._buffers[name] = convert(buf)
        return self

    # -- calling and printing ------------------------------------------------
    def forward(self, *args, **kwargs):
        """Compute the module's output; every subclass implements it.

        Calling the module calls ``forward``.

        Parameters
        ----------
        *args, **kwargs
            The inputs, as the subclass defines them.

        Returns
        -------
        object
            The output, usually a Tensor.

        Raises
        ------
        NotImplementedError
            Always, on the base class.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement forward().")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """Return one line of settings shown inside the module's repr.

        Returns
        -------
        str
            The settings; empty for the base class.
        """
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(module).replace("\n", "\n  ")
                 for name, module in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
