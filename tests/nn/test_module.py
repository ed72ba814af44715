import pickle
from collections import OrderedDict

import numpy as np
import pytest

from sklears_neural import nn
from sklears_neural.autograd import Tensor, gradcheck


def small_net(seed=0, dtype=None):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(4, 8, activation="relu", generator=rng, dtype=dtype),
        nn.BatchNorm1d(8, dtype=dtype),
        nn.Dropout(0.5, generator=seed),
        nn.Linear(8, 3, generator=rng, dtype=dtype),
    )


def test_parameters_are_registered_in_order():
    net = small_net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert len(list(net.parameters())) == 6
    assert [type(m).__name__ for m in net.children()] == ["Linear", "BatchNorm1d", "Dropout", "Linear"]
    assert len(list(net.modules())) == 5
    assert [name for name, _ in net.named_buffers()] == ["1.running_mean", "1.running_var"]


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(3, 3)
    net = nn.Sequential(layer, layer)
    assert len(list(net.parameters())) == 2


def test_train_and_eval_propagate():
    net = small_net()
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_dropout_and_batchnorm_follow_the_mode():
    net = small_net()
    x = Tensor(np.random.default_rng(1).standard_normal((16, 4)).astype(np.float32))
    net.eval()
    first, second = net(x).data, net(x).data
    np.testing.assert_array_equal(first, second)  # eval is deterministic
    net.train()
    assert not np.array_equal(net(x).data, first)  # dropout active


def test_state_dict_round_trip_and_pickle():
    source, target = small_net(seed=0), small_net(seed=1)
    source.train()
    source(Tensor(np.random.default_rng(2).standard_normal((10, 4)).astype(np.float32)))
    state = pickle.loads(pickle.dumps(source.state_dict()))
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                          "1.running_var", "3.weight", "3.bias"}
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    # the state dict holds copies, not the live arrays
    state["0.weight"][...] = 0
    assert np.abs(target[0].weight.data).sum() > 0


def test_load_state_dict_checks_keys_and_shapes():
    net = small_net()
    state = net.state_dict()
    del state["0.bias"]
    with pytest.raises(KeyError, match="0.bias"):
        net.load_state_dict(state)
    net.load_state_dict(state, strict=False)
    state = net.state_dict()
    state["0.weight"] = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match=r"0.weight.*\(2, 2\).*\(8, 4\)"):
        net.load_state_dict(state)


def test_repr_lists_layers():
    text = repr(small_net())
    assert "(0): Linear(in_features=4, out_features=8, bias=True, activation='relu')" in text
    assert "(1): BatchNorm1d(8" in text and "(2): Dropout(p=0.5)" in text


def test_linear_init_is_seeded_and_bounded():
    a, b = nn.Linear(50, 20, generator=3), nn.Linear(50, 20, generator=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.dtype == np.float32
    bound = 1 / np.sqrt(50)
    assert np.abs(a.weight.data).max() <= bound
    assert np.abs(a.weight.data).max() > 0.9 * bound
    assert nn.Linear(5, 2, bias=False).bias is None
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.Linear(2, 2, activation="swishy")


def test_to_changes_dtype_in_place():
    net = small_net().to(dtype="float64")
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == np.float64


def test_sequential_indexing_and_ordered_dict():
    net = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert isinstance(net[0], nn.Linear) and isinstance(net[-1], nn.Tanh)
    assert len(net[:1]) == 1
    assert net.hidden is net[0]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.Linear(2, 2), "relu")


def test_module_gradients_flow_through_a_whole_network():
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Linear(3, 4, activation="tanh", generator=rng, dtype="float64"),
                        nn.LayerNorm(4, dtype="float64"),
                        nn.Linear(4, 2, generator=rng, dtype="float64"))
    params = list(net.parameters())
    x = Tensor(rng.standard_normal((5, 3)))
    assert gradcheck(lambda *p: net(x), params)


@pytest.mark.parametrize("module, reference", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.Softplus(beta=2.0), lambda x: np.logaddexp(0, 2 * x) / 2),
    (nn.Identity(), lambda x: x),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
])
def test_activation_modules(module, reference):
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(module(Tensor(x)).data, reference(x), rtol=1e-10)


@pytest.mark.parametrize("loss, functional_name", [
    (nn.MSELoss(), "mse_loss"), (nn.L1Loss(), "l1_loss"), (nn.HuberLoss(delta=0.5), "huber_loss"),
    (nn.BCEWithLogitsLoss(), "binary_cross_entropy_with_logits"), (nn.PoissonNLLLoss(), "poisson_nll_loss"),
])
def test_loss_modules_delegate(loss, functional_name):
    rng = np.random.default_rng(0)
    x, t = Tensor(rng.standard_normal((4, 2))), rng.uniform(0, 1, (4, 2))
    kwargs = {"delta": 0.5} if functional_name == "huber_loss" else {}
    expected = getattr(nn.functional, functional_name)(x, t, **kwargs)
    np.testing.assert_allclose(loss(x, t).item(), expected.item())
    with pytest.raises(ValueError, match="reduction"):
        type(loss)(reduction="average")


def test_cross_entropy_module_options():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)))
    y = np.array([0, 1, 2, 1])
    loss = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 3.0]), label_smoothing=0.1)
    assert loss(x, y).item() == pytest.approx(
        nn.functional.cross_entropy(x, y, np.array([1.0, 2.0, 3.0]), label_smoothing=0.1).item())
