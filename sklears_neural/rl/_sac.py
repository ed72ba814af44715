"""``SACAgent``: soft actor-critic for continuous actions (Haarnoja et al. 2018):
a tanh-squashed Gaussian policy, twin critics with Polyak-averaged targets, and
automatic entropy tuning; Stable-Baselines3's parameter names and defaults."""

import copy
import math
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from sklears_neural import nn, optim
from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.nn import functional as F
from sklears_neural.rl._dqn import _policy_options
from sklears_neural.rl._networks import mlp
from sklears_neural.rl._off_policy import OFF_POLICY_CONSTRAINTS, OffPolicyAgent, polyak_update

__all__ = ["SACAgent", "SquashedGaussianActor", "TwinCritic"]

_LOG_2PI = math.log(2.0 * math.pi)
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0


class SquashedGaussianActor(nn.Module):
    """``a = tanh(mu(s) + sigma(s) eps)``: a Gaussian squashed into [-1, 1].

    Parameters
    ----------
    n_features, n_actions : int
        Observation width and action dimensions.
    hidden : tuple of int
        Hidden widths.
    activation : str
        Of the hidden layers.
    generator : numpy.random.Generator, optional
        Seeds the weights.
    """

    def __init__(self, n_features, n_actions, hidden, activation, generator=None):
        super().__init__()
        self.body, width = mlp(n_features, hidden, activation, generator, gain=None)
        self.mean = nn.Linear(width, n_actions, generator=generator)
        self.log_std = nn.Linear(width, n_actions, generator=generator)

    def forward(self, obs, noise):
        """Squashed actions and their log-probabilities (reparameterised).

        Parameters
        ----------
        obs : Tensor of shape (n, n_features)
            Observations.
        noise : ndarray of shape (n, n_actions) or None
            Standard normal draws (None: the mean action).

        Returns
        -------
        actions : Tensor of shape (n, n_actions)
            In [-1, 1].
        log_prob : Tensor of shape (n,)
            Their log-densities, with tanh's change of variables.
        """
        h = self.body(obs)
        mean = self.mean(h)
        log_std = self.log_std(h)
        log_std = log_std - F.relu(log_std - LOG_STD_MAX) + F.relu(LOG_STD_MIN - log_std)
        if noise is None:
            noise = np.zeros(mean.shape, dtype=mean.dtype)
        pre = mean + F.exp(log_std) * Tensor(noise.astype(mean.dtype))
        actions = F.tanh(pre)
        log_prob = (-0.5 * Tensor(noise.astype(mean.dtype)) ** 2 - log_std
                    - 0.5 * _LOG_2PI - F.log(1.0 - actions * actions + 1e-6)).sum(axis=1)
        return actions, log_prob


class TwinCritic(nn.Module):
    """Two Q(s, a) networks; ``forward`` gives both.

    Parameters
    ----------
    n_features, n_actions : int
        Observation width and action dimensions.
    hidden : tuple of int
        Hidden widths.
    activation : str
        Of the hidden layers.
    generator : numpy.random.Generator, optional
        Seeds the weights.
    """

    def __init__(self, n_features, n_actions, hidden, activation, generator=None):
        super().__init__()
        for name in ("q1", "q2"):
            body, width = mlp(n_features + n_actions, hidden, activation, generator, gain=None)
            setattr(self, f"{name}_body", body)
            setattr(self, f"{name}_head", nn.Linear(width, 1, generator=generator))

    def forward(self, obs, actions):
        """Both critics' values of (observation, action) pairs.

        Parameters
        ----------
        obs : Tensor of shape (n, n_features)
            Observations.
        actions : Tensor of shape (n, n_actions)
            Actions in [-1, 1].

        Returns
        -------
        q1, q2 : Tensor of shape (n,)
            The two estimates.
        """
        pairs = F.cat([obs, actions], dim=1)
        return (self.q1_head(self.q1_body(pairs)).reshape(-1),
                self.q2_head(self.q2_body(pairs)).reshape(-1))


