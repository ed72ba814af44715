"""``DQNAgent``: deep Q-learning for discrete actions (Mnih et al. 2015), Double DQN
by default (van Hasselt et al. 2016), with dueling heads, n-step returns and hard
or Polyak target updates; Stable-Baselines3's parameter names and defaults."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from sklears_neural import optim
from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.data import PrioritizedReplayBuffer, ReplayBuffer
from sklears_neural.nn import functional as F
from sklears_neural.nn.utils import clip_grad_norm_
from sklears_neural.rl._networks import QNetwork
from sklears_neural.rl._off_policy import OFF_POLICY_CONSTRAINTS, OffPolicyAgent, polyak_update

__all__ = ["DQNAgent"]


def _policy_options(policy_kwargs, default_activation):
    options = dict(policy_kwargs or {})
    unknown = set(options) - {"net_arch", "activation", "dueling", "log_std_init"}
    if unknown:
        raise ValueError(f"policy_kwargs takes net_arch, activation, dueling and log_std_init;"
                         f" got {sorted(unknown)}.")
    return (tuple(options.get("net_arch", (64, 64))),
            options.get("activation", default_activation), options)


class DQNAgent(OffPolicyAgent):
    """Deep Q-network agent for environments with discrete actions.

    Parameters
    ----------
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        The environment: an id for ``gymnasium.make``, an instance, or a
        vector env with same-step resets.
    policy : {"mlp"}, default="mlp"
        The Q-network: dense layers.
    policy_kwargs : dict, optional
        ``net_arch`` (hidden widths, default (64, 64)), ``activation``
        (default "relu"), ``dueling`` (default False).
    learning_rate : float, default=1e-4
        Adam's step size.
    buffer_size : int, default=1_000_000
        Transitions the replay buffer keeps.
    learning_starts : int, default=100
        Steps taken before the first update.
    batch_size : int, default=32
        Transitions per update.
    tau : float in (0, 1], default=1.0
        The target network's update: 1 copies the weights, less moves them
        that share of the way (Polyak averaging).
    gamma : float, default=0.99
        The discount.
    train_freq : int, default=4
        Steps between updates.
    gradient_steps : int, default=1
        Updates each time.
    target_update_interval : int, default=10_000
        Steps between target-network updates.
    exploration_fraction : float, default=0.1
        Share of the training over which epsilon falls linearly.
    exploration_initial_eps, exploration_final_eps : float, default=1.0, 0.05
        Epsilon's start and end.
    max_grad_norm : float, default=10
        Clip the gradient norm of each update.
    double_q : bool, default=True
        Double DQN: the online network picks the next action, the target
        network values it.
    n_step : int, default=1
        Rewards summed into each transition's target.
    prioritized_replay : bool, default=False
        Sample transitions by their last TD error (Schaul et al. 2016), with
        importance weights in the loss.
    prioritized_replay_alpha : float, default=0.6
        How much the priorities count.
    prioritized_replay_beta0 : float, default=0.4
        The importance weights' exponent at the start, raised linearly to 1
        over the training.
    total_timesteps : int, default=100_000
        Steps of ``fit()`` without an argument.
    n_envs : int, default=1
        Copies of an id's environment stepped together.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the weights, exploration, sampling and the environment's
        resets: the same seed gives the same run.
    warm_start : bool, default=False
        Continue a fitted agent's training in ``fit``.
    verbose : int, default=0
        Print progress every 10 episodes.

    Attributes
    ----------
    policy_ : QNetwork
        The online network.
    target_ : QNetwork
        The target network.
    history_ : dict of lists
        ``episode_returns``, ``episode_lengths``, ``timesteps`` (at each
        episode's end) and ``losses`` (one per update).
    n_timesteps_ : int
        Environment steps taken.
    observation_shape_ : tuple
        One observation's shape.
    n_actions_ : int
        Actions.
    """

    _parameter_constraints = {
        **OFF_POLICY_CONSTRAINTS,
        "target_update_interval": [Interval(Integral, 1, None, closed="left")],
        "exploration_fraction": [Interval(Real, 0, 1, closed="both")],
        "exploration_initial_eps": [Interval(Real, 0, 1, closed="both")],
        "exploration_final_eps": [Interval(Real, 0, 1, closed="both")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "double_q": ["boolean"], "n_step": [Interval(Integral, 1, None, closed="left")],
        "prioritized_replay": ["boolean"],
        "prioritized_replay_alpha": [Interval(Real, 0, None, closed="left")],
        "prioritized_replay_beta0": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, env, policy="mlp", *, policy_kwargs=None, learning_rate=1e-4,
                 buffer_size=1_000_000, learning_starts=100, batch_size=32, tau=1.0,
                 gamma=0.99, train_freq=4, gradient_steps=1, target_update_interval=10_000,
                 exploration_fraction=0.1, exploration_initial_eps=1.0,
                 exploration_final_eps=0.05, max_grad_norm=10.0, double_q=True, n_step=1,
                 prioritized_replay=False, prioritized_replay_alpha=0.6,
                 prioritized_replay_beta0=0.4, total_timesteps=100_000, n_envs=1,
                 random_state=None, warm_start=False, verbose=0):
        self.env, self.policy, self.policy_kwargs = env, policy, policy_kwargs
        self.learning_rate, self.buffer_size = learning_rate, buffer_size
        self.learning_starts, self.batch_size, self.tau = learning_starts, batch_size, tau
        self.gamma, self.train_freq, self.gradient_steps = gamma, train_freq, gradient_steps
        self.target_update_interval = target_update_interval
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.max_grad_norm, self.double_q, self.n_step = max_grad_norm, double_q, n_step
        self.prioritized_replay = prioritized_replay
        self.prioritized_replay_alpha = prioritized_replay_alpha
        self.prioritized_replay_beta0 = prioritized_replay_beta0
        self.total_timesteps, self.n_envs = total_timesteps, n_envs
        self.random_state, self.warm_start, self.verbose = random_state, warm_start, verbose

    def _check_spaces(self, env):
        from gymnasium import spaces

        if not isinstance(env.single_action_space, spaces.Discrete):
            raise ValueError(f"DQNAgent needs a discrete action space; this environment's is "
                             f"{env.single_action_space}. Use PPOAgent (or SACAgent) for "
                             "continuous actions.")
        if env.single_action_space.start != 0:
            raise ValueError("DQNAgent needs Discrete actions numbered from 0; this space "
                             f"starts at {env.single_action_space.start}.")
        self._check_observations_and_policy(env)

    def _build(self, env, rng):
        hidden, activation, options = _policy_options(self.policy_kwargs, "relu")
        shape = env.single_observation_space.shape
        self.observation_shape_ = tuple(shape)
        self.n_actions_ = int(env.single_action_space.n)
        self.policy_ = QNetwork(int(np.prod(shape)), self.n_actions_, hidden, activation,
                                options.get("dueling", False), rng)
        self.target_ = copy.deepcopy(self.policy_)
        self.optimizer_ = optim.Adam(self.policy_.parameters(), lr=self.learning_rate)
        self._buffer = None
        self._action_shape, self._action_dtype = (), np.int64

    def _epsilon(self, done_steps, total):
        span = self.exploration_fraction * total
        progress = 1.0 if span <= 0 else min(done_steps / span, 1.0)
        return self.exploration_initial_eps + progress * (
            self.exploration_final_eps - self.exploration_initial_eps)

    def _explore(self, obs, done_steps, total, rng):
        """Epsilon-greedy actions (each env draws on its own)."""
        self._progress = done_steps / total  # anneals the importance weights' exponent
        epsilon = self._epsilon(done_steps, total)
        actions = self._greedy(obs)
        explore = rng.random(len(actions)) < epsilon
        actions[explore] = rng.integers(0, self.n_actions_, explore.sum())
        return actions, actions

    def _greedy(self, obs):
        flat = np.asarray(obs, dtype=np.float32).reshape(len(obs), -1)
        return self.policy_.act_values(flat).argmax(axis=1)

    def _replay_kind(self):
        if self.prioritized_replay:
            return PrioritizedReplayBuffer, {"alpha": self.prioritized_replay_alpha}
        return ReplayBuffer, {}

    def _update(self, rng):
        weights = None
        if self.prioritized_replay:
            beta = self.prioritized_replay_beta0 + getattr(self, "_progress", 0.0) * (
                1.0 - self.prioritized_replay_beta0)
            (obs, actions, rewards, next_obs, terminated, discounts, weights,
             rows) = self._buffer.sample(self.batch_size, rng, beta=beta)
        else:
            obs, actions, rewards, next_obs, terminated, discounts = self._buffer.sample(
                self.batch_size, rng)
        with no_grad():
            next_target = np.asarray(self.target_(Tensor(next_obs)).data, dtype=np.float64)
            if self.double_q:
                chosen = np.asarray(self.policy_(Tensor(next_obs)).data).argmax(axis=1)
            else:
                chosen = next_target.argmax(axis=1)
            next_values = next_target[np.arange(len(chosen)), chosen]
        targets = rewards + discounts * (1.0 - terminated) * next_values
        q = self.policy_(Tensor(obs))[np.arange(len(actions)), actions]
        if weights is not None:
            self._buffer.update_priorities(rows, np.asarray(q.data) - targets)
            weights = Tensor(weights.astype(np.float32))
        loss = F.huber_loss(q, Tensor(targets.astype(np.float32)), sample_weight=weights)
        self.optimizer_.zero_grad()
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm_(self.policy_.parameters(), self.max_grad_norm)
        self.optimizer_.step()
        return float(loss.item())

    def _update_target(self):
        polyak_update(self.target_, self.policy_, self.tau)

    def _act(self, obs, deterministic):
        return self._greedy(obs)

    def q_values(self, obs):
        """The action values of observations.

        Parameters
        ----------
        obs : array-like of shape observation_shape_ or (n, *observation_shape_)
            Observation(s).

        Returns
        -------
        ndarray of shape (n_actions,) or (n, n_actions)
            Q(s, a) for each action.
        """
        batch, single = self._check_obs(obs)
        q = self.policy_.act_values(batch.reshape(len(batch), -1))
        return q[0] if single else q
