"""How targets become network outputs, and network outputs predictions.

A classifier's labels are encoded once in ``fit`` into what its loss
expects: class indices (softmax cross-entropy), one 0/1 column (binary,
logistic output) or an indicator matrix (multilabel, logistic outputs).
A regressor's targets are kept as a float matrix of shape (n, n_outputs).
"""

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target

__all__ = ["ClassTargets", "RegressionTargets"]


class ClassTargets:
    """Label encoding of a classifier.

    Parameters
    ----------
    binary_single_output : bool
        Encode two-class problems as one logistic output (scikit-learn's
        MLP) instead of two softmax outputs.
    """

    def __init__(self, binary_single_output):
        self.binary_single_output = binary_single_output

    def fit(self, y):
        check_classification_targets(y)
        self.type_ = type_of_target(y, input_name="y")
        if self.type_ == "multilabel-indicator":
            self.classes_ = np.arange(y.shape[1])
            self.kind_ = "multilabel"
        else:
            self.encoder_ = LabelEncoder().fit(np.ravel(y))
            self.classes_ = self.encoder_.classes_
            single = self.binary_single_output and len(self.classes_) <= 2
            self.kind_ = "binary" if single else "multiclass"
        return self

    @property
    def n_outputs(self):
        if self.kind_ == "multilabel":
            return len(self.classes_)
        if self.kind_ == "binary":
            return 1
        return len(self.classes_)

    def transform(self, y, dtype):
        """Encode labels ``y`` for the loss (raises on labels unseen in ``fit``)."""
        if self.kind_ == "multilabel":
            y = np.asarray(y)
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(f"y has shape {y.shape}; this multilabel model has "
                                 f"{len(self.classes_)} labels.")
            return y.astype(dtype)
        y = np.ravel(y)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y contains labels not seen in the first fit: {unseen.tolist()}; "
                             f"known classes are {self.classes_.tolist()}.")
        codes = self.encoder_.transform(y)
        if self.kind_ == "binary":
            return codes.astype(dtype).reshape(-1, 1)
        return codes.astype(np.int64)

    def stratify_encoded(self, encoded):
        """Labels to stratify a split on, from encoded targets (None for multilabel)."""
        return None if self.kind_ == "multilabel" else np.ravel(encoded)

    def codes(self, outputs):
        """Encoded predictions (what ``transform`` gives for labels) from network outputs."""
        if self.kind_ != "multilabel" and len(self.classes_) == 1:  # always the one class
            return np.zeros((outputs.shape[0],) if self.kind_ == "multiclass" else
                            (outputs.shape[0], 1), dtype=outputs.dtype)
        if self.kind_ == "multiclass":
            return np.argmax(outputs, axis=1)
        return (outputs > 0).astype(outputs.dtype)

    def probabilities(self, logits):
        """Turn network outputs into class probabilities."""
        if self.kind_ != "multilabel" and len(self.classes_) == 1:  # trained on one class
            return np.ones((logits.shape[0], 1))
        if self.kind_ == "multiclass":
            shifted = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            return e / e.sum(axis=1, keepdims=True)
        p = _sigmoid(logits)
        if self.kind_ == "binary":
            p = p.reshape(-1)
            return np.column_stack([1 - p, p])
        return p

    def decode(self, proba):
        """Turn probabilities into labels."""
        if self.kind_ == "multilabel":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class RegressionTargets:
    """Regression targets as a float matrix; predictions keep y's shape."""

    kind_ = "regression"

    def fit(self, y):
        y = np.asarray(y)
        self.one_dimensional_ = y.ndim == 1
        self.n_outputs = 1 if y.ndim == 1 else y.shape[1]
        return self

    def transform(self, y, dtype):
        y = np.asarray(y, dtype=dtype)
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        if y.shape[1] != self.n_outputs:
            raise ValueError(f"y has {y.shape[1]} outputs; this model was fitted with "
                             f"{self.n_outputs}.")
        return y

    def stratify_encoded(self, encoded):
        return None

    def decode(self, outputs):
        return outputs.ravel() if self.one_dimensional_ else outputs
