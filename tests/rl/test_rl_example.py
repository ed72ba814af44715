"""The RL example runs end to end at CI size (a few thousand steps)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("gymnasium", reason="the example runs gymnasium's classic control")
EXAMPLE = Path(__file__).resolve().parents[2] / "benchmarks" / "rl_cartpole_pendulum.py"


def test_example_runs_every_agent():
    spec = importlib.util.spec_from_file_location("rl_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(quick=True)
    assert set(results) == {"DQN", "PPO", "SAC"}
    assert all(isinstance(value, float) for value in results.values())
