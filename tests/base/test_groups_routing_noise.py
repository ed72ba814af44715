"""Parameter groups, ``optimizer__*`` routing on every estimator, and the ``noise`` options."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from sklears_neural import MLPClassifier, MLPRegressor, NeuralNetClassifier, nn, optim
from sklears_neural.autograd import Tensor
from sklears_neural.base._noise import NoiseSpec, parse_noise

from _modules import TinyNet


def data(n=120, seed=0):
    X, y = make_classification(n_samples=n, n_features=6, n_informative=4, random_state=seed)
    return X.astype(np.float32), y


def normed_net():
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))


# -- optim.param_groups ---------------------------------------------------------------
def test_param_groups_split_by_pattern_and_decay_flag():
    net = normed_net()
    groups = optim.param_groups(net.named_parameters(), [("0.*", {"lr": 0.5})],
                                no_decay_bias_and_norm=True)
    by_id = {id(p): name for name, p in net.named_parameters()}
    names = [[by_id[id(p)] for p in g["params"]] for g in groups]
    assert names == [["0.weight"], ["0.bias"], ["2.weight"],
                     ["1.weight", "1.bias", "2.bias"]]
    assert [g.get("lr") for g in groups] == [0.5, 0.5, None, None]
    assert [g.get("weight_decay") for g in groups] == [None, 0.0, None, 0.0]


def test_param_groups_first_pattern_wins_and_no_flag_keeps_one_group():
    net = normed_net()
    groups = optim.param_groups(net.named_parameters(), [("*.bias", {"lr": 1.0}),
                                                         ("2.*", {"lr": 2.0})])
    sizes = [(len(g["params"]), g.get("lr")) for g in groups]
    assert sizes == [(3, 1.0), (1, 2.0), (2, None)]


@pytest.mark.parametrize("rules, match", [
    ([("nothing.*", {"lr": 1.0})], "match no parameter"),
    (["0.*"], "pairs"),
    ([("0.*", 1.0)], "pairs"),
])
def test_param_groups_bad_rules(rules, match):
    with pytest.raises(ValueError, match=match):
        optim.param_groups(normed_net().named_parameters(), rules)


def test_no_decay_group_really_is_not_decayed():
    net = normed_net()
    before = {name: p.data.copy() for name, p in net.named_parameters()}
    opt = optim.AdamW(optim.param_groups(net.named_parameters(), no_decay_bias_and_norm=True),
                      lr=0.1, weight_decay=0.5)
    for p in net.parameters():
        p.grad = np.zeros_like(p.data)
    opt.step()
    for name, p in net.named_parameters():
        decayed = not optim.is_bias_or_norm(name, p)
        expected = before[name] * (1 - 0.1 * 0.5) if decayed else before[name]
        np.testing.assert_allclose(p.data, expected, rtol=1e-6, err_msg=name)


# -- routing on estimators ---------------------------------------------------------------
def test_neural_net_no_decay_flag_builds_groups_and_survives_pickling():
    import pickle

    X, y = data()
    model = NeuralNetClassifier(TinyNet, optimizer="adamw", optimizer__weight_decay=0.3,
                                optimizer__no_decay_bias_and_norm=True, max_iter=2,
                                random_state=0).fit(X, y)
    decays = sorted(g["weight_decay"] for g in model.optimizer_.param_groups)
    assert decays == [0.0, 0.3]
    again = pickle.loads(pickle.dumps(model))
    assert [g["weight_decay"] for g in again.optimizer_.param_groups] == \
        [g["weight_decay"] for g in model.optimizer_.param_groups]
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


def test_lars_exclusion_follows_the_flag():
    X, y = data()
    model = NeuralNetClassifier(TinyNet, optimizer="lars", lr=0.01, max_iter=1,
                                optimizer__no_decay_bias_and_norm=True, random_state=0).fit(X, y)
    flags = sorted((g["lars_exclude"], g["weight_decay"]) for g in model.optimizer_.param_groups)
    assert flags[0][0] is False and flags[1] == (True, 0.0)


def test_mlp_routes_optimizer_options_over_its_own():
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", nesterovs_momentum=False,
                          optimizer__momentum=0.5, optimizer__dampening=0.1, max_iter=3,
                          random_state=0)
    assert model.get_params()["optimizer__momentum"] == 0.5
    model.fit(X, y)
    group = model.optimizer_.param_groups[0]
    assert (group["momentum"], group["dampening"], group["nesterov"]) == (0.5, 0.1, False)
    assert clone(model).get_params()["optimizer__dampening"] == 0.1
    adamw = MLPRegressor(hidden_layer_sizes=(4,), solver="adamw", optimizer__weight_decay=0.2,
                         optimizer__param_groups=[("layers.0.*", {"lr": 1e-4})], max_iter=2,
                         random_state=0).fit(X, y.astype(float))
    assert [g["lr"] for g in adamw.optimizer_.param_groups] == [1e-4, 1e-3]
    assert {g["weight_decay"] for g in adamw.optimizer_.param_groups} == {0.2}


def test_mlp_optimizer_option_in_grid_search():
    X, y = data()
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(8,), solver="adamw", max_iter=5,
                                        random_state=0),
                          {"optimizer__weight_decay": [0.0, 0.1]}, cv=2).fit(X, y)
    assert search.best_params_["optimizer__weight_decay"] in (0.0, 0.1)
    assert search.best_estimator_.optimizer_.param_groups[0]["weight_decay"] == \
        search.best_params_["optimizer__weight_decay"]


@pytest.mark.parametrize("kwargs, match", [
    ({"optimizer__momentumm": 0.5, "solver": "sgd"}, "does not take .'momentumm'."),
    ({"optimizer__weight_decay": 0.1, "solver": "lbfgs"}, "solver='lbfgs'"),
    ({"optimizer__no_decay_bias_and_norm": "yes"}, "must be True or False"),
    ({"foo": 1}, "unexpected arguments .'foo'."),
    ({"noise": {"std": 0.1}, "solver": "lbfgs"}, "noise needs a stochastic solver"),
])
def test_mlp_bad_routed_options(kwargs, match):
    X, y = data()
    with pytest.raises(ValueError, match=match):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, **kwargs).fit(X, y)


# -- noise -----------------------------------------------------------------------------------
@pytest.mark.parametrize("noise, expected", [
    (0.2, NoiseSpec(0.2, "inputs", 1.0)),
    ({"std": 0.1, "on": "weights", "decay": 0.5}, NoiseSpec(0.1, "weights", 0.5)),
    ({"std": 0, "on": "activations"}, NoiseSpec(0.0, "activations", 1.0)),
])
def test_parse_noise(noise, expected):
    assert parse_noise(noise) == expected


@pytest.mark.parametrize("noise, match", [
    (-0.1, "noise must be >= 0"),
    ("0.1", "noise must be a float"),
    ({"sd": 0.1}, "unknown keys"),
    ({"on": "inputs"}, "needs a 'std'"),
    ({"std": 0.1, "on": "biases"}, "noise\\['on'\\] must be one of"),
    ({"std": 0.1, "decay": 0.0}, "noise\\['decay'\\] must be in"),
    ({"std": float("nan")}, "noise\\['std'\\]"),
])
def test_bad_noise_is_rejected_at_fit(noise, match):
    X, y = data()
    with pytest.raises(ValueError, match=match):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, noise=noise).fit(X, y)


def test_weight_noise_is_removed_after_each_step():
    # With a zero learning rate the weights never move: whatever noise was added
    # for a step must be taken off again.
    X, y = data()
    params = dict(hidden_layer_sizes=(8,), solver="sgd", optimizer__lr=0.0, max_iter=3,
                  random_state=0, dtype="float64")
    clean = MLPClassifier(**params).fit(X, y)
    noisy = MLPClassifier(noise={"std": 0.5, "on": "weights"}, **params).fit(X, y)
    for a, b in zip(clean.coefs_, noisy.coefs_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert noisy.loss_curve_ != clean.loss_curve_  # the loss was taken at noisy weights


def test_weight_and_input_noise_change_training_and_are_seeded():
    X, y = data()
    base = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    clean = MLPClassifier(**base).fit(X, y).coefs_[0]
    for noise in (0.3, {"std": 0.3, "on": "weights", "decay": 0.9}):
        first = MLPClassifier(noise=noise, **base).fit(X, y).coefs_[0]
        second = MLPClassifier(noise=noise, **base).fit(X, y).coefs_[0]
        np.testing.assert_array_equal(first, second)
        assert not np.allclose(first, clean)


def test_activation_noise_layers_decay_per_epoch_and_are_off_in_predict():
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(8, 8), max_iter=4, random_state=0,
                          noise={"std": 0.4, "on": "activations", "decay": 0.5})
    with pytest.warns(Warning):
        model.fit(X, y)
    layers = [m for m in model.module_.modules() if isinstance(m, nn.GaussianNoise)]
    assert len(layers) == 2
    assert all(layer.std == pytest.approx(0.4 * 0.5 ** 3) for layer in layers)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))
    out = model.module_(Tensor(X[:5])).data  # eval mode after fit: no noise
    np.testing.assert_array_equal(out, model.module_(Tensor(X[:5])).data)


def test_activation_noise_needs_an_estimator_that_builds_its_network():
    X, y = data()
    with pytest.raises(ValueError, match="nn.GaussianNoise layers in your module"):
        NeuralNetClassifier(TinyNet, noise={"std": 0.1, "on": "activations"},
                            max_iter=1).fit(X, y)
