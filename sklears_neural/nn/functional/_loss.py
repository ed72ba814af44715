"""Loss ops: the kernel computes loss and gradient together in forward.

A reduced loss is a scalar whose backward only scales the gradient kept
from the forward pass. ``sample_weight`` (one weight per row, an addition to
PyTorch's arguments) makes ``"mean"`` a weighted mean, as in scikit-learn.
"""

from sklears_neural.autograd import Function, Tensor
from sklears_neural.backend import get_array_module, kernels_for

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


def _check_class_range(t, n_classes):
    if t.size and (int(t.min()) < 0 or int(t.max()) >= n_classes):
        raise ValueError(f"class-index target must lie in [0, {n_classes - 1}]; "
                         f"got values from {int(t.min())} to {int(t.max())}.")


def _row_weights(xp, n_rows, dtype, sample_weight):
    if sample_weight is None:
        return None
    w = xp.asarray(_array(sample_weight)).astype(dtype, copy=False)
    if w.shape != (n_rows,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n_rows},), one per sample.")
    return w


class _KernelLoss(Function):
    """A loss evaluated by one kernel call returning ``(losses, grad)``."""

    def __init__(self, kernel, reduction, weight, options):
        self.kernel = kernel
        self.reduction = reduction
        self.weight = weight  # per-row weights (or None)
        self.options = options

    def forward(self, x, target):
        xp = get_array_module(x)
        per_sample = self.kernel == "softmax_cross_entropy"
        self.input_shape = x.shape
        scale = 1.0
        if self.reduction == "mean":
            elements_per_row = 1 if per_sample else x.size // max(x.shape[0], 1)
            rows = x.shape[0] if self.weight is None else float(self.weight.sum())
            scale = 1.0 / (rows * elements_per_row)
        if not per_sample:
            x, target = x.reshape(x.shape[0], -1), target.reshape(x.shape[0], -1)
        losses, grad = getattr(kernels_for(x), self.kernel)(
            x, target, self.weight, scale=scale, **self.options)
        if self.needs_input_grad[0]:
            self.save_for_backward(grad)
        self.per_sample = per_sample
        if self.reduction == "none":
            return losses if per_sample else losses.reshape(self.input_shape)
        return xp.asarray(losses.sum(), dtype=x.dtype)

    def backward(self, gy):
        (grad,) = self.saved
        if self.reduction == "none":
            gy = gy.reshape(-1, 1) if self.per_sample else gy.reshape(grad.shape)
        return (grad * gy).reshape(self.input_shape), None


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
    weight : Tensor or array of shape (n_classes,), optional
        Class weights (index targets only); a weighted mean divides by the
        summed weights of the targets, as PyTorch does.
    reduction : {"mean", "sum", "none"}
    label_smoothing : float in [0, 1]
    sample_weight : array of shape (n,), optional
        Per-sample weights; combined multiplicatively with class weights.

    Returns
    -------
    Tensor
        A scalar, or shape (n,) with ``reduction="none"``.
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
        _check_class_range(t, n_classes)
    elif t.shape != input.shape:
        raise ValueError(f"cross_entropy: probability target has shape {t.shape}; "
                         f"expected {input.shape}.")
    else:
        t = t.astype(input.dtype, copy=False)
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
    """Negative log-likelihood of class indices given log-probabilities."""
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
    t = xp.asarray(_array(target))
    if t.shape != input.shape:
        raise ValueError(f"{kernel}: target has shape {t.shape}, input has shape {input.shape}; "
                         "they must match.")
    t = t.astype(input.dtype, copy=False)
    if input.ndim == 0:
        input, t = input.reshape(1, 1), t.reshape(1, 1)
    w = _row_weights(xp, input.shape[0], input.dtype, sample_weight)
    return _KernelLoss(kernel, reduction, w, options).apply(input, t)


def mse_loss(input, target, reduction="mean", sample_weight=None):
    """Mean squared error ``(input - target) ** 2``."""
    return _elementwise("mse_loss", input, target, reduction, sample_weight)


def l1_loss(input, target, reduction="mean", sample_weight=None):
    """Mean absolute error ``|input - target|``."""
    return _elementwise("l1_loss", input, target, reduction, sample_weight)


def huber_loss(input, target, reduction="mean", delta=1.0, sample_weight=None):
    """Huber loss: squared within ``delta``, absolute beyond."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive; got {delta!r}.")
    return _elementwise("huber_loss", input, target, reduction, sample_weight, delta=float(delta))


def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None,
                                     sample_weight=None):
    """Binary cross-entropy on logits (sigmoid fused in, numerically stable).

    ``pos_weight`` (shape (n_outputs,)) weighs positive examples, as PyTorch.
    """
    xp = get_array_module(input.data)
    pw = None
    if pos_weight is not None:
        pw = xp.asarray(_array(pos_weight)).astype(input.dtype, copy=False).reshape(-1)
    return _elementwise("bce_with_logits", input, target, reduction, sample_weight, pos_weight=pw)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean",
                     sample_weight=None):
    """Poisson negative log-likelihood (``input`` is the log-rate by default)."""
    return _elementwise("poisson_nll_loss", input, target, reduction, sample_weight,
                        log_input=bool(log_input), full=bool(full), eps=float(eps))
