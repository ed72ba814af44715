"""On-policy agents: ``PPOAgent`` (Schulman et al. 2017), ``A2CAgent`` (Mnih et
al. 2016) and ``REINFORCEAgent`` (Williams 1992, with a learned baseline), on
rollouts of vectorised environments with generalised advantage estimation;
discrete (categorical) and continuous (diagonal Gaussian) actions.
Stable-Baselines3's parameter names and defaults."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from sklears_neural import optim
from sklears_neural.autograd import Tensor
from sklears_neural.data import RolloutBuffer, gae
from sklears_neural.nn import functional as F
from sklears_neural.nn.utils import clip_grad_norm_
from sklears_neural.rl._base import AGENT_CONSTRAINTS, BaseAgent
from sklears_neural.rl._dqn import _policy_options
from sklears_neural.rl._losses import clipped_surrogate
from sklears_neural.rl._networks import ActorCritic

__all__ = ["A2CAgent", "PPOAgent", "REINFORCEAgent"]


def _scheduled(value, progress_remaining):
    """A constant, or a schedule called with the share of training left (1 -> 0)."""
    return float(value(progress_remaining)) if callable(value) else float(value)


_COMMON_CONSTRAINTS = {
    **AGENT_CONSTRAINTS,
    "learning_rate": [Interval(Real, 0, None, closed="neither"), callable],
    "n_steps": [Interval(Integral, 1, None, closed="left")],
    "gamma": [Interval(Real, 0, 1, closed="both")],
    "gae_lambda": [Interval(Real, 0, 1, closed="both")],
    "ent_coef": [Interval(Real, 0, None, closed="left")],
    "vf_coef": [Interval(Real, 0, None, closed="left")],
    "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "normalize_advantage": ["boolean"],
}


class _OnPolicyAgent(BaseAgent):
    """Rollouts, GAE and the policy; subclasses make the optimizer and the update."""

    def _check_spaces(self, env):
        from gymnasium import spaces

        action_space = env.single_action_space
        if not isinstance(action_space, (spaces.Discrete, spaces.Box)):
            raise ValueError(f"{type(self).__name__} handles Discrete or Box action spaces; "
                             f"got {action_space}.")
        if isinstance(action_space, spaces.Box) and len(action_space.shape) != 1:
            raise ValueError(f"{type(self).__name__} needs 1-D Box actions; got shape "
                             f"{action_space.shape}.")
        self._check_observations_and_policy(env)
        if isinstance(action_space, spaces.Discrete) and action_space.start != 0:
            raise ValueError(f"{type(self).__name__} needs Discrete actions numbered from 0; "
                             f"this space starts at {action_space.start}.")
        if isinstance(self, REINFORCEAgent) and env.num_envs != 1:
            raise ValueError(f"REINFORCEAgent runs one environment; got a vector env of "
                             f"{env.num_envs}.")

    def _build(self, env, rng):
        from gymnasium import spaces

        hidden, activation, options = _policy_options(self.policy_kwargs, "tanh")
        shape = env.single_observation_space.shape
        action_space = env.single_action_space
        self.observation_shape_ = tuple(shape)
        self.continuous_ = isinstance(action_space, spaces.Box)
        self.n_actions_ = (int(action_space.shape[0]) if self.continuous_
                           else int(action_space.n))
        if self.continuous_:
            self.action_low_ = np.asarray(action_space.low, dtype=np.float64)
            self.action_high_ = np.asarray(action_space.high, dtype=np.float64)
        self.policy_ = ActorCritic(int(np.prod(shape)), self.n_actions_, self.continuous_,
                                   hidden, activation, options.get("log_std_init", 0.0), rng)
        self.optimizer_ = self._make_optimizer(self.policy_.parameters())

    def _learn(self, env, total, rng):
        n_envs = env.num_envs
        buffer = RolloutBuffer(self.n_steps, n_envs, self.observation_shape_,
                               (self.n_actions_,) if self.continuous_ else (),
                               np.float64 if self.continuous_ else np.int64)
        obs = self._reset(env)
        start = self.n_timesteps_
        while self.n_timesteps_ - start < total and not self._stop:
            while not buffer.full and not self._stop:
                flat = obs.reshape(n_envs, -1).astype(np.float32)
                head, values = self.policy_.act_values(flat)
                actions, log_probs = self.policy_.sample(head, rng)
                next_obs, final, rewards, terminated, truncated = self._step(
                    env, self._env_actions(actions))
                if truncated.any():  # a cut episode's last reward bootstraps its value
                    cut = np.flatnonzero(truncated & ~terminated)
                    if len(cut):
                        _, tail = self.policy_.act_values(
                            final[cut].reshape(len(cut), -1).astype(np.float32))
                        rewards = rewards.copy()
                        rewards[cut] += self.gamma * tail
                buffer.add(flat, actions, rewards, terminated | truncated, values, log_probs)
                obs = next_obs
            if self._stop:  # a callback asked: no update on a partial rollout
                break
            _, last = self.policy_.act_values(obs.reshape(n_envs, -1).astype(np.float32))
            rollout = buffer.finish(last.astype(np.float64), self.gamma, self.gae_lambda)
            remaining = max(1.0 - (self.n_timesteps_ - start) / total, 0.0)
            for group in self.optimizer_.param_groups:
                group["lr"] = _scheduled(self.learning_rate, remaining)
            self.history_["losses"].append(self._update(rollout, rng, remaining))

    def _env_actions(self, actions):
        if self.continuous_:
            return np.clip(actions, self.action_low_, self.action_high_)
        return actions

    def _act(self, obs, deterministic):
        head, _ = self.policy_.act_values(obs.reshape(len(obs), -1))
        actions, _ = self.policy_.sample(head, self._predict_rng(), deterministic)
        return self._env_actions(actions)

    def _losses(self, batch):
        """(policy log-probs, entropy, values) of a batch, as Tensors."""
        head, values = self.policy_(Tensor(batch["obs"]))
        log_prob, entropy = self.policy_.log_prob_entropy(head, batch["actions"])
        return log_prob, entropy, values

    def _step_optimizer(self, loss):
        self.optimizer_.zero_grad()
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm_(self.policy_.parameters(), self.max_grad_norm)
        self.optimizer_.step()


_PARAMETERS_HEAD = """
    Parameters
    ----------
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        The environment: an id for ``gymnasium.make`` (``n_envs`` copies),
        an instance, or a vector env with same-step resets.
    policy : {"mlp"}, default="mlp"
        Separate dense networks for the policy and the value.
    policy_kwargs : dict, optional
        ``net_arch`` (hidden widths, default (64, 64)), ``activation``
        (default "tanh"), ``log_std_init`` (continuous actions, default 0).
