"""The published time-series architectures of ``CNN1DClassifier`` / ``CNN1DRegressor``
(``conv_layers="fcn" | "resnet" | "inception"``)."""

import numpy as np
import pytest

from sklears_neural import CNN1DClassifier, CNN1DRegressor, CNNClassifier
from sklears_neural.autograd import Tensor
from sklears_neural.cnn._signal_nets import SIGNAL_ARCHITECTURES

# Parameter counts from the papers' layer settings, by hand, for C input
# channels and K outputs (convolutions without bias, each followed by a batch
# norm with 2 parameters per channel; a linear head with bias).
def _fcn_params(c, k):
    return (c * 128 * 8 + 256) + (128 * 256 * 5 + 512) + (256 * 128 * 3 + 256) + 128 * k + k


def _resnet_params(c, k):
    def block(c_in, f):
        body = (c_in * f * 8 + 2 * f) + (f * f * 5 + 2 * f) + (f * f * 3 + 2 * f)
        shortcut = c_in * f + 2 * f if c_in != f else 2 * f
        return body + shortcut
    return block(c, 64) + block(64, 128) + block(128, 128) + 128 * k + k


@pytest.mark.parametrize("name, count", [("fcn", _fcn_params), ("resnet", _resnet_params)])
@pytest.mark.parametrize("channels, outputs", [(1, 2), (6, 4)])
def test_parameter_counts_follow_the_papers(name, count, channels, outputs):
    net = SIGNAL_ARCHITECTURES[name]((channels, 30), outputs,
                                     generator=np.random.default_rng(0))
    assert sum(p.data.size for p in net.parameters()) == count(channels, outputs)


@pytest.mark.parametrize("name", list(SIGNAL_ARCHITECTURES))
@pytest.mark.parametrize("shape", [(1, 150), (6, 41), (3, 1)])
def test_shapes_and_gradients_reach_the_input(name, shape):
    net = SIGNAL_ARCHITECTURES[name](shape, 3, generator=np.random.default_rng(0))
    x = Tensor(np.random.default_rng(1).standard_normal((4, shape[0] * shape[1]))
               .astype(np.float32), requires_grad=True)
    y = net(x)
    assert y.shape == (4, 3)
    y.sum().backward()
    assert x.grad.shape == x.shape and np.all(np.isfinite(x.grad))
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("name", list(SIGNAL_ARCHITECTURES))
def test_estimators_fit_each_architecture(name):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 2, 20)).astype(np.float32)
    y = (X[:, 0, :10].mean(axis=1) > 0).astype(int)
    clf = CNN1DClassifier(conv_layers=name, max_iter=3, random_state=0).fit(X, y)
    assert clf.predict_proba(X).shape == (24, 2)
    reg = CNN1DRegressor(conv_layers=name, max_iter=3, random_state=0).fit(X, X[:, 1].mean(1))
    assert reg.predict(X).shape == (24,)


@pytest.mark.parametrize("setting", [{"pooling": "avg"}, {"hidden_layer_sizes": (64,)},
                                     {"dropout": 0.2}, {"batch_norm": False},
                                     {"noise": {"std": 0.1, "on": "activations"}}])
def test_block_settings_with_a_named_architecture_are_an_error(setting):
    X = np.zeros((8, 1, 12), dtype=np.float32)
    with pytest.raises(ValueError, match="published architecture"):
        CNN1DClassifier(**setting).fit(X, [0, 1] * 4)
    # the list form takes them
    CNN1DClassifier(conv_layers=((4, 3),), max_iter=1, **setting).fit(X, [0, 1] * 4)


def test_defaults_that_equal_the_block_defaults_are_accepted():
    X = np.zeros((8, 1, 12), dtype=np.float32)
    CNN1DClassifier(hidden_layer_sizes=[128], dropout=0, max_iter=1).fit(X, [0, 1] * 4)


@pytest.mark.parametrize("bad", ["vgg", "FCN"])
def test_unknown_architecture_names_the_choices(bad):
    with pytest.raises(ValueError, match="conv_layers must be one of 'fcn', 'resnet'"):
        CNN1DClassifier(conv_layers=bad).fit(np.zeros((4, 1, 8)), [0, 1, 0, 1])


def test_named_architectures_are_for_signals():
    with pytest.raises(ValueError, match="named architectures are for CNN1D"):
        CNNClassifier(conv_layers="fcn").fit(np.zeros((4, 1, 8, 8)), [0, 1, 0, 1])


def test_cosine_schedule_spans_max_iter():
    X = np.random.default_rng(0).standard_normal((16, 1, 10)).astype(np.float32)
    clf = CNN1DClassifier(max_iter=4, random_state=0).fit(X, [0, 1] * 8)
    assert clf.scheduler_.T_max == 4


