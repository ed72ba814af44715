"""Reinforcement-learning agents with scikit-learn's parameter conventions.

``DQNAgent`` (discrete actions), ``PPOAgent``, ``A2CAgent`` and
``REINFORCEAgent`` (discrete or continuous actions) and ``SACAgent``
(continuous) learn on gymnasium environments: ``Agent(env, ...).fit(
total_timesteps)``, ``predict(obs)``, ``score(n_episodes)``;
``evaluate_policy`` runs episodes. ``get_params``, ``set_params`` and
``clone`` work as for any estimator, and a fitted agent pickles (without its
environment instance or replay experience). Observation normalisation and
reward scaling are gymnasium's wrappers (``NormalizeObservation``,
``NormalizeReward``) on the environment given. Needs gymnasium (the ``rl``
extra).
"""

from sklears_neural.rl._base import BaseAgent, evaluate_policy, make_vector_env
from sklears_neural.rl._dqn import DQNAgent
from sklears_neural.rl._networks import ActorCritic, QNetwork
from sklears_neural.rl._on_policy import A2CAgent, PPOAgent, REINFORCEAgent
from sklears_neural.rl._sac import SACAgent

__all__ = ["A2CAgent", "ActorCritic", "BaseAgent", "DQNAgent", "PPOAgent", "QNetwork",
           "REINFORCEAgent", "SACAgent", "evaluate_policy", "make_vector_env"]
