"""Table z: reinforcement learning against Stable-Baselines3: DQN and PPO on
CartPole-v1 with the rl-zoo's hyperparameters, the same on both sides; the time to
train, the return reached, and the time of one update."""

import time

import numpy as np

from ._common import Table, fmt_ratio, ms, ratio

TIMESTEPS, TIMESTEPS_QUICK = 50_000, 5_000
EVAL_EPISODES = 20

# rl-zoo (hyperparams/dqn.yml, ppo.yml), CartPole-v1
DQN_ZOO = {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000,
           "learning_starts": 1000, "gamma": 0.99, "target_update_interval": 10,
           "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
           "exploration_final_eps": 0.04}
DQN_ARCH = (256, 256)
PPO_ZOO = {"n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98, "n_epochs": 20,
           "ent_coef": 0.0}
PPO_ENVS = 8


def _linear(start):
    return lambda progress_remaining: start * progress_remaining


def _sb3():
    try:
        import stable_baselines3
    except ImportError:
        return None
    return stable_baselines3


def _ours(kind, seed):
    from sklears_neural.rl import DQNAgent, PPOAgent

    if kind == "dqn":  # SB3's DQN is not double: ours is made the same
        return DQNAgent("CartPole-v1", **DQN_ZOO, policy_kwargs={"net_arch": DQN_ARCH},
                        double_q=False, random_state=seed)
    return PPOAgent("CartPole-v1", **PPO_ZOO, n_envs=PPO_ENVS, learning_rate=_linear(1e-3),
                    clip_range=_linear(0.2), random_state=seed)


def _theirs(kind, seed, sb3):
    if kind == "dqn":
        return sb3.DQN("MlpPolicy", "CartPole-v1", **DQN_ZOO,
                       policy_kwargs={"net_arch": list(DQN_ARCH)}, seed=seed, device="cpu")
    from stable_baselines3.common.env_util import make_vec_env

    return sb3.PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=PPO_ENVS, seed=seed),
                   **PPO_ZOO, learning_rate=_linear(1e-3), clip_range=_linear(0.2), seed=seed,
                   device="cpu")


def _evaluate(predict):
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    returns = []
    for episode in range(EVAL_EPISODES):
        obs, _ = env.reset(seed=1000 + episode)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(predict(obs))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def _update_time(kind, model, ours):
    """Seconds of one update: a DQN gradient step, or PPO's update of one rollout."""
    repeats = 20 if kind == "dqn" else 2
    if ours:
        if kind == "dqn":
            call = lambda: model._update(model._rng)  # noqa: E731
        else:
            rollout = _our_rollout(model)
            call = lambda: model._update(rollout, model._rng, 0.5)  # noqa: E731
    elif kind == "dqn":
        call = lambda: model.train(gradient_steps=1, batch_size=model.batch_size)  # noqa: E731
    else:
        call = model.train
    call()
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats


def _our_rollout(model):
    """A rollout of PPO's shape (n_steps x n_envs rows) to time one update on."""
    rng = np.random.default_rng(0)
    rows = model.n_steps * PPO_ENVS
    return {"obs": rng.standard_normal((rows, 4)).astype(np.float32),
            "actions": rng.integers(0, 2, rows), "values": rng.standard_normal(rows),
            "log_probs": np.full(rows, np.log(0.5)), "advantages": rng.standard_normal(rows),
            "returns": rng.standard_normal(rows)}


def bench_rl(cfg):
    """Table z: DQN and PPO on CartPole-v1, ours against Stable-Baselines3."""
    sb3 = _sb3()
    steps = TIMESTEPS_QUICK if cfg.quick else TIMESTEPS
    table = Table("rl", f"z. RL on CartPole-v1, rl-zoo hyperparameters, {steps:,} steps "
                  f"(threads={cfg.threads})",
                  ["agent", "train s", "return", "update ms", "train time / ours",
                   "update time / ours"])
    for kind in ("dqn", "ppo"):
        results = {}
        for side in ("ours", "sb3"):
            if side == "sb3" and sb3 is None:
                results[side] = None
                continue
            model = _ours(kind, 0) if side == "ours" else _theirs(kind, 0, sb3)
            start = time.perf_counter()
            if side == "ours":
                model.fit(steps)
                predict = model.predict
            else:
                model.learn(steps)
                predict = lambda obs, m=model: m.predict(obs, deterministic=True)[0]  # noqa: E731
            seconds = time.perf_counter() - start
            results[side] = (seconds, _evaluate(predict), _update_time(kind, model,
                                                                       side == "ours"))
        base = results["ours"]
        for side, label in (("ours", "ours"), ("sb3", "Stable-Baselines3")):
            name = f"{kind.upper()}: {label}"
            if results[side] is None:
                table.add_row([name, "not installed", "", "", "", ""], name=name)
                continue
            seconds, score, update = results[side]
            table.add_row([name, f"{seconds:.1f}", f"{score:.1f}", ms(update),
                           fmt_ratio(ratio(seconds, base[0])),
                           fmt_ratio(ratio(update, base[2]))],
                          name=name, seconds=seconds, eval_return=score, update_s=update)
        if results["sb3"] is not None:
            table.add_check(f"{kind} sb3 / ours train time", ratio(results["sb3"][0], base[0]),
                            2.0, ">=")
            table.add_check(f"{kind} ours - sb3 return", base[1] - results["sb3"][1], 0.0, ">=")
    table.add_note(f"One seeded run each; the return is the mean over {EVAL_EPISODES} "
                   "deterministic episodes of the trained policy. DQN's update is one gradient "
                   "step on 64 transitions; PPO's is one rollout's 20 epochs of minibatches. "
                   "SB3's DQN is not Double DQN: ours runs with double_q=False here. Targets: "
                   "SB3's training time >= 2x ours, at an equal or better return.")
    return table
