"""Standardising the input of the sequence estimators (``scale``)."""

import numpy as np
import pytest

from sklears_neural.base._sequence_input import channel_statistics, scale_values
from sklears_neural.rnn import RNNClassifier, TransformerRegressor


def _padded(rng, lengths, features=2):
    values = np.zeros((len(lengths), max(lengths), features))
    for i, length in enumerate(lengths):
        values[i, :length] = rng.normal(3.0, 2.0, size=(length, features))
    return values, np.asarray(lengths)


def test_series_scaling_standardises_each_sequence_over_its_valid_steps():
    values, lengths = _padded(np.random.default_rng(0), [5, 1, 3])
    values[1, 0] = [4.0, 4.0]  # one step: centred, std taken as 1
    got = scale_values(values, lengths, "series")
    for i, length in enumerate(lengths):
        valid = values[i, :length]
        std = valid.std(axis=0)
        expected = (valid - valid.mean(axis=0)) / np.where(std > 0, std, 1.0)
        np.testing.assert_allclose(got[i, :length], expected, atol=1e-12)
        assert not got[i, length:].any(), "padding must stay zero"


def test_channel_statistics_count_valid_steps_only():
    values, lengths = _padded(np.random.default_rng(1), [4, 2, 6], features=3)
    values[:, :, 2] = np.where(np.arange(6)[None] < lengths[:, None], 7.0, 0.0)  # constant
    mean, std = channel_statistics(values, lengths)
    steps = np.concatenate([values[i, :n] for i, n in enumerate(lengths)])
    np.testing.assert_allclose(mean, steps.mean(axis=0))
    np.testing.assert_allclose(std[:2], steps.std(axis=0)[:2])
    assert std[2] == 1.0
    got = scale_values(values, lengths, "channel", (mean, std))
    np.testing.assert_allclose(np.concatenate([got[i, :n] for i, n in enumerate(lengths)]),
                               (steps - mean) / std)
    assert not got[0, 4:].any()


def _series(seed=0, n=40, steps=12):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, 2))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    return X, y


def test_series_scaling_ignores_each_series_level_and_amplitude():
    X, y = _series()
    clf = RNNClassifier(hidden_size=8, max_iter=5, scale="series", random_state=0).fit(X, y)
    gains = np.random.default_rng(1).uniform(0.5, 20, size=(len(X), 1, 2))
    moved = X * gains + 100.0
    np.testing.assert_allclose(clf.predict_proba(moved), clf.predict_proba(X), atol=1e-5)
    assert not hasattr(clf, "scale_mean_")


def test_channel_scaling_undoes_a_change_of_units():
    X, y = _series(1)
    units = np.array([1000.0, 0.01]), np.array([-50.0, 3.0])
    fitted = [TransformerRegressor(d_model=8, nhead=2, num_layers=1, max_iter=3,
                                   scale="channel", random_state=0).fit(data, y.astype(float))
              for data in (X, X * units[0] + units[1])]
    np.testing.assert_allclose(fitted[1].scale_mean_, units[1] + units[0] * fitted[0].scale_mean_)
    np.testing.assert_allclose(fitted[1].scale_std_, units[0] * fitted[0].scale_std_)
    np.testing.assert_allclose(fitted[1].predict(X * units[0] + units[1]),
                               fitted[0].predict(X), atol=1e-4)


def test_scaled_padding_never_reaches_a_valid_step():
    rng = np.random.default_rng(2)
    X = [rng.normal(5.0, 3.0, size=(length, 2)) for length in (9, 4, 6, 9, 3, 7)] * 4
    y = np.arange(len(X)) % 2
    for scale in ("series", "channel"):
        clf = RNNClassifier(hidden_size=8, max_iter=3, scale=scale, random_state=0).fit(X, y)
        together = clf.predict_proba(X[:6])
        alone = np.vstack([clf.predict_proba([x]) for x in X[:6]])
        np.testing.assert_allclose(together, alone, atol=1e-5)


def test_scale_is_checked_and_fixed_for_continued_fits():
    X, y = _series(3, n=20)
    with pytest.raises(ValueError, match="scale must be None"):
        RNNClassifier(scale="minmax", max_iter=1).fit(X, y)
    clf = RNNClassifier(hidden_size=4, max_iter=1, scale="channel", warm_start=True).fit(X, y)
    clf.set_params(scale=None)
    with pytest.raises(ValueError, match="fitted with scale='channel'"):
        clf.fit(X, y)
    clf.set_params(scale="channel", warm_start=False).fit(X, y)
    clf.set_params(scale=None).fit(X, y)
    assert not hasattr(clf, "scale_mean_")
