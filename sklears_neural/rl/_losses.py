"""Policy-gradient losses as single graph nodes: a categorical policy's
log-probabilities and entropy from its logits, and PPO's clipped surrogate.

Each would otherwise be a dozen elementwise ops, whose per-op overhead is most
of an update's time on the small networks RL uses.
"""

from sklears_neural.autograd import Function
from sklears_neural.backend import get_array_module

__all__ = ["categorical_log_prob_entropy", "clipped_surrogate"]


class _CategoricalLogProbEntropy(Function):
    def __init__(self, actions):
        self.actions = actions

    def forward(self, logits):
        xp = get_array_module(logits)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        p = xp.exp(log_p)
        rows = xp.arange(len(logits))
        log_prob = log_p[rows, self.actions]
        entropy = -(p * log_p).sum(axis=1)
        self.save_for_backward(log_p, p, entropy)
        return log_prob, entropy

    def backward(self, g_log_prob, g_entropy):
        log_p, p, entropy = self.saved
        xp = get_array_module(p)
        grad = xp.zeros_like(p)
        if g_log_prob is not None:  # d log p_a / d z = onehot(a) - p
            grad -= p * g_log_prob[:, None]
            grad[xp.arange(len(p)), self.actions] += g_log_prob
        if g_entropy is not None:  # d H / d z = -p (log p + H)
            grad -= g_entropy[:, None] * p * (log_p + entropy[:, None])
        return grad


def categorical_log_prob_entropy(logits, actions):
    """Log-probability of ``actions`` and entropy of ``softmax(logits)``, per row.

    Parameters
    ----------
    logits : Tensor of shape (n, n_actions)
        Unnormalised log-probabilities.
    actions : int array of shape (n,)
        One action per row.

    Returns
    -------
    log_prob : Tensor of shape (n,)
        ``log softmax(logits)[a]``.
    entropy : Tensor of shape (n,)
        ``-sum p log p``.
    """
    return _CategoricalLogProbEntropy(actions).apply(logits)


class _ClippedSurrogate(Function):
    def __init__(self, old_log_prob, advantages, clip):
        self.old_log_prob, self.advantages, self.clip = old_log_prob, advantages, clip

    def forward(self, log_prob):
        xp = get_array_module(log_prob)
        ratio = xp.exp(log_prob - self.old_log_prob)
        clipped = xp.clip(ratio, 1.0 - self.clip, 1.0 + self.clip)
        unclipped_gain = ratio * self.advantages
        # the gradient flows where the unclipped term is the smaller (or they tie)
        self.save_for_backward(ratio, unclipped_gain <= clipped * self.advantages)
        return -xp.minimum(unclipped_gain, clipped * self.advantages).mean()

    def backward(self, gy):
        ratio, active = self.saved
        return (-gy / len(ratio)) * self.advantages * ratio * active


def clipped_surrogate(log_prob, old_log_prob, advantages, clip):
    """PPO's loss ``-mean(min(r A, clip(r, 1 - c, 1 + c) A))``, ``r = exp(lp - old)``.

    Parameters
    ----------
    log_prob : Tensor of shape (n,)
        The actions' log-probabilities under the current policy.
    old_log_prob : array of shape (n,)
        Under the policy that took them (constants).
    advantages : array of shape (n,)
        Their advantages (constants).
    clip : float
        ``c``.

    Returns
    -------
    Tensor
        The scalar loss.
    """
    dtype = log_prob.dtype
    return _ClippedSurrogate(old_log_prob.astype(dtype), advantages.astype(dtype),
                             float(clip)).apply(log_prob)