class SACAgent(OffPolicyAgent):
    """Soft actor-critic agent for continuous (Box) actions.

    Parameters
    ----------
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        The environment: an id for ``gymnasium.make``, an instance, or a
        vector env with same-step resets.
    policy : {"mlp"}, default="mlp"
        Dense actor and critics.
    policy_kwargs : dict, optional
        ``net_arch`` (hidden widths, default (256, 256)), ``activation``
        (default "relu").
    learning_rate : float, default=3e-4
        Adam's step size for the actor, the critics and the entropy weight.
    buffer_size : int, default=1_000_000
        Transitions the replay buffer keeps.
    learning_starts : int, default=100
        Steps of uniformly random actions before the first update.
    batch_size : int, default=256
        Transitions per update.
    tau : float, default=0.005
        Polyak step of the target critics.
    gamma : float, default=0.99
        The discount.
    train_freq : int, default=1
        Steps between updates.
    gradient_steps : int, default=1
        Updates each time.
    ent_coef : "auto" or float, default="auto"
        The entropy weight: learned towards ``target_entropy`` (starting
        at 1), or fixed.
    target_entropy : "auto" or float, default="auto"
        "auto": minus the number of action dimensions.
    total_timesteps : int, default=100_000
        Steps of ``fit()`` without an argument.
    n_envs : int, default=1
        Copies of an id's environment stepped together.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the weights, the actions drawn, sampling and the resets.
    warm_start : bool, default=False
        Continue a fitted agent's training in ``fit``.
    verbose : int, default=0
        Print progress every 10 episodes.

    Attributes
    ----------
    policy_ : SquashedGaussianActor
        The actor.
    critic_, critic_target_ : TwinCritic
        The critics and their averaged copies.
    ent_coef_ : float
        The entropy weight now.
    history_ : dict of lists
        ``episode_returns``, ``episode_lengths``, ``timesteps`` and
        ``losses`` (the critics', one per update).
    n_timesteps_ : int
        Environment steps taken.
    observation_shape_ : tuple
        One observation's shape.
    n_actions_ : int
        Action dimensions.
    """

    _parameter_constraints = {
        **OFF_POLICY_CONSTRAINTS,
        "ent_coef": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "target_entropy": [StrOptions({"auto"}), Real],
    }

    _targets_per_update = True

    def __init__(self, env, policy="mlp", *, policy_kwargs=None, learning_rate=3e-4,
                 buffer_size=1_000_000, learning_starts=100, batch_size=256, tau=0.005,
                 gamma=0.99, train_freq=1, gradient_steps=1, ent_coef="auto",
                 target_entropy="auto", total_timesteps=100_000, n_envs=1, random_state=None,
                 warm_start=False, verbose=0):
        self.env, self.policy, self.policy_kwargs = env, policy, policy_kwargs
        self.learning_rate, self.buffer_size = learning_rate, buffer_size
        self.learning_starts, self.batch_size, self.tau = learning_starts, batch_size, tau
        self.gamma, self.train_freq, self.gradient_steps = gamma, train_freq, gradient_steps
        self.ent_coef, self.target_entropy = ent_coef, target_entropy
        self.total_timesteps, self.n_envs = total_timesteps, n_envs
        self.random_state, self.warm_start, self.verbose = random_state, warm_start, verbose

    def _check_spaces(self, env):
        from gymnasium import spaces

        space = env.single_action_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"SACAgent needs a 1-D Box (continuous) action space; this "
                             f"environment's is {space}. Use DQNAgent or PPOAgent for "
                             "discrete actions.")
        if not np.isfinite(space.low).all() or not np.isfinite(space.high).all():
            raise ValueError("SACAgent needs bounded actions (finite low and high).")
        self._check_observations_and_policy(env)

    def _build(self, env, rng):
        hidden, activation, _ = _policy_options(
            {"net_arch": (256, 256), **(self.policy_kwargs or {})}, "relu")
        space = env.single_action_space
        self.observation_shape_ = tuple(env.single_observation_space.shape)
        self.n_actions_ = int(space.shape[0])
        self._low = np.asarray(space.low, dtype=np.float64)
        self._high = np.asarray(space.high, dtype=np.float64)
        width = int(np.prod(self.observation_shape_))
        self.policy_ = SquashedGaussianActor(width, self.n_actions_, hidden, activation, rng)
        self.critic_ = TwinCritic(width, self.n_actions_, hidden, activation, rng)
        self.critic_target_ = copy.deepcopy(self.critic_)
        self.actor_optimizer_ = optim.Adam(self.policy_.parameters(), lr=self.learning_rate)
        self.critic_optimizer_ = optim.Adam(self.critic_.parameters(), lr=self.learning_rate)
        learned = self.ent_coef == "auto"
        self.log_ent_coef_ = nn.Parameter(np.zeros(1, dtype=np.float32))
        if not learned:
            self.log_ent_coef_.requires_grad = False
            self.log_ent_coef_.data[...] = math.log(max(float(self.ent_coef), 1e-30))
        self.ent_optimizer_ = optim.Adam([self.log_ent_coef_], lr=self.learning_rate) \
            if learned else None
        self._target_entropy = (-float(self.n_actions_) if self.target_entropy == "auto"
                                else float(self.target_entropy))
        self._buffer = None
        self._action_shape, self._action_dtype = (self.n_actions_,), np.float32

    @property
    def ent_coef_(self):
        """The entropy weight now."""
        return float(np.exp(np.asarray(self.log_ent_coef_.data)[0]))

    def _to_env(self, squashed):
        return self._low + (np.asarray(squashed, dtype=np.float64) + 1.0) * 0.5 * (
            self._high - self._low)

    def _explore(self, obs, done_steps, total, rng):
        n = len(obs)
        if self.n_timesteps_ < self.learning_starts:  # uniform in the box, as SB3
            squashed = rng.uniform(-1.0, 1.0, (n, self.n_actions_))
        else:
            with no_grad():
                actions, _ = self.policy_(Tensor(np.asarray(obs, np.float32).reshape(n, -1)),
                                          rng.standard_normal((n, self.n_actions_)))
            squashed = np.asarray(actions.data, dtype=np.float64)
        return self._to_env(squashed), squashed.astype(np.float32)

    def _update(self, rng):
        obs, actions, rewards, next_obs, terminated, discounts = self._buffer.sample(
            self.batch_size, rng)
        n = len(rewards)
        obs_t = Tensor(obs)
        pi, log_prob = self.policy_(obs_t, rng.standard_normal((n, self.n_actions_)))
        if self.ent_optimizer_ is not None:
            target = Tensor((np.asarray(log_prob.data) + self._target_entropy)
                            .astype(np.float32))
            ent_loss = -(self.log_ent_coef_ * target).mean()
            self.ent_optimizer_.zero_grad()
            ent_loss.backward()
            self.ent_optimizer_.step()
        alpha = self.ent_coef_
        with no_grad():
            next_pi, next_log_prob = self.policy_(Tensor(next_obs),
                                                  rng.standard_normal((n, self.n_actions_)))
            q1, q2 = self.critic_target_(Tensor(next_obs), next_pi)
            next_q = np.minimum(np.asarray(q1.data), np.asarray(q2.data)) - alpha * np.asarray(
                next_log_prob.data)
        y = Tensor((rewards + discounts * (1.0 - terminated) * next_q).astype(np.float32))
        q1, q2 = self.critic_(obs_t, Tensor(actions))
        critic_loss = 0.5 * (F.mse_loss(q1, y) + F.mse_loss(q2, y))
        self.critic_optimizer_.zero_grad()
        critic_loss.backward()
        self.critic_optimizer_.step()
        q1_pi, q2_pi = self.critic_(obs_t, pi)
        q_pi = q2_pi - F.relu(q2_pi - q1_pi)  # min(q1, q2)
        actor_loss = (alpha * log_prob - q_pi).mean()
        self.actor_optimizer_.zero_grad()
        actor_loss.backward()
        self.actor_optimizer_.step()
        return float(critic_loss.item())

    def _update_target(self):
        polyak_update(self.critic_target_, self.critic_, self.tau)

    def _act(self, obs, deterministic):
        noise = None if deterministic else self._predict_rng().standard_normal(
            (len(obs), self.n_actions_))
        actions, _ = self.policy_(Tensor(obs.reshape(len(obs), -1)), noise)
        return self._to_env(actions.data)
