"""Displays of explanations (matplotlib, Agg backend)."""

import numpy as np
import pytest

from sklears_neural import CNNClassifier, MLPClassifier
from sklears_neural.inspection import (
    AttentionDisplay,
    AttributionDisplay,
    HeatmapDisplay,
    integrated_gradients,
)
from sklears_neural.rnn import TransformerClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
matplotlib = pytest.importorskip("matplotlib", reason="the displays draw with matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _tabular(rng):
    X = rng.normal(size=(60, 6))
    y = (3 * X[:, 2] - X[:, 4] > 0).astype(int)
    return MLPClassifier(hidden_layer_sizes=(8,), max_iter=60, random_state=0).fit(X, y), X


def test_attribution_bars_rank_the_features(rng):
    model, X = _tabular(rng)
    display = AttributionDisplay.from_estimator(model, X[:20], max_features=4,
                                                feature_names=list("abcdef"))
    bars = display.ax_.patches
    assert len(bars) == 4
    widths = [bar.get_width() for bar in bars]
    assert widths == sorted(widths)  # the most important on top
    labels = [tick.get_text() for tick in display.ax_.get_yticklabels()]
    expected = np.abs(integrated_gradients(model, X[:20]).values).mean(axis=0)
    assert labels == ["abcdef"[j] for j in np.argsort(expected)[::-1][:4][::-1]]
    np.testing.assert_allclose(widths, np.sort(expected)[-4:], rtol=1e-6)


def test_beeswarm_with_kernel_shap_in_a_pipeline(rng):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = rng.normal(size=(60, 4)) * 5 + 2
    y = (X[:, 0] > 2).astype(int)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,),
                                                         max_iter=40, random_state=0))
    pipe.fit(X, y)
    display = AttributionDisplay.from_estimator(pipe, X[:8], method="kernel_shap",
                                                kind="beeswarm", background=X[30:50])
    points = display.ax_.collections
    assert len(points) == 4 and all(len(p.get_offsets()) == 8 for p in points)
    with pytest.raises(ValueError, match="kind must be 'bar' or 'beeswarm'"):
        display.plot(kind="violin")
    with pytest.raises(ValueError, match="method must be one of"):
        AttributionDisplay.from_estimator(pipe, X[:2], method="shapley")


def test_heatmaps_over_images_and_series(rng):
    images, labels = rng.normal(size=(30, 8, 8)), rng.integers(0, 2, 30)
    cnn = CNNClassifier(max_iter=1, random_state=0).fit(images, labels)
    display = HeatmapDisplay.from_estimator(cnn, images[:3], method="grad_cam")
    assert display.axes_.shape == (1, 3)
    assert all(len(ax.images) == 2 for ax in display.axes_.flat)  # input, then the map
    series = HeatmapDisplay(rng.normal(size=(2, 2, 20)), rng.normal(size=(2, 2, 20)))
    series.plot(n_cols=1)
    assert display.figure_ is not series.figure_ and series.axes_.shape == (2, 1)
    assert len(series.axes_[0, 0].collections) == 2  # one coloured line per channel
    with pytest.raises(ValueError, match="HeatmapDisplay draws images"):
        HeatmapDisplay(np.zeros(3), np.zeros(3))


def test_attention_display(rng):
    X = rng.normal(size=(20, 10, 2))
    model = TransformerClassifier(d_model=8, nhead=2, num_layers=1, max_iter=1,
                                  random_state=0).fit(X, X[:, 0, 0] > 0)
    display = AttentionDisplay.from_estimator(model, X[:2], sample=1)
    assert display.ax_.images[0].get_array().shape == (10, 10)
