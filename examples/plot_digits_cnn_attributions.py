"""
Integrated gradients and Grad-CAM for a digits CNN
==================================================

Integrated gradients and Grad-CAM for a CNN on scikit-learn's digits.

Run it alone: ``python examples/plot_digits_cnn_attributions.py [output folder]``.
Fits ``CNNClassifier`` at its defaults on the official-style split of the
digits (75 % train, stratified), prints the test accuracy and the
integrated-gradients completeness error, and saves
``digits_integrated_gradients.png`` and ``digits_grad_cam.png``: the
attributions of each test digit's predicted class drawn over the digit.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklears_neural import CNNClassifier  # noqa: E402
from sklears_neural.inspection import HeatmapDisplay, integrated_gradients  # noqa: E402


def main(out_dir=None, quick=False):
    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8) / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    model = CNNClassifier(random_state=0, max_iter=2 if quick else 20).fit(X_train, y_train)
    print(f"test accuracy {model.score(X_test, y_test):.4f}")
    shown = X_test[:8]
    result = integrated_gradients(model, shown, n_steps=16 if quick else 100)
    change = np.abs(result.outputs - result.baseline_outputs)
    print(f"integrated gradients: |delta| / |f(x) - f(0)| at most "
          f"{np.max(np.abs(result.delta) / change):.1e}")
    saved = []
    for method, kwargs in (("integrated_gradients", {"n_steps": 16 if quick else 100}),
                           ("grad_cam", {})):
        display = HeatmapDisplay.from_estimator(model, shown, method=method, n_cols=4,
                                                **kwargs)
        if out_dir is not None:  # else shown (the gallery), not saved
            path = Path(out_dir) / f"digits_{method}.png"
            display.figure_.savefig(path, dpi=100)
            saved.append(path)
            print(f"saved {path}")
    return saved


if __name__ == "__main__":  # the gallery runs it so: figures stay open, nothing saved
    main(sys.argv[1] if len(sys.argv) > 1 else None,
         quick=os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1")
