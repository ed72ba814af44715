"""Our gradient attributions against captum's on the same network, copied into
PyTorch (float64). Skips without torch and captum (the benchmark environment
has both)."""

import warnings

import numpy as np
import pytest

from sklears_neural import CNNClassifier, MLPClassifier
from sklears_neural.inspection import (
    deeplift,
    grad_cam,
    guided_backprop,
    input_x_gradient,
    integrated_gradients,
    layer_activations,
    layer_integrated_gradients,
    lrp,
    saliency,
)

torch = pytest.importorskip("torch", reason="the comparison needs PyTorch (a peer, not a "
                                            "dependency)")
attr = pytest.importorskip("captum.attr", reason="the comparison needs captum")


def _tensor(array):
    return torch.from_numpy(np.array(array, dtype=np.float64))


def _copy(torch_layer, our_layer):
    torch_layer.weight.data = _tensor(our_layer.weight.data)
    torch_layer.bias.data = _tensor(our_layer.bias.data)


def _data(seed=0, n=60, features=16):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    return X, (X[:, :4].sum(axis=1) > 0).astype(int) + (X[:, 4:8].sum(axis=1) > 0)


def _mlp_pair():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = MLPClassifier(hidden_layer_sizes=(12,), max_iter=30, dtype="float64",
                             random_state=0).fit(X, y)
    hidden, out = ours.module_.layers[0], ours.module_.layers[1]
    theirs = torch.nn.Sequential(torch.nn.Linear(16, 12), torch.nn.ReLU(),
                                 torch.nn.Linear(12, 3)).double()
    _copy(theirs[0], hidden)
    _copy(theirs[2], out)
    return ours, theirs, X


def _cnn_pair(pooling="max"):
    X, y = _data(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = CNNClassifier(input_shape=(1, 4, 4), conv_layers=((3, 3),), hidden_layer_sizes=(),
                             pooling=pooling, batch_norm=False, max_iter=20, dtype="float64",
                             random_state=0).fit(X, y)
    conv, linear = ours.module_.layers[1], ours.module_.layers[5]
    pool = (torch.nn.MaxPool2d(2, ceil_mode=True) if pooling == "max"
            else torch.nn.AvgPool2d(2, ceil_mode=True))
    theirs = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 4, 4)), torch.nn.Conv2d(1, 3, 3, padding="same"),
        torch.nn.ReLU(), pool, torch.nn.Flatten(), torch.nn.Linear(12, 3)).double()
    _copy(theirs[1], conv)
    _copy(theirs[5], linear)
    return ours, theirs, X


@pytest.mark.parametrize("pair", [_mlp_pair, _cnn_pair], ids=["mlp", "cnn"])
def test_saliency_input_x_gradient_and_integrated_gradients_match_captum(pair):
    ours, theirs, X = pair()
    x = X[:8]
    np.testing.assert_allclose(torch.softmax(theirs(_tensor(x)), 1).detach().numpy(),
                               ours.predict_proba(x), atol=1e-12)
    target = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    expected = {
        "saliency": attr.Saliency(theirs).attribute(_tensor(x), target=target.tolist()),
        "input_x_gradient": attr.InputXGradient(theirs).attribute(_tensor(x),
                                                                  target=target.tolist()),
    }
    got = {"saliency": saliency(ours, x, target=target).values,
           "input_x_gradient": input_x_gradient(ours, x, target=target).values}
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name].detach().numpy(), atol=1e-5,
                                   err_msg=name)
    baseline = np.full(16, 0.25)
    for method in ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
                   "riemann_trapezoid"):
        theirs_ig, delta = attr.IntegratedGradients(theirs).attribute(
            _tensor(x), baselines=_tensor(baseline[None].repeat(8, 0)), target=target.tolist(),
            n_steps=50, method=method, return_convergence_delta=True)
        ours_ig = integrated_gradients(ours, x, target=target, baseline=baseline, n_steps=50,
                                       method=method)
        theirs_ig = theirs_ig.detach().numpy()
        if method == "riemann_trapezoid":  # captum's weights sum to (n - 1) / n, ours to 1
            theirs_ig = theirs_ig * 50 / 49
        else:
            np.testing.assert_allclose(ours_ig.delta, delta.detach().numpy(), atol=1e-5)
        np.testing.assert_allclose(ours_ig.values, theirs_ig, atol=1e-5, err_msg=method)


