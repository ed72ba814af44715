"""Loss ops: the kernel computes loss and gradient together in forward.

A reduced loss is a scalar whose backward only scales the gradient kept
from the forward pass. ``sample_weight`` (one weight per row, an addition to
PyTorch's arguments) makes ``"mean"`` a weighted mean, as in scikit-learn.

A floating-point target that is a Tensor requiring grad (distillation,
self-supervised losses) is a real input of the op and gets a gradient, as in
PyTorch; any other target is a constant array and costs nothing extra.
Class-index targets never get one.
"""

from sklears_neural._dispatch import kernels_for
from sklears_neural.autograd import Function, Tensor, is_grad_enabled
from sklears_neural.backend import get_array_module

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss",
    "binary_cross_entropy_with_logits", "poisson_nll_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(_REDUCTIONS)}; got {reduction!r}.")


def _array(x):
    return x.data if isinstance(x, Tensor) else x


def _target_operand(xp, target, dtype):
    """The target as the op receives it: a differentiable Tensor of ``dtype``
    when it is a Tensor that requires grad (and grad is on), else an array."""
    if isinstance(target, Tensor) and target.requires_grad and is_grad_enabled():
        return target if target.dtype == dtype else target.astype(dtype)
    return xp.asarray(_array(target)).astype(dtype, copy=False)


def _check_class_range(t, n_classes):
    # One host sync (a GPU stalls on each); min/max only for the message.
    if t.size and bool(((t < 0) | (t >= n_classes)).any()):
        raise ValueError(f"class-index target must lie in [0, {n_classes - 1}]; "
                         f"got values from {int(t.min())} to {int(t.max())}.")


def _row_weights(xp, n_rows, dtype, sample_weight):
    if sample_weight is None:
        return None
    w = xp.asarray(_array(sample_weight)).astype(dtype, copy=False)
    if w.shape != (n_rows,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n_rows},), one per sample.")
    return w


def _softplus_neg(xp, x):
    """``log(1 + exp(-x))``, stable for any x."""
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)


