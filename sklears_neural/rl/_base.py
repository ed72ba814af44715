"""What every agent shares: the environment (an id, an instance or a vector env,
on gymnasium's API), seeding, the ``fit`` frame (a failed fit leaves the agent as
it was), ``predict``, ``score``, ``evaluate_policy``, episode history, callbacks,
and pickling without the environment."""

import copy
import numbers
import time
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from sklears_neural._random import as_generator
from sklears_neural._versions import checked_state, with_versions
from sklears_neural.autograd import no_grad

__all__ = ["AGENT_CONSTRAINTS", "BaseAgent", "evaluate_policy", "make_vector_env"]


def _gym():
    try:
        import gymnasium
    except ImportError as error:  # pragma: no cover - gymnasium is in the rl extra
        raise ImportError("sklears_neural.rl needs gymnasium: pip install "
                          "'sklears-neural[rl]' (or gymnasium).") from error
    return gymnasium


def make_vector_env(env, n_envs=1):
    """``env`` as a vector env that resets an ended episode in the same step.

    Parameters
    ----------
    env : str, EnvSpec, gymnasium.Env or gymnasium.vector.VectorEnv
        An id or spec for ``gymnasium.make``, an environment (``n_envs``
        must be 1: it cannot be copied), or a vector env made with
        ``autoreset_mode=AutoresetMode.SAME_STEP``.
    n_envs : int, default=1
        Copies of an id's environment.

    Returns
    -------
    gymnasium.vector.VectorEnv
        With same-step resets: an ended episode's last observation is in
        ``info["final_obs"]``.
    """
    gym = _gym()
    same_step = gym.vector.AutoresetMode.SAME_STEP
    if isinstance(env, gym.vector.VectorEnv):
        if env.metadata.get("autoreset_mode") != same_step:
            raise ValueError("env is a vector env that resets an ended episode on the next "
                             "step; make it with autoreset_mode=AutoresetMode.SAME_STEP.")
        return env
    if isinstance(env, (str, gym.envs.registration.EnvSpec)):
        return gym.vector.SyncVectorEnv([lambda: gym.make(env)] * n_envs,
                                        autoreset_mode=same_step)
    if isinstance(env, gym.Env):
        if n_envs != 1:
            raise ValueError(f"n_envs={n_envs} needs env as an id string (an environment "
                             "instance cannot be copied); or pass a vector env.")
        return gym.vector.SyncVectorEnv([lambda: env], autoreset_mode=same_step)
    raise ValueError(f"env must be a gymnasium id, Env or VectorEnv; got {type(env).__name__}.")


def _final_obs(next_obs, infos, ended):
    """The observations after the step, an ended episode's final one in place of the
    reset's."""
    if not ended.any():
        return next_obs
    final = next_obs.copy()
    for i in np.flatnonzero(ended):
        final[i] = infos["final_obs"][i]
    return final


def _progress_bar(name, total):
    try:
        from tqdm.auto import tqdm
    except ImportError as error:
        raise ImportError("progress_bar=True needs tqdm (pip install tqdm).") from error
    return tqdm(total=total, desc=name, unit="step")


AGENT_CONSTRAINTS = {
    "env": "no_validation", "policy": [str], "policy_kwargs": [dict, None],
    "total_timesteps": [Interval(Integral, 1, None, closed="left")],
    "n_envs": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"], "warm_start": ["boolean"], "verbose": ["verbose"],
}


