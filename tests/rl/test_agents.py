"""The agents on tiny environments written here, whose optimum is known: a bandit,
a chain, a continuous bandit; GAE and n-step returns by hand; reproducibility,
cloning, persistence across processes, bad input."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone

gym = pytest.importorskip("gymnasium", reason="the agents run on gymnasium environments")
from gymnasium import spaces  # noqa: E402

from sklears_neural.data import ReplayBuffer, gae  # noqa: E402
from sklears_neural.rl import (  # noqa: E402
    A2CAgent,
    DQNAgent,
    PPOAgent,
    REINFORCEAgent,
    SACAgent,
    evaluate_policy,
)


class Bandit(gym.Env):
    """One step per episode; action 2 pays 1, the others 0."""

    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.array([1.0, -1.0], dtype=np.float32), {}

    def step(self, action):
        return np.array([1.0, -1.0], dtype=np.float32), float(action == 2), True, False, {}


class Chain(gym.Env):
    """Five states in a row (one-hot); right pays 1 at the right end (then the
    episode ends), left costs nothing; cut after 12 steps. Optimal: always right."""

    observation_space = spaces.Box(0.0, 1.0, (5,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.position, self.steps = 0, 0
        return self._obs(), {}

    def _obs(self):
        return np.eye(5, dtype=np.float32)[self.position]

    def step(self, action):
        self.steps += 1
        self.position = max(0, min(4, self.position + (1 if action == 1 else -1)))
        done = self.position == 4
        return self._obs(), float(done), done, self.steps >= 12 and not done, {}


class Target(gym.Env):
    """A continuous bandit: reward -(a - 0.5)^2 for an action in [-1, 1]."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1, dtype=np.float32), {}

    def step(self, action):
        return np.ones(1, dtype=np.float32), -float((action[0] - 0.5) ** 2), True, False, {}


class NaNReward(Bandit):
    def step(self, action):
        return np.array([1.0, -1.0], dtype=np.float32), float("nan"), True, False, {}