def _target_grad(xp, kernel, x, t, options):
    """Gradient of the unscaled elementwise losses with respect to the target.

    ``x`` and ``t`` are as the kernel received them. The gradient of mse, l1
    and huber is minus the input's (see ``_NEGATED_INPUT_GRAD``).
    """
    if kernel == "softmax_cross_entropy":
        # loss_i = -sum_c ((1 - ls) t_ic + ls / C) log_softmax(x)_ic
        shifted = x - x.max(axis=1, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        return -(1.0 - options["label_smoothing"]) * logp
    if kernel == "bce_with_logits":
        # loss = (1 - t) x + (1 + (pw - 1) t) softplus(-x)
        pw = options["pos_weight"]
        return -x if pw is None else (pw - 1) * _softplus_neg(xp, x) - x
    if kernel == "poisson_nll_loss":
        if options["log_input"]:
            g = -x  # exp(x) - t x
        else:
            g = -xp.log(x + options["eps"])  # x - t log(x + eps)
        if options["full"]:
            # d/dt of t log t - t + log(2 pi t) / 2, where t > 1
            safe_t = xp.where(t > 1, t, 1)
            g = g + xp.where(t > 1, xp.log(safe_t) + 0.5 / safe_t, 0)
        return g
    raise AssertionError(f"no target gradient for {kernel}")


# Losses of ``x - t`` alone: the target's gradient is minus the input's.
_NEGATED_INPUT_GRAD = ("mse_loss", "l1_loss", "huber_loss")


class _KernelLoss(Function):
    """A loss evaluated by one kernel call returning ``(losses, grad)``.

    The target is the second input; it gets a gradient only when it requires
    one (``needs_input_grad[1]``), computed in forward next to the kernel.
    """

    def __init__(self, kernel, reduction, weight, options):
        self.kernel = kernel
        self.reduction = reduction
        self.weight = weight  # per-row weights (or None)
        self.options = options

    def forward(self, x, target):
        xp = get_array_module(x)
        per_sample = self.kernel == "softmax_cross_entropy"
        self.input_shape = x.shape
        self.target_shape = target.shape
        scale = 1.0
        if self.reduction == "mean":
            elements_per_row = 1 if per_sample else x.size // max(x.shape[0], 1)
            rows = x.shape[0] if self.weight is None else float(self.weight.sum())
            scale = 1.0 / (rows * elements_per_row)
        if not per_sample:
            x, target = x.reshape(x.shape[0], -1), target.reshape(x.shape[0], -1)
        losses, grad = getattr(kernels_for(x), self.kernel)(
            x, target, self.weight, scale=scale, **self.options)
        want_x, want_t = self.needs_input_grad
        grad_target = None
        if want_t and self.kernel not in _NEGATED_INPUT_GRAD:
            grad_target = _target_grad(xp, self.kernel, x, target, self.options)
            if self.weight is None:
                grad_target *= scale
            else:
                grad_target *= (scale * self.weight).astype(x.dtype, copy=False).reshape(-1, 1)
        if want_x or want_t:
            self.save_for_backward(grad if want_x or grad_target is None else None, grad_target)
        self.per_sample = per_sample
        self.grad_shape = grad.shape
        if self.reduction == "none":
            return losses if per_sample else losses.reshape(self.input_shape)
        return xp.asarray(losses.sum(), dtype=x.dtype)

    def backward(self, gy):
        grad, grad_target = self.saved
        if self.reduction == "none":
            gy = gy.reshape(-1, 1) if self.per_sample else gy.reshape(self.grad_shape)
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = (grad * gy).reshape(self.input_shape)
        if self.needs_input_grad[1]:
            if grad_target is None:  # mse, l1, huber: minus the input's gradient
                gt = -(gx if gx is not None else (grad * gy).reshape(self.target_shape))
            else:
                gt = (grad_target * gy).reshape(self.target_shape)
        return gx, gt


def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0,
                  sample_weight=None):
    """Softmax cross-entropy between logits and targets, fused in one pass.

    Parameters
    ----------
    input : Tensor of shape (n, n_classes)
        Unnormalised logits.
    target : Tensor or array
        Class indices of shape (n,) (integers) or class probabilities of
        shape (n, n_classes).
    weight : Tensor or array of shape (n_classes,), default=None
        Class weights (index targets only); a weighted mean divides by the
        summed weights of the targets, as PyTorch does.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the per-sample losses (a weighted mean with weights), sum them,
        or return them all.
    label_smoothing : float in [0, 1], default=0.0
        Mix the targets with the uniform distribution over classes by this much.
    sample_weight : array of shape (n,), default=None
        Per-sample weights; combined multiplicatively with class weights.

    Returns
    -------
    Tensor
        A scalar, or shape (n,) with ``reduction="none"``.

    Raises
    ------
    ValueError
        If an argument is out of range or the shapes do not match.
    """
    _check_reduction(reduction)
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: input must be (n, n_classes); got shape {input.shape}.")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}.")
    xp = get_array_module(input.data)
    t = xp.asarray(_array(target))
    n, n_classes = input.shape
    if t.dtype.kind in "iu":
        if t.shape != (n,):
            raise ValueError(f"cross_entropy: class-index target has shape {t.shape}; "
                             f"expected ({n},) for input of shape {input.shape}.")
        t = t.astype(xp.int64, copy=False)
        # Both kernel twins check the range in their pass over the rows; only class
        # weights index with t before them.
        if weight is not None:
            _check_class_range(t, n_classes)
    elif t.shape != input.shape:
        raise ValueError(f"cross_entropy: probability target has shape {t.shape}; "
                         f"expected {input.shape}.")
    else:
        t = _target_operand(xp, target, input.dtype)
    w = _row_weights(xp, n, input.dtype, sample_weight)
    if weight is not None:
        if t.ndim != 1:
            raise ValueError("cross_entropy: class weights are supported with class-index "
                             "targets only; fold them into sample_weight for probability targets.")
        cw = xp.asarray(_array(weight)).astype(input.dtype, copy=False)
        if cw.shape != (n_classes,):
            raise ValueError(f"cross_entropy: weight has shape {cw.shape}; expected ({n_classes},).")
        w = cw[t] if w is None else w * cw[t]
    op = _KernelLoss("softmax_cross_entropy", reduction, w,
                     {"label_smoothing": float(label_smoothing)})
    return op.apply(input, t)


def nll_loss(input, target, reduction="mean", sample_weight=None):
    """Negative log-likelihood of class indices given log-probabilities.

    Parameters
    ----------
    input : Tensor of shape (n, n_classes)
        Log-probabilities, such as the output of ``log_softmax``.
    target : array-like of shape (n,)
        Class indices in ``[0, n_classes)``.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the per-sample losses (a weighted mean with ``sample_weight``),
        sum them, or return them all.
    sample_weight : array-like of shape (n,), default=None
        Per-sample weights.

    Returns
    -------
    Tensor
        A scalar, or shape (n,) with ``reduction="none"``.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown or a class index is out of range.
    """
    _check_reduction(reduction)
    xp = get_array_module(input.data)
    t = xp.asarray(_array(target)).astype(xp.int64, copy=False)
    _check_class_range(t, input.shape[1])
    picked = -input[xp.arange(input.shape[0]), t]
    if sample_weight is not None:
        picked = picked * Tensor(_row_weights(xp, input.shape[0], input.dtype, sample_weight))
    if reduction == "none":
        return picked
    total = picked.sum()
    if reduction == "sum":
        return total
    denom = input.shape[0] if sample_weight is None else float(_array(sample_weight).sum())
    return total / denom


def _elementwise(kernel, input, target, reduction, sample_weight, **options):
    _check_reduction(reduction)
    xp = get_array_module(input.data)
    t = _target_operand(xp, target, input.dtype)
    if t.shape != input.shape:
        raise ValueError(f"{kernel}: target has shape {t.shape}, input has shape {input.shape}; "
                         "they must match.")
    if input.ndim == 0:
        input, t = input.reshape(1, 1), t.reshape(1, 1)
    w = _row_weights(xp, input.shape[0], input.dtype, sample_weight)
    return _KernelLoss(kernel, reduction, w, options).apply(input, t)


