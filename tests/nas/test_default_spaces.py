"""Every family has a default search space, and every point of it trains."""

import numpy as np
import pytest
from sklearn.base import clone

import sklears_neural as sn
from sklears_neural.data import Graph
from sklears_neural.nas import NASClassifier, default_space

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _images(rng):
    return rng.random((24, 64)), np.arange(24) % 3


def _series(rng):
    return rng.standard_normal((24, 12)), np.arange(24) % 3


def _graphs(rng):
    graphs = []
    for k in range(24):
        n = 4 + k % 3
        edges = np.array([[i, i + 1] for i in range(n - 1)] + [[i + 1, i] for i in range(n - 1)]).T
        graphs.append(Graph(rng.random((n, 2)), edges))
    return graphs, np.arange(24) % 2


FAMILIES = {
    "MLPClassifier": (dict(), _images,
                      {"hidden_layer_sizes", "activation", "alpha", "learning_rate_init",
                       "batch_size", "batch_norm", "dropout", "residual"}),
    "CNNClassifier": (dict(input_shape=(1, 8, 8)), _images,
                      {"conv_layers", "pooling", "hidden_layer_sizes", "dropout", "lr",
                       "batch_size"}),
    "CNN1DClassifier": (dict(input_shape=(1, 12)), _series,
                        {"conv_layers", "lr", "batch_size"}),
    "RNNClassifier": (dict(input_shape=(-1, 1)), _series,
                      {"cell", "hidden_size", "num_layers", "bidirectional", "pooling", "lr",
                       "batch_size"}),
    "TransformerClassifier": (dict(input_shape=(-1, 1)), _series,
                              {"d_model", "nhead", "num_layers", "dim_feedforward", "dropout",
                               "pooling", "lr", "batch_size"}),
    "GNNGraphClassifier": (dict(), _graphs,
                           {"conv", "hidden_layer_sizes", "dropout", "lr", "pooling"}),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_points_of_each_default_space_train(name):
    options, make_data, expected = FAMILIES[name]
    estimator = getattr(sn, name)(max_iter=1, random_state=0, **options)
    space = default_space(estimator)
    assert set(space.dimensions) == expected
    rng = np.random.default_rng(0)
    X, y = make_data(rng)
    for _ in range(2):
        point = space.sample(rng)
        model = clone(estimator).set_params(**point).fit(X, y)
        assert model.predict(X).shape == (len(y),)


def test_node_and_link_estimators_have_no_pooling_dimension():
    for name in ("GNNNodeClassifier", "GNNNodeRegressor", "GNNLinkPredictor"):
        assert "pooling" not in default_space(getattr(sn, name)()).dimensions
    assert "pooling" in default_space(sn.GNNGraphRegressor()).dimensions


def test_a_search_over_the_graph_space():
    X, y = _graphs(np.random.default_rng(1))
    search = NASClassifier(sn.GNNGraphClassifier(max_iter=1, random_state=0), n_trials=2,
                           cv=2, random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert set(search.best_params_) == FAMILIES["GNNGraphClassifier"][2]
    assert search.predict(X[:3]).shape == (3,)


def test_no_default_space_for_a_foreign_estimator():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="no default search space for LogisticRegression"):
        default_space(LogisticRegression())