"""

_PARAMETERS_TAIL = """    total_timesteps : int, default=100_000
        Steps of ``fit()`` without an argument.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the weights, the actions drawn, the minibatches and the
        environments' resets: the same seed gives the same run.
    warm_start : bool, default=False
        Continue a fitted agent's training in ``fit``.
    verbose : int, default=0
        Print progress every 10 episodes.

    Attributes
    ----------
    policy_ : ActorCritic
        The policy and value networks.
    history_ : dict of lists
        ``episode_returns``, ``episode_lengths``, ``timesteps`` (at each
        episode's end) and ``losses`` (one per rollout).
    n_timesteps_ : int
        Environment steps taken.
    observation_shape_ : tuple
        One observation's shape.
    continuous_ : bool
        Whether the actions are continuous.
    n_actions_ : int
        Actions (discrete) or action dimensions (continuous).
"""


class PPOAgent(_OnPolicyAgent):
    __doc__ = """Proximal policy optimisation, clipped objective.

    Each rollout of ``n_steps`` steps of ``n_envs`` environments is
    advantage-estimated (GAE) and trained on for ``n_epochs`` epochs of
    minibatches: ``-min(r A, clip(r, 1 - c, 1 + c) A) + vf_coef * value
    loss - ent_coef * entropy``, with ``r`` the probability ratio of the new
    and old policies.
""" + _PARAMETERS_HEAD + """    learning_rate : float or callable, default=3e-4
        Adam's step size, or a function of the share of training left (1 at
        the start, 0 at the end).
    n_steps : int, default=2048
        Steps of each environment per rollout.
    batch_size : int, default=64
        Rows per minibatch.
    n_epochs : int, default=10
        Passes over each rollout.
    gamma : float, default=0.99
        The discount.
    gae_lambda : float, default=0.95
        GAE's lambda.
    clip_range : float or callable, default=0.2
        The ratio's clip (or its schedule).
    clip_range_vf : float, optional
        Clip the value's change per rollout (None: no clipping).
    normalize_advantage : bool, default=True
        Standardise each minibatch's advantages.
    ent_coef : float, default=0.0
        The entropy bonus.
    vf_coef : float, default=0.5
        The value loss's weight.
    max_grad_norm : float, default=0.5
        Clip the gradient norm of each step.
    n_envs : int, default=1
        Copies of an id's environment stepped together.
