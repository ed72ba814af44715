"""
Architecture search with two objectives: accuracy and size
==========================================================

``NASClassifier`` searches ``default_space(MLPClassifier())`` (widths and
depth, activation, regularisation, learning rate, batch size, batch norm,
dropout, residual connections) on digits by regularized evolution, scoring
each candidate by 3-fold cross-validation. With ``objectives`` it also
measures each candidate's parameter count; ``pareto_front_`` keeps the
candidates no other beats on both accuracy and size, the choices worth
weighing. ``cv_results_`` reads into pandas like ``GridSearchCV``'s.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklears_neural import MLPClassifier
from sklears_neural.nas import NASClassifier

QUICK = os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1"  # CI: a few candidates

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25,
                                                    stratify=y, random_state=0)
search = NASClassifier(MLPClassifier(random_state=0), strategy="evolution",
                       n_trials=4 if QUICK else 16, epochs=2 if QUICK else 15,
                       population_size=2 if QUICK else 6, objectives=["n_parameters"],
                       random_state=0).fit(X_train, y_train)
print(f"best: {search.best_params_}")
print(f"cross-validated {search.best_score_:.4f}, test accuracy "
      f"{search.score(X_test, y_test):.4f}")
for point in search.pareto_front_:
    print(f"  on the front: score {point['score']:.4f} with {point['n_parameters']:,.0f} "
          "parameters")

# %%
# Accuracy against size
# ---------------------
results = search.cv_results_
sizes, scores = results["n_parameters"], results["mean_test_score"]
front = [p["index"] for p in search.pareto_front_]
figure, ax = plt.subplots(figsize=(8, 4))
ax.scatter(sizes, scores, color="grey", alpha=0.6, label="candidate")
order = np.argsort(sizes[front])
ax.plot(sizes[front][order], scores[front][order], "o-", color="tab:red",
        label="Pareto front")
ax.set_xscale("log")
ax.set_xlabel("parameters")
ax.set_ylabel("mean cross-validated accuracy")
ax.legend(loc="lower right")
figure.tight_layout()
