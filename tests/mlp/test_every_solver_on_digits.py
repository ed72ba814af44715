"""Every optimizer the estimators offer trains an MLP on digits to >= 95%."""

import pytest

from sklears_neural._demo import load_digits_split
from sklears_neural.base._estimator import OPTIMIZERS
from sklears_neural.mlp import MLPClassifier

# Learning rates in each optimizer's usual range; the rest are the defaults.
LEARNING_RATES = {"sgd": 0.1, "adagrad": 0.05, "adadelta": 1.0, "lars": 1.0, "lamb": 1e-2}


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(random_state=0)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", sorted(OPTIMIZERS) + ["lbfgs"])
def test_solver_reaches_95_percent(digits, solver):
    X_train, X_test, y_train, y_test = digits
    model = MLPClassifier(solver=solver, learning_rate_init=LEARNING_RATES.get(solver, 1e-3),
                          random_state=0)
    assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.95