def _vector(env_class, n):
    return gym.vector.SyncVectorEnv([env_class] * n,
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


@pytest.mark.parametrize("agent", [
    DQNAgent(Bandit(), learning_starts=10, target_update_interval=20, train_freq=1,
             exploration_fraction=0.5, learning_rate=1e-3, random_state=0),
    PPOAgent(Bandit(), n_steps=32, batch_size=16, learning_rate=3e-3, random_state=0),
    A2CAgent(Bandit(), n_steps=8, learning_rate=3e-3, random_state=0),
    REINFORCEAgent(Bandit(), n_episodes=8, learning_rate=1e-2, random_state=0),
], ids=["dqn", "ppo", "a2c", "reinforce"])
def test_bandit_arm(agent):
    agent.fit(600)
    assert agent.predict(np.array([1.0, -1.0])) == 2
    assert agent.score(n_episodes=3) == 1.0


@pytest.mark.parametrize("agent", [
    DQNAgent(Chain(), learning_starts=50, target_update_interval=50, train_freq=1,
             exploration_fraction=0.3, learning_rate=1e-3, gamma=0.9, n_step=3, random_state=0),
    PPOAgent(_vector(Chain, 4), n_steps=32, batch_size=32, learning_rate=3e-3, gamma=0.9,
             random_state=0),
    REINFORCEAgent(Chain(), n_episodes=4, learning_rate=1e-2, gamma=0.9, random_state=0),
], ids=["dqn-3-step", "ppo-4-envs", "reinforce"])
def test_chain_walks_right(agent):
    agent.fit(3000)
    returns, lengths = evaluate_policy(agent, Chain(), n_eval_episodes=2)
    assert returns == [1.0, 1.0] and lengths == [4, 4]  # the shortest path


@pytest.mark.parametrize("agent", [
    PPOAgent(Target(), n_steps=64, batch_size=32, learning_rate=1e-2, random_state=0),
    SACAgent(Target(), learning_starts=50, batch_size=32, learning_rate=3e-3,
             policy_kwargs={"net_arch": (32, 32)}, random_state=0),
], ids=["ppo", "sac"])
def test_continuous_actions_find_the_target(agent):
    agent.fit(3000 if isinstance(agent, PPOAgent) else 600)
    assert abs(float(agent.predict(np.ones(1))[0]) - 0.5) < 0.1


def test_gae_and_n_step_returns_by_hand():
    rewards = np.array([[1.0], [0.0], [2.0]])
    values = np.array([[0.5], [0.4], [0.3]])
    dones = np.array([[0.0], [1.0], [0.0]])
    advantages, returns = gae(rewards, values, dones, np.array([0.7]), gamma=0.9, lam=0.8)
    d2 = 2.0 + 0.9 * 0.7 - 0.3
    d1 = 0.0 - 0.4  # the episode ends: no bootstrap
    d0 = 1.0 + 0.9 * 0.4 - 0.5
    expected = [d0 + 0.72 * d1, d1, d2]
    np.testing.assert_allclose(advantages[:, 0], expected)
    np.testing.assert_allclose(returns, advantages + values)

    buffer = ReplayBuffer(10, (1,), n_step=3, gamma=0.5)
    for t, (reward, end) in enumerate([(1.0, False), (2.0, False), (4.0, False), (8.0, True)]):
        buffer.add(np.array([[t]]), np.array([0]), np.array([reward]), np.array([[t + 1]]),
                   np.array([end]), np.array([False]))
    obs, _, ret, next_obs, terminated, discount = buffer.__getitems__(slice(None))
    np.testing.assert_allclose(obs[:, 0], [0, 1, 2, 3])
    np.testing.assert_allclose(ret, [1 + 1 + 1, 2 + 2 + 2, 4 + 4, 8])
    np.testing.assert_allclose(next_obs[:, 0], [3, 4, 4, 4])
    np.testing.assert_allclose(terminated, [0, 1, 1, 1])
    np.testing.assert_allclose(discount, [0.125, 0.125, 0.25, 0.5])


def test_seeded_runs_are_identical_and_clone_round_trips():
    def run():
        agent = PPOAgent(Chain(), n_steps=32, batch_size=16, random_state=3).fit(300)
        return agent, [p.data.copy() for p in agent.policy_.parameters()]
    (first, w1), (second, w2) = run(), run()
    assert first.history_ == second.history_
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    copy = clone(first)
    assert copy.get_params()["n_steps"] == 32 and not hasattr(copy, "policy_")
    assert clone(DQNAgent("CartPole-v1", n_step=3)).get_params()["n_step"] == 3


def test_pickled_agent_acts_the_same_in_a_fresh_process(tmp_path):
    agent = DQNAgent(Chain(), learning_starts=20, random_state=0).fit(200)
    path = tmp_path / "agent.pkl"
    path.write_bytes(pickle.dumps(agent))
    obs = np.eye(5, dtype=np.float32)
    code = ("import pickle, sys, numpy as np; agent = pickle.load(open(sys.argv[1], 'rb')); "
            "print(agent.predict(np.eye(5, dtype=np.float32)).tolist())")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == str(agent.predict(obs).tolist())
    assert pickle.loads(path.read_bytes()).env is None  # the instance is not pickled


def test_bad_input():
    with pytest.raises(ValueError, match="DQNAgent needs a discrete action space"):
        DQNAgent(Target()).fit(10)
    with pytest.raises(ValueError, match="SACAgent needs a 1-D Box"):
        SACAgent(Bandit()).fit(10)
    with pytest.raises(ValueError, match="total_timesteps must be a positive int"):
        PPOAgent(Bandit()).fit(0)
    with pytest.raises(ValueError, match="non-finite reward"):
        A2CAgent(NaNReward(), random_state=0).fit(20)
    agent = A2CAgent(Bandit(), random_state=0).fit(20)
    with pytest.raises(ValueError, match=r"obs has shape \(3,\); the agent takes one"):
        agent.predict(np.zeros(3))
    assert agent.predict(np.ones((4, 2))).shape == (4,)
    before = agent.__dict__.copy()
    with pytest.raises(ValueError, match="non-finite reward"):
        agent.set_params(env=NaNReward()).fit(20)
    assert agent.policy_ is before["policy_"]  # a failed fit leaves the agent as it was
    with pytest.raises(ValueError, match="an environment instance cannot be copied"):
        PPOAgent(Bandit(), n_envs=2).fit(10)


def test_fused_losses_gradients_and_values():
    from sklears_neural.autograd import Tensor, gradcheck
    from sklears_neural.nn import functional as F
    from sklears_neural.rl._losses import categorical_log_prob_entropy, clipped_surrogate

    rng = np.random.default_rng(0)
    logits = Tensor(rng.normal(size=(6, 3)), requires_grad=True)
    actions = np.array([0, 2, 1, 1, 0, 2])
    log_prob, entropy = categorical_log_prob_entropy(logits, actions)
    log_p = F.log_softmax(Tensor(logits.numpy()), dim=1).numpy()
    np.testing.assert_allclose(log_prob.numpy(), log_p[np.arange(6), actions])
    np.testing.assert_allclose(entropy.numpy(), -(np.exp(log_p) * log_p).sum(axis=1))
    weights = Tensor(rng.normal(size=6))
    assert gradcheck(lambda z: categorical_log_prob_entropy(z, actions)[0] * weights, [logits])
    assert gradcheck(lambda z: categorical_log_prob_entropy(z, actions)[1] * weights, [logits])
    old = rng.normal(size=6)
    advantages = np.array([1.0, -1.0, 2.0, -0.5, 0.3, -2.0])
    # ratios inside and outside the clip range, for both signs of the advantage
    new = Tensor(old + np.array([0.05, 0.5, -0.6, -0.05, 0.4, -0.5]), requires_grad=True)
    ratio = np.exp(new.numpy() - old)
    expected = -np.minimum(ratio * advantages,
                           np.clip(ratio, 0.8, 1.2) * advantages).mean()
    np.testing.assert_allclose(clipped_surrogate(new, old, advantages, 0.2).numpy(), expected)
    assert gradcheck(lambda lp: clipped_surrogate(lp, old, advantages, 0.2), [new])


def test_replay_windows_per_env_truncation_and_refits():
    buffer = ReplayBuffer(20, (1,), n_step=2, gamma=0.5, n_envs=2)
    # env 0: three steps, cut by a time limit; env 1: one step then terminated
    steps = [([1.0, 10.0], [False, True], [False, False]),
             ([2.0, 20.0], [False, False], [False, False]),
             ([4.0, 40.0], [False, False], [True, False])]
    for t, (rewards, terminated, truncated) in enumerate(steps):
        obs = np.array([[t], [100 + t]], dtype=np.float32)
        buffer.add(obs, np.array([0, 1]), np.array(rewards), obs + 1,
                   np.array(terminated), np.array(truncated))
    obs, actions, ret, next_obs, done, discount = buffer.__getitems__(slice(None))
    rows = {(float(o[0]), float(r), float(n[0]), float(d), float(g))
            for o, r, n, d, g in zip(obs, ret, next_obs, done, discount)}
    assert rows == {
        (100.0, 10.0, 101.0, 1.0, 0.5),   # env 1 ends at once: one reward, no bootstrap
        (0.0, 2.0, 2.0, 0.0, 0.25),       # env 0: two rewards, bootstrap two steps on
        (101.0, 40.0, 103.0, 0.0, 0.25),  # env 1's next episode: 20 + 0.5 * 40
        (1.0, 4.0, 3.0, 0.0, 0.25),       # env 0 cut: the window folds, bootstrapped
        (2.0, 4.0, 3.0, 0.0, 0.5),
    }
    buffer.add(np.zeros((2, 1)), np.array([0, 0]), np.array([1.0, 1.0]), np.ones((2, 1)),
               np.array([False, False]), np.array([False, False]))
    buffer.reset_windows()  # a new fit resets the envs: nothing pending may carry over
    assert len(buffer) == 6 and all(not window for window in buffer._pending)


def test_warm_start_continues_and_a_failed_warm_fit_restores():
    agent = DQNAgent(Chain(), learning_starts=20, n_step=2, random_state=0).fit(100)
    weights = [p.data.copy() for p in agent.policy_.parameters()]
    losses = list(agent.history_["losses"])
    agent.set_params(warm_start=True)

    def fail_at_second_episode(agent, episode):
        if len(agent.history_["episode_returns"]) > len(losses) // 10 + 10:
            raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        agent.fit(400, callbacks=[fail_at_second_episode])
    assert agent.history_["losses"] == losses and agent.n_timesteps_ == 100
    for before, now in zip(weights, agent.policy_.parameters()):
        np.testing.assert_array_equal(before, now.data)
    agent.fit(50)
    assert agent.n_timesteps_ == 150 and len(agent.history_["losses"]) > len(losses)
    with pytest.raises(ValueError, match="warm_start=True continues an agent built for"):
        agent.set_params(env=Bandit()).fit(10)


def test_evaluation_needs_one_environment():
    agent = PPOAgent(_vector(Bandit, 2), n_steps=8, random_state=0).fit(16)
    with pytest.raises(ValueError, match="not a vector env"):
        agent.score()
    assert agent.score(env=Bandit(), n_episodes=2) in (0.0, 1.0)
    loaded = pickle.loads(pickle.dumps(agent))
    assert loaded.env is None  # the test's Bandit has no registered spec
    with pytest.raises(ValueError, match="the agent has no environment"):
        loaded.score()


def test_prioritized_replay_samples_by_priority_and_dqn_learns_with_it():
    from sklears_neural.data import PrioritizedReplayBuffer

    buffer = PrioritizedReplayBuffer(5, (1,), alpha=1.0, eps=0.0)
    for t in range(7):  # wraps around: rows 0 and 1 are overwritten
        buffer.add(np.array([[t]]), np.array([0]), np.array([0.0]), np.array([[t]]),
                   np.array([True]), np.array([False]))
    buffer.update_priorities(np.arange(5), [1, 2, 3, 4, 10])
    *batch, weights, rows = buffer.sample(40_000, generator=0, beta=1.0)
    np.testing.assert_allclose(np.bincount(rows, minlength=5) / 40_000,
                               np.array([1, 2, 3, 4, 10]) / 20, atol=0.01)
    np.testing.assert_allclose(batch[0][:, 0], np.where(rows < 2, rows + 5, rows))
    # weights (N P)^-1 / max: the rarest row weighs 1
    np.testing.assert_allclose(weights[rows == 0], 1.0)
    np.testing.assert_allclose(weights[rows == 4], 0.1)
    agent = DQNAgent(Bandit(), learning_starts=10, target_update_interval=20, train_freq=1,
                     exploration_fraction=0.5, learning_rate=1e-3, prioritized_replay=True,
                     random_state=0).fit(600)
    assert agent.predict(np.array([1.0, -1.0])) == 2


def test_gymnasium_wrappers_normalise_observations_and_rewards():
    env = gym.wrappers.NormalizeReward(gym.wrappers.NormalizeObservation(Chain()), gamma=0.9)
    agent = PPOAgent(env, n_steps=32, batch_size=16, random_state=0).fit(96)
    assert agent.n_timesteps_ == 96 and agent.predict(np.eye(5)[0]).shape == ()


@pytest.mark.parametrize("dueling", [False, True])
def test_numpy_acting_matches_the_engine(dueling):
    from sklears_neural.autograd import Tensor
    from sklears_neural.rl import ActorCritic, QNetwork

    rng = np.random.default_rng(0)
    obs = rng.normal(size=(3, 4)).astype(np.float32)
    q = QNetwork(4, 2, (8, 8), dueling=dueling, generator=0)
    np.testing.assert_allclose(q.act_values(obs), q(Tensor(obs)).numpy(), rtol=1e-5, atol=1e-6)
    policy = ActorCritic(4, 3, continuous=False, hidden=(8,), generator=0)
    head, values = policy.act_values(obs)
    ref_head, ref_values = policy(Tensor(obs))
    np.testing.assert_allclose(head, ref_head.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values, ref_values.numpy(), rtol=1e-5, atol=1e-6)
    gelu = ActorCritic(4, 3, continuous=False, hidden=(8,), activation="gelu", generator=0)
    np.testing.assert_allclose(gelu.act_values(obs)[0], gelu(Tensor(obs))[0].numpy(),
                               rtol=1e-6)  # no numpy twin: the engine acts
