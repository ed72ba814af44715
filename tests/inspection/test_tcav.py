"""TCAV: a concept the class depends on scores high and significantly."""

import numpy as np
import pytest

from sklears_neural import MLPClassifier
from sklears_neural.inspection import tcav

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def model_and_data(rng):
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] > 0).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, dtype="float64",
                          random_state=0).fit(X, y)
    return model, X, y


def test_a_concept_the_class_depends_on(model_and_data, rng):
    model, X, y = model_and_data
    concept = rng.normal(size=(40, 4))
    concept[:, 0] = rng.normal(3.0, 0.5, size=40)  # "a large first feature"
    pool = rng.normal(size=(200, 4))
    result = tcav(model, X[y == 1][:60], concept, pool, target=1, layer="layers.0",
                  n_runs=5, random_state=0)
    assert result.score > 0.9 and result.significant and result.cav_accuracy > 0.9
    assert result.cavs.shape == (5, 16)
    np.testing.assert_allclose(np.linalg.norm(result.cavs, axis=1), 1.0)
    against = tcav(model, X[y == 0][:60], concept, pool, target=0, layer="layers.0",
                   n_runs=5, random_state=0)
    assert against.score < 0.1 and against.significant  # the concept lowers class 0
    again = tcav(model, X[y == 1][:60], concept, pool, target=1, layer="layers.0",
                 n_runs=5, random_state=0)
    np.testing.assert_array_equal(again.scores, result.scores)


def test_tcav_errors(model_and_data):
    model, X, _ = model_and_data
    with pytest.raises(ValueError, match="needs at least twice as many as concept_examples"):
        tcav(model, X[:5], X[:40], X[40:100], layer="layers.0")
    with pytest.raises(ValueError, match="layer 'hidden' is not a layer"):
        tcav(model, X[:5], X[:10], X[10:40], layer="hidden")
