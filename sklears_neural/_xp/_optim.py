"""Optimizer updates, in place, following ``torch.optim``'s documented rules.

Each function updates ``param`` and its state arrays in place for one step
and returns None. ``grad`` is never modified. These are written with
temporaries for clarity; the Cython kernels do the same in one pass. The
arrays are checked as the Cython kernels check them
(``sklears_neural._specs._optim``): ``param`` and the states it uses are
writeable arrays of one float dtype, ``grad`` is cast to it.
"""

import math

from sklears_neural._specs._optim import check_step, momentum_state, step_states
from sklears_neural.backend import get_array_module

__all__ = [
    "sgd_step",
    "adam_step",
    "rmsprop_step",
    "adagrad_step",
    "nadam_step",
    "adamax_step",
    "radam_step",
    "adadelta_step",
    "lamb_step",
    "lars_step",
]


def _arguments(kernel, param, grad, *entries):
    """``grad`` cast to param's dtype and the states the step uses (None for
    the unused ones), after the Cython twin's checks."""
    states = step_states(kernel, *entries)
    dtype = check_step(kernel, param, grad, states)
    return get_array_module(param).asarray(grad, dtype=dtype), [a for _, a in states]


def _effective_grad(param, grad, weight_decay, maximize):
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    return g


def _decayed_grad(param, grad, lr, weight_decay, decoupled, maximize):
    """The gradient with weight decay added, or (decoupled) the decay applied to ``param``."""
    if decoupled and weight_decay:
        param *= 1 - lr * weight_decay
        return -grad if maximize else grad
    return _effective_grad(param, grad, weight_decay, maximize)


def _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2):
    """Adam's running averages of the gradient and its square, in place."""
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g


def sgd_step(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
             nesterov=False, weight_decay=0.0, maximize=False, first_step=False):
    """SGD with momentum, dampening, Nesterov and (coupled) weight decay.

    ``momentum_buffer`` is None when ``momentum == 0``; on ``first_step`` it
    is set to the gradient, as ``torch.optim.SGD`` does.
    """
    grad, (momentum_buffer,) = _arguments("sgd_step", param, grad,
                                          momentum_state(momentum_buffer, momentum))
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
    grad, (exp_avg, exp_avg_sq, max_exp_avg_sq) = _arguments(
        "adam_step", param, grad, ("exp_avg", exp_avg, "Adam"),
        ("exp_avg_sq", exp_avg_sq, "Adam"),
        ("max_exp_avg_sq", max_exp_avg_sq, "amsgrad=True" if amsgrad else None))
    g = _decayed_grad(param, grad, lr, weight_decay, decoupled_weight_decay, maximize)
    _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2)
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
    grad, (square_avg, grad_avg, momentum_buffer) = _arguments(
        "rmsprop_step", param, grad, ("square_avg", square_avg, "RMSprop"),
        ("grad_avg", grad_avg, "centered=True" if centered else None),
        momentum_state(momentum_buffer, momentum))
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
    grad, (state_sum,) = _arguments("adagrad_step", param, grad,
                                    ("state_sum", state_sum, "Adagrad"))
    g = _effective_grad(param, grad, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    param -= clr * g / (xp.sqrt(state_sum) + eps)


def nadam_step(param, grad, exp_avg, exp_avg_sq, step, mu, mu_next, mu_product,
               lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
               decoupled_weight_decay=False, maximize=False):
    """NAdam (``torch.optim.NAdam``), optionally with decoupled weight decay.

    ``step`` is the 1-based step count after this update; ``mu`` and
    ``mu_next`` are the momentum coefficients of this step and the next
    (``beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))``) and
    ``mu_product`` the product of all ``mu`` up to and including this step.
    """
    xp = get_array_module(param)
    grad, (exp_avg, exp_avg_sq) = _arguments(
        "nadam_step", param, grad, ("exp_avg", exp_avg, "NAdam"),
        ("exp_avg_sq", exp_avg_sq, "NAdam"))
    g = _decayed_grad(param, grad, lr, weight_decay, decoupled_weight_decay, maximize)
    _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2)
    bias_correction2 = 1 - beta2**step
    denom = xp.sqrt(exp_avg_sq / bias_correction2) + eps
    param -= (lr * (1 - mu) / (1 - mu_product)) * g / denom
    param -= (lr * mu_next / (1 - mu_product * mu_next)) * exp_avg / denom


