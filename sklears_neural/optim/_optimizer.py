"""``Optimizer``: parameter groups, per-parameter state, saving and loading.

The base class does the bookkeeping that every optimizer shares, in the
layout of ``torch.optim.Optimizer``, and the one step loop of the optimizers
that update a parameter with one fused kernel call: a subclass declares that
call in a ``KernelStep`` (``_kernel_step.py``: which kernel, which state
buffers, which options) and checks its options.
"""

import copy

import numpy as np

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Tensor, enable_grad, no_grad
from sklears_neural.backend import (
    device_of,
    get_array_module,
    is_cupy_array,
    to_device,
    to_numpy,
)
from sklears_neural.optim._kernel_step import state_reader

__all__ = ["Optimizer"]


def _is_array(value):
    return isinstance(value, np.ndarray) or is_cupy_array(value)


def _raise_mismatch(data, grad):
    if grad.dtype != data.dtype:
        raise ValueError(
            f"a parameter of dtype {data.dtype} has a gradient of dtype {grad.dtype}; "
            "the optimizer needs them equal."
        )
    raise ValueError(f"a parameter of shape {data.shape} has a gradient of shape {grad.shape}.")


class Optimizer:
    """Base class of all optimizers: parameter groups and per-parameter state.

    Parameters
    ----------
    params : iterable of Tensor or iterable of dict
        The parameters to optimize, or parameter groups: dicts with a
        ``"params"`` entry (a list of tensors) and any options that override
        ``defaults`` for that group.
    defaults : dict
        Default options (``lr``, ...) for groups that do not set them.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: its options and its ``"params"`` list.
    state : dict
        Per-parameter state (moment buffers, step counts), keyed by the
        parameter tensor itself; created on the first step that parameter
        has a gradient.
    defaults : dict
        The options given to the constructor.

    Notes
    -----
    ``step`` runs under ``no_grad()``, skips parameters whose ``grad`` is
    None, never modifies ``grad`` and keeps each state array in the
    parameter's dtype and on its device. A subclass declares its fused
    kernel call in ``_kernel_step`` (a ``KernelStep``), or overrides
    ``_step_group(group)``; it validates options in
    ``_check_options(options)``, which also sees the defaults.
    """

    #: The fused kernel call of one parameter's update (see ``KernelStep``).
    _kernel_step = None

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        if isinstance(self.defaults.get("betas"), list):  # kept as the (beta1, beta2) pair
            self.defaults["betas"] = tuple(self.defaults["betas"])
        self._check_options(self.defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of Tensors or of dicts (parameter groups); "
                f"got a single {type(params).__name__}. Wrap it in a list: [param]."
            )
        if isinstance(params, dict):
            raise TypeError(
                "params must be an iterable of Tensors or of dicts; got one dict. "
                "Wrap the parameter group in a list: [group]."
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list.")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- options -----------------------------------------------------------
    @staticmethod
    def _check_options(options):
        """Validate one group's options; subclasses raise ValueError."""

    def add_param_group(self, param_group):
        """Add a parameter group, e.g. layers that get their own learning rate.

        Parameters
        ----------
        param_group : dict
            ``{"params": [tensors...], **options}``; options missing from the
            dict take the optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict; got {type(param_group).__name__}.")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry (a list of tensors).")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "a parameter group's params must be an ordered collection (list or "
                "tuple), not a set: the order must be the same from run to run so "
                "state_dict indices stay meaningful."
            )
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors; one of the params is a "
                    f"{type(p).__name__}."
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one made by an operation).")
        if len(set(params)) != len(params):
            raise ValueError("a parameter appears more than once in one parameter group.")
        seen = set()
        for existing in self.param_groups:
            seen.update(existing["params"])
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group.")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_options(group)
        self.param_groups.append(group)

    # -- gradients ---------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized parameters.

        Parameters
        ----------
        set_to_none : bool, default=True
            Set each ``grad`` to None (the next backward allocates it);
            otherwise fill the existing gradient arrays with zeros in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.fill(0)

    def step(self, closure=None):
        """Update the parameters once from their current gradients.

        Parameters
        ----------
        closure : callable, optional
            Called first (with gradient recording on) to re-evaluate the
            model and its gradients; it returns the loss.

        Returns
        -------
        loss : object or None
            What ``closure`` returned, or None without a closure.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        """One fused kernel call per parameter that has a gradient, as ``_kernel_step`` says."""
        spec = self._kernel_step
        if spec is None:
            raise NotImplementedError(f"{type(self).__name__} declares no _kernel_step.")
        # Once per group: the buffers switched on (a name) or off (None), how to read them
        # from a parameter's state, and the options (the kernel's last arguments).
        names = spec.buffer_names(group)
        read = state_reader(tuple(names))
        options = spec.kernel_options(group)
        counts, passes, first_step = spec.step is not None, spec.step == "passed", spec.first_step
        schedule = self._schedule(group) if spec.scalars else None
        states, array_type, kernel = self.state, None, None
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            data = p.data
            if grad.dtype != data.dtype or grad.shape != data.shape:
                _raise_mismatch(data, grad)
            state = states.get(p)
            if state is None:
                state = states[p] = {}
            try:
                args, made = read(state), False
                step = state["step"] + 1 if counts else None
            except KeyError:  # the parameter's first step, or a buffer switched on since
                spec.init_state(state, data, group, names)
                args, made = read(state), True
                step = state["step"] + 1 if counts else None
            if passes:
                args += (step,)
            if schedule is not None:
                scheduled, updates = schedule(state, step)
                args += scheduled
            args += options
            if first_step:
                args += (made,)
            if type(data) is not array_type:  # kernels_for looks at the array's type only
                array_type, kernel = type(data), getattr(kernels_for(data), spec.kernel)
            kernel(data, grad, *args)
            if counts:
                state["step"] = step
            if schedule is not None:
                state.update(updates)

    def _schedule(self, group):
        """Return ``scheduled(state, step) -> (args, updates)`` for this group's parameters.

        Only for a ``_kernel_step`` with ``scalars``: ``args`` follow the step
        count in the kernel call, and ``updates`` go into the state after it.
        """
        raise NotImplementedError

    # -- saving and loading --------------------------------------------------
    def state_dict(self):
        """Return the optimizer's state as a picklable dict of numpy arrays.

        Returns
        -------
        dict
            ``{"state": {index: {name: value}}, "param_groups": [...]}`` in the
            layout of ``torch.optim``: parameters are numbered in group order
            starting at 0, ``state`` holds numpy copies of the state arrays
            (so a GPU run's state loads on a machine without a GPU) and Python
            numbers, and each group holds its options and the indices of its
            parameters.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(p, len(index_of))
            packed["params"] = [index_of[p] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, param_state in self.state.items():
            if p not in index_of or not param_state:
                continue
            state[index_of[p]] = {
                name: np.array(to_numpy(value)) if _is_array(value) else copy.deepcopy(value)
                for name, value in param_state.items()
            }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state saved by ``state_dict`` (possibly on another device).

        Parameters
        ----------
        state_dict : dict
            As returned by ``state_dict``. Its groups must match this
            optimizer's in number and size, and every state array the shape
            of its parameter. Arrays are copied, cast to each parameter's
            dtype and moved to its device; the dict itself is not modified
            and nothing in it is aliased.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "state_dict must be a dict with 'state' and 'param_groups' entries, as "
                "returned by Optimizer.state_dict()."
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter group(s); this "
                f"optimizer has {len(self.param_groups)}."
            )
        param_of = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"parameter group {i} of the loaded state dict has "
                    f"{len(saved['params'])} parameter(s); this optimizer's has "
                    f"{len(group['params'])}."
                )
            for index, p in zip(saved["params"], group["params"]):
                param_of[index] = p

        new_state = {}
        for index, saved_state in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(
                    f"loaded state dict has state for parameter {index!r}, which none of "
                    "its parameter groups lists."
                )
            p = param_of[index]
            new_state[p] = {
                name: self._load_value(p, index, name, value)
                for name, value in saved_state.items()
            }

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = {k: v for k, v in group.items() if k != "params"}
            new_group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            new_group["params"] = group["params"]
            self._check_options(new_group)
            new_groups.append(new_group)

        self.state = new_state
        self.param_groups = new_groups

    @staticmethod
    def _load_value(p, index, name, value):
        """A copy of one saved state value, as the parameter's array or a number."""
        if name == "step":
            return int(value)
        if _is_array(value):
            if value.shape != p.data.shape:
                raise ValueError(
                    f"state {name!r} of parameter {index} has shape {value.shape}; the "
                    f"parameter has shape {p.data.shape}."
                )
            xp = get_array_module(p.data)
            out = xp.empty_like(p.data)
            out[...] = to_device(value, device_of(p.data))
            return out
        if isinstance(value, np.generic):
            return value.item()
        return copy.deepcopy(value)

    # -- display -------------------------------------------------------------
    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
