"""``Attribution``: what every attribution method returns."""

import numpy as np

__all__ = ["Attribution"]


class Attribution:
    """Attributions of a model's output to the features of each input.

    Parameters
    ----------
    values : ndarray or list of ndarray
        One attribution per input value, shaped like the X that was
        explained (a list for a list of variable-length series).
    method : str
        The attribution method, e.g. ``"integrated_gradients"``.
    target : ndarray of shape (n_samples,)
        The class label (classifiers) or output index (regressors) each
        row was explained for.
    output : {"logits", "probabilities", "outputs"}
        What was explained: the network's raw outputs, the class
        probabilities, or a regressor's outputs.
    space : str
        Where the attributions live: ``"input"`` (the features given to
        the estimator or Pipeline), or the output of a Pipeline step when
        a step before the network is not an element-wise linear scaler.
    outputs : ndarray of shape (n_samples,)
        The explained output at each input.
    delta : ndarray of shape (n_samples,), optional
        For path methods, the completeness error of each row: the sum of
        its attributions minus ``outputs - baseline_outputs``.
    baseline_outputs : ndarray of shape (n_samples,), optional
        For path methods, the explained output at each row's baseline.
    base_values : ndarray of shape (n_samples,), optional
        For Shapley values, the mean output over the background: each row's
        values sum to its output minus its base value.

    Notes
    -----
    ``np.asarray(attribution)`` gives ``values`` (for array inputs).
    """

    def __init__(self, values, *, method, target, output, space, outputs, delta=None,
                 baseline_outputs=None, base_values=None):
        self.values = values
        self.method = method
        self.target = target
        self.output = output
        self.space = space
        self.outputs = outputs
        self.delta = delta
        self.baseline_outputs = baseline_outputs
        self.base_values = base_values

    def __array__(self, dtype=None, copy=None):
        if isinstance(self.values, list):
            raise TypeError("these attributions are a list of arrays of different lengths "
                            "(one per series); read .values.")
        return np.asarray(self.values, dtype=dtype)

    def __repr__(self):
        shape = (f"{len(self.values)} series" if isinstance(self.values, list)
                 else f"shape={np.shape(self.values)}")
        return (f"Attribution(method={self.method!r}, {shape}, output={self.output!r}, "
                f"space={self.space!r})")
