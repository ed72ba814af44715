"""A convolutional cell for digits found by DARTS, then retrained.

Run: ``python examples/nas_digits_darts.py`` (``--quick`` for a smoke run).
Searches a cell by first-order DARTS on scikit-learn's digits as 8x8 images
(the 75 % training split), retrains the cell it derives, and prints the cell,
its cross-validated score and its accuracy on the 25 % test split (target:
>= 0.98).
"""

import sys
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklears_neural.cnn import CNNClassifier
from sklears_neural.nas import NASClassifier


def main(quick=False):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25,
                                                        stratify=y, random_state=0)
    if quick:
        X_train, y_train = X_train[:200], y_train[:200]
    retrain = CNNClassifier(input_shape=(1, 8, 8), max_iter=2 if quick else 30, lr=1e-3,
                            batch_size=64, random_state=0)
    start = time.perf_counter()
    search = NASClassifier(retrain, strategy="darts", epochs=1 if quick else 10,
                           random_state=0).fit(X_train, y_train)
    accuracy = search.score(X_test, y_test)
    print(f"cell: {search.best_params_['genotype']}")
    print(f"cross-validated {search.best_score_:.4f}, test accuracy {accuracy:.4f} "
          f"({time.perf_counter() - start:.0f} s)")
    return accuracy


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
