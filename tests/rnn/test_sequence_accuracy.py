"""Accuracy on real bundled series: UCR datasets from aeon, sunspots from statsmodels."""

import numpy as np
import pytest

from sklears_neural.rnn import RNNClassifier, RNNForecaster, TransformerClassifier

pytestmark = pytest.mark.slow


def _ucr(name):
    datasets = pytest.importorskip("aeon.datasets", reason="aeon (the [test] extra) ships the "
                                   "UCR datasets")
    train = datasets.load_classification(name, split="train")
    test = datasets.load_classification(name, split="test")
    return (*train, *test)


def test_lstm_defaults_on_italy_power_demand():
    X_train, y_train, X_test, y_test = _ucr("ItalyPowerDemand")
    assert X_train.shape == (67, 1, 24)  # aeon's (n, channels, length): layout="NCT"
    model = RNNClassifier(layout="NCT", random_state=0).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.95


def test_transformer_on_italy_power_demand():
    X_train, y_train, X_test, y_test = _ucr("ItalyPowerDemand")
    # lr=3e-3: seeds 0/1/2 reach 0.971/0.971/0.965 (the default 1e-3: 0.899/0.951/0.968)
    model = TransformerClassifier(lr=3e-3, layout="NCT", random_state=0).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.95


@pytest.mark.parametrize("estimator, minimum", [(RNNClassifier, 0.93),
                                                (TransformerClassifier, 0.93)])
def test_defaults_on_gun_point(estimator, minimum):
    # patch_size="auto" reads the 150 steps as 15 patches of 10: LSTM 0.973,
    # Transformer 0.980 (seeds 1-3: 0.960/0.960/0.960 and 0.967/0.960/0.960);
    # one thread, so that the result does not depend on how many CPUs are free
    X_train, y_train, X_test, y_test = _ucr("GunPoint")
    model = estimator(layout="NCT", random_state=0, n_threads=1).fit(X_train, y_train)
    assert model.patch_size_ == 10
    assert model.score(X_test, y_test) >= minimum


def test_gru_on_gun_point():
    # a bidirectional GRU with max pooling over time (measured before patches
    # of steps were the default: seeds 0/1/2 0.96/0.94/0.95)
    X_train, y_train, X_test, y_test = _ucr("GunPoint")
    model = RNNClassifier("gru", bidirectional=True, pooling="max", lr=3e-3, max_iter=100,
                          layout="NCT", random_state=0).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.93


def test_forecaster_beats_last_value_on_sunspots():
    datasets = pytest.importorskip("statsmodels.datasets", reason="statsmodels (the [test] "
                                   "extra) ships the sunspots series")
    y = datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    split = int(0.8 * len(y))
    forecaster = RNNForecaster(window=24, random_state=0).fit(y[:split])
    # one step ahead from every point of the last 20%, knowing the past
    forecasts = np.array([forecaster.predict(1, y=y[:t])[0] for t in range(split, len(y))])
    mae = np.abs(forecasts - y[split:]).mean()
    last_value_mae = np.abs(y[split - 1:-1] - y[split:]).mean()
    assert mae < 0.8 * last_value_mae  # measured with window=24, scale="series": 15.0 vs 25.4


# (loader module, name, seasonal period, held-out steps): benchmarks/forecasting.py's series
_SERIES = [("aeon", "load_airline", 12, 24), ("aeon", "load_lynx", 10, 14),
           ("aeon", "load_shampoo_sales", 12, 12), ("statsmodels", "sunspots", 11, 22)]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # aeon deprecates two loaders
@pytest.mark.parametrize("source, name, m, h", _SERIES)
def test_default_forecaster_beats_seasonal_naive(source, name, m, h):
    if source == "aeon":
        datasets = pytest.importorskip("aeon.datasets", reason="aeon (the [test] extra) ships "
                                       "the series")
        y = np.asarray(getattr(datasets, name)(), dtype=float).ravel()
    else:
        datasets = pytest.importorskip("statsmodels.datasets", reason="statsmodels (the [test] "
                                       "extra) ships the sunspots series")
        y = datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
    train, test = y[:-h], y[-h:]
    forecast = RNNForecaster(random_state=0, n_threads=1).fit(train).predict(h)
    seasonal_naive = np.resize(train[-m:], h)
    # measured MAE ratios (ours / seasonal naive): airline 0.31, lynx 0.50, shampoo 0.58,
    # sunspots 0.75
    assert np.abs(forecast - test).mean() < 0.9 * np.abs(seasonal_naive - test).mean()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # aeon deprecates the lynx loader
def test_auto_scale_keeps_the_series_scale_for_lynx():
    # a cycle without a trend: scale="auto" must be able to choose "series"
    # (and "window" for a trend: test_forecaster.py)
    datasets = pytest.importorskip("aeon.datasets", reason="aeon (the [test] extra) ships "
                                   "the series")
    y = np.asarray(datasets.load_lynx(), dtype=float).ravel()
    assert RNNForecaster(random_state=0, n_threads=1).fit(y[:-14]).scale_mode_ == "series"
