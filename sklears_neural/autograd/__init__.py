"""Define-by-run automatic differentiation.

A ``Tensor`` wraps a numpy or cupy array; every operation on tensors that
require gradients records a ``Function`` node, and ``Tensor.backward`` walks
those nodes in reverse, iteratively, releasing each as it goes.
"""

from sklears_neural.autograd._function import Function
from sklears_neural.autograd._grad_mode import enable_grad, is_grad_enabled, no_grad
from sklears_neural.autograd._gradcheck import gradcheck
from sklears_neural.autograd._tensor import Tensor, as_tensor

__all__ = [
    "Function",
    "Tensor",
    "as_tensor",
    "enable_grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
]
