"""
A PPO agent learns CartPole
===========================

gymnasium's CartPole-v1: keep a pole upright on a cart (at most 500 steps
an episode). ``PPOAgent`` at its defaults trains for 30,000 steps on 2
cores in well under a minute; the learning curve is each finished
episode's return against the steps seen so far. The agent then plays 10
episodes with its deterministic policy. Needs gymnasium (the ``[rl]``
extra).
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from sklears_neural.rl import PPOAgent, evaluate_policy

QUICK = os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1"  # CI: a short run

agent = PPOAgent("CartPole-v1", random_state=0)
agent.fit(total_timesteps=2_048 if QUICK else 30_000)
returns, _ = evaluate_policy(agent, "CartPole-v1", n_eval_episodes=10, seed=0)
print(f"mean return over 10 episodes after training: {np.mean(returns):.1f} (500 is the most)")

# %%
# The learning curve
# ------------------
history = agent.history_
steps = np.asarray(history["timesteps"])
episode_returns = np.asarray(history["episode_returns"])
figure, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(steps, episode_returns, ".", alpha=0.3, color="tab:blue", label="episode")
window = min(20, len(episode_returns))
if window:
    smooth = np.convolve(episode_returns, np.ones(window) / window, mode="valid")
    ax.plot(steps[window - 1:], smooth, color="tab:blue", label=f"mean of {window}")
ax.set_xlabel("environment steps")
ax.set_ylabel("episode return")
ax.legend(loc="upper left")
figure.tight_layout()
