"""The neutral specification that both kernel twins import (never each other).

The submodules hold each kernel family's shape rules and argument checks
(``_conv``, ``_pool``, ``_rnn``, ``_attention``, ``_dense``, ``_loss``,
``_optim``), the checks of array arguments and the one dtype rule
(``_arrays.float_dtype``), so that the Cython kernels and the ``_xp``
kernels accept the same inputs and raise the same errors, the list of
entry points both export (``KERNEL_NAMES``, from ``_names``), and the
scalar-hyperparameter checks every layer above uses (``_scalars``).
This module holds the facts about activations that both kernel sets and the
ops agree on. A kernel set (``_kernels`` or ``_xp``) takes an activation by name plus one
float parameter. This module says which names exist, what the parameter
means and what its default is, and whether the backward pass needs the
activation's input or can work from its output alone (in which case a fused
layer need not keep the pre-activation array).
"""

from sklears_neural._specs._names import KERNEL_NAMES

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_IDS",
    "KERNEL_NAMES",
    "check_activation",
    "default_param",
    "backward_operand",
    "backward_uses_output",
]

# The order fixes the integer ids the Cython kernels switch on.
ACTIVATIONS = (
    "identity",
    "relu",
    "leaky_relu",  # activation_param: negative_slope (0.01)
    "elu",  # activation_param: alpha (1.0)
    "selu",
    "gelu",  # exact, with erf
    "gelu_tanh",  # PyTorch's approximate="tanh"
    "silu",
    "mish",
    "softplus",  # activation_param: beta (1.0); linear above beta * x > 20, as PyTorch
    "tanh",
    "sigmoid",
    "celu",  # activation_param: alpha (1.0)
    "hardswish",
    "hardsigmoid",
    "softsign",
    "tanhshrink",
    "logsigmoid",
)
ACTIVATION_IDS = {name: i for i, name in enumerate(ACTIVATIONS)}

_DEFAULT_PARAMS = {"leaky_relu": 0.01, "elu": 1.0, "celu": 1.0, "softplus": 1.0}

# Activations whose derivative is a function of the output y alone. Of the
# others, softsign (1 - |y|)^2, logsigmoid 1 - exp(y) and celu y / alpha + 1
# could be written from y too, but cancel badly in float32 for large |x|;
# hardswish is not monotonic and hardsigmoid's y = 1 does not tell x < 3
# (derivative 1/6) from x >= 3 (0) after rounding; tanhshrink needs x.
_FROM_OUTPUT = frozenset({"identity", "relu", "tanh", "sigmoid"})

# scikit-learn's names for the same functions.
_ALIASES = {"logistic": "sigmoid", "linear": "identity", None: "identity"}

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SOFTPLUS_THRESHOLD = 20.0


def check_activation(name):
    """Return the canonical activation name, or raise listing the valid ones."""
    name = _ALIASES.get(name, name)
    if name not in ACTIVATION_IDS:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATIONS)} "
            f"(or 'logistic' for sigmoid); got {name!r}."
        )
    return name


def default_param(name, activation_param=None):
    """Return ``activation_param`` or the activation's default parameter as a float."""
    if activation_param is not None:
        return float(activation_param)
    return float(_DEFAULT_PARAMS.get(name, 0.0))


def backward_uses_output(name):
    """True if the activation's derivative can be computed from its output."""
    return name in _FROM_OUTPUT


def backward_operand(kernel, name, x, y, x_name="x", source=None):
    """Return ``(v_name, v)``, what the backward of activation ``name`` reads.

    That is its output ``y`` when ``backward_uses_output(name)``, else its
    input ``x`` (called ``x_name``, e.g. ``"pre"`` for a dense layer's
    pre-activation); raise ValueError when that one is None. ``source``
    names the forward that returns it, for the message.
    """
    v_name, v = ("y", y) if backward_uses_output(name) else (x_name, x)
    if v is None:
        if source is None:
            source = f"(the activation's {'output' if v_name == 'y' else 'input'})"
        else:
            source = f"from {source}"
        raise ValueError(f"{kernel}: the backward of {name!r} needs {v_name} {source}; "
                         "got None.")
    return v_name, v
