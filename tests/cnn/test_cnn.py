"""CNN estimators: input layouts, accuracy on real bundled data, augmentation, the shared base."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklears_neural import CNN1DClassifier, CNN1DRegressor, CNNClassifier, CNNRegressor, nn
from sklears_neural.cnn import Augmenter
from sklears_neural.nn import functional as F

SMALL = dict(conv_layers=((4, 3),), hidden_layer_sizes=(8,), max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


# -- accuracy on real data --------------------------------------------------------------
@pytest.mark.slow
def test_digits_accuracy_with_defaults(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X.reshape(-1, 8, 8), y, test_size=0.25, stratify=y, random_state=0)
    model = CNNClassifier(random_state=0).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.985


@pytest.mark.slow
def test_gunpoint_accuracy():
    datasets = pytest.importorskip(
        "aeon.datasets", reason="aeon (in the [test] extra) ships the UCR GunPoint data")
    X_train, y_train = datasets.load_gunpoint(split="train")
    X_test, y_test = datasets.load_gunpoint(split="test")
    assert X_train.shape == (50, 1, 150)  # the official split
    # The defaults (Inception, 100 cosine epochs); one thread, so that the result does
    # not depend on how many CPUs are free (0.987 at 1 thread, 0.980 at 2).
    model = CNN1DClassifier(random_state=0, n_threads=1)
    assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.98


@pytest.mark.slow
def test_italy_power_demand_accuracy():
    datasets = pytest.importorskip(
        "aeon.datasets", reason="aeon (in the [test] extra) ships the UCR ItalyPowerDemand data")
    X_train, y_train = datasets.load_classification("ItalyPowerDemand", split="train")
    X_test, y_test = datasets.load_classification("ItalyPowerDemand", split="test")
    assert X_train.shape == (67, 1, 24)  # the official split
    model = CNN1DClassifier(random_state=0, n_threads=1)  # 0.970 (and at 2 threads)
    assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.96


# -- input layouts --------------------------------------------------------------------------
def test_image_layouts_give_identical_models(digits):
    X, y = digits
    X, y = X[:200], y[:200]
    flat = CNNClassifier(input_shape=(1, 8, 8), **SMALL).fit(X, y)
    three_d = CNNClassifier(**SMALL).fit(X.reshape(-1, 8, 8), y)
    four_d = CNNClassifier(**SMALL).fit(X.reshape(-1, 1, 8, 8), y)
    inferred = CNNClassifier(input_shape=(8, -1), **SMALL).fit(X, y)
    expected = flat.predict_proba(X)
    for model, X_in in ((three_d, X.reshape(-1, 8, 8)), (four_d, X.reshape(-1, 1, 8, 8)),
                        (inferred, X)):
        assert model.input_shape_ == (1, 8, 8)
        np.testing.assert_array_equal(model.predict_proba(X_in), expected)
    # a model fitted on images predicts flat rows of the same size, and vice versa
    np.testing.assert_array_equal(four_d.predict_proba(X), expected)
    np.testing.assert_array_equal(flat.predict_proba(X.reshape(-1, 1, 8, 8)), expected)


def test_multichannel_images_and_signals():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3, 6, 5)).astype(np.float32)
    y = (X[:, 0].mean(axis=(1, 2)) > 0).astype(int)
    model = CNNClassifier(**SMALL).fit(X, y)
    assert model.input_shape_ == (3, 6, 5) and model.n_features_in_ == 90
    assert model.predict(X).shape == (40,)
    S = rng.normal(size=(30, 2, 17))
    signal = CNN1DRegressor(**SMALL).fit(S, S[:, 0].mean(axis=1))
    assert signal.input_shape_ == (2, 17) and signal.predict(S).shape == (30,)
    flat = CNN1DClassifier(**SMALL).fit(S[:, 0], y[:30])
    assert flat.input_shape_ == (1, 17)  # a flat row is one univariate signal


@pytest.mark.parametrize("kwargs, X_shape, match", [
    ({"input_shape": (1, 8, 9)}, (10, 64), "holds 72 values per sample but X has 64 features"),
    ({"input_shape": (3, -1, 5)}, (10, 64), "cannot hold the 64 features"),
    ({"input_shape": (1, 4, 16)}, (10, 8, 8), "contradicts X, whose samples have shape"),
    ({"input_shape": (8, 8, 1, 1)}, (10, 64), "input_shape must be a tuple"),
    ({"input_shape": (-1, -1)}, (10, 64), "input_shape must be a tuple"),
    ({}, (10, 64), "pass input_shape=\\(C, H, W\\)"),
    ({}, (10, 1, 2, 8, 4), "X has 5 dimensions"),
])
def test_bad_input_shapes_are_caught_at_fit(kwargs, X_shape, match):
    X = np.zeros(X_shape, dtype=np.float32)
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match=match):
        CNNClassifier(**kwargs, **SMALL).fit(X, y)


def test_predict_checks_the_sample_shape(digits):
    X, y = digits
    model = CNNClassifier(**SMALL).fit(X[:50].reshape(-1, 8, 8), y[:50])
    with pytest.raises(ValueError, match="the model was fitted on \\(1, 8, 8\\)"):
        model.predict(X[:5].reshape(-1, 1, 4, 16))
    with pytest.raises(ValueError, match="expecting 64 features"):
        model.predict(X[:5, :60])


def test_image_smaller_than_kernel_names_the_layer():
    X = np.zeros((6, 1, 2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="Conv2d\\(1, 4, kernel_size=\\(5, 5\\).*kernel"):
        CNNClassifier(module=nn.Conv2d(1, 4, 5), max_iter=1).fit(X, np.arange(6) % 2)


# -- scikit-learn integration -------------------------------------------------------------
def test_pipeline_grid_search_and_joblib(digits, tmp_path):
    X, y = digits
    X, y = X[:240], y[:240]
    pipe = make_pipeline(StandardScaler(), CNNClassifier(input_shape=(1, 8, 8), **SMALL))
    search = GridSearchCV(pipe, {"cnnclassifier__pooling": ["max", "avg"]}, cv=2).fit(X, y)
    assert search.best_params_["cnnclassifier__pooling"] in ("max", "avg")
    path = tmp_path / "cnn.joblib"
    joblib.dump(search.best_estimator_, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), search.best_estimator_.predict_proba(X))


def test_partial_fit_and_warm_start_continue_training(digits):
    X, y = digits
    X = X[:200].reshape(-1, 8, 8)
    model = CNNClassifier(**SMALL)
    model.partial_fit(X, y[:200], classes=np.arange(10))
    model.partial_fit(X, y[:200])
    assert model.n_iter_ == 2
    warm = CNNClassifier(warm_start=True, **SMALL).fit(X, y[:200])
    first = warm.loss_curve_[-1]
    warm.fit(X, y[:200])
    assert warm.n_iter_ == 4 and warm.loss_curve_[-1] < first


def test_regressor_learns_a_smooth_image_statistic():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 1, 6, 6)).astype(np.float32)
    y = X[:, 0, 1:4, 1:4].mean(axis=(1, 2))
    model = CNNRegressor(conv_layers=((8, 3),), hidden_layer_sizes=(16,), max_iter=40,
                         lr=3e-3, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.8


def test_custom_module_receives_images():
    seen = []

    class Net(nn.Module):
        def __init__(self, in_channels, n_outputs, generator=None):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, 4, 3, padding=1, generator=generator)
            self.head = nn.Linear(4, n_outputs, generator=generator)

        def forward(self, x):
            seen.append(tuple(x.shape[1:]))
            pooled = F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1)
            return self.head(pooled.reshape(x.shape[0], 4))

    X = np.random.default_rng(0).normal(size=(20, 2, 5, 5)).astype(np.float32)
    model = CNNClassifier(module=Net, max_iter=1, random_state=0).fit(X, np.arange(20) % 3)
    assert set(seen) == {(2, 5, 5)} and model.predict(X).shape == (20,)


@pytest.mark.parametrize("kwargs, match", [
    ({"conv_layers": [(8,)]}, "conv_layers must be a list of \\(filters, kernel_size\\)"),
    ({"conv_layers": 8}, "conv_layers must be a list"),
    ({"pooling": "min"}, "pooling must be"),
    ({"global_pool": "sum"}, "global_pool must be"),
    ({"activation": "swish2"}, "activation"),
    ({"lr": -1.0}, "lr"),
    ({"optimizer": "adamm"}, "optimizer must be one of"),
    ({"augment": {"zoom": 2}}, "unknown keys"),
    ({"augment": {"flip": "diagonal"}}, "augment\\['flip'\\]"),
    ({"augment": {"shift": -1}}, "augment\\['shift'\\]"),
    ({"module": "resnet"}, "module must be None"),
    ({"foo": 1}, "unexpected arguments"),
])
def test_bad_parameters_raise_at_fit(kwargs, match):
    X = np.zeros((8, 1, 4, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        CNNClassifier(**{**SMALL, **kwargs}).fit(X, np.arange(8) % 2)


def test_rotation_needs_images():
    with pytest.raises(ValueError, match="rotation and vertical flips need images"):
        CNN1DClassifier(augment={"rotation": 10}, **SMALL).fit(np.zeros((8, 12)),
                                                               np.arange(8) % 2)


# -- augmentation --------------------------------------------------------------------------
def test_augmenter_transforms():
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(64, 2, 5, 6)).astype(np.float32)
    flipped = Augmenter(flip="horizontal")(batch, np.random.default_rng(1))
    same = np.all(flipped == batch, axis=(1, 2, 3))
    mirrored = np.all(flipped == batch[..., ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored) and 10 < same.sum() < 54
    shifted = Augmenter(shift=1)(batch, np.random.default_rng(2))
    for original, out in zip(batch, shifted):  # each sample is a translate by <= 1 pixel
        matches = [np.array_equal(out, _translate_reference(original, dy, dx))
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        assert any(matches)
    rotated = Augmenter(rotation=90)(batch, np.random.default_rng(3))
    assert rotated.shape == batch.shape and rotated.dtype == batch.dtype
    noisy = Augmenter(noise=0.5)(batch, np.random.default_rng(4))
    assert 0.4 < np.std(noisy - batch) < 0.6


def _translate_reference(sample, dy, dx):
    padded = np.pad(sample, ((0, 0), (1, 1), (1, 1)))
    h, w = sample.shape[1:]
    return padded[:, 1 - dy:1 - dy + h, 1 - dx:1 - dx + w]


def test_augmentation_is_seeded_and_only_in_training(digits):
    X, y = digits
    X, y = X[:120].reshape(-1, 8, 8), y[:120]
    kwargs = dict(SMALL, augment={"shift": 1, "flip": "horizontal", "noise": 0.1})
    first = CNNClassifier(**kwargs).fit(X, y)
    second = CNNClassifier(**kwargs).fit(X, y)
    plain = CNNClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert not np.allclose(first.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_array_equal(first.predict_proba(X), first.predict_proba(X))
