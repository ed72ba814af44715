"""The losses of scikit-learn's MLP as criterion modules, so its values match scikit-learn's."""

import numpy as np
from scipy.special import xlogy

from sklears_neural.backend import to_numpy
from sklears_neural.nn import Module
from sklears_neural.nn import functional as F

__all__ = ["HalfPoissonDeviance", "HalfSquaredError", "OutputSummedBCEWithLogits"]


class OutputSummedBCEWithLogits(Module):
    """Binary cross-entropy on logits, summed over outputs and averaged over samples.

    scikit-learn's ``log_loss`` for binary and multilabel targets: the mean
    over every element times the number of outputs.
    """

    def forward(self, input, target, sample_weight=None):
        loss = F.binary_cross_entropy_with_logits(input, target, sample_weight=sample_weight)
        return loss * input.shape[1] if input.ndim == 2 and input.shape[1] > 1 else loss


class HalfSquaredError(Module):
    """Half the mean squared error (scikit-learn's ``squared_loss``)."""

    def forward(self, input, target, sample_weight=None):
        return F.mse_loss(input, target, sample_weight=sample_weight) * 0.5


class HalfPoissonDeviance(Module):
    """Half the Poisson deviance of a log-rate output, scikit-learn's Poisson loss.

    The negative log-likelihood plus the constant ``y log y - y``, so the
    value equals scikit-learn's.
    """

    def forward(self, input, target, sample_weight=None):
        weight_sum = input.shape[0] if sample_weight is None else float(sample_weight.sum())
        t = to_numpy(target)
        w = None if sample_weight is None else to_numpy(sample_weight).reshape(-1, 1)
        constant = float(((xlogy(t, t) - t) * (1 if w is None else w)).sum()) / weight_sum
        nll = F.poisson_nll_loss(input, target, reduction="sum", sample_weight=sample_weight)
        return nll / weight_sum + np.float64(constant).astype(input.dtype)