# -- lists of series of different lengths --------------------------------------------------
def _series_list(rng, n, channels, lengths):
    return [rng.standard_normal((channels, int(t))).astype(np.float32)
            for t in rng.choice(lengths, size=n)]


@pytest.mark.parametrize("name", list(SIGNAL_ARCHITECTURES))
def test_a_series_predicts_the_same_alone_and_padded_in_a_batch(name):
    rng = np.random.default_rng(0)
    X = _series_list(rng, 12, 3, [9, 14, 20])
    y = [0, 1] * 6
    model = CNN1DClassifier(conv_layers=name, max_iter=2, random_state=0).fit(X, y)
    short = rng.standard_normal((3, 7)).astype(np.float32)
    batch = model.predict_proba([rng.standard_normal((3, 25)).astype(np.float32), short])
    alone = model.predict_proba([short])
    np.testing.assert_allclose(batch[1], alone[0], rtol=1e-5, atol=1e-6)


def test_series_list_and_array_of_equal_lengths_agree():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 2, 16)).astype(np.float32)
    y = [0, 1] * 5
    model = CNN1DClassifier(max_iter=2, random_state=0).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(list(X)), model.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    regressor = CNN1DRegressor(max_iter=2, random_state=0).fit(list(X), np.arange(10.0))
    assert regressor.predict(list(X)).shape == (10,)


def test_series_list_errors_name_the_fix():
    rng = np.random.default_rng(2)
    X = _series_list(rng, 6, 2, [8, 11])
    with pytest.raises(ValueError, match="named architectures"):
        CNN1DClassifier(conv_layers=((4, 3),)).fit(X, [0, 1] * 3)
    with pytest.raises(ValueError, match="augment needs equal-length"):
        CNN1DClassifier(augment={"shift": 2}).fit(X, [0, 1] * 3)
    model = CNN1DClassifier(max_iter=1, random_state=0).fit(X, [0, 1] * 3)
    with pytest.raises(ValueError, match="3 channels; the model was fitted on 2"):
        model.predict([rng.standard_normal((3, 8)), rng.standard_normal((3, 9))])


@pytest.mark.slow
def test_japanese_vowels_variable_length_multivariate():
    datasets = pytest.importorskip("aeon.datasets", reason="aeon (in the [test] extra) ships "
                                   "the UEA JapaneseVowels data")
    X_train, y_train = datasets.load_classification("JapaneseVowels", split="train")
    X_test, y_test = datasets.load_classification("JapaneseVowels", split="test")
    assert isinstance(X_train, list) and X_train[0].shape[0] == 12  # 12 channels, 7-26 steps
    model = CNN1DClassifier(random_state=0, n_threads=1).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.97  # measured 0.986 (Inception; FCN 0.992)


def test_equal_length_lists_read_as_arrays_by_every_network():
    # a list of equal-length series is a 3-D array in another form (no padding)
    X = np.random.default_rng(3).standard_normal((8, 2, 12)).astype(np.float32)
    model = CNN1DClassifier(conv_layers=((4, 3),), max_iter=1, random_state=0)
    model.fit(list(X), [0, 1] * 4)
    np.testing.assert_allclose(model.predict_proba(list(X)), model.predict_proba(X))


def test_padding_values_never_reach_valid_steps():
    # whatever the padding holds (training noise lands there), valid outputs stay
    rng = np.random.default_rng(4)
    for name, cls in SIGNAL_ARCHITECTURES.items():
        net = cls((2, 12), 3, generator=np.random.default_rng(0))
        net.eval()
        x = rng.standard_normal((2, 12, 2)).astype(np.float32)
        noisy = x.copy()
        noisy[0, 7:] = rng.standard_normal((5, 2))
        lengths = np.array([7, 12])
        clean = x.copy()
        clean[0, 7:] = 0
        a = np.asarray(net(Tensor(clean), lengths).data)
        b = np.asarray(net(Tensor(noisy), lengths).data)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=name)


def test_user_module_with_a_series_list_names_module():
    X = [np.zeros((1, 5), np.float32), np.zeros((1, 8), np.float32)]

    from sklears_neural import nn

    with pytest.raises(ValueError, match="leave module=None"):
        CNN1DClassifier(module=nn.Linear(5, 2)).fit(X, [0, 1])


def test_hidden_layer_sizes_as_an_int_equal_to_the_default_is_accepted():
    X = np.zeros((4, 1, 8), dtype=np.float32)
    CNN1DClassifier(hidden_layer_sizes=128, max_iter=1).fit(X, [0, 1, 0, 1])
