"""Loss modules: thin holders of options around the functional losses."""

from sklears_neural.nn import functional as F
from sklears_neural.nn._module import Module

__all__ = ["CrossEntropyLoss", "MSELoss", "L1Loss", "HuberLoss", "BCEWithLogitsLoss",
           "PoissonNLLLoss"]


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"reduction must be one of none, mean, sum; got {reduction!r}.")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits (see ``functional.cross_entropy``).

    ``forward(input, target, sample_weight=None)``.
    """

    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.weight = weight
        self.label_smoothing = label_smoothing

    def forward(self, input, target, sample_weight=None):
        return F.cross_entropy(input, target, self.weight, self.reduction, self.label_smoothing,
                               sample_weight=sample_weight)


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input, target, sample_weight=None):
        return F.mse_loss(input, target, self.reduction, sample_weight=sample_weight)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input, target, sample_weight=None):
        return F.l1_loss(input, target, self.reduction, sample_weight=sample_weight)


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta``."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target, sample_weight=None):
        return F.huber_loss(input, target, self.reduction, self.delta, sample_weight=sample_weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, with optional ``pos_weight``."""

    def __init__(self, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, input, target, sample_weight=None):
        return F.binary_cross_entropy_with_logits(input, target, self.reduction, self.pos_weight,
                                                  sample_weight=sample_weight)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood."""

    def __init__(self, log_input=True, full=False, eps=1e-8, reduction="mean"):
        super().__init__(reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, input, target, sample_weight=None):
        return F.poisson_nll_loss(input, target, self.log_input, self.full, self.eps,
                                  self.reduction, sample_weight=sample_weight)
