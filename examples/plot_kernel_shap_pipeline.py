"""
KernelSHAP for a neural classifier in a Pipeline
================================================

KernelSHAP for a neural classifier inside a scikit-learn Pipeline.

Run it alone: ``python examples/plot_kernel_shap_pipeline.py [output folder]``.
Fits ``StandardScaler`` + ``MLPClassifier`` on scikit-learn's breast-cancer
data (30 features), explains 40 test rows' malignancy probability with
KernelSHAP against 100 training rows, checks that each row's values add up
to its prediction, and saves ``breast_cancer_kernel_shap.png``, a beeswarm
of the ten most important features.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklears_neural import MLPClassifier  # noqa: E402
from sklears_neural.inspection import AttributionDisplay, kernel_shap  # noqa: E402


def main(out_dir=None, quick=False):
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, stratify=data.target, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    pipe.fit(X_train, y_train)
    print(f"test accuracy {pipe.score(X_test, y_test):.4f}")
    rows = X_test[:5 if quick else 40]
    background = X_train[:100]
    n_samples = 200 if quick else "auto"
    result = kernel_shap(pipe, rows, background, target=0, n_samples=n_samples,
                         random_state=0)
    error = np.abs(result.values.sum(axis=1) + result.base_values - result.outputs).max()
    print(f"KernelSHAP: values + base value - prediction at most {error:.1e}")
    display = AttributionDisplay(result.values, data=rows, feature_names=data.feature_names,
                                 method="KernelSHAP value (malignant)")
    display.plot(kind="beeswarm", max_features=10)
    display.figure_.set_size_inches(8, 5)
    display.figure_.tight_layout()
    if out_dir is None:  # shown, not saved
        return []
    path = Path(out_dir) / "breast_cancer_kernel_shap.png"
    display.figure_.savefig(path, dpi=100)
    print(f"saved {path}")
    return [path]


if __name__ == "__main__":  # the gallery runs it so: figures stay open, nothing saved
    main(sys.argv[1] if len(sys.argv) > 1 else None,
         quick=os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1")
