"""Classifier and regressor behaviour shared by every estimator family."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.class_weight import compute_sample_weight

from sklears_neural.backend import check_dtype
from sklears_neural.base._checks import check_class_weight
from sklears_neural.base._targets import ClassTargets, RegressionTargets

__all__ = ["NeuralNetClassifierMixin", "NeuralNetRegressorMixin"]


class NeuralNetClassifierMixin(ClassifierMixin):
    """predict / predict_proba / class weights on top of ``BaseNeuralNet``."""

    _binary_single_output = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _make_targets(self):
        return ClassTargets(self._binary_single_output)

    def partial_fit(self, X, y=None, sample_weight=None, classes=None):
        """Run one epoch over ``(X, y)``; ``classes`` lists every label on the first call.

        ``X`` may also be a Dataset or a stream of the data layer (then ``y=None``).

        Parameters
        ----------
        X : {array-like, sparse matrix}, Dataset or IterableDataset
            Training inputs, as for ``fit``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Class labels (an indicator matrix for multilabel targets).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.
        classes : array-like of shape (n_classes,), default=None
            Every class label; required on the first call, as scikit-learn's
            ``partial_fit``.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _initial_targets(self, y, classes):
        return y if classes is None else np.asarray(classes)

    def _sample_weights(self, y, sample_weight):
        """Sample weights times class weights, in the training dtype (made once per fit)."""
        if self.class_weight is None:
            return sample_weight
        check_class_weight(self.class_weight)
        weights = compute_sample_weight(self.class_weight, y).astype(check_dtype(self.dtype))
        return weights if sample_weight is None else weights * sample_weight

    def _score_outputs(self, outputs, targets, sample_weight):
        """Accuracy of the predictions in ``outputs`` against encoded targets."""
        predicted = self._targets.codes(outputs)
        correct = (predicted == targets).all(axis=1) if targets.ndim == 2 else (
            predicted == targets)
        return float(np.average(correct, weights=sample_weight))

    def _predict_from_outputs(self, outputs):
        return self._targets.decode(self._targets.probabilities(outputs.astype(np.float64)))

    def predict(self, X):
        """Predict class labels (an indicator matrix for multilabel targets).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...)
            The inputs, in the form the estimator was fitted on.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted labels, of the type of the fitted ``y``.
        """
        outputs = self._predict_outputs(X)
        return self._predict_from_outputs(outputs)

    def predict_proba(self, X):
        """Predict class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...)
            The inputs, in the form the estimator was fitted on.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The probability of each class (for multilabel targets, of each label
            independently).
        """
        outputs = self._predict_outputs(X)
        return self._targets.probabilities(outputs.astype(np.float64))

    def predict_log_proba(self, X):
        """Predict the logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...)
            The inputs, in the form the estimator was fitted on.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``; -inf where a probability is 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class NeuralNetRegressorMixin(RegressorMixin):
    """predict for regressors on top of ``BaseNeuralNet``."""

    class_weight = None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _make_targets(self):
        return RegressionTargets()

    def _output_transform(self, outputs):
        """Map raw network outputs to predictions (identity by default)."""
        return outputs

    def _score_outputs(self, outputs, targets, sample_weight):
        """R² of the predictions from ``outputs`` against the targets."""
        predictions = self._output_transform(outputs.astype(np.float64))
        return float(r2_score(targets, predictions, sample_weight=sample_weight))

    def predict(self, X):
        """Predict the targets, shaped like the ``y`` given to ``fit``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, ...)
            The inputs, in the form the estimator was fitted on.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions.
        """
        outputs = self._output_transform(self._predict_outputs(X).astype(np.float64))
        return self._targets.decode(outputs)
