"""The explanation examples run end to end (at CI size: few epochs and steps)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the examples draw with matplotlib")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["plot_digits_cnn_attributions", "plot_kernel_shap_pipeline",
                                  "plot_transformer_attention", "plot_karate_gnn_explainer"])
def test_example_saves_its_figures(name, tmp_path):
    if name == "plot_transformer_attention":
        pytest.importorskip("aeon.datasets", reason="aeon bundles GunPoint")
    if name == "plot_karate_gnn_explainer":
        pytest.importorskip("networkx", reason="networkx ships the karate club")
    saved = _load(name).main(tmp_path, quick=True)
    assert saved and all(path.stat().st_size > 1000 for path in saved)
