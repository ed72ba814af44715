"""The agents' networks: a Q-network (optionally dueling) and an actor-critic with a
categorical or diagonal-Gaussian policy, with Stable-Baselines3's initialisation
(the Q-network PyTorch's default; the actor-critic orthogonal weights, gain
sqrt(2) in the hidden layers, 0.01 on the policy's head, 1 on the value's)."""

import math

import numpy as np

from sklears_neural import nn
from sklears_neural.autograd import Tensor
from sklears_neural.backend import to_numpy
from sklears_neural.nn import functional as F
from sklears_neural.nn import init
from sklears_neural.rl._losses import categorical_log_prob_entropy

__all__ = ["ActorCritic", "QNetwork", "mlp"]

_LOG_2PI = math.log(2.0 * math.pi)


def _linear(in_features, out_features, gain, generator, activation=None):
    """A dense layer, orthogonal with ``gain`` (None: PyTorch's default draw)."""
    layer = nn.Linear(in_features, out_features, activation=activation, generator=generator)
    if gain is not None:
        init.orthogonal_(layer.weight, gain=gain, generator=generator)
        init.zeros_(layer.bias)
    return layer


def mlp(in_features, hidden, activation, generator, gain=math.sqrt(2.0)):
    """Hidden dense layers (each with its activation fused); its output width."""
    layers, width = [], in_features
    for size in hidden:
        layers.append(_linear(width, size, gain, generator, activation))
        width = size
    return nn.Sequential(*layers), width


_NUMPY_ACTIVATIONS = {"identity": lambda x: x, None: lambda x: x,
                      "relu": lambda x: np.maximum(x, 0.0), "tanh": np.tanh}


def numpy_dense(layers, x):
    """Dense layers applied in numpy, or None when one's activation has no numpy twin.

    Acting takes one small batch per environment step, where the engine's
    per-op bookkeeping (the graph, the checks) costs more than the products
    (about 43 against 9 microseconds for CartPole's 256-256 Q-network): the
    agents act through this and learn through the engine.
    """
    for layer in layers:
        activation = _NUMPY_ACTIVATIONS.get(layer.activation)
        if activation is None or layer.activation_param is not None:
            return None
        x = x @ np.asarray(layer.weight.data).T
        if layer.bias is not None:
            x = x + np.asarray(layer.bias.data)
        x = activation(x)
    return x


def _on_host(layer):
    """Whether a layer's weights are numpy arrays (not on a GPU)."""
    return type(layer.weight.data) is np.ndarray


class QNetwork(nn.Module):
    """Action values Q(s, .) of a discrete action space.

    Parameters
    ----------
    n_features : int
        The observation's width.
    n_actions : int
        Actions.
    hidden : tuple of int, default=(64, 64)
        Hidden widths.
    activation : str, default="relu"
        Of the hidden layers.
    dueling : bool, default=False
        ``Q = V + A - mean(A)`` from two heads (Wang et al. 2016).
    generator : numpy.random.Generator, optional
        Seeds the weights.
    """

    def __init__(self, n_features, n_actions, hidden=(64, 64), activation="relu",
                 dueling=False, generator=None):
        super().__init__()
        # PyTorch's default initialisation, as Stable-Baselines3's Q-networks
        self.body, width = mlp(n_features, hidden, activation, generator, gain=None)
        self.dueling = dueling
        self.head = _linear(width, n_actions, None, generator)
        if dueling:
            self.value = _linear(width, 1, None, generator)

    def forward(self, obs):
        """Compute the Q-values of a batch of observations.

        Parameters
        ----------
        obs : Tensor of shape (n, n_features)
            Observations.

        Returns
        -------
        Tensor of shape (n, n_actions)
            Their action values.
        """
        h = self.body(obs)
        q = self.head(h)
        if self.dueling:
            q = self.value(h) + q - q.mean(axis=1, keepdims=True)
        return q

    def act_values(self, obs):
        """``forward`` in numpy for acting (no graph); the engine where it must.

        Parameters
        ----------
        obs : ndarray of shape (n, n_features)
            Observations.

        Returns
        -------
        ndarray of shape (n, n_actions)
            Their action values.
        """
        h = numpy_dense(list(self.body), obs)
        if h is None or not _on_host(self.head):
            return np.asarray(to_numpy(self(Tensor(obs)).data))
        q = numpy_dense([self.head], h)
        if self.dueling:
            q = numpy_dense([self.value], h) + q - q.mean(axis=1, keepdims=True)
        return q


