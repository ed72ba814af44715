"""
Where a Transformer looks on a time series
==========================================

Where a Transformer looks on a bundled time series (GunPoint).

Run it alone: ``python examples/plot_transformer_attention.py [output folder]``
(needs aeon, which bundles the UCR GunPoint data). Fits
``TransformerClassifier`` at its defaults on the official train split,
prints the test accuracy, and saves ``gunpoint_attention.png``: the last
layer's attention map of one test series (tokens are patches of the
series), beside the series itself.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sklears_neural.inspection import AttentionDisplay  # noqa: E402
from sklears_neural.rnn import TransformerClassifier  # noqa: E402


def main(out_dir=None, quick=False):
    from aeon.datasets import load_classification

    X_train, y_train = load_classification("GunPoint", split="train")
    X_test, y_test = load_classification("GunPoint", split="test")
    model = TransformerClassifier(layout="NCT", random_state=0,
                                  max_iter=2 if quick else 200).fit(X_train, y_train)
    print(f"test accuracy {model.score(X_test, y_test):.4f}")
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    series = X_test[0, 0]
    left.plot(np.arange(len(series)), series)
    left.set_title(f"test series 0 (class {y_test[0]}), patches of {model.patch_size_} steps")
    for edge in range(0, len(series), model.patch_size_):
        left.axvline(edge, color="lightgrey", linewidth=0.5)
    AttentionDisplay.from_estimator(model, X_test[:1], ax=right)
    right.set_title("last layer's attention, heads averaged")
    figure.tight_layout()
    if out_dir is None:  # shown, not saved
        return []
    path = Path(out_dir) / "gunpoint_attention.png"
    figure.savefig(path, dpi=100)
    print(f"saved {path}")
    return [path]


if __name__ == "__main__":  # the gallery runs it so: figures stay open, nothing saved
    main(sys.argv[1] if len(sys.argv) > 1 else None,
         quick=os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1")
