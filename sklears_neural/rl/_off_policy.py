"""The loop of the off-policy agents (DQN, SAC): act, store the step in the replay
buffer, update every ``train_freq`` steps once past ``learning_starts``, move the
target networks every ``target_update_interval`` steps."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from sklears_neural.data import ReplayBuffer
from sklears_neural.rl._base import AGENT_CONSTRAINTS, BaseAgent

__all__ = ["OFF_POLICY_CONSTRAINTS", "OffPolicyAgent", "polyak_update"]

OFF_POLICY_CONSTRAINTS = {
    **AGENT_CONSTRAINTS,
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "buffer_size": [Interval(Integral, 1, None, closed="left")],
    "learning_starts": [Interval(Integral, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "tau": [Interval(Real, 0, 1, closed="right")],
    "gamma": [Interval(Real, 0, 1, closed="both")],
    "train_freq": [Interval(Integral, 1, None, closed="left")],
    "gradient_steps": [Interval(Integral, 1, None, closed="left")],
}


def polyak_update(target, online, tau):
    """Move ``target``'s parameters ``tau`` of the way to ``online``'s (1: copy)."""
    for t, o in zip(target.parameters(), online.parameters()):
        if tau == 1.0:
            t.data[...] = o.data
        else:
            t.data *= 1.0 - tau
            t.data += tau * o.data


class OffPolicyAgent(BaseAgent):
    """Subclasses provide ``_explore(obs, done_steps, total, rng)`` -> (actions for the
    env, actions to store), ``_update(rng)`` -> loss and ``_update_target()``, and set
    ``_action_shape`` / ``_action_dtype`` in ``_build``. The targets move every
    ``target_update_interval`` steps (DQN), or after every gradient step when
    ``_targets_per_update`` (SAC, as Stable-Baselines3)."""

    _targets_per_update = False

    def _replay_kind(self):
        """The replay buffer's class and its extra options."""
        return ReplayBuffer, {}

    def _learn(self, env, total, rng):
        layout = (self.buffer_size, getattr(self, "n_step", 1), self.gamma, env.num_envs,
                  self._replay_kind()[0])
        if getattr(self, "_buffer", None) is None or self._buffer_layout != layout:
            # none yet, none pickled, or built for other settings: start one
            width = int(np.prod(self.observation_shape_))  # stored flat, as the nets read it
            kind, options = self._replay_kind()
            self._buffer = kind(self.buffer_size, (width,), self._action_shape,
                                self._action_dtype, n_step=layout[1], gamma=self.gamma,
                                n_envs=env.num_envs, **options)
            self._buffer_layout = layout
        self._buffer.reset_windows()  # each fit resets the env: no window spans two
        obs = self._reset(env)
        n_envs, start, calls = env.num_envs, self.n_timesteps_, 0
        while self.n_timesteps_ - start < total and not self._stop:
            actions, stored = self._explore(obs, self.n_timesteps_ - start, total, rng)
            next_obs, final, rewards, terminated, truncated = self._step(env, actions)
            self._buffer.add(obs.reshape(n_envs, -1), stored, rewards,
                             final.reshape(n_envs, -1), terminated, truncated)
            obs = next_obs
            calls += 1
            if self.n_timesteps_ > self.learning_starts and calls % self.train_freq == 0:
                for _ in range(self.gradient_steps):
                    self.history_["losses"].append(self._update(rng))
                    if self._targets_per_update:
                        self._update_target()
            if (not self._targets_per_update
                    and calls % max(self.target_update_interval // n_envs, 1) == 0):
                self._update_target()