def test_grad_cam_and_layer_integrated_gradients_match_captum():
    ours, theirs, X = _cnn_pair()
    x, target = X[:6], [0, 1, 2, 2, 1, 0]
    conv_ours, conv_theirs = ours.module_.layers[1], theirs[1]
    cam = grad_cam(ours, x, target=np.array(target), layer=conv_ours, upsample=False)
    expected = attr.LayerGradCam(theirs, conv_theirs).attribute(
        _tensor(x), target=target, relu_attributions=True)
    np.testing.assert_allclose(cam.values, expected.detach().numpy()[:, 0], atol=1e-5)
    for layer_ours, layer_theirs in ((conv_ours, conv_theirs),
                                     (ours.module_.layers[5], theirs[5])):
        got = layer_integrated_gradients(ours, x, np.array(target), layer=layer_ours,
                                         n_steps=40)
        want, delta = attr.LayerIntegratedGradients(theirs, layer_theirs).attribute(
            _tensor(x), target=target, n_steps=40, return_convergence_delta=True)
        np.testing.assert_allclose(got.values, want.detach().numpy(), atol=1e-5)
        np.testing.assert_allclose(got.delta, delta.detach().numpy(), atol=1e-5)
    activations = layer_activations(ours, x, "layers.1")
    np.testing.assert_allclose(activations, conv_theirs(theirs[0](_tensor(x))).detach().numpy(),
                               atol=1e-10)


def _without_reshape_modules(sequential):
    """The same network with its reshapes done in forward, not by modules: captum's LRP
    hooks every module, and a hook on a reshape breaks its backward pass."""

    class Network(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = torch.nn.ModuleList(
                [m for m in sequential if not isinstance(m, (torch.nn.Unflatten,
                                                                 torch.nn.Flatten))])
            self.kinds = [type(m) for m in sequential]

        def forward(self, x):
            steps = iter(self.steps)
            for kind in self.kinds:
                if kind is torch.nn.Unflatten:
                    x = x.reshape(len(x), 1, 4, 4)
                elif kind is torch.nn.Flatten:
                    x = x.flatten(1)
                else:
                    x = next(steps)(x)
            return x

    return Network().double()


def _avg_cnn_pair():
    return _cnn_pair("avg")


@pytest.mark.parametrize("pair", [_mlp_pair, _cnn_pair, _avg_cnn_pair],
                         ids=["mlp", "cnn", "cnn-avg-pool"])
def test_guided_backprop_deeplift_and_lrp_match_captum(pair):
    ours, theirs, X = pair()
    x, target = X[:6], [0, 1, 2, 2, 1, 0]
    baseline = np.full(16, -0.1)
    theirs_lrp = attr.LRP(_without_reshape_modules(theirs)).attribute(
        _tensor(x), target=target)
    checks = {
        "guided_backprop": (guided_backprop(ours, x, np.array(target)).values,
                            attr.GuidedBackprop(theirs).attribute(_tensor(x), target=target)),
        "lrp": (lrp(ours, x, np.array(target)).values, theirs_lrp),
    }
    ours_dl = deeplift(ours, x, np.array(target), baseline=baseline)
    np.testing.assert_allclose(ours_dl.delta, 0.0, atol=1e-10)
    if pair is not _cnn_pair:
        # At max pooling captum 0.9 passes the plain gradient here, and its attributions
        # miss the change of output (by up to 0.04 on this network); ours split each
        # window's change between the two maxima and sum to it (delta above).
        checks["deeplift"] = (ours_dl.values, attr.DeepLift(theirs).attribute(
            _tensor(x), baselines=_tensor(np.tile(baseline, (6, 1))), target=target))
    for name, (got, want) in checks.items():
        np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-5, err_msg=name)
    from captum.attr._utils import lrp_rules

    for rule, captum_rule in (("gamma", lrp_rules.GammaRule),
                              ("alpha1_beta0", lrp_rules.Alpha1_Beta0_Rule)):
        network = _without_reshape_modules(theirs)
        for layer in network.steps:
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
                layer.rule = captum_rule()
        want = attr.LRP(network).attribute(_tensor(x), target=target).detach().numpy()
        got = lrp(ours, x, np.array(target), rule=rule).values
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=rule)
