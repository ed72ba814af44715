"""
Time-series classification against MiniRocket
=============================================

GunPoint (aeon's bundled UCR set, official split: 50 training and 150 test
series of 150 steps): is the hand moving to a holster, or pointing? Our
``RNNClassifier`` (an LSTM) and ``CNN1DClassifier`` (InceptionTime), both at
their defaults, against aeon's MiniRocket, the strong non-deep baseline.
Needs aeon (the ``[demo]`` extra).
"""

import os
import time

import matplotlib.pyplot as plt
import numpy as np

from sklears_neural import CNN1DClassifier, RNNClassifier

QUICK = os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1"  # CI: a few epochs

from aeon.classification.convolution_based import MiniRocketClassifier  # noqa: E402
from aeon.datasets import load_classification  # noqa: E402

X_train, y_train = load_classification("GunPoint", split="train")  # (50, 1, 150)
X_test, y_test = load_classification("GunPoint", split="test")
budget = {"max_iter": 2} if QUICK else {}
models = {"MiniRocket (aeon)": MiniRocketClassifier(random_state=0),
          "RNNClassifier()": RNNClassifier(layout="NCT", random_state=0, **budget),
          "CNN1DClassifier()": CNN1DClassifier(random_state=0, **budget)}
scores, seconds = {}, {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds[name] = time.perf_counter() - start
    scores[name] = float(np.mean(model.predict(X_test) == y_test))
    print(f"{name:<20} test accuracy {scores[name]:.3f}  fit {seconds[name]:.1f} s")

# %%
# Accuracy and fit time
# ---------------------
figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
names = list(models)
left.barh(names, [scores[n] for n in names], color=["grey", "tab:blue", "tab:orange"])
left.set_xlim(0.5, 1.0)
left.set_xlabel("test accuracy")
right.barh(names, [seconds[n] for n in names], color=["grey", "tab:blue", "tab:orange"])
right.set_xlabel("fit time (s, 2 cores)")
right.set_yticks([])
figure.tight_layout()

# %%
# Two series of each class
# ------------------------
figure, ax = plt.subplots(figsize=(8, 3))
for label, colour in zip(np.unique(y_train), ("tab:green", "tab:purple")):
    for series in X_train[y_train == label][:2]:
        ax.plot(series[0], color=colour, alpha=0.8, label=f"class {label}")
handles, labels = ax.get_legend_handles_labels()
ax.legend(handles[::2], labels[::2])
ax.set_xlabel("time step")
figure.tight_layout()
