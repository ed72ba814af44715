"""Search spaces as data: each entry names an estimator parameter and the values it
may take (a choice, or an integer or real range, linear or logarithmic). A point
of a space is a dict of parameters that ``estimator.set_params`` takes."""

import math
from numbers import Integral, Real

__all__ = ["Choice", "FloatRange", "IntRange", "SearchSpace", "default_space"]


class Choice:
    """One of a list of values (any objects: ints, strings, tuples of widths).

    Parameters
    ----------
    options : sequence
        The values; at least one.
    """

    def __init__(self, options):
        self.options = list(options)

    def _check(self, name):
        if not self.options:
            raise ValueError(f"search space: {name!r} is a Choice with no options.")

    def sample(self, rng):
        """Draw a value uniformly.

        Parameters
        ----------
        rng : numpy.random.Generator
            The draws.

        Returns
        -------
        object
            One option.
        """
        return self.options[int(rng.integers(len(self.options)))]

    def mutate(self, value, rng):
        """Another option (a neighbour in the list's order, or any other).

        Parameters
        ----------
        value : object
            The current option.
        rng : numpy.random.Generator
            The draws.

        Returns
        -------
        object
            A different option where there is one.
        """
        if len(self.options) == 1:
            return value
        others = [o for o in self.options if not _same(o, value)]
        return others[int(rng.integers(len(others)))] if others else value

    def __repr__(self):
        return f"Choice({self.options!r})"


def _same(a, b):
    try:
        return bool(a == b)
    except ValueError:  # arrays
        return a is b


