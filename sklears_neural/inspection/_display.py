"""Displays of explanations, in scikit-learn's Display pattern (``from_estimator``
computes and plots, ``plot`` redraws; matplotlib is optional)."""

import numpy as np

from sklears_neural.inspection._attention import attention_maps
from sklears_neural.inspection._gradients import (
    input_x_gradient,
    integrated_gradients,
    saliency,
    smoothgrad,
)
from sklears_neural.inspection._kernel_shap import kernel_shap
from sklears_neural.inspection._layers import grad_cam
from sklears_neural.inspection._lime import lime_tabular
from sklears_neural.inspection._propagation import deeplift, guided_backprop, lrp

__all__ = ["AttentionDisplay", "AttributionDisplay", "HeatmapDisplay"]

METHODS = {"saliency": saliency, "input_x_gradient": input_x_gradient,
           "integrated_gradients": integrated_gradients, "smoothgrad": smoothgrad,
           "guided_backprop": guided_backprop, "deeplift": deeplift, "lrp": lrp,
           "grad_cam": grad_cam, "kernel_shap": kernel_shap, "lime_tabular": lime_tabular}


def _pyplot(what):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{what} needs matplotlib: pip install matplotlib") from exc
    return plt


def _explain(method, estimator, X, kwargs):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got "
                         f"{method!r}.")
    return METHODS[method](estimator, X, **kwargs)


