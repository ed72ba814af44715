"""
Forecasting the airline passengers
==================================

The monthly airline passenger series (1949-1960, aeon's bundled copy): the
last two years are held out, ``RNNForecaster()`` at its defaults learns
from the rest and forecasts 24 months, against a seasonal-naive forecast
(the same month a year before). The error is sMAPE (lower is better).
Needs aeon (the ``[demo]`` extra).
"""

import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

from sklears_neural import RNNForecaster

QUICK = os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1"  # CI: a few epochs

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # aeon deprecates this loader
    from aeon.datasets import load_airline

    series = np.asarray(load_airline(), dtype=np.float64).ravel()
horizon, season = 24, 12
train, test = series[:-horizon], series[-horizon:]
forecaster = RNNForecaster(random_state=0, **({"max_iter": 2} if QUICK else {})).fit(train)
ours = forecaster.predict(horizon)
naive = np.tile(train[-season:], horizon // season)


def smape(actual, forecast):
    return 100 * np.mean(2 * np.abs(forecast - actual) / (np.abs(actual) + np.abs(forecast)))


print(f"sMAPE: RNNForecaster {smape(test, ours):.2f}, seasonal naive {smape(test, naive):.2f}")

# %%
# The forecast
# ------------
figure, ax = plt.subplots(figsize=(9, 3.8))
months = np.arange(len(series))
ax.plot(months[:-horizon], train, color="black", label="history")
ax.plot(months[-horizon:], test, color="black", linestyle="--", label="held out")
ax.plot(months[-horizon:], ours, color="tab:orange", label="RNNForecaster()")
ax.plot(months[-horizon:], naive, color="grey", alpha=0.7, label="seasonal naive")
ax.set_xlabel("month since January 1949")
ax.set_ylabel("passengers (thousands)")
ax.legend(loc="upper left")
figure.tight_layout()
