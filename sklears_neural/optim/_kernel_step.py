"""``KernelStep``: what an optimizer's fused kernel takes, declared once per optimizer class.

An optimizer that updates each parameter with one kernel call says, in a
``KernelStep``, which kernel that is, which state buffers it keeps and which
group options it passes; ``Optimizer._step_group`` does the rest (the state,
the step count, the call).
"""

import functools
from dataclasses import dataclass, field
from operator import itemgetter

from sklears_neural.backend import get_array_module

__all__ = ["KernelStep", "StateBuffer", "state_reader"]


@dataclass(frozen=True)
class StateBuffer:
    """A per-parameter state array, made (in the parameter's dtype and device) when needed.

    ``name`` is its key in the state. A buffer with ``when`` exists only while
    that group option is true (momentum, AMSGrad, centering); otherwise the
    kernel gets None in its place. It starts at zeros, or filled with the
    group option named by ``fill``.
    """

    name: str
    when: str = None
    fill: str = None


@dataclass(frozen=True)
class KernelStep:
    """What an optimizer's fused kernel takes, for ``Optimizer``'s step loop.

    The loop calls, for each parameter with a gradient, ``kernels_for(param)``'s
    ``kernel(param, grad, *buffers, [step, *scheduled,] *options[, first_step])``,
    all positionally: keywords cost more than the update of a small parameter.
    ``tests/optim/test_kernel_step.py`` checks the order against both twins.

    Attributes
    ----------
    kernel : str
        Name of the kernel, the same in both twins (``"adam_step"``).
    buffers : tuple of StateBuffer
        The state arrays, in the kernel's argument order.
    options : tuple of str
        Group options passed to the kernel, in its argument order: floats,
        except ``flags``; ``betas`` is passed as two floats, beta1 and beta2.
    flags : tuple of str
        The options passed as bools.
    step : {"passed", "counted", None}
        ``state["step"]`` counts the updates; ``"passed"`` also gives the kernel
        the 1-based count after this update, after the buffers. None: no count.
    first_step : bool
        Whether the kernel's last argument says that this step made the buffers
        (SGD's momentum buffer starts as the gradient).
    scalars : dict
        State that is no array, with its first value (NAdam's ``mu_product``);
        the optimizer's ``_schedule`` method passes and updates it.
    """

    kernel: str
    buffers: tuple = ()
    options: tuple = ()
    flags: tuple = ()
    step: str = "passed"
    first_step: bool = False
    scalars: dict = field(default_factory=dict)

    def buffer_names(self, group):
        """Each buffer's name where the group's options switch it on, None where off."""
        return [b.name if b.when is None or group[b.when] else None for b in self.buffers]

    def kernel_options(self, group):
        """The group's options as the kernel's arguments: a tuple of floats and bools."""
        values = []
        for name in self.options:
            if name == "betas":
                values.extend(float(b) for b in group["betas"])
            elif name in self.flags:
                values.append(bool(group[name]))
            else:
                values.append(float(group[name]))
        return tuple(values)

    def init_state(self, state, data, group, names):
        """Add the step count, the scalars and the missing buffers ``names`` to a state."""
        if self.step is not None:
            state.setdefault("step", 0)
        for name, first in self.scalars.items():
            state.setdefault(name, first)
        xp = get_array_module(data)
        for buffer, name in zip(self.buffers, names):
            if name is not None and state.get(name) is None:
                state[name] = (xp.zeros_like(data) if buffer.fill is None
                               else xp.full_like(data, float(group[buffer.fill])))


@functools.lru_cache(maxsize=64)
def state_reader(names):
    """Return ``read(state)``: the entries ``names`` of a state, as a tuple, None for a None name.

    ``names`` is a tuple. ``read`` raises KeyError for a missing entry. It runs
    once per parameter and step, so it is made of ``itemgetter`` calls where
    it can be, and a reader is built once per combination of names (cached:
    building one each step cost ~2 us per parameter group).
    """
    keys = tuple(name for name in names if name is not None)
    if not keys:
        nones = (None,) * len(names)
        return lambda state: nones
    if len(keys) == 1:  # (itemgetter would return the entry itself, not a tuple)
        key, at = keys[0], names.index(keys[0])
        if len(names) == 1:
            return lambda state: (state[key],)
        before, after = (None,) * at, (None,) * (len(names) - at - 1)
        return lambda state: (*before, state[key], *after)
    get = itemgetter(*keys)
    if keys == names:
        return get
    if keys == names[:len(keys)]:  # only the last buffers off (Adam without AMSGrad)
        nones = (None,) * (len(names) - len(keys))
        return lambda state: get(state) + nones
    # Read the entries with a None after them, then pick each name's.
    pick = itemgetter(*(keys.index(name) if name is not None else len(keys) for name in names))
    return lambda state: pick(get(state) + (None,))