class BaseAgent(BaseEstimator):
    """Shared machinery of the agents; not used directly.

    Subclasses set ``_check_spaces(env)``, ``_build(env, rng)`` (networks,
    optimizers, buffers) and ``_learn(env, total_timesteps, rng)``, and
    ``_act(obs, deterministic)``.
    """

    def fit(self, total_timesteps=None, callbacks=None, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (all envs together).

        If anything raises (Ctrl-C included), the agent is left as it was.

        Parameters
        ----------
        total_timesteps : int, optional
            Steps to train; default the ``total_timesteps`` parameter.
        callbacks : list of callable, optional
            Each called as ``callback(agent, episode)`` after every finished
            episode, ``episode`` a dict (``return``, ``length``,
            ``timesteps``); returning False stops training.
        progress_bar : bool, default=False
            Show a tqdm bar over the steps with the mean return of the last
            10 episodes (needs tqdm).

        Returns
        -------
        self : object
            The trained agent.

        Notes
        -----
        A warm start continues the weights, optimizer state and history but,
        like Stable-Baselines3's default ``reset_num_timesteps=True``,
        restarts the schedules (epsilon, learning rate, clip range) over the
        new ``total_timesteps``.
        """
        steps = self.total_timesteps if total_timesteps is None else total_timesteps
        if (not isinstance(steps, numbers.Integral) or isinstance(steps, bool)
                or steps <= 0):
            raise ValueError(f"total_timesteps must be a positive int; got {steps!r}.")
        self._validate_params()
        continuing = self.warm_start and hasattr(self, "policy_")
        saved = self._snapshot(continuing)
        bar = _progress_bar(type(self).__name__, int(steps)) if progress_bar else None
        try:
            env = make_vector_env(self.env, getattr(self, "n_envs", 1))
            self._check_spaces(env)
            rng = as_generator(self.random_state)
            self._rng = rng
            self._seed = int(rng.integers(2**31 - 1))
            if continuing:
                self._check_same_spaces(env)
            else:
                self._build(env, rng)
                self.history_ = {"episode_returns": [], "episode_lengths": [], "losses": [],
                                 "timesteps": []}
                self.n_timesteps_ = 0
            self._callbacks = list(callbacks or [])
            self._stop = False
            self._bar = bar
            start = time.perf_counter()
            self._learn(env, int(steps), rng)
            self.fit_time_ = time.perf_counter() - start
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            self._buffer = None  # its experience is not restored: the next fit starts one
            raise
        finally:
            self.__dict__.pop("_callbacks", None)
            self.__dict__.pop("_bar", None)
            if bar is not None:
                bar.close()
        return self

    def _check_observations_and_policy(self, env):
        """The checks every agent shares: Box observations and the "mlp" policy."""
        from gymnasium import spaces

        if not isinstance(env.single_observation_space, spaces.Box):
            raise ValueError(f"{type(self).__name__} needs Box observations (arrays); got "
                             f"{env.single_observation_space}.")
        if self.policy != "mlp":
            raise ValueError(f"policy must be 'mlp'; got {self.policy!r}.")

    def _snapshot(self, continuing):
        """What a failed fit restores: the attributes as they are, deep-copied when a
        warm start would change the learned state in place (all but the environment
        and the replay buffer)."""
        if not continuing:
            return copy.copy(self.__dict__)
        return {key: value if key in ("env", "_buffer") else copy.deepcopy(value)
                for key, value in self.__dict__.items()}

    def _check_same_spaces(self, env):
        """A warm start needs the spaces the agent was built for."""
        shape = tuple(env.single_observation_space.shape)
        space = env.single_action_space
        actions = int(space.n) if hasattr(space, "n") else int(space.shape[0])
        if shape != self.observation_shape_ or actions != self.n_actions_:
            raise ValueError(f"warm_start=True continues an agent built for observations of "
                             f"shape {self.observation_shape_} and {self.n_actions_} actions; "
                             f"this environment has {shape} and {actions}. Set "
                             "warm_start=False to start afresh.")

    def _reset(self, env):
        obs, _ = env.reset(seed=self._seed)
        env.action_space.seed(self._seed)
        self._episode_returns = np.zeros(env.num_envs)
        self._episode_lengths = np.zeros(env.num_envs, dtype=np.int64)
        return obs

    def _track(self, rewards, ended):
        """Count the step's rewards; record finished episodes and run the callbacks."""
        self._episode_returns += rewards
        self._episode_lengths += 1
        self.n_timesteps_ += len(rewards)
        if self._bar is not None:
            self._bar.update(len(rewards))
        for i in np.flatnonzero(ended):
            episode = {"return": float(self._episode_returns[i]),
                       "length": int(self._episode_lengths[i]), "timesteps": self.n_timesteps_}
            self.history_["episode_returns"].append(episode["return"])
            self.history_["episode_lengths"].append(episode["length"])
            self.history_["timesteps"].append(self.n_timesteps_)
            self._episode_returns[i] = 0.0
            self._episode_lengths[i] = 0
            if self.verbose and len(self.history_["episode_returns"]) % 10 == 0:
                recent = self.history_["episode_returns"][-10:]
                print(f"{type(self).__name__}: {self.n_timesteps_} steps, "
                      f"{len(self.history_['episode_returns'])} episodes, mean return of the "
                      f"last 10: {np.mean(recent):.2f}")
            for callback in self._callbacks:
                if callback(self, episode) is False:
                    self._stop = True
        if self._bar is not None and ended.any():
            self._bar.set_postfix(mean_return=np.mean(self.history_["episode_returns"][-10:]),
                                  refresh=False)

    def _step(self, env, actions):
        """One step of every env: (next_obs, final_obs, rewards, terminated, truncated)."""
        next_obs, rewards, terminated, truncated, infos = env.step(actions)
        rewards = np.asarray(rewards, dtype=np.float64)
        if not np.isfinite(rewards).all():
            raise ValueError("the environment returned a non-finite reward; rewards must be "
                             "finite numbers.")
        ended = np.logical_or(terminated, truncated)
        final = _final_obs(next_obs, infos, ended)
        self._track(rewards, ended)
        return next_obs, final, rewards, np.asarray(terminated), np.asarray(truncated)

    # -- prediction ------------------------------------------------------------------
    def _check_obs(self, obs):
        """Observations as a float32 batch, and whether one was given alone."""
        check_is_fitted(self, "policy_")
        obs = np.asarray(obs, dtype=np.float32)
        shape = self.observation_shape_
        if obs.shape == shape:
            return obs[None], True
        if obs.shape[1:] != shape:
            raise ValueError(f"obs has shape {obs.shape}; the agent takes one observation of "
                             f"shape {shape} or a batch of shape (n, {', '.join(map(str, shape))})"
                             ".")
        return obs, False

    def predict(self, obs, deterministic=True):
        """The agent's action for one observation, or for each of a batch.

        Parameters
        ----------
        obs : array-like of shape observation_shape_ or (n, *observation_shape_)
            Observation(s).
        deterministic : bool, default=True
            The greedy / most likely action instead of a draw.

        Returns
        -------
        ndarray
            One action, or one per observation.
        """
        batch, single = self._check_obs(obs)
        with no_grad():
            actions = self._act(batch, deterministic)
        return actions[0] if single else actions

    def _predict_rng(self):
        """Draws for stochastic ``predict`` (the training generator while it exists)."""
        if getattr(self, "_rng", None) is None:
            self._rng = np.random.default_rng()
        return self._rng

    def score(self, n_episodes=10, env=None):
        """Mean return of deterministic episodes.

        Parameters
        ----------
        n_episodes : int, default=10
            Episodes to run.
        env : str or gymnasium.Env, optional
            Default the training ``env`` (a new instance for an id).

        Returns
        -------
        float
            The mean episodic return.
        """
        return float(np.mean(evaluate_policy(self, self.env if env is None else env,
                                             n_episodes)[0]))

    def __getstate__(self):
        """The state to pickle (and deep-copy): an environment instance becomes its
        ``EnvSpec`` (None without one; a vector env, one copy's), and the replay
        experience and random stream are left out."""
        state = self.__dict__.copy()
        gym = _gym()
        env = state.get("env")
        if isinstance(env, gym.vector.VectorEnv):  # its environments' spec (one copy)
            env = getattr(env, "envs", [None])[0]
        if isinstance(env, gym.Env):  # the spec keeps make's arguments and wrappers
            state["env"] = env.spec
        state.pop("_rng", None)
        state.pop("_buffer", None)  # experience is not part of the model (as SB3)
        return with_versions(state)

    def __setstate__(self, state):
        self.__dict__.update(checked_state(state, type(self).__name__))


def evaluate_policy(agent, env, n_eval_episodes=10, deterministic=True, seed=None):
    """Run an agent's policy for whole episodes.

    Parameters
    ----------
    agent : BaseAgent
        A fitted agent.
    env : str or gymnasium.Env
        The environment (an id is made afresh).
    n_eval_episodes : int, default=10
        Episodes.
    deterministic : bool, default=True
        Greedy actions.
    seed : int, optional
        Seeds the first reset.

    Returns
    -------
    returns : list of float
        Each episode's return.
    lengths : list of int
        Each episode's length.
    """
    gym = _gym()
    if env is None:
        raise ValueError("the agent has no environment (an environment instance is not "
                         "pickled with it): pass env=, an id or an Env.")
    if isinstance(env, gym.vector.VectorEnv):
        raise ValueError("evaluation runs whole episodes of one environment: pass env=, an id "
                         "or an Env, not a vector env.")
    env = gym.make(env) if isinstance(env, (str, gym.envs.registration.EnvSpec)) else env
    returns, lengths = [], []
    obs, _ = env.reset(seed=seed)
    for _ in range(int(n_eval_episodes)):
        total, length, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.predict(obs, deterministic))
            total += float(reward)
            length += 1
            done = terminated or truncated
        returns.append(total)
        lengths.append(length)
        obs, _ = env.reset()
    return returns, lengths
