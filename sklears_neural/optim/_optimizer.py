"""``Optimizer``: parameter groups, per-parameter state, saving and loading.

The base class does the bookkeeping that every optimizer shares, in the
layout of ``torch.optim.Optimizer``; a subclass only says how one group of
parameters is updated (``_step_group``), with one fused kernel call per
parameter.
"""

import copy
import numbers

import numpy as np

from sklears_neural.autograd import Tensor, enable_grad, no_grad
from sklears_neural.backend import (
    device_of,
    get_array_module,
    is_cupy_array,
    to_device,
    to_numpy,
)

__all__ = ["Optimizer"]


def _is_array(value):
    return isinstance(value, np.ndarray) or is_cupy_array(value)


def _ensure_state(state, param, *buffers):
    """On a parameter's first step: a step count of 0 and zero-filled ``buffers``.

    Buffers already present are kept, so an option switched on mid-run
    (AMSGrad, momentum) only adds what it needs.
    """
    state.setdefault("step", 0)
    for name in buffers:
        if name not in state:
            state[name] = get_array_module(param.data).zeros_like(param.data)


def _check_nonnegative(name, value):
    """Raise ValueError unless ``value`` is a number >= 0 (NaN fails too)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0; got {value!r}.")


def _check_unit_interval(name, value, closed=False):
    """Raise ValueError unless ``0 <= value < 1`` (``<= 1`` when ``closed``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and (
        0 <= value <= 1 if closed else 0 <= value < 1)
    if not ok:
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}; got {value!r}.")


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
    parameter's dtype and on its device. Subclasses implement
    ``_step_group(group)`` and, to validate per-group options,
    ``_check_options(options)``.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
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

    def _params_with_grad(self, group):
        """Yield ``(param, grad, state)`` for the group's params that have a grad."""
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if grad.dtype != p.data.dtype:
                raise ValueError(
                    f"a parameter of dtype {p.data.dtype} has a gradient of dtype "
                    f"{grad.dtype}; the optimizer needs them equal."
                )
            if grad.shape != p.data.shape:
                raise ValueError(
                    f"a parameter of shape {p.data.shape} has a gradient of shape "
                    f"{grad.shape}."
                )
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {}
            yield p, grad, state

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
