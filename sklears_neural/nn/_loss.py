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
        """Return the settings shown in the loss's repr.

        Returns
        -------
        str
            ``reduction=...``.
        """
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits (see ``functional.cross_entropy``).

    ``forward(input, target, sample_weight=None)``.

    Parameters
    ----------
    weight : Tensor or array of shape (n_classes,), default=None
        Class weights (class-index targets only).
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the per-sample losses (a weighted mean with weights), sum them,
        or return them all.
    label_smoothing : float in [0, 1], default=0.0
        Mix the targets with the uniform distribution over classes by this much.

    Raises
    ------
    ValueError
        If ``reduction`` is not one of these.
    """

    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.weight = weight
        self.label_smoothing = label_smoothing

    def forward(self, input, target, sample_weight=None):
        """Compute the loss (see ``functional.cross_entropy``).

        Parameters
        ----------
        input : Tensor
            Logits of shape (n, n_classes).
        target : Tensor or array-like
            Class indices of shape (n,) or class probabilities of shape (n, n_classes).
        sample_weight : array-like of shape (n,), default=None
            One weight per sample (row of ``input``).

        Returns
        -------
        Tensor
            A scalar, or the losses (shape (n,)) with ``reduction="none"``.
        """
        return F.cross_entropy(input, target, self.weight, self.reduction, self.label_smoothing,
                               sample_weight=sample_weight)


class MSELoss(_Loss):
    """Mean squared error.

    ``forward(input, target, sample_weight=None)``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the losses (a weighted mean with ``sample_weight``), sum them, or
        return them all.

    Raises
    ------
    ValueError
        If ``reduction`` is not one of these.
    """

    def forward(self, input, target, sample_weight=None):
        """Compute the loss (see ``functional.mse_loss``).

        Parameters
        ----------
        input : Tensor
            The predictions, of shape (n, ...).
        target : Tensor or array-like
            The targets, of the shape of ``input``.
        sample_weight : array-like of shape (n,), default=None
            One weight per sample (row of ``input``).

        Returns
        -------
        Tensor
            A scalar, or the losses (shape of ``input``) with ``reduction="none"``.
        """
        return F.mse_loss(input, target, self.reduction, sample_weight=sample_weight)


class L1Loss(_Loss):
    """Mean absolute error.

    ``forward(input, target, sample_weight=None)``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the losses (a weighted mean with ``sample_weight``), sum them, or
        return them all.

    Raises
    ------
    ValueError
        If ``reduction`` is not one of these.
    """

    def forward(self, input, target, sample_weight=None):
        """Compute the loss (see ``functional.l1_loss``).

        Parameters
        ----------
        input : Tensor
            The predictions, of shape (n, ...).
        target : Tensor or array-like
            The targets, of the shape of ``input``.
        sample_weight : array-like of shape (n,), default=None
            One weight per sample (row of ``input``).

        Returns
        -------
        Tensor
            A scalar, or the losses (shape of ``input``) with ``reduction="none"``.
        """
        return F.l1_loss(input, target, self.reduction, sample_weight=sample_weight)


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta``.

    ``forward(input, target, sample_weight=None)``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the losses (a weighted mean with ``sample_weight``), sum them, or
        return them all.
    delta : float, default=1.0
        Where the loss turns from squared to absolute; positive.

    Raises
    ------
    ValueError
        If ``reduction`` is not one of these.
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target, sample_weight=None):
        """Compute the loss (see ``functional.huber_loss``).

        Parameters
        ----------
        input : Tensor
            The predictions, of shape (n, ...).
        target : Tensor or array-like
            The targets, of the shape of ``input``.
        sample_weight : array-like of shape (n,), default=None
            One weight per sample (row of ``input``).

        Returns
        -------
        Tensor
            A scalar, or the losses (shape of ``input``) with ``reduction="none"``.
        """
        return F.huber_loss(input, target, self.reduction, self.delta, sample_weight=sample_weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, with optional ``pos_weight``.

    ``forward(input, target, sample_weight=None)``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the losses (a weighted mean with ``sample_weight``), sum them, or
        return them all.
    pos_weight : Tensor or array-like of shape (n_outputs,), default=None
        Multiplies the loss of positive targets, one weight per output column.

    Raises
    ------
    ValueError
        If ``reduction`` is not one of these.
    """

    def __init__(self, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, input, target, sample_weight=None):
        """Compute the loss (see ``functional.binary_cross_entropy_with_logits``).

        Parameters
        ----------
        input : Tensor
            The logits, of shape (n, ...).
        target : Tensor or array-like
            The targets in [0, 1], of the shape of ``input``.
        sample_weight : array-like of shape (n,), default=None
            One weight per sample (row of ``input``).

        Returns
        -------
        Tensor
            A scalar, or the losses (shape of ``input``) with ``reduction="none"``.
        """
        return F.binary_cross_entropy_with_logits(input, target, self.reduction, self.pos_weight,
                                                  sample_weight=sample_weight)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood.

    ``forward(input, target, sample_weight=None)``.

    Parameters
    ----------
    log_input : bool, default=True
        Whether the input is the log-rate (else the rate).
    full : bool, default=False
        Add Stirling's approximation of ``log(target!)`` where ``target > 1``.
    eps : float, default=1e-8
        Added to the rate inside the logarithm when ``log_input`` is False.
    reduction : {"mean", "sum", "none"}, default="mean"
        Average the losses (a weighted mean with ``sample_weight``), sum them, or
        return them all.

    Raises
    ------
    ValueError
        If ``reduction`` is not one of these.
    """

    def __init__(self, log_input=True, full=False, eps=1e-8, reduction="mean"):
        super().__init__(reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, input, target, sample_weight=None):
        """Compute the loss (see ``functional.poisson_nll_loss``).

        Parameters
        ----------
        input : Tensor
            The log-rates (or the rates), of shape (n, ...).
        target : Tensor or array-like
            The observed counts, of the shape of ``input``.
        sample_weight : array-like of shape (n,), default=None
            One weight per sample (row of ``input``).

        Returns
        -------
        Tensor
            A scalar, or the losses (shape of ``input``) with ``reduction="none"``.
        """
        return F.poisson_nll_loss(input, target, self.log_input, self.full, self.eps,
                                  self.reduction, sample_weight=sample_weight)