""" + _PARAMETERS_TAIL

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "clip_range": [Interval(Real, 0, None, closed="neither"), callable],
        "clip_range_vf": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, env, policy="mlp", *, policy_kwargs=None, learning_rate=3e-4,
                 n_steps=2048, batch_size=64, n_epochs=10, gamma=0.99, gae_lambda=0.95,
                 clip_range=0.2, clip_range_vf=None, normalize_advantage=True, ent_coef=0.0,
                 vf_coef=0.5, max_grad_norm=0.5, n_envs=1, total_timesteps=100_000,
                 random_state=None, warm_start=False, verbose=0):
        self.env, self.policy, self.policy_kwargs = env, policy, policy_kwargs
        self.learning_rate, self.n_steps, self.batch_size = learning_rate, n_steps, batch_size
        self.n_epochs, self.gamma, self.gae_lambda = n_epochs, gamma, gae_lambda
        self.clip_range, self.clip_range_vf = clip_range, clip_range_vf
        self.normalize_advantage, self.ent_coef = normalize_advantage, ent_coef
        self.vf_coef, self.max_grad_norm, self.n_envs = vf_coef, max_grad_norm, n_envs
        self.total_timesteps, self.random_state = total_timesteps, random_state
        self.warm_start, self.verbose = warm_start, verbose

    def _make_optimizer(self, parameters):
        return optim.Adam(parameters, lr=_scheduled(self.learning_rate, 1.0), eps=1e-5)

    def _update(self, rollout, rng, remaining):
        clip = _scheduled(self.clip_range, remaining)
        rows = len(rollout["advantages"])
        losses = []
        for _ in range(self.n_epochs):
            order = rng.permutation(rows)
            for begin in range(0, rows, self.batch_size):
                index = order[begin:begin + self.batch_size]
                batch = {k: v[index] for k, v in rollout.items()}
                advantages = batch["advantages"]
                if self.normalize_advantage and len(index) > 1:
                    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                log_prob, entropy, values = self._losses(batch)
                policy_loss = clipped_surrogate(log_prob, batch["log_probs"], advantages, clip)
                returns = Tensor(batch["returns"].astype(np.float32))
                if self.clip_range_vf is not None:
                    old = Tensor(batch["values"].astype(np.float32))
                    values = old + _clip(values - old, -self.clip_range_vf, self.clip_range_vf)
                value_loss = F.mse_loss(values, returns)
                loss = policy_loss + self.vf_coef * value_loss - self.ent_coef * entropy.mean()
                self._step_optimizer(loss)
                losses.append(float(loss.item()))
        return float(np.mean(losses))


class A2CAgent(_OnPolicyAgent):
    __doc__ = """Advantage actor-critic (synchronous A3C).

    One gradient step per rollout of ``n_steps`` steps of ``n_envs``
    environments: ``-A log pi(a|s) + vf_coef * value loss - ent_coef *
    entropy``, with RMSprop as in Stable-Baselines3.
