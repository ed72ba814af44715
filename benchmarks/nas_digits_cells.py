"""A convolutional cell for digits found by DARTS or ENAS, then retrained.

Run: ``python benchmarks/nas_digits_cells.py [darts|enas]`` (``--quick`` for a
smoke run). Searches a cell on scikit-learn's digits as 8x8 images (the 75 %
training split): first-order DARTS relaxes each edge's choice of operation
into weights trained by gradient descent; ENAS trains one set of weights
shared by every cell while a controller learns which cells score well. The
cell found is retrained from scratch, and the script prints it, its
cross-validated score and its accuracy on the 25 % test split (target:
>= 0.98). Both take under a minute on 2 cores.
"""

import sys
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklears_neural.cnn import CNNClassifier
from sklears_neural.nas import NASClassifier


def main(strategy="darts", quick=False):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25,
                                                        stratify=y, random_state=0)
    if quick:
        X_train, y_train = X_train[:200], y_train[:200]
    retrain = CNNClassifier(input_shape=(1, 8, 8), max_iter=2 if quick else 30, lr=1e-3,
                            batch_size=64, random_state=0)
    start = time.perf_counter()
    search = NASClassifier(retrain, strategy=strategy, epochs=1 if quick else 10,
                           random_state=0).fit(X_train, y_train)
    accuracy = search.score(X_test, y_test)
    print(f"{strategy} cell: {search.best_params_['genotype']}")
    print(f"cross-validated {search.best_score_:.4f}, test accuracy {accuracy:.4f} "
          f"({time.perf_counter() - start:.0f} s)")
    return accuracy


if __name__ == "__main__":
    chosen = [a for a in sys.argv[1:] if a in ("darts", "enas")]
    main(strategy=chosen[0] if chosen else "darts", quick="--quick" in sys.argv)
