"""RNNForecaster: windows, recursion, shapes and errors."""

import numpy as np
import pytest
from sklearn.base import clone

from sklears_neural.rnn import RNNForecaster


def _fast(**kw):
    return RNNForecaster(**{"hidden_size": 16, "max_iter": 40, "lr": 1e-2, "random_state": 0,
                            **kw})


def test_learns_a_sine_and_forecasts_in_original_units():
    t = np.arange(400)
    y = 50 + 10 * np.sin(t / 6)
    f = _fast(window=20, scale="series").fit(y[:300])
    assert f.mean_[0] == pytest.approx(y[:300].mean()) and f.last_window_.shape == (20, 1)
    forecast = f.predict(10)
    assert forecast.shape == (10,)
    assert np.abs(forecast - y[300:310]).max() < 2.0  # 10 recursive steps stay on the wave
    # forecasting from a longer history starts from its end
    np.testing.assert_allclose(f.predict(1, y=y[:350]), f.predict(1, y=y[330:350]))
    assert abs(f.predict(1, y=y[:350])[0] - y[350]) < 1.0


def test_direct_multi_step_and_recursion_agree_in_shape():
    y = np.sin(np.arange(200) / 4)
    f = _fast(window=12, horizon=3).fit(y)
    assert f.regressor_.n_outputs_ == 3
    assert f.predict().shape == (3,)
    full = f.predict(7)  # 3 + 3 + 1 from fed-back forecasts
    np.testing.assert_allclose(full[:3], f.predict(3), rtol=1e-6)


def test_multivariate_series():
    t = np.arange(300)
    y = np.stack([np.sin(t / 5), np.cos(t / 5)], axis=1)
    f = _fast(window=16, horizon=2).fit(y)
    out = f.predict(4)
    assert out.shape == (4, 2)
    future = np.arange(300, 304)
    expected = np.stack([np.sin(future / 5), np.cos(future / 5)], axis=1)
    assert np.abs(out - expected).max() < 0.1
    with pytest.raises(ValueError, match="fitted on 2"):
        f.predict(1, y=np.ones(40))


def test_scale_false_keeps_units():
    y = np.arange(100, dtype=float)
    f = _fast(window=5, scale=False).fit(y)
    assert f.mean_[0] == 0 and f.scale_[0] == 1


@pytest.mark.parametrize("params, y, match", [
    ({"window": 0}, np.ones(50), "window"),
    ({"horizon": 2.5}, np.ones(50), "horizon"),
    ({"window": 40, "horizon": 20}, np.ones(50), "at least 60"),
    ({}, np.r_[np.ones(49), np.nan], "NaN"),
    ({}, np.ones((50, 2, 2)), "n_timesteps"),
    ({}, np.array(["a"] * 50), "numbers"),
])
def test_bad_input(params, y, match):
    with pytest.raises(ValueError, match=match):
        RNNForecaster(**params).fit(y)


def test_predict_errors_and_clone():
    f = _fast(window=10, max_iter=1).fit(np.sin(np.arange(60)))
    with pytest.raises(ValueError, match="window=10"):
        f.predict(1, y=np.ones(5))
    with pytest.raises(ValueError, match="horizon"):
        f.predict(0)
    assert clone(f).get_params() == f.get_params()


def test_window_scale_extrapolates_a_trend():
    # a level never seen in training: relative windows keep it in range
    t = np.arange(240, dtype=float)
    y = 0.5 * t + 3 * np.sin(t / 4)
    f = _fast(window=16, scale="window").fit(y[:200])
    assert f.scale_mode_ == "window" and f.mean_[0] == 0
    assert f.scale_[0] == pytest.approx(np.diff(y[:200]).std())
    forecast = f.predict(10)
    assert np.abs(forecast - y[200:210]).max() < 3.0
    series = _fast(window=16, scale="series").fit(y[:200]).predict(10)
    assert np.abs(forecast - y[200:210]).mean() < np.abs(series - y[200:210]).mean()


def test_auto_scale_picks_the_better_normalisation_on_held_out_steps():
    t = np.arange(240, dtype=float)
    trend = _fast(window=16).fit(0.5 * t + 3 * np.sin(t / 4))
    assert trend.scale_mode_ == "window"


@pytest.mark.parametrize("scale, mode", [(True, "series"), (False, "none"),
                                         ("series", "series"), ("window", "window")])
def test_scale_settings(scale, mode):
    f = _fast(window=8, scale=scale).fit(np.sin(np.arange(60) / 3))
    assert f.scale_mode_ == mode


def test_auto_window_is_a_third_of_a_short_series():
    assert _fast().fit(np.sin(np.arange(36) / 3)).window_ == 12
    assert _fast().fit(np.sin(np.arange(300) / 3)).window_ == 24


@pytest.mark.parametrize("bad", ["log", 2, None])
def test_bad_scale_names_the_parameter(bad):
    with pytest.raises(ValueError, match="scale must be"):
        _fast(window=8, scale=bad).fit(np.sin(np.arange(60) / 3))