""" + _PARAMETERS_HEAD + """    learning_rate : float or callable, default=7e-4
        RMSprop's step size (or its schedule).
    n_steps : int, default=5
        Steps of each environment per rollout.
    gamma : float, default=0.99
        The discount.
    gae_lambda : float, default=1.0
        GAE's lambda (1: plain n-step advantages).
    normalize_advantage : bool, default=False
        Standardise each rollout's advantages.
    ent_coef : float, default=0.0
        The entropy bonus.
    vf_coef : float, default=0.5
        The value loss's weight.
    max_grad_norm : float, default=0.5
        Clip the gradient norm of each step.
    n_envs : int, default=1
        Copies of an id's environment stepped together.
""" + _PARAMETERS_TAIL

    _parameter_constraints = dict(_COMMON_CONSTRAINTS)

    def __init__(self, env, policy="mlp", *, policy_kwargs=None, learning_rate=7e-4,
                 n_steps=5, gamma=0.99, gae_lambda=1.0, normalize_advantage=False,
                 ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, n_envs=1,
                 total_timesteps=100_000, random_state=None, warm_start=False, verbose=0):
        self.env, self.policy, self.policy_kwargs = env, policy, policy_kwargs
        self.learning_rate, self.n_steps, self.gamma = learning_rate, n_steps, gamma
        self.gae_lambda, self.normalize_advantage = gae_lambda, normalize_advantage
        self.ent_coef, self.vf_coef, self.max_grad_norm = ent_coef, vf_coef, max_grad_norm
        self.n_envs, self.total_timesteps = n_envs, total_timesteps
        self.random_state, self.warm_start, self.verbose = random_state, warm_start, verbose

    def _make_optimizer(self, parameters):
        return optim.RMSprop(parameters, lr=_scheduled(self.learning_rate, 1.0), alpha=0.99,
                             eps=1e-5)

    def _update(self, rollout, rng, remaining):
        advantages = rollout["advantages"]
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        log_prob, entropy, values = self._losses(rollout)
        policy_loss = -(Tensor(advantages.astype(np.float32)) * log_prob).mean()
        value_loss = F.mse_loss(values, Tensor(rollout["returns"].astype(np.float32)))
        loss = policy_loss + self.vf_coef * value_loss - self.ent_coef * entropy.mean()
        self._step_optimizer(loss)
        return float(loss.item())


def _clip(t, low, high):
    """``clip(t, low, high)`` of a Tensor, the gradient passing where it is inside."""
    return t - F.relu(t - high) + F.relu(low - t)


class REINFORCEAgent(_OnPolicyAgent):
    __doc__ = """Monte-Carlo policy gradient (Williams 1992) with a learned baseline.

    After every ``n_episodes`` whole episodes of one environment: one
    gradient step on ``-(G - V(s)) log pi(a|s) + vf_coef * (G - V(s))^2 -
    ent_coef * entropy``, G the discounted return from each step on (a
    time-limit cut bootstraps the value of its last observation).
""" + _PARAMETERS_HEAD + """    learning_rate : float or callable, default=1e-3
        Adam's step size (or its schedule).
    n_episodes : int, default=1
        Episodes per update.
    gamma : float, default=0.99
        The discount.
    baseline : bool, default=True
        Subtract the learned value from the returns (and train it).
    normalize_advantage : bool, default=False
        Standardise each update's advantages.
    ent_coef : float, default=0.0
        The entropy bonus.
    vf_coef : float, default=0.5
        The baseline's loss weight.
    max_grad_norm : float, optional
        Clip the gradient norm of each step (None: no clipping).
