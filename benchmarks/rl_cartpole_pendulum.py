"""DQN and PPO on CartPole-v1, SAC on Pendulum-v1 (gymnasium's classic control).

Run: ``python benchmarks/rl_cartpole_pendulum.py`` (needs gymnasium, the ``rl``
extra; add ``--quick`` for a short smoke run). Trains each agent with the
rl-zoo's hyperparameters for the environment (SAC with Stable-Baselines3's
defaults), then prints the mean return over 100 deterministic evaluation
episodes, the steps trained and the training time. The targets: CartPole
mean return >= 475 for DQN and PPO within 100,000 steps, Pendulum >= -200 for
SAC within 20,000 steps.
"""

import sys
import time

import numpy as np

from sklears_neural.rl import DQNAgent, PPOAgent, SACAgent, evaluate_policy


def _linear(start):
    return lambda progress_remaining: start * progress_remaining


def agents(quick=False):
    """(name, environment, agent, steps) of each run."""
    dqn = DQNAgent("CartPole-v1", learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
                   learning_starts=1000, gamma=0.99, target_update_interval=10,
                   train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                   exploration_final_eps=0.04, policy_kwargs={"net_arch": (256, 256)},
                   double_q=False, random_state=0)  # the zoo's DQN is not double
    ppo = PPOAgent("CartPole-v1", n_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8,
                   gamma=0.98, n_epochs=20, ent_coef=0.0, learning_rate=_linear(1e-3),
                   clip_range=_linear(0.2), random_state=0)
    sac = SACAgent("Pendulum-v1", random_state=0)
    return [("DQN", "CartPole-v1", dqn, 2000 if quick else 50_000),
            ("PPO", "CartPole-v1", ppo, 2048 if quick else 100_000),
            ("SAC", "Pendulum-v1", sac, 300 if quick else 20_000)]


def main(quick=False):
    results = {}
    for name, env, agent, steps in agents(quick):
        start = time.perf_counter()
        agent.fit(steps, progress_bar=not quick)
        seconds = time.perf_counter() - start
        returns, _ = evaluate_policy(agent, env, n_eval_episodes=5 if quick else 100, seed=0)
        results[name] = float(np.mean(returns))
        print(f"{name} on {env}: mean return {np.mean(returns):.1f} +- {np.std(returns):.1f} "
              f"after {agent.n_timesteps_:,} steps ({seconds:.1f} s of training)")
    return results


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