def adamax_step(param, grad, exp_avg, exp_inf, step, lr=2e-3, beta1=0.9, beta2=0.999,
                eps=1e-8, weight_decay=0.0, maximize=False):
    """Adamax (``torch.optim.Adamax``); ``step`` is 1-based after this update."""
    xp = get_array_module(param)
    grad, (exp_avg, exp_inf) = _arguments(
        "adamax_step", param, grad, ("exp_avg", exp_avg, "Adamax"),
        ("exp_inf", exp_inf, "Adamax"))
    g = _effective_grad(param, grad, weight_decay, maximize)
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_inf *= beta2
    xp.maximum(exp_inf, xp.abs(g) + eps, out=exp_inf)
    param -= (lr / (1 - beta1**step)) * exp_avg / exp_inf


def radam_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999,
               eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, maximize=False):
    """RAdam (``torch.optim.RAdam``); ``step`` is 1-based after this update.

    While the variance is not tractable (``rho_t <= 5``) the update is the
    bias-corrected momentum alone, as in the paper and torch.
    """
    xp = get_array_module(param)
    grad, (exp_avg, exp_avg_sq) = _arguments(
        "radam_step", param, grad, ("exp_avg", exp_avg, "RAdam"),
        ("exp_avg_sq", exp_avg_sq, "RAdam"))
    g = _decayed_grad(param, grad, lr, weight_decay, decoupled_weight_decay, maximize)
    _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
    if rho_t > 5.0:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive = math.sqrt(bias_correction2) / (xp.sqrt(exp_avg_sq) + eps)
        param -= (lr / bias_correction1) * exp_avg * (rect * adaptive)
    else:
        param -= (lr / bias_correction1) * exp_avg


def adadelta_step(param, grad, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6,
                  weight_decay=0.0, maximize=False):
    """Adadelta (``torch.optim.Adadelta``)."""
    xp = get_array_module(param)
    grad, (square_avg, acc_delta) = _arguments(
        "adadelta_step", param, grad, ("square_avg", square_avg, "Adadelta"),
        ("acc_delta", acc_delta, "Adadelta"))
    g = _effective_grad(param, grad, weight_decay, maximize)
    square_avg *= rho
    square_avg += (1 - rho) * g * g
    delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
    acc_delta *= rho
    acc_delta += (1 - rho) * delta * delta
    param -= lr * delta


def _norm(xp, a):
    return float(xp.sqrt(xp.sum(a.astype(xp.float64) ** 2)))


def lamb_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999,
              eps=1e-6, weight_decay=0.0):
    """LAMB (You et al. 2019, Algorithm 2) with the identity as scaling function.

    ``r = m_hat / (sqrt(v_hat) + eps) + weight_decay * param`` and
    ``param -= lr * ||param|| / ||r|| * r``; the ratio is 1 when either norm
    is 0. Norms are accumulated in double. ``step`` is 1-based after this
    update.
    """
    xp = get_array_module(param)
    grad, (exp_avg, exp_avg_sq) = _arguments(
        "lamb_step", param, grad, ("exp_avg", exp_avg, "LAMB"),
        ("exp_avg_sq", exp_avg_sq, "LAMB"))
    _update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
    inv_bc1 = 1.0 / (1 - beta1**step)
    inv_bc2_sqrt = 1.0 / math.sqrt(1 - beta2**step)
    r = (exp_avg * inv_bc1) / (xp.sqrt(exp_avg_sq) * inv_bc2_sqrt + eps)
    if weight_decay:
        r = r + weight_decay * param
    w_norm = _norm(xp, param)
    r_norm = _norm(xp, r)
    ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else 1.0
    param -= (lr * ratio) * r


def lars_step(param, grad, momentum_buffer, lr, momentum=0.9, weight_decay=0.0,
              trust_coefficient=0.001, eps=1e-8, exclude_from_adaptation=False):
    """LARS (You et al. 2017) with momentum on the scaled step.

    ``local_lr = trust_coefficient * ||param|| / (||grad|| + weight_decay *
    ||param|| + eps)`` (1 when either norm is 0, or when
    ``exclude_from_adaptation``, which also drops the weight decay);
    ``v = momentum * v + lr * local_lr * (grad + weight_decay * param)``,
    ``param -= v``. ``momentum_buffer`` starts at zeros, and is None when
    ``momentum == 0`` (then ``param -= lr * local_lr * (...)``).
    """
    xp = get_array_module(param)
    grad, (momentum_buffer,) = _arguments("lars_step", param, grad,
                                          momentum_state(momentum_buffer, momentum))
    if exclude_from_adaptation:
        scale = lr
        g = grad
    else:
        w_norm = _norm(xp, param)
        g_norm = _norm(xp, grad)
        local_lr = 1.0
        if w_norm > 0 and g_norm > 0:
            local_lr = trust_coefficient * w_norm / (g_norm + weight_decay * w_norm + eps)
        scale = lr * local_lr
        g = grad + weight_decay * param if weight_decay else grad
    if momentum:
        momentum_buffer *= momentum
        momentum_buffer += scale * g
        param -= momentum_buffer
    else:
        param -= scale * g
