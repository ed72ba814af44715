"""Layer-level explanations: activations, Grad-CAM, layer integrated gradients."""

import numpy as np
import pytest

from sklears_neural import CNN1DClassifier, CNNClassifier, MLPClassifier
from sklears_neural.inspection import (
    grad_cam,
    layer_activations,
    layer_integrated_gradients,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _mlp(rng):
    X, y = rng.normal(size=(60, 5)), rng.integers(0, 3, 60)
    return MLPClassifier(hidden_layer_sizes=(7,), max_iter=20, dtype="float64",
                         random_state=0).fit(X, y), X


def test_layer_activations_are_the_layers_output(rng):
    model, X = _mlp(rng)
    hidden = model.module_.layers[0]
    expected = np.maximum(X[:4] @ np.asarray(hidden.weight.data).T
                          + np.asarray(hidden.bias.data), 0)
    np.testing.assert_allclose(layer_activations(model, X[:4], "layers.0"), expected)
    np.testing.assert_allclose(layer_activations(model, X[:4], hidden, batch_size=3), expected)


def test_layer_integrated_gradients_are_complete(rng):
    model, X = _mlp(rng)
    result = layer_integrated_gradients(model, X[:5], target=1, layer="layers.0", n_steps=200)
    assert result.values.shape == (5, 7)
    assert result.space == "layer output"
    # from the hidden layer on, the network is affine: the path integral is exact
    np.testing.assert_allclose(result.delta, 0.0, atol=1e-10)
    at_itself = layer_integrated_gradients(model, X[:2], target=1, layer="layers.0",
                                          baseline=X[:2])
    assert not at_itself.values.any()


def test_grad_cam_maps_cover_the_input_positions(rng):
    images, labels = rng.normal(size=(40, 8, 8)), rng.integers(0, 2, 40)
    cnn = CNNClassifier(max_iter=2, random_state=0).fit(images, labels)
    cam = grad_cam(cnn, images[:3])
    assert cam.values.shape == (3, 8, 8) and cam.space == "input positions"
    assert (cam.values >= 0).all()
    small = grad_cam(cnn, images[:3], upsample=False, relu=False)
    assert small.values.shape == (3, 4, 4)  # the last convolution works after one pooling
    np.testing.assert_array_equal(np.maximum(small.values, 0),
                                  grad_cam(cnn, images[:3], upsample=False).values)
    signals = rng.normal(size=(20, 2, 30))
    cnn1d = CNN1DClassifier(max_iter=2, random_state=0).fit(signals, labels[:20])
    assert grad_cam(cnn1d, signals[:2]).values.shape == (2, 30)  # the Inception blocks


def test_layer_errors_name_the_problem(rng):
    model, X = _mlp(rng)
    with pytest.raises(ValueError, match="grad_cam needs a convolutional network"):
        grad_cam(model, X[:2])
    with pytest.raises(ValueError, match=r"layer 'layers.9' is not a layer.*'layers.0'"):
        layer_activations(model, X[:2], "layers.9")
    other, _ = _mlp(np.random.default_rng(5))
    with pytest.raises(ValueError, match="is not a layer of the fitted module_"):
        layer_activations(model, X[:2], other.module_.layers[0])