def mse_loss(input, target, reduction="mean", sample_weight=None):
    """Mean squared error ``(input - target) ** 2``.

    Parameters
    ----------
    input : Tensor
        The predictions, of shape (n, ...).
    target : Tensor or array-like
        The targets, of the shape of ``input``; a Tensor that requires grad gets a gradient.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the elementwise losses (a weighted mean with ``sample_weight``),
        sum them, or return them all.
    sample_weight : array-like of shape (n,), default=None
        One weight per row (per sample) of ``input``.

    Returns
    -------
    Tensor
        A scalar, or the elementwise losses (shape of ``input``) with
        ``reduction="none"``.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown or the shapes do not match.
    """
    return _elementwise("mse_loss", input, target, reduction, sample_weight)


def l1_loss(input, target, reduction="mean", sample_weight=None):
    """Mean absolute error ``|input - target|``.

    Parameters
    ----------
    input : Tensor
        The predictions, of shape (n, ...).
    target : Tensor or array-like
        The targets, of the shape of ``input``; a Tensor that requires grad gets a gradient.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the elementwise losses (a weighted mean with ``sample_weight``),
        sum them, or return them all.
    sample_weight : array-like of shape (n,), default=None
        One weight per row (per sample) of ``input``.

    Returns
    -------
    Tensor
        A scalar, or the elementwise losses (shape of ``input``) with
        ``reduction="none"``.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown or the shapes do not match.
    """
    return _elementwise("l1_loss", input, target, reduction, sample_weight)


def huber_loss(input, target, reduction="mean", delta=1.0, sample_weight=None):
    """Huber loss: squared within ``delta``, absolute beyond.

    Parameters
    ----------
    input : Tensor
        The predictions, of shape (n, ...).
    target : Tensor or array-like
        The targets, of the shape of ``input``; a Tensor that requires grad gets a gradient.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the elementwise losses (a weighted mean with ``sample_weight``),
        sum them, or return them all.
    delta : float, default=1.0
        Where the loss turns from ``0.5 * d ** 2`` to ``delta * (|d| - delta / 2)``,
        ``d = input - target``; positive.
    sample_weight : array-like of shape (n,), default=None
        One weight per row (per sample) of ``input``.

    Returns
    -------
    Tensor
        A scalar, or the elementwise losses (shape of ``input``) with
        ``reduction="none"``.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown or the shapes do not match.
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive; got {delta!r}.")
    return _elementwise("huber_loss", input, target, reduction, sample_weight, delta=float(delta))


def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None,
                                     sample_weight=None):
    """Binary cross-entropy on logits (sigmoid fused in, numerically stable).

    ``pos_weight`` (shape (n_outputs,)) weighs positive examples, as PyTorch.

    Parameters
    ----------
    input : Tensor
        The logits, of shape (n, ...).
    target : Tensor or array-like
        The targets in [0, 1], of the shape of ``input``.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the elementwise losses (a weighted mean with ``sample_weight``),
        sum them, or return them all.
    pos_weight : Tensor or array-like of shape (n_outputs,), default=None
        Multiplies the loss of positive targets, one weight per output column.
    sample_weight : array-like of shape (n,), default=None
        One weight per row (per sample) of ``input``.

    Returns
    -------
    Tensor
        A scalar, or the elementwise losses (shape of ``input``) with
        ``reduction="none"``.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown or the shapes do not match.
    """
    xp = get_array_module(input.data)
    pw = None
    if pos_weight is not None:
        pw = xp.asarray(_array(pos_weight)).astype(input.dtype, copy=False).reshape(-1)
    return _elementwise("bce_with_logits", input, target, reduction, sample_weight, pos_weight=pw)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean",
                     sample_weight=None):
    """Poisson negative log-likelihood (``input`` is the log-rate by default).

    Parameters
    ----------
    input : Tensor
        The log-rates (or the rates), of shape (n, ...).
    target : Tensor or array-like
        The observed counts, of the shape of ``input``.
    log_input : bool, default=True
        Whether ``input`` is the log-rate (loss ``exp(input) - target * input``) or the
        rate (loss ``input - target * log(input + eps)``).
    full : bool, default=False
        Add Stirling's approximation of ``log(target!)`` where ``target > 1``.
    eps : float, default=1e-8
        Added to the rate inside the logarithm when ``log_input`` is False.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the elementwise losses (a weighted mean with ``sample_weight``),
        sum them, or return them all.
    sample_weight : array-like of shape (n,), default=None
        One weight per row (per sample) of ``input``.

    Returns
    -------
    Tensor
        A scalar, or the elementwise losses (shape of ``input``) with
        ``reduction="none"``.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown or the shapes do not match.
    """
    return _elementwise("poisson_nll_loss", input, target, reduction, sample_weight,
                        log_input=bool(log_input), full=bool(full), eps=float(eps))
