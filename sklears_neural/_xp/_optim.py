"""Optimizer updates, in place, following ``torch.optim``'s documented rules.

Each function updates ``param`` and its state arrays in place for one step
and returns None. ``grad`` is never modified. These are written with
temporaries for clarity; the Cython kernels do the same in one pass.
"""

import math

from sklears_neural.backend import get_array_module

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step"]


def _effective_grad(param, grad, weight_decay, maximize):
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    return g


def sgd_step(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
             nesterov=False, weight_decay=0.0, maximize=False, first_step=False):
    """SGD with momentum, dampening, Nesterov and (coupled) weight decay.

    ``momentum_buffer`` is None when ``momentum == 0``; on ``first_step`` it
    is set to the gradient, as ``torch.optim.SGD`` does.
    """
    g = _effective_grad(param, grad, weight_decay, maximize)
    if momentum:
        if first_step:
            momentum_buffer[...] = g
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * g


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=1e-3,
              beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              decoupled_weight_decay=False, amsgrad=False, maximize=False):
    """Adam (and AdamW with ``decoupled_weight_decay``), optionally AMSGrad.

    ``step`` is the 1-based step count after this update. ``max_exp_avg_sq``
    is None unless ``amsgrad``.
    """
    xp = get_array_module(param)
    g = -grad if maximize else grad
    if weight_decay:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = xp.sqrt(second) / bias_correction2_sqrt + eps
    param -= (lr / bias_correction1) * exp_avg / denom


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr=1e-2,
                 alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
    """RMSprop, optionally centered and with momentum.

    ``grad_avg`` is None unless ``centered``; ``momentum_buffer`` is None
    unless ``momentum > 0``.
    """
    xp = get_array_module(param)
    g = _effective_grad(param, grad, weight_decay, maximize)
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    if centered:
        grad_avg *= alpha
        grad_avg += (1 - alpha) * g
        avg = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = xp.sqrt(square_avg) + eps
    if momentum:
        momentum_buffer *= momentum
        momentum_buffer += g / avg
        param -= lr * momentum_buffer
    else:
        param -= lr * g / avg


def adagrad_step(param, grad, state_sum, step, lr=1e-2, lr_decay=0.0,
                 weight_decay=0.0, eps=1e-10, maximize=False):
    """Adagrad with learning-rate decay; ``step`` is 1-based after this update."""
    xp = get_array_module(param)
    g = _effective_grad(param, grad, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    param -= clr * g / (xp.sqrt(state_sum) + eps)