""" + _PARAMETERS_TAIL

    _parameter_constraints = {
        **{k: v for k, v in _COMMON_CONSTRAINTS.items()
           if k not in ("n_steps", "gae_lambda", "n_envs")},
        "n_episodes": [Interval(Integral, 1, None, closed="left")],
        "baseline": ["boolean"],
    }
    n_envs = 1

    def __init__(self, env, policy="mlp", *, policy_kwargs=None, learning_rate=1e-3,
                 n_episodes=1, gamma=0.99, baseline=True, normalize_advantage=False,
                 ent_coef=0.0, vf_coef=0.5, max_grad_norm=None, total_timesteps=100_000,
                 random_state=None, warm_start=False, verbose=0):
        self.env, self.policy, self.policy_kwargs = env, policy, policy_kwargs
        self.learning_rate, self.n_episodes, self.gamma = learning_rate, n_episodes, gamma
        self.baseline, self.normalize_advantage = baseline, normalize_advantage
        self.ent_coef, self.vf_coef, self.max_grad_norm = ent_coef, vf_coef, max_grad_norm
        self.total_timesteps, self.random_state = total_timesteps, random_state
        self.warm_start, self.verbose = warm_start, verbose

    def _make_optimizer(self, parameters):
        return optim.Adam(parameters, lr=_scheduled(self.learning_rate, 1.0))

    def _learn(self, env, total, rng):
        obs = self._reset(env)
        start = self.n_timesteps_
        steps = {key: [] for key in ("obs", "actions", "rewards", "dones", "values")}
        finished = 0
        while self.n_timesteps_ - start < total and not self._stop:
            flat = obs.reshape(1, -1).astype(np.float32)
            head, value = self.policy_.act_values(flat)
            actions, _ = self.policy_.sample(head, rng)
            next_obs, final, rewards, terminated, truncated = self._step(
                env, self._env_actions(actions))
            if self.baseline and truncated[0] and not terminated[0]:
                _, tail = self.policy_.act_values(final.reshape(1, -1).astype(np.float32))
                rewards = rewards + self.gamma * tail
            for key, item in (("obs", flat[0]), ("actions", actions[0]),
                              ("rewards", rewards[0]), ("dones", terminated[0] | truncated[0]),
                              ("values", float(value[0]))):
                steps[key].append(item)
            obs = next_obs
            finished += int(terminated[0] | truncated[0])
            if finished == self.n_episodes:
                self._update_episodes(steps, total, start)
                steps = {key: [] for key in steps}
                finished = 0

    def _update_episodes(self, steps, total, start):
        column = {k: np.asarray(v)[:, None] for k, v in steps.items()
                  if k in ("rewards", "dones", "values")}
        values = column["values"] if self.baseline else np.zeros_like(column["values"])
        advantages, returns = gae(column["rewards"], values, column["dones"], np.zeros(1),
                                  self.gamma, 1.0)
        rollout = {"obs": np.asarray(steps["obs"], dtype=np.float32),
                   "actions": np.asarray(steps["actions"]),
                   "advantages": advantages[:, 0], "returns": returns[:, 0]}
        remaining = max(1.0 - (self.n_timesteps_ - start) / total, 0.0)
        for group in self.optimizer_.param_groups:
            group["lr"] = _scheduled(self.learning_rate, remaining)
        advantages = rollout["advantages"]
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        log_prob, entropy, predicted = self._losses(rollout)
        loss = -(Tensor(advantages.astype(np.float32)) * log_prob).mean() \
            - self.ent_coef * entropy.mean()
        if self.baseline:
            loss = loss + self.vf_coef * F.mse_loss(
                predicted, Tensor(rollout["returns"].astype(np.float32)))
        self._step_optimizer(loss)
        self.history_["losses"].append(float(loss.item()))
