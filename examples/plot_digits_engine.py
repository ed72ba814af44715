"""
An MLP built from the engine, trained on digits
===============================================

Train an MLP built from the engine on scikit-learn's digits.

Run it alone: ``python examples/plot_digits_engine.py``. The same code backs
``sklears-neural demo``; this script also prints the confusion matrix.
"""

from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

from sklears_neural import Tensor, no_grad
from sklears_neural._demo import load_digits_split, train_digits_mlp


def main():
    result = train_digits_mlp(hidden=(128,), epochs=30)
    _, X_test, _, y_test = load_digits_split()
    model = result["model"]
    with no_grad():
        predicted = model(Tensor(X_test)).numpy().argmax(axis=1)
    print(f"test accuracy {result['test_accuracy']:.4f} in {result['fit_time']:.2f} s")
    matrix = confusion_matrix(y_test, predicted)
    print(matrix)
    ConfusionMatrixDisplay(matrix).plot(colorbar=False)


if __name__ == "__main__":
    main()
