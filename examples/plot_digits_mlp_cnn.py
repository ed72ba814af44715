"""
Digits with an MLP and a CNN: confusion matrices and loss curves
=================================================================

scikit-learn's digits (1,797 8x8 images) split 75/25 with stratification.
``MLPClassifier`` reads each image as 64 numbers, ``CNNClassifier`` as a
1x8x8 image (``input_shape``); both at their defaults. Each fit keeps its
``history_``, one row per epoch, which draws the loss curves.
"""

import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

from sklears_neural import CNNClassifier, MLPClassifier

QUICK = os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1"  # CI: a few epochs

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25,
                                                    stratify=y, random_state=0)
budget = {"max_iter": 3} if QUICK else {}
models = {"MLPClassifier()": MLPClassifier(random_state=0, **budget),
          "CNNClassifier(input_shape=(1, 8, 8))": CNNClassifier(input_shape=(1, 8, 8),
                                                                random_state=0, **budget)}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name}: test accuracy {model.score(X_test, y_test):.4f} after {model.n_iter_} "
          "epochs")

# %%
# Confusion matrices on the test split
# ------------------------------------
figure, axes = plt.subplots(1, 2, figsize=(11, 4.8))
for ax, (name, model) in zip(axes, models.items()):
    ConfusionMatrixDisplay.from_estimator(model, X_test, y_test, ax=ax, colorbar=False)
    ax.set_title(name, fontsize=10)
figure.tight_layout()

# %%
# Training loss per epoch
# -----------------------
# ``history_.plot()`` draws the recorded losses (and a validation score when
# there is one); the MLP stops when its loss no longer improves
# (``n_iter_no_change``, as scikit-learn's), the CNN runs its 20 epochs.
figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, (name, model) in zip(axes, models.items()):
    model.history_.plot(ax=ax)
    ax.set_title(name, fontsize=10)
figure.tight_layout()
