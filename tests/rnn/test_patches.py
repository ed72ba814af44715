"""Reading every ``patch_size`` steps as one (``patch_size`` of the sequence estimators)."""

import math

import numpy as np
import pytest

from sklears_neural.autograd import Tensor
from sklears_neural.rnn import RNNClassifier, TransformerClassifier, TransformerRegressor
from sklears_neural.rnn._network import patch_steps


def _by_hand(x, p):
    """Patches from the definition: step k holds steps k*p .. k*p+p-1, zeros past T."""
    n, steps, features = x.shape
    out = np.zeros((n, math.ceil(steps / p), p * features), dtype=x.dtype)
    for k in range(out.shape[1]):
        for j in range(p):
            if k * p + j < steps:
                out[:, k, j * features:(j + 1) * features] = x[:, k * p + j]
    return out


@pytest.mark.parametrize("steps, p", [(12, 4), (13, 4), (5, 7), (9, 1)])
def test_patch_steps_matches_the_definition(steps, p):
    x = np.random.default_rng(0).standard_normal((3, steps, 2)).astype(np.float32)
    lengths = np.array([steps, 1, max(1, steps - 5)])
    got, got_lengths = patch_steps(Tensor(x), lengths, p)
    np.testing.assert_array_equal(np.asarray(got.data), _by_hand(x, p))
    np.testing.assert_array_equal(got_lengths, np.ceil(lengths / p).astype(int))


def test_patch_steps_gradient_is_the_inverse_reshape():
    x = Tensor(np.random.default_rng(1).standard_normal((2, 7, 3)), requires_grad=True)
    out, _ = patch_steps(x, None, 3)
    weights = np.random.default_rng(2).standard_normal(out.shape)
    (out * weights).sum().backward()
    expected = weights.reshape(2, 9, 3)[:, :7]  # the zero tail gets no gradient back
    np.testing.assert_allclose(np.asarray(x.grad), expected)


@pytest.mark.parametrize("steps, expected", [(10, 1), (32, 1), (33, 3), (150, 10), (1460, 92)])
def test_auto_patch_size(steps, expected):
    X = np.random.default_rng(0).standard_normal((6, steps, 1)).astype(np.float32)
    model = RNNClassifier(hidden_size=4, max_iter=1, random_state=0).fit(X, [0, 1] * 3)
    assert model.patch_size_ == expected


@pytest.mark.parametrize("estimator", [RNNClassifier, TransformerClassifier])
def test_padding_of_variable_lengths_does_not_leak_into_patches(estimator):
    # a sequence predicts the same alone and padded in a batch with a longer one
    rng = np.random.default_rng(0)
    long_ones = [rng.standard_normal((40, 2)).astype(np.float32) for _ in range(4)]
    short = rng.standard_normal((23, 2)).astype(np.float32)
    model = estimator(patch_size=5, max_iter=2, random_state=0).fit(
        long_ones + [short], [0, 1, 0, 1, 1])
    together = model.predict_proba(long_ones[:1] + [short])[1]
    alone = model.predict_proba([short])[0]
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)


def test_explicit_patch_size_and_bad_values():
    X = np.random.default_rng(0).standard_normal((6, 20, 1)).astype(np.float32)
    model = TransformerRegressor(patch_size=4, max_iter=1, random_state=0).fit(X, np.arange(6.0))
    assert model.patch_size_ == 4 and model.predict(X).shape == (6,)
    for bad in (0, 2.5, "big"):
        with pytest.raises(ValueError, match="patch_size"):
            TransformerRegressor(patch_size=bad).fit(X, np.arange(6.0))
