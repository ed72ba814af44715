"""The DARTS / ENAS example runs end to end at CI size."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "benchmarks" / "nas_digits_cells.py"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("strategy", ["darts", "enas"])
def test_cells_example_runs(strategy, capsys):
    spec = importlib.util.spec_from_file_location("cells_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert 0.0 <= module.main(strategy=strategy, quick=True) <= 1.0
    assert f"{strategy} cell: [" in capsys.readouterr().out
