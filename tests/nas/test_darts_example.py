"""The DARTS example runs end to end at CI size."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nas_digits_darts.py"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_darts_example_runs():
    spec = importlib.util.spec_from_file_location("darts_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert 0.0 <= module.main(quick=True) <= 1.0