class AttributionDisplay:
    """Attributions of tabular features: mean magnitudes as bars, or a beeswarm.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features)
        The attributions (an ``Attribution``'s ``values``).
    data : ndarray of shape (n_samples, n_features), optional
        The explained inputs; the beeswarm colours each point by its value.
    feature_names : list of str, optional
        Default: ``x0``, ``x1``, ...
    method : str, optional
        The method's name, for the axis label.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, values, *, data=None, feature_names=None, method=None):
        self.values = np.asarray(values, dtype=np.float64)
        if self.values.ndim != 2:
            raise ValueError(f"AttributionDisplay draws tabular attributions (samples, "
                             f"features); got shape {self.values.shape}: use HeatmapDisplay "
                             "for images and series.")
        self.data = None if data is None else np.asarray(data, dtype=np.float64)
        n_features = self.values.shape[1]
        self.feature_names = ([f"x{j}" for j in range(n_features)] if feature_names is None
                              else [str(name) for name in feature_names])
        self.method = method

    @classmethod
    def from_estimator(cls, estimator, X, *, method="integrated_gradients", kind="bar",
                       feature_names=None, max_features=20, ax=None, **method_kwargs):
        """Explain ``X`` with ``method`` and plot it.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
            As the method takes it.
        X : array-like of shape (n_samples, n_features)
            The inputs to explain.
        method : str, default="integrated_gradients"
            A method of ``sklears_neural.inspection`` by name (``kernel_shap``
            and ``lime_tabular`` take their background or training data in
            ``method_kwargs``).
        kind : {"bar", "beeswarm"}, default="bar"
            What to draw.
        feature_names : list of str, optional
            Default: the estimator's ``feature_names_in_``, else ``x0``, ...
            (for attributions over a Pipeline step's output, its features
            ``x0``, ... and no colours by value).
        max_features : int, default=20
            The most important features drawn.
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        **method_kwargs
            Passed to the method.

        Returns
        -------
        AttributionDisplay
        """
        result = _explain(method, estimator, X, method_kwargs)
        data = None
        if result.space == "input":  # else the features are a Pipeline step's outputs
            data = np.asarray(X)
            if feature_names is None:
                feature_names = getattr(estimator, "feature_names_in_", None)
        return cls(result.values, data=data, feature_names=feature_names,
                   method=method).plot(kind=kind, max_features=max_features, ax=ax)

    def plot(self, *, kind="bar", max_features=20, ax=None):
        """Draw the attributions.

        Parameters
        ----------
        kind : {"bar", "beeswarm"}, default="bar"
            Bars of the mean absolute attribution of each feature, or one point
            per sample and feature at its attribution, coloured by the
            feature's value (from low, blue, to high, red).
        max_features : int, default=20
            The most important features drawn, the most important on top.
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).

        Returns
        -------
        AttributionDisplay
            ``self``, with ``ax_`` and ``figure_``.
        """
        if kind not in ("bar", "beeswarm"):
            raise ValueError(f"kind must be 'bar' or 'beeswarm'; got {kind!r}.")
        plt = _pyplot("AttributionDisplay")
        if ax is None:
            _, ax = plt.subplots()
        importance = np.abs(self.values).mean(axis=0)
        order = np.argsort(importance)[::-1][:max_features][::-1]  # most important on top
        names = [self.feature_names[j] for j in order]
        label = f"{self.method or 'attribution'}"
        if kind == "bar":
            ax.barh(np.arange(len(order)), importance[order])
            ax.set_xlabel(f"mean |{label}|")
        else:
            jitter = np.random.default_rng(0).uniform(-0.3, 0.3, size=len(self.values))
            colour = None
            for row, j in enumerate(order):
                if self.data is not None:
                    column = self.data[:, j]
                    spread = np.ptp(column)
                    colour = (column - column.min()) / (spread if spread > 0 else 1.0)
                points = ax.scatter(self.values[:, j], row + jitter, c=colour, cmap="coolwarm",
                                    vmin=0, vmax=1, s=12)
            ax.axvline(0.0, color="grey", linewidth=0.8)
            ax.set_xlabel(label)
            if self.data is not None:
                ax.figure.colorbar(points, ax=ax, label="feature value (low to high)")
        ax.set_yticks(np.arange(len(order)), names)
        self.ax_, self.figure_ = ax, ax.figure
        return self


class HeatmapDisplay:
    """Attributions over images or series, drawn over the inputs.

    Parameters
    ----------
    values : ndarray of shape (n, H, W), (n, 1, H, W), (n, L) or (n, C, L)
        The attributions, one map per input (a single channel is squeezed;
        for several channels of a series, each is drawn as a line).
    inputs : ndarray
        The explained inputs, of the same shape.
    method : str, optional
        For the title.
    titles : list of str, optional
        One per input.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, values, inputs, *, method=None, titles=None):
        self.values = _squeeze_channel(np.asarray(values, dtype=np.float64))
        self.inputs = _squeeze_channel(np.asarray(inputs, dtype=np.float64))
        if self.values.ndim not in (2, 3):
            raise ValueError(f"HeatmapDisplay draws images (n, H, W) or series (n, L) or "
                             f"(n, C, L); got values of shape {np.shape(values)}.")
        self.method, self.titles = method, titles

    @classmethod
    def from_estimator(cls, estimator, X, *, method="integrated_gradients", kind="auto",
                       n_cols=5, **method_kwargs):
        """Explain ``X`` with ``method`` and draw each map over its input.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
            As the method takes it.
        X : ndarray of images (n, H, W) / (n, 1, H, W) or series (n, L) / (n, C, L)
            The inputs to explain.
        method : str, default="integrated_gradients"
            A method of ``sklears_neural.inspection`` by name.
        kind : {"auto", "image", "series"}, default="auto"
            How to draw: "auto" draws 2-D maps as images, 1-D as series.
        n_cols : int, default=5
            Panels per row.
        **method_kwargs
            Passed to the method.

        Returns
        -------
        HeatmapDisplay
        """
        result = _explain(method, estimator, X, method_kwargs)
        titles = [f"{method}: {target}" for target in result.target]
        return cls(result.values, X, method=method, titles=titles).plot(kind=kind,
                                                                         n_cols=n_cols)

    def plot(self, *, kind="auto", n_cols=5, cmap="bwr", alpha=0.6):
        """Draw one panel per input.

        Parameters
        ----------
        kind : {"auto", "image", "series"}, default="auto"
            Images: the input in grey with the map over it. Series: each
            channel's line, with the map as the colour of the points.
        n_cols : int, default=5
            Panels per row.
        cmap : str, default="bwr"
            Colour map of the attributions, centred on 0.
        alpha : float, default=0.6
            Opacity of an image's map.

        Returns
        -------
        HeatmapDisplay
            ``self``, with ``axes_`` and ``figure_``.
        """
        plt = _pyplot("HeatmapDisplay")
        if kind == "auto":
            kind = "image" if self.values.ndim == 3 and self.inputs.ndim == 3 and (
                self.values.shape == self.inputs.shape) and self.values.shape[1] > 3 else (
                "series")
        if kind not in ("image", "series"):
            raise ValueError(f"kind must be 'auto', 'image' or 'series'; got {kind!r}.")
        n = len(self.values)
        rows = -(-n // n_cols)
        figure, axes = plt.subplots(rows, min(n, n_cols), squeeze=False,
                                    figsize=(2.4 * min(n, n_cols), 2.4 * rows))
        bound = np.abs(self.values).max() or 1.0
        for i, ax in enumerate(axes.flat):
            if i >= n:
                ax.set_visible(False)
                continue
            if kind == "image":
                ax.imshow(self.inputs[i], cmap="gray")
                ax.imshow(self.values[i], cmap=cmap, alpha=alpha, vmin=-bound, vmax=bound)
                ax.set_axis_off()
            else:
                _series_panel(ax, self.inputs[i], self.values[i], cmap, bound)
            if self.titles is not None:
                ax.set_title(str(self.titles[i]), fontsize=8)
        self.axes_, self.figure_ = axes, figure
        return self


def _squeeze_channel(array):
    return array[:, 0] if array.ndim == 4 and array.shape[1] == 1 else array


def _series_panel(ax, series, values, cmap, bound):
    series, values = np.atleast_2d(series), np.atleast_2d(values)
    if values.shape != series.shape:  # a map per position (Grad-CAM): every channel shares it
        values = np.broadcast_to(values, series.shape)
    steps = np.arange(series.shape[1])
    for channel, attribution in zip(series, values):
        ax.plot(steps, channel, color="lightgrey", linewidth=1)
        ax.scatter(steps, channel, c=attribution, cmap=cmap, vmin=-bound, vmax=bound, s=6)
    ax.set_xlabel("step")


class AttentionDisplay:
    """The attention map of one input in one layer of a Transformer estimator.

    Parameters
    ----------
    maps : ndarray of shape (n_samples, n_layers, tokens, tokens)
        What ``attention_maps`` returns (heads averaged).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, maps):
        self.maps = np.asarray(maps, dtype=np.float64)
        if self.maps.ndim != 4:
            raise ValueError(f"maps must be (samples, layers, tokens, tokens), heads "
                             f"averaged; got shape {self.maps.shape}.")

    @classmethod
    def from_estimator(cls, estimator, X, *, sample=0, layer=-1, ax=None):
        """Compute the attention maps of ``X`` and draw one.

        Parameters
        ----------
        estimator : fitted Transformer estimator, or Pipeline ending in one
            The model whose attention is drawn.
        X : array-like or list of sequences
            The inputs.
        sample : int, default=0
            Which input's map to draw.
        layer : int, default=-1
            Which layer's (the last by default).
        ax : matplotlib Axes, optional
            Where to draw.

        Returns
        -------
        AttentionDisplay
        """
        return cls(attention_maps(estimator, X)).plot(sample=sample, layer=layer, ax=ax)

    def plot(self, *, sample=0, layer=-1, ax=None):
        """Draw the map of ``sample`` in ``layer``: queries down, keys across.

        Parameters
        ----------
        sample : int, default=0
            Which input.
        layer : int, default=-1
            Which layer.
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).

        Returns
        -------
        AttentionDisplay
            ``self``, with ``ax_`` and ``figure_``.
        """
        plt = _pyplot("AttentionDisplay")
        if ax is None:
            _, ax = plt.subplots()
        image = ax.imshow(self.maps[sample, layer], cmap="viridis", vmin=0)
        ax.set_xlabel("attended token (key)")
        ax.set_ylabel("attending token (query)")
        ax.figure.colorbar(image, ax=ax, label="attention")
        self.ax_, self.figure_ = ax, ax.figure
        return self
