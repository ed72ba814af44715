"""Forecasting: ``RNNForecaster`` at its defaults against statsmodels' ETS and
ARIMA and a seasonal-naive forecast, on the univariate series bundled with
aeon and statsmodels.

    python -m benchmarks.forecasting

Each series is split into a training part and a held-out tail of ``h``
steps; every method fits the training part and forecasts the whole tail at
once (no refits). The table gives sMAPE (in %) and MASE (the tail's mean
absolute error over the in-sample mean absolute error of the seasonal-naive
forecast with period ``m``) and the fit time. The statistical forecasters
are what a user would try first: ETS with additive error, trend and season
(``ETSModel``, seasonal period ``m``) and ARIMA(1, 1, 1), both as statsmodels
fits them by default. Needs aeon and statsmodels (the ``[test]`` extra).
"""

import time
import warnings

import numpy as np

# name -> (loader, seasonal period m, held-out steps h)
SERIES = {
    "airline (monthly)": ("aeon", "load_airline", 12, 24),
    "lynx (yearly)": ("aeon", "load_lynx", 10, 14),
    "shampoo sales (monthly)": ("aeon", "load_shampoo_sales", 12, 12),
    "sunspots (yearly)": ("statsmodels", "sunspots", 11, 22),
}


def load(source, name):
    """One bundled series as a float64 array, oldest first."""
    if source == "aeon":
        import aeon.datasets

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # aeon deprecates two of these loaders
            return np.asarray(getattr(aeon.datasets, name)(), dtype=np.float64).ravel()
    import statsmodels.datasets

    return statsmodels.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)


def smape(y, f):
    """Symmetric mean absolute percentage error, in %."""
    return float(np.mean(2 * np.abs(y - f) / (np.abs(y) + np.abs(f) + 1e-12)) * 100)


def mase(y, f, train, m):
    """Mean absolute error over that of the in-sample seasonal-naive forecast."""
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(y - f)) / scale)


def _seasonal_naive(train, h, m):
    return np.resize(train[-m:], h)


def _ets(train, h, m):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    fit = ETSModel(train, error="add", trend="add", seasonal="add",
                   seasonal_periods=m).fit(disp=False)
    return np.asarray(fit.forecast(h))


def _arima(train, h, m):
    from statsmodels.tsa.arima.model import ARIMA

    return np.asarray(ARIMA(train, order=(1, 1, 1)).fit().forecast(h))


def _ours(train, h, m):
    from sklears_neural import RNNForecaster

    return RNNForecaster(random_state=0).fit(train).predict(h)


METHODS = {"seasonal naive": _seasonal_naive, "statsmodels ETS (A,A,A)": _ets,
           "statsmodels ARIMA(1,1,1)": _arima, "RNNForecaster()": _ours}


def run():
    """Every method on every series; returns the rows."""
    rows = []
    for label, (source, name, m, h) in SERIES.items():
        y = load(source, name)
        train, test = y[:-h], y[-h:]
        for method, forecast in METHODS.items():
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = np.asarray(forecast(train, h, m), dtype=float).ravel()
                error = None
            except Exception as exc:  # reported in the table, not raised
                f, error = None, f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - start
            rows.append((label, len(train), h, m, method, f, test, train, seconds, error))
            shown = error or f"sMAPE {smape(test, f):6.2f}  MASE {mase(test, f, train, m):5.2f}"
            print(f"  {label:24s} {method:26s} {shown}  ({seconds:.1f} s)", flush=True)
    return rows


def render(rows):
    """The plain-text table."""
    lines = [f"{'series':24s} {'train/h/m':12s} {'method':26s} {'sMAPE %':>8s} {'MASE':>6s} "
             f"{'fit s':>6s}", "-" * 88]
    for label, n, h, m, method, f, test, train, seconds, error in rows:
        if error:
            lines.append(f"{label:24s} {n}/{h}/{m:<6} {method:26s} {error}")
            continue
        lines.append(f"{label:24s} {f'{n}/{h}/{m}':12s} {method:26s} {smape(test, f):8.2f} "
                     f"{mase(test, f, train, m):6.2f} {seconds:6.1f}")
    return "\n".join(lines)


def main():
    print(render(run()))


if __name__ == "__main__":
    main()
