"""scikit-learn's checks on the graph estimators.

Their X is a list of graphs (node pairs and a graph for ``GNNLinkPredictor``),
so they declare no 2-D array input and ``parametrize_with_checks`` runs only
the checks that need no data; the parameter-handling checks scikit-learn skips
then are run here by name. Fitting, model selection and persistence on graphs
are tested in this folder's other files."""

import pytest
from sklearn.utils import estimator_checks as checks

from sklears_neural.gnn import (
    GNNGraphClassifier,
    GNNGraphRegressor,
    GNNLinkPredictor,
    GNNNodeClassifier,
    GNNNodeRegressor,
)

ESTIMATORS = [GNNGraphClassifier(max_iter=2), GNNGraphRegressor(max_iter=2),
              GNNNodeClassifier(max_iter=2), GNNNodeRegressor(max_iter=2),
              GNNLinkPredictor(max_iter=2)]

API_CHECKS = ["check_no_attributes_set_in_init", "check_get_params_invariance",
              "check_set_params", "check_parameters_default_constructible",
              "check_estimator_repr", "check_do_not_raise_errors_in_init_or_set_params",
              "check_mixin_order", "check_valid_tag_types"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@checks.parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("name", API_CHECKS)
def test_parameter_handling(estimator, name):
    getattr(checks, name)(type(estimator).__name__, estimator)