class ActorCritic(nn.Module):
    """A policy and a value function, on separate hidden layers (SB3's default).

    Parameters
    ----------
    n_features : int
        The observation's width.
    n_actions : int
        Actions (discrete) or action dimensions (continuous).
    continuous : bool
        A diagonal Gaussian over ``n_actions`` dimensions (a learned
        state-independent log standard deviation) instead of a categorical.
    hidden : tuple of int, default=(64, 64)
        Hidden widths of each network.
    activation : str, default="tanh"
        Of the hidden layers.
    log_std_init : float, default=0.0
        The Gaussian's initial log standard deviation.
    generator : numpy.random.Generator, optional
        Seeds the weights.
    """

    def __init__(self, n_features, n_actions, continuous, hidden=(64, 64), activation="tanh",
                 log_std_init=0.0, generator=None):
        super().__init__()
        self.continuous = continuous
        self.pi_body, width = mlp(n_features, hidden, activation, generator)
        self.vf_body, _ = mlp(n_features, hidden, activation, generator)
        self.pi_head = _linear(width, n_actions, 0.01, generator)
        self.vf_head = _linear(width, 1, 1.0, generator)
        if continuous:
            self.log_std = nn.Parameter(np.full(n_actions, log_std_init, dtype=np.float32))

    def forward(self, obs):
        """The policy's parameters and the values of a batch of observations.

        Parameters
        ----------
        obs : Tensor of shape (n, n_features)
            Observations.

        Returns
        -------
        head : Tensor of shape (n, n_actions)
            Logits (discrete) or the Gaussian's means (continuous).
        values : Tensor of shape (n,)
            State values.
        """
        head = self.pi_head(self.pi_body(obs))
        values = self.vf_head(self.vf_body(obs)).reshape(-1)
        return head, values

    def act_values(self, obs):
        """``forward`` in numpy for acting (no graph); the engine where it must.

        Parameters
        ----------
        obs : ndarray of shape (n, n_features)
            Observations.

        Returns
        -------
        head : ndarray of shape (n, n_actions)
            Logits or means.
        values : ndarray of shape (n,)
            State values.
        """
        head = numpy_dense([*self.pi_body, self.pi_head], obs)
        values = numpy_dense([*self.vf_body, self.vf_head], obs)
        if head is None or values is None or not _on_host(self.pi_head):
            head, values = self(Tensor(obs))
            return np.asarray(to_numpy(head.data)), np.asarray(to_numpy(values.data))
        return head, values.reshape(-1)

    def log_prob_entropy(self, head, actions):
        """The log-probability of ``actions`` and the policy's entropy, per row.

        Parameters
        ----------
        head : Tensor of shape (n, n_actions)
            ``forward``'s first output.
        actions : ndarray of shape (n,) or (n, n_actions)
            Action indices (discrete) or values (continuous).

        Returns
        -------
        log_prob : Tensor of shape (n,)
            The log-probability of each row's action.
        entropy : Tensor of shape (n,)
            The policy's entropy at each row.
        """
        if self.continuous:
            std = F.exp(self.log_std)
            z = (head - actions.astype(head.dtype)) / std
            log_prob = (-0.5 * z * z - self.log_std - 0.5 * _LOG_2PI).sum(axis=1)
            entropy = (self.log_std + 0.5 * (1.0 + _LOG_2PI)).sum() * np.ones(
                head.shape[0], dtype=np.float32)
            return log_prob, entropy
        return categorical_log_prob_entropy(head, actions.astype(np.int64))

    def sample(self, head, rng, deterministic=False):
        """Draw actions for a batch of policy heads (numpy), with their log-probabilities.

        Parameters
        ----------
        head : ndarray of shape (n, n_actions)
            Logits or means.
        rng : numpy.random.Generator
            Draws the actions.
        deterministic : bool, default=False
            The most likely action instead of a draw.

        Returns
        -------
        actions : ndarray of shape (n,) or (n, n_actions)
            The actions.
        log_probs : ndarray of shape (n,)
            Their log-probabilities.
        """
        head = np.asarray(head, dtype=np.float64)
        if self.continuous:
            log_std = np.asarray(self.log_std.data, dtype=np.float64)
            noise = np.zeros(head.shape) if deterministic else rng.standard_normal(head.shape)
            actions = head + np.exp(log_std) * noise
            log_probs = (-0.5 * noise ** 2 - log_std - 0.5 * _LOG_2PI).sum(axis=1)
            return actions, log_probs
        shifted = head - head.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if deterministic:
            actions = log_p.argmax(axis=1)
        else:  # inverse-CDF draw, one uniform per row
            cdf = np.cumsum(np.exp(log_p), axis=1)
            actions = np.minimum((cdf < rng.random((len(head), 1)) * cdf[:, -1:]).sum(axis=1),
                                 head.shape[1] - 1)
        return actions, log_p[np.arange(len(head)), actions]