class _Range:
    kind = "range"

    def __init__(self, low, high, log=False):
        self.low, self.high, self.log = low, high, bool(log)

    def _check(self, name):
        if not (isinstance(self.low, Real) and isinstance(self.high, Real)):
            raise ValueError(f"search space: {name!r} needs numeric low and high; got "
                             f"{self.low!r}, {self.high!r}.")
        if self.low > self.high:
            raise ValueError(f"search space: {name!r} has low={self.low} > high={self.high}.")
        if self.log and self.low <= 0:
            raise ValueError(f"search space: {name!r} is logarithmic and needs low > 0; got "
                             f"{self.low}.")

    def _unit(self, value):
        """The value's position in [0, 1] (on the log scale when ``log``)."""
        if self.high == self.low:
            return 0.0
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high)
                                                             - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def _from_unit(self, u):
        u = min(max(u, 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def sample(self, rng):
        """Draw a value uniformly (on the log scale when ``log``).

        Parameters
        ----------
        rng : numpy.random.Generator
            The draws.

        Returns
        -------
        number
            In [low, high].
        """
        return self._cast(self._from_unit(float(rng.random())))

    def mutate(self, value, rng):
        """A nearby value: a Gaussian step of 0.2 of the range (on its scale).

        Parameters
        ----------
        value : number
            The current value.
        rng : numpy.random.Generator
            The draws.

        Returns
        -------
        number
            In [low, high].
        """
        return self._cast(self._from_unit(self._unit(value) + 0.2 * rng.standard_normal()))

    def __repr__(self):
        return f"{type(self).__name__}({self.low!r}, {self.high!r}, log={self.log})"


class IntRange(_Range):
    """An integer in [low, high].

    Parameters
    ----------
    low, high : int
        The bounds, both included.
    log : bool, default=False
        Draw on the logarithmic scale.
    """

    def _check(self, name):
        super()._check(name)
        if not (isinstance(self.low, Integral) and isinstance(self.high, Integral)):
            raise ValueError(f"search space: {name!r} is an IntRange and needs integer bounds.")

    def _cast(self, value):
        return int(min(max(round(value), self.low), self.high))

    def mutate(self, value, rng):
        """A nearby integer, never ``value`` itself where the range has another.

        Parameters
        ----------
        value : int
            The current value.
        rng : numpy.random.Generator
            The draws.

        Returns
        -------
        int
            In [low, high].
        """
        child = super().mutate(value, rng)
        if child == value and self.high > self.low:
            step = 1 if value < self.high and (value == self.low or rng.random() < 0.5) else -1
            child = value + step
        return child


class FloatRange(_Range):
    """A real number in [low, high].

    Parameters
    ----------
    low, high : float
        The bounds.
    log : bool, default=False
        Draw on the logarithmic scale.
    """

    def _cast(self, value):
        return float(min(max(value, self.low), self.high))


class SearchSpace:
    """Named dimensions, each keyed by the parameter ``estimator.set_params`` takes.

    A dimension is a ``Choice``, ``IntRange`` or ``FloatRange``, or a fixed
    value; a list or tuple reads as a choice (as ``GridSearchCV``'s grids).

    Parameters
    ----------
    dimensions : dict
        Parameter name -> dimension; any other value is fixed.
    """

    def __init__(self, dimensions):
        if not isinstance(dimensions, dict) or not dimensions:
            raise ValueError("search_space must be a non-empty dict of parameter name -> "
                             "Choice, IntRange or FloatRange.")
        self.dimensions = {}
        for name, dimension in dimensions.items():
            if isinstance(dimension, (list, tuple)) and not isinstance(dimension, str):
                dimension = Choice(dimension)  # GridSearchCV's lists read as choices
            if hasattr(dimension, "_check"):
                dimension._check(name)
            self.dimensions[name] = dimension

    def sample(self, rng):
        """A random point.

        Parameters
        ----------
        rng : numpy.random.Generator
            The draws.

        Returns
        -------
        dict
            Parameter name -> value.
        """
        return {name: d.sample(rng) if hasattr(d, "sample") else d
                for name, d in self.dimensions.items()}

    def mutate(self, point, rng):
        """A copy of ``point`` with one dimension changed (regularized evolution's step).

        Parameters
        ----------
        point : dict
            A point of this space.
        rng : numpy.random.Generator
            The draws.

        Returns
        -------
        dict
            The mutated point.
        """
        free = [n for n, d in self.dimensions.items() if hasattr(d, "mutate")]
        child = dict(point)
        if free:
            name = free[int(rng.integers(len(free)))]
            child[name] = self.dimensions[name].mutate(point[name], rng)
        return child

    def check_estimator(self, estimator):
        """Raise unless every dimension is a parameter of ``estimator``.

        Parameters
        ----------
        estimator : estimator
            The estimator the points configure.
        """
        known = estimator.get_params()
        unknown = [name for name in self.dimensions if name not in known]
        if unknown:
            raise ValueError(f"search space: {unknown} are not parameters of "
                             f"{type(estimator).__name__}.")

    def __repr__(self):
        return f"SearchSpace({self.dimensions!r})"


def _widths(widths=(32, 64, 128, 256, 512), depths=(1, 2, 3)):
    return [(width,) * depth for depth in depths for width in widths]


def _mlp_space():
    return {
        "hidden_layer_sizes": Choice(_widths()),
        "activation": Choice(["relu", "tanh", "gelu"]),
        "alpha": FloatRange(1e-6, 1e-1, log=True),
        "learning_rate_init": FloatRange(1e-4, 1e-2, log=True),
        "batch_size": Choice([32, 64, 128, 256]),
        "batch_norm": Choice([False, True]),
        "dropout": Choice([0.0, 0.1, 0.2]),
        "residual": Choice([False, True]),
    }


def _cnn_space():
    return {
        "conv_layers": Choice([((16, 3), (32, 3)), ((32, 3), (64, 3)), ((32, 5), (64, 3)),
                               ((64, 3), (128, 3)), ((32, 3), (64, 3), (128, 3))]),
        "pooling": Choice(["max", "avg"]),
        "hidden_layer_sizes": Choice([(64,), (128,), (256,)]),
        "dropout": Choice([0.0, 0.25, 0.5]),
        "lr": FloatRange(1e-4, 1e-2, log=True),
        "batch_size": Choice([32, 64, 128]),
    }


def _cnn1d_space():
    return {
        "conv_layers": Choice(["inception", "fcn", "resnet"]),
        "lr": FloatRange(1e-4, 1e-2, log=True),
        "batch_size": Choice([16, 32, 64]),
    }


def _rnn_space():
    return {
        "cell": Choice(["lstm", "gru"]),
        "hidden_size": Choice([32, 64, 128]),
        "num_layers": IntRange(1, 2),
        "bidirectional": Choice([False, True]),
        "pooling": Choice(["last", "mean", "attention"]),
        "lr": FloatRange(3e-4, 1e-2, log=True),
        "batch_size": Choice([16, 32, 64]),
    }


def _transformer_space():
    return {
        "d_model": Choice([32, 64, 128]),
        "nhead": Choice([2, 4]),
        "num_layers": IntRange(1, 3),
        "dim_feedforward": Choice([64, 128, 256]),
        "dropout": Choice([0.0, 0.1, 0.2]),
        "pooling": Choice(["mean", "attention", "last"]),
        "lr": FloatRange(1e-4, 3e-3, log=True),
        "batch_size": Choice([16, 32, 64]),
    }


def _gnn_space(graph_level):
    space = {
        "conv": Choice(["gcn", "sage", "gin", "gat"]),
        "hidden_layer_sizes": Choice(_widths((16, 32, 64, 128), (1, 2, 3, 4))),
        "dropout": Choice([0.0, 0.25, 0.5]),
        "lr": FloatRange(1e-3, 3e-2, log=True),
    }
    if graph_level:
        space["pooling"] = Choice(["mean", "sum", "max", "attention"])
    return space


def default_space(estimator):
    """The default search space of an estimator of this library.

    Parameters
    ----------
    estimator : estimator
        Which family's space, read from its parameters:

        - ``MLPClassifier`` / ``MLPRegressor``: widths and depth,
          activation, alpha, learning rate, batch size, batch
          normalisation, dropout, residual connections;
        - ``CNNClassifier`` / ``CNNRegressor``: convolution blocks (filters,
          kernel sizes), pooling, dense head, dropout, learning rate, batch
          size;
        - ``CNN1DClassifier`` / ``CNN1DRegressor``: the published
          architectures ("inception", "fcn", "resnet"), learning rate,
          batch size;
        - ``RNNClassifier`` / ``RNNRegressor``: cell, size, layers,
          direction, pooling, learning rate, batch size;
        - ``TransformerClassifier`` / ``TransformerRegressor``: width,
          heads, layers, feed-forward width, dropout, pooling, learning rate,
          batch size;
        - the graph estimators: convolution, depth and width, dropout,
          learning rate and, for whole graphs, pooling;
        - any other estimator with ``hidden_layer_sizes`` and ``lr``:
          widths, learning rate, alpha.

    Returns
    -------
    SearchSpace
        The space (its dimensions can be edited, or one's own passed as
        ``search_space``).
    """
    params = estimator.get_params()
    if "learning_rate_init" in params:  # the MLPs, scikit-learn's names
        space = _mlp_space()
    elif "conv_layers" in params:
        one_d = "1D" in type(estimator).__name__ or isinstance(params["conv_layers"], str)
        space = _cnn1d_space() if one_d else _cnn_space()
    elif "cell" in params and "hidden_size" in params:
        space = _rnn_space()
    elif "d_model" in params and "nhead" in params:
        space = _transformer_space()
    elif "conv" in params and "hidden_layer_sizes" in params:
        space = _gnn_space(graph_level="pooling" in params)
    elif "hidden_layer_sizes" in params and "lr" in params:
        space = {"hidden_layer_sizes": Choice(_widths()),
                 "lr": FloatRange(1e-4, 1e-2, log=True),
                 "alpha": FloatRange(1e-6, 1e-1, log=True)}
    else:
        raise ValueError(f"no default search space for {type(estimator).__name__}: pass "
                         "search_space, a dict of its parameters' choices and ranges.")
    return SearchSpace({name: d for name, d in space.items() if name in params})
