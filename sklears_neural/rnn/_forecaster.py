"""``RNNForecaster``: forecast a time series from its last ``window`` values.

A sequence-to-one model: the training series is cut into windows of
``window`` steps, each paired with the ``horizon`` steps that follow; an
``RNNRegressor`` learns that map. ``predict(h)`` forecasts the next ``h``
steps after a series, feeding forecasts back in when ``h > horizon``.
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from sklears_neural.rnn._estimators import RNNRegressor

__all__ = ["RNNForecaster"]

# window="auto": this many steps, or a third of a shorter series.
AUTO_WINDOW = 24

# Constructor arguments passed on unchanged to the RNNRegressor.
_REGRESSOR_PARAMS = ("cell", "hidden_size", "num_layers", "dropout", "optimizer", "lr",
                     "max_iter", "max_epochs", "batch_size", "alpha", "clip_grad_norm",
                     "validation_fraction",
                     "early_stopping", "n_iter_no_change", "tol", "shuffle", "random_state",
                     "device", "dtype", "verbose", "n_threads")


class RNNForecaster(BaseEstimator):
    """Recurrent sequence-to-one forecaster for univariate or multivariate series.

    Parameters
    ----------
    window : int or "auto", default="auto"
        Past steps the model reads for each forecast; "auto": 24, or a third
        of a shorter series.
    horizon : int, default=1
        Steps the model forecasts at once. ``predict`` can go further by
        feeding its forecasts back as inputs.
    cell : {"lstm", "gru", "rnn"}, default="lstm"
        The recurrent layer.
    hidden_size : int, default=32
        The number of features of the hidden state.
    num_layers : int, default=1
        The number of stacked recurrent layers.
    dropout : float, default=0.0
        Between stacked layers and before the output layer.
    scale : {"auto", "series", "window"} or bool, default="auto"
        How values are normalised for the network (forecasts are returned in
        the original units). "series" (or True): by the training mean and
        standard deviation of each series. "window": each window relative
        to its last value, divided by the standard deviation of the steps'
        changes, so that a trend or a level never seen in training
        (airline passengers) is still in range. False: raw values. "auto"
        fits both "series" and "window" on the series without its last
        ``max(horizon, min(window, n // 5))`` steps, forecasts those steps
        and keeps the one with the smaller mean absolute error (three fits
        in all). Measured
        (``benchmarks/forecasting.py``, sMAPE % on held-out tails, series
        -> window): airline 16.6 -> 4.6, shampoo 27.1 -> 16.6, sunspots 63.3
        -> 36.2, lynx 46.5 -> 61.7 (a cycle without a trend, where the
        series' own scale is the better reference); "auto" picked "window"
        for airline and "series" for the other three (against ETS: 4.6 vs
        7.1, 46.5 vs 113.7, 27.1 vs 34.8, 63.3 vs 62.4).
    optimizer : str or Optimizer subclass, default="adam"
        As for ``RNNRegressor``, which is fitted on the windows; so are the
        parameters below.
    lr : float, default=1e-3
        The learning rate.
    max_iter : int, default=100
        Epochs of one ``fit``.
    batch_size : int or "auto", default=32
        Windows per minibatch.
    alpha : float, default=0.0
        L2 penalty on the weight matrices.
    clip_grad_norm : float, default=None
        Clip the global gradient norm of every step.
    validation_fraction : float in [0, 1) or None, default=None
        Share of the windows held out and scored every epoch.
    early_stopping : bool, default=False
        Stop when the validation score stalls and restore the best weights.
    n_iter_no_change : int, default=10
        The number of epochs without improvement that stops training.
    tol : float, default=1e-4
        The improvement that counts (see ``RNNRegressor``).
    shuffle : bool, default=True
        Shuffle the windows at every epoch.
    random_state : int, RandomState or None, default=None
        Seeds initial weights, splits and shuffling.
    device : str, default="cpu"
        "cuda" / "cuda:N" trains on a GPU through CuPy.
    dtype : {"float32", "float64"}, default="float32"
        The dtype of the weights and of the computation.
    verbose : int, default=0
        1 shows a progress bar, 2 also prints every epoch.
    n_threads : int, default=None
        Limit of BLAS/OpenMP threads during fit and predict.
    max_epochs : int
        Deprecated name of ``max_iter``; it will be removed in the next release.

    Attributes
    ----------
    regressor_ : RNNRegressor
        The fitted window → next-``horizon``-steps model.
    n_series_ : int
        Number of series (columns of ``y``).
    window_ : int
        The window read (``window`` resolved).
    scale_mode_ : {"series", "window", "none"}
        The normalisation used (``scale`` resolved).
    mean_, scale_ : ndarray of shape (n_series,)
        "series": the mean and standard deviation of each series; "window":
        0 and the standard deviation of its changes; "none": 0 and 1.
    last_window_ : ndarray of shape (window\\_, n_series)
        The end of the training series, where ``predict()`` starts.

    Examples
    --------
    >>> import numpy as np
    >>> from sklears_neural.rnn import RNNForecaster
    >>> y = np.sin(np.arange(300) / 5)
    >>> f = RNNForecaster(window=20, hidden_size=16, max_iter=30, lr=1e-2, random_state=0)
    >>> f.fit(y).predict(5).shape
    (5,)
    """

    def __init__(self, window="auto", horizon=1, *, cell="lstm", hidden_size=32, num_layers=1,
                 dropout=0.0, scale="auto", optimizer="adam", lr=1e-3, max_iter=100,
                 batch_size=32, alpha=0.0, clip_grad_norm=None, validation_fraction=None,
                 early_stopping=False, n_iter_no_change=10, tol=1e-4, shuffle=True,
                 random_state=None, device="cpu", dtype="float32", verbose=0, n_threads=None,
                 max_epochs="deprecated"):
        self.window = window
        self.horizon = horizon
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.scale = scale
        self.optimizer = optimizer
        self.lr = lr
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.clip_grad_norm = clip_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose
        self.n_threads = n_threads

    def fit(self, y):
        """Learn to forecast ``y``.

        Parameters
        ----------
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
            Equally spaced observations, oldest first.

        Returns
        -------
        self : object
            The fitted forecaster.

        Raises
        ------
        ValueError
            If ``window``, ``horizon`` or ``scale`` is not one of the accepted
            values, or the series is too short for one window and its horizon.
        """
        series = self._check_series(y)
        window = self._resolve_window(len(series))
        if len(series) < window + self.horizon:
            raise ValueError(f"y has {len(series)} time steps; window={window} plus "
                             f"horizon={self.horizon} need at least {window + self.horizon}.")
        mode = self._scale_mode()
        if mode == "auto":
            mode = self._choose_scale(series, window)
        self._fit_windows(series, window, mode)
        self._univariate = np.ndim(y) == 1
        return self

    def _resolve_window(self, n_steps):
        if isinstance(self.window, str) and self.window == "auto":
            window = min(AUTO_WINDOW, max(1, n_steps // 3))
        else:
            window = self.window
        for name, value in (("window", window), ("horizon", self.horizon)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                accepted = "a positive integer" + (" or 'auto'" if name == "window" else "")
                raise ValueError(f"{name} must be {accepted}; got {getattr(self, name)!r}.")
        return int(window)

    def _scale_mode(self):
        scale = self.scale
        if isinstance(scale, (bool, np.bool_)):
            return "series" if scale else "none"
        if isinstance(scale, str) and scale in ("auto", "series", "window"):
            return scale
        raise ValueError(f"scale must be 'auto', 'series', 'window', True or False; got "
                         f"{scale!r}.")

    def _choose_scale(self, series, window):
        """"series" or "window", whichever forecasts the end of ``series`` better
        from the rest (ties, and series too short to hold any out: "series")."""
        held = max(self.horizon, min(window, len(series) // 5))
        if len(series) - held < window + self.horizon:
            return "series"
        errors = {}
        for mode in ("series", "window"):
            trial = clone(self)
            trial._fit_windows(series[:-held], window, mode)
            forecast = trial._forecast(series[:-held], held)
            errors[mode] = float(np.mean(np.abs(forecast - series[-held:])))
        return "window" if errors["window"] < errors["series"] else "series"

    def _fit_windows(self, series, window, mode):
        """Fit the regressor on the windows of ``series`` normalised by ``mode``."""
        self.window_ = window
        self.scale_mode_ = mode
        self.n_series_ = series.shape[1]
        if mode == "series":
            self.mean_, std = series.mean(axis=0), series.std(axis=0)
        elif mode == "window":
            changes = np.diff(series, axis=0)
            self.mean_ = np.zeros(self.n_series_)
            std = changes.std(axis=0) if len(changes) else np.ones(self.n_series_)
        else:
            self.mean_, std = np.zeros(self.n_series_), np.ones(self.n_series_)
        self.scale_ = np.where(std > 0, std, 1.0)
        # windows[i] = series[i : i + window + horizon]: inputs, then targets
        windows = sliding_window_view(series, window + self.horizon, axis=0)
        windows = windows.transpose(0, 2, 1)  # (n_windows, window + horizon, n_series)
        offsets = self._offsets(windows[:, :window])
        scaled = (windows - offsets[:, None]) / self.scale_
        inputs = scaled[:, :window]
        targets = scaled[:, window:].reshape(len(windows), -1)
        params = {name: getattr(self, name) for name in _REGRESSOR_PARAMS}
        params["patch_size"] = 1  # the window is read step by step
        self.regressor_ = RNNRegressor(**params).fit(np.ascontiguousarray(inputs),
                                                     targets.ravel() if targets.shape[1] == 1
                                                     else targets)
        self.last_window_ = series[-window:].copy()

    def _offsets(self, contexts):
        """What each (n, window, n_series) context is measured from."""
        if self.scale_mode_ == "window":
            return contexts[:, -1]
        return np.broadcast_to(self.mean_, (len(contexts), self.n_series_))

    def _forecast(self, history, steps):
        """``steps`` forecasts after ``history`` (n, n_series), in original units."""
        context = history[-self.window_:]
        forecasts = []
        while len(forecasts) < steps:
            offset = self._offsets(context[None])[0]
            scaled = (context - offset) / self.scale_
            out = self.regressor_.predict(scaled[None]).reshape(self.horizon, self.n_series_)
            out = out * self.scale_ + offset
            forecasts.extend(out)
            context = np.concatenate([context, out])[-self.window_:]
        return np.asarray(forecasts[:steps])

    def predict(self, horizon=None, y=None):
        """Forecast the steps after ``y`` (default: after the training series).

        Parameters
        ----------
        horizon : int, optional
            How many steps to forecast (default: the fitted ``horizon``).
            Beyond the fitted ``horizon`` the forecasts are fed back as inputs.
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_series), optional
            A series to forecast from, at least ``window_`` steps long (its
            last ``window_`` are read), e.g. the training series extended by
            newer observations.

        Returns
        -------
        ndarray of shape (horizon,) or (horizon, n_series)
            Shaped like the ``y`` given to ``fit``.
        """
        check_is_fitted(self, "regressor_")
        steps = self.horizon if horizon is None else horizon
        if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"horizon must be a positive integer; got {horizon!r}.")
        if y is None:
            history = self.last_window_
        else:
            history = self._check_series(y)
            if history.shape[1] != self.n_series_:
                raise ValueError(f"y has {history.shape[1]} series; the forecaster was fitted "
                                 f"on {self.n_series_}.")
            if len(history) < self.window_:
                raise ValueError(f"y has {len(history)} time steps; the forecaster reads the "
                                 f"last window={self.window_}.")
        result = self._forecast(history, steps)
        return result[:, 0] if self._univariate else result

    @property
    def loss_curve_(self):
        """Training loss per epoch of the underlying regressor."""
        check_is_fitted(self, "regressor_")
        return self.regressor_.loss_curve_

    def _check_series(self, y):
        array = np.asarray(y)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"y must hold numbers; got dtype {array.dtype}.")
        if array.ndim not in (1, 2):
            raise ValueError("y must be (n_timesteps,) or (n_timesteps, n_series); got "
                             f"shape {array.shape}.")
        if not np.isfinite(array).all():
            raise ValueError("y contains NaN or infinity.")
        return array.astype(np.float64).reshape(len(array), -1)
