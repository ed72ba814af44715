"""Experience for reinforcement learning: a replay buffer of transitions (with
n-step returns folded in as they arrive) and rollout storage with generalised
advantage estimation.

Both keep numpy arrays shaped (rows, ...) so that an update reads a batch with
one fancy index, as every dataset of this layer does.
"""

from collections import deque

import numpy as np

from sklears_neural._random import as_generator
from sklears_neural.data._dataset import Dataset

__all__ = ["PrioritizedReplayBuffer", "ReplayBuffer", "RolloutBuffer", "gae"]


class ReplayBuffer(Dataset):
    """A ring of the last ``capacity`` transitions, each with its n-step return.

    A row is ``(obs, action, reward, next_obs, terminated, discount)``:
    ``reward`` is the discounted sum of up to ``n_step`` rewards from
    ``obs`` on, ``next_obs`` the observation after them, ``discount`` the
    factor (``gamma ** k``) of its bootstrapped value, and ``terminated``
    whether the episode ended there (then nothing is bootstrapped). A
    truncated episode (a time limit) is bootstrapped from its last
    observation.

    Parameters
    ----------
    capacity : int
        Transitions kept (the oldest are overwritten).
    obs_shape : tuple of int
        The shape of one observation.
    action_shape : tuple of int, default=()
        The shape of one action (() for a discrete action).
    action_dtype : dtype, default=np.int64
        Of the actions.
    n_step : int, default=1
        Rewards summed per transition.
    gamma : float, default=0.99
        The discount.
    n_envs : int, default=1
        Environments whose steps arrive together (each has its own n-step
        window).
    obs_dtype : dtype, default=np.float32
        Of the observations.
    """

    def __init__(self, capacity, obs_shape, action_shape=(), action_dtype=np.int64, n_step=1,
                 gamma=0.99, n_envs=1, obs_dtype=np.float32):
        if capacity < 1 or n_step < 1:
            raise ValueError(f"ReplayBuffer: capacity and n_step must be >= 1; got {capacity} "
                             f"and {n_step}.")
        self.capacity, self.n_step, self.gamma = int(capacity), int(n_step), float(gamma)
        self.obs = np.zeros((self.capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros((self.capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(self.capacity, dtype=np.float64)
        self.terminated = np.zeros(self.capacity, dtype=np.float64)
        self.discounts = np.zeros(self.capacity, dtype=np.float64)
        self._pending = [deque() for _ in range(n_envs)]
        self._next = 0
        self._size = 0

    def __len__(self):
        return self._size

    def add(self, obs, action, reward, next_obs, terminated, truncated):
        """Add one step of every environment.

        Parameters
        ----------
        obs : array-like of shape (n_envs, *obs_shape)
            The observations before the step.
        action : array-like of shape (n_envs, *action_shape)
            The actions taken.
        reward : array-like of shape (n_envs,)
            The rewards.
        next_obs : array-like of shape (n_envs, *obs_shape)
            The observations after it (the final one where the episode
            ended, not the reset's).
        terminated : array-like of bool of shape (n_envs,)
            Whether each episode reached a terminal state.
        truncated : array-like of bool of shape (n_envs,)
            Whether each episode was cut (a time limit).
        """
        for env, pending in enumerate(self._pending):
            pending.append((obs[env], action[env], float(reward[env]), next_obs[env],
                            bool(terminated[env])))
            if terminated[env] or truncated[env]:
                while pending:  # the episode's last steps, with their shorter returns
                    self._emit(pending)
                    pending.popleft()
            elif len(pending) == self.n_step:
                self._emit(pending)
                pending.popleft()

    def reset_windows(self):
        """Drop the steps still waiting for their n-step return.

        Call it before the environments restart, so that no window spans two
        episodes.
        """
        for pending in self._pending:
            pending.clear()

    def _emit(self, pending):
        """Store the transition from ``pending[0]`` with the returns of all ``pending``."""
        ret, factor = 0.0, 1.0
        for *_, reward, _, _ in pending:
            ret += factor * reward
            factor *= self.gamma
        obs, action = pending[0][0], pending[0][1]
        next_obs, terminated = pending[-1][3], pending[-1][4]
        i = self._next
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, ret
        self.next_obs[i], self.terminated[i], self.discounts[i] = next_obs, terminated, factor
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, indices):
        """Rows ``indices``.

        Parameters
        ----------
        indices : array-like of int
            Rows in [0, len(self)).

        Returns
        -------
        tuple of ndarray
            ``(obs, action, reward, next_obs, terminated, discount)``.
        """
        if isinstance(indices, slice):
            rows = np.arange(self._size)[indices]
        else:
            rows = np.asarray(indices, dtype=np.int64)
            if rows.size and (rows.min() < 0 or rows.max() >= self._size):
                raise IndexError(f"ReplayBuffer holds {self._size} rows; asked for "
                                 f"{rows.min()}..{rows.max()}.")
        return (self.obs[rows], self.actions[rows], self.rewards[rows], self.next_obs[rows],
                self.terminated[rows], self.discounts[rows])

    def sample(self, batch_size, generator=None):
        """A batch of rows drawn uniformly with replacement.

        Parameters
        ----------
        batch_size : int
            Rows.
        generator : numpy.random.Generator, int or None, default=None
            Draws them.

        Returns
        -------
        tuple of ndarray
            As ``__getitems__``.
        """
        if not self._size:
            raise ValueError("ReplayBuffer.sample: the buffer is empty.")
        return self.__getitems__(as_generator(generator).integers(0, self._size, batch_size))


def gae(rewards, values, dones, last_values, gamma, lam):
    """Generalised advantage estimates and returns of a rollout, in one backward pass.

    ``delta_t = r_t + gamma V(s_{t+1}) (1 - d_t) - V(s_t)`` and
    ``A_t = delta_t + gamma lam (1 - d_t) A_{t+1}``, vectorised over the
    environments; ``returns = A + V``.

    Parameters
    ----------
    rewards, values : ndarray of shape (n_steps, n_envs)
        Rewards and the value estimates of the observations they followed.
    dones : ndarray of shape (n_steps, n_envs)
        1 where the episode ended with that step (its next observation is a
        new episode's: nothing is bootstrapped across).
    last_values : ndarray of shape (n_envs,)
        The values of the observations after the last step.
    gamma, lam : float
        The discount and GAE's lambda.

    Returns
    -------
    advantages : ndarray of shape (n_steps, n_envs)
        The advantage estimates.
    returns : ndarray of shape (n_steps, n_envs)
        ``advantages + values``, the value targets.
    """
    rewards, values, dones = (np.asarray(a, dtype=np.float64) for a in (rewards, values, dones))
    advantages = np.zeros_like(rewards)
    following = np.zeros(rewards.shape[1:])
    next_values = np.asarray(last_values, dtype=np.float64)
    for t in range(rewards.shape[0] - 1, -1, -1):
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_values * alive - values[t]
        following = delta + gamma * lam * alive * following
        advantages[t] = following
        next_values = values[t]
    return advantages, advantages + values


class RolloutBuffer:
    """``n_steps`` steps of ``n_envs`` environments for an on-policy update.

    Parameters
    ----------
    n_steps, n_envs : int
        The rollout's length and width.
    obs_shape : tuple of int
        One observation's shape.
    action_shape : tuple of int, default=()
        One action's shape.
    action_dtype : dtype, default=np.int64
        Of the actions.
    """

    def __init__(self, n_steps, n_envs, obs_shape, action_shape=(), action_dtype=np.int64):
        self.n_steps, self.n_envs = n_steps, n_envs
        self.obs = np.zeros((n_steps, n_envs, *obs_shape), dtype=np.float32)
        self.actions = np.zeros((n_steps, n_envs, *action_shape), dtype=action_dtype)
        self.rewards, self.dones, self.values, self.log_probs = (
            np.zeros((n_steps, n_envs)) for _ in range(4))
        self.step = 0

    def add(self, obs, actions, rewards, dones, values, log_probs):
        """Store one step of every environment.

        Parameters
        ----------
        obs : ndarray of shape (n_envs, *obs_shape)
            The observations the actions were taken at.
        actions : ndarray of shape (n_envs, *action_shape)
            The actions.
        rewards : ndarray of shape (n_envs,)
            The rewards.
        dones : ndarray of bool of shape (n_envs,)
            Whether each episode ended with the step.
        values : ndarray of shape (n_envs,)
            The value estimates of ``obs``.
        log_probs : ndarray of shape (n_envs,)
            The actions' log-probabilities under the policy that took them.
        """
        t = self.step
        self.obs[t], self.actions[t], self.rewards[t] = obs, actions, rewards
        self.dones[t], self.values[t], self.log_probs[t] = dones, values, log_probs
        self.step += 1

    @property
    def full(self):
        """Whether all ``n_steps`` steps are stored."""
        return self.step == self.n_steps

    def finish(self, last_values, gamma, lam):
        """GAE over the stored steps; the rollout flattened to rows, step-major.

        Parameters
        ----------
        last_values : ndarray of shape (n_envs,)
            Values of the observations after the last step.
        gamma, lam : float
            Discount and GAE's lambda.

        Returns
        -------
        dict of ndarray
            ``obs``, ``actions``, ``values``, ``log_probs``, ``advantages``
            and ``returns``, one row per (step, env).
        """
        advantages, returns = gae(self.rewards, self.values, self.dones, last_values, gamma,
                                  lam)
        rows = self.n_steps * self.n_envs
        flat = {"obs": self.obs, "actions": self.actions, "values": self.values,
                "log_probs": self.log_probs, "advantages": advantages, "returns": returns}
        self.step = 0
        return {k: v.reshape(rows, *v.shape[2:]) for k, v in flat.items()}


class PrioritizedReplayBuffer(ReplayBuffer):
    """A replay buffer that samples transitions by priority (Schaul et al. 2016).

    Row i is drawn with probability ``p_i ** alpha / sum_j p_j ** alpha``; a
    new row gets the largest priority seen, and ``update_priorities`` sets
    them from the last batch's TD errors. A sum tree over the rows makes
    drawing a batch and updating its priorities O(batch * log capacity).

    Parameters
    ----------
    capacity : int
        Transitions kept (the oldest are overwritten).
    obs_shape : tuple of int
        The shape of one observation.
    action_shape : tuple of int, default=()
        The shape of one action.
    action_dtype : dtype, default=np.int64
        Of the actions.
    n_step : int, default=1
        Rewards summed per transition.
    gamma : float, default=0.99
        The discount.
    n_envs : int, default=1
        Environments whose steps arrive together.
    obs_dtype : dtype, default=np.float32
        Of the observations.
    alpha : float, default=0.6
        How much priorities count (0: uniform).
    eps : float, default=1e-6
        Added to every priority, so that none is 0.
    """

    def __init__(self, capacity, obs_shape, action_shape=(), action_dtype=np.int64, n_step=1,
                 gamma=0.99, n_envs=1, obs_dtype=np.float32, alpha=0.6, eps=1e-6):
        super().__init__(capacity, obs_shape, action_shape, action_dtype, n_step, gamma,
                         n_envs, obs_dtype)
        self.alpha, self.eps = float(alpha), float(eps)
        self._leaves = 1 << max(0, (self.capacity - 1).bit_length())
        self._tree = np.zeros(2 * self._leaves)  # node k's children: 2k and 2k + 1
        self._max_priority = 1.0

    def _emit(self, pending):
        row = self._next
        super()._emit(pending)
        self._set([row], np.array([self._max_priority ** self.alpha]))

    def _set(self, rows, values):
        nodes = np.asarray(rows, dtype=np.int64) + self._leaves
        self._tree[nodes] = values
        nodes = np.unique(nodes // 2)
        while nodes[0] >= 1:
            self._tree[nodes] = self._tree[2 * nodes] + self._tree[2 * nodes + 1]
            if nodes[0] == 1:
                break
            nodes = np.unique(nodes // 2)

    def sample(self, batch_size, generator=None, beta=0.4):
        """A batch drawn by priority, with its importance weights and rows.

        Parameters
        ----------
        batch_size : int
            Rows.
        generator : numpy.random.Generator, int or None, default=None
            Draws them.
        beta : float, default=0.4
            Importance-sampling exponent (1 corrects the bias fully).

        Returns
        -------
        tuple
            The rows as ``__getitems__`` gives them, then their weights
            ``(N P(i)) ** -beta / max`` and their row indices (for
            ``update_priorities``).
        """
        if not self._size:
            raise ValueError("PrioritizedReplayBuffer.sample: the buffer is empty.")
        total = self._tree[1]
        targets = as_generator(generator).random(batch_size) * total
        nodes = np.ones(batch_size, dtype=np.int64)
        while nodes[0] < self._leaves:  # descend: left if the target falls in its sum
            left = 2 * nodes
            go_right = targets >= self._tree[left]
            targets = np.where(go_right, targets - self._tree[left], targets)
            nodes = np.where(go_right, left + 1, left)
        rows = np.minimum(nodes - self._leaves, self._size - 1)
        probabilities = self._tree[rows + self._leaves] / total
        weights = (self._size * np.maximum(probabilities, 1e-12)) ** -beta
        return (*self.__getitems__(rows), weights / weights.max(), rows)

    def update_priorities(self, rows, priorities):
        """Set the priorities of rows (typically their absolute TD errors).

        Parameters
        ----------
        rows : array-like of int
            Rows, as ``sample`` returned them.
        priorities : array-like of float
            Their new priorities (``eps`` is added).
        """
        priorities = np.abs(np.asarray(priorities, dtype=np.float64)) + self.eps
        self._max_priority = max(self._max_priority, float(priorities.max()))
        self._set(rows, priorities ** self.alpha)
