"""``GNNGraphClassifier`` / ``GNNGraphRegressor``: graph neural networks behind
scikit-learn's API, for one prediction per graph.

X is a list of ``data.Graph`` (``data.read_tu`` reads the TU benchmarks,
``Graph.from_networkx`` a networkx graph); a batch is the graphs collated
block-diagonally (``GraphDataset``), which the network reads unpacked.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d

from sklears_neural import nn
from sklears_neural._threads import thread_limits
from sklears_neural.base._checks import resolve_optimizer
from sklears_neural.base._estimator import BaseNeuralNet
from sklears_neural.base._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from sklears_neural.base._neural_net import build_given_module
from sklears_neural.base._params import (
    CLASSIFIER_CONSTRAINTS,
    TRAINING_DOC_DEPRECATED,
    TRAINING_DOC_EPOCHS,
    TRAINING_DOC_LOOP,
    TRAINING_DOC_PENALTIES,
    unit_interval,
)
from sklears_neural.base._routing import RoutedParamsMixin
from sklears_neural.data import Graph, GraphDataset
from sklears_neural.gnn._network import CONVOLUTIONS, GraphNetwork
from sklears_neural.optim import lr_scheduler

__all__ = ["GNNGraphClassifier", "GNNGraphRegressor"]


def _graphs(X, dtype):
    """X as a list of Graphs with node features in ``dtype``, alike (checked)."""
    if isinstance(X, GraphDataset):
        X = X.graphs
    if isinstance(X, Graph) or not isinstance(X, (list, tuple)) or not X:
        raise ValueError("X must be a non-empty list of sklears_neural.data.Graph (one per "
                         "sample); build them with Graph(x, edge_index), "
                         "Graph.from_networkx or data.read_tu.")
    bad = next((i for i, g in enumerate(X) if not isinstance(g, Graph)), None)
    if bad is not None:
        raise ValueError(f"X[{bad}] is a {type(X[bad]).__name__}, not a Graph.")
    graphs = []
    for i, g in enumerate(X):
        copy = Graph.__new__(Graph)
        copy.__dict__.update(g.__dict__)
        copy.x = g.x.astype(dtype, copy=False)
        if g.edge_attr is not None:
            copy.edge_attr = g.edge_attr.astype(dtype, copy=False)
        copy.name = g.name if g.name != "graph" else f"X[{i}]"
        graphs.append(copy)
    GraphDataset(graphs)  # the graphs are alike (feature widths, edge data)
    return graphs


def _check_widths(net, graphs, reset):
    """Record (``reset``) or check the node and edge feature widths of alike graphs."""
    edge_attr = graphs[0].edge_attr
    n_edge = 0 if edge_attr is None else edge_attr.shape[1]
    if reset:
        net.n_features_in_ = graphs[0].n_features
        net.n_edge_features_ = n_edge
        return
    if graphs[0].n_features != net.n_features_in_:
        raise ValueError(f"The graphs have {graphs[0].n_features} node features; the "
                         f"model was fitted with {net.n_features_in_}.")
    if net.conv == "gine" and n_edge != net.n_edge_features_:
        raise ValueError(f"The graphs have {n_edge} edge features; the model (conv='gine') "
                         f"was fitted with {net.n_edge_features_}.")


class _GraphNet(RoutedParamsMixin, BaseNeuralNet):
    _ROUTES = ("module", "optimizer", "callbacks")
    _thread_pool = "engine"
    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints, **CLASSIFIER_CONSTRAINTS,
        "conv": [StrOptions(set(CONVOLUTIONS))],
        "module": "no_validation",
        "hidden_layer_sizes": "no_validation",
        "pooling": [StrOptions({"sum", "mean", "max", "attention"})],
        "heads": [Interval(Integral, 1, None, closed="left")],
        "dropout": unit_interval(),
        "optimizer": "no_validation",
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_decay_every": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.sparse = False
        return tags

    def _extra_validation(self):
        self._check_routed()
        resolve_optimizer(self.optimizer)
        sizes = self.hidden_layer_sizes
        if (not isinstance(sizes, (tuple, list)) or not sizes
                or not all(isinstance(s, Integral) and s > 0 for s in sizes)):
            raise ValueError(f"hidden_layer_sizes must be a non-empty tuple of positive ints; "
                             f"got {sizes!r}.")

    def _build_module(self, n_features, n_outputs, generator):
        """``module`` when given (the batch is passed to it unpacked), else the network the
        other parameters describe."""
        if self.module is not None:
            return build_given_module(self.module, self._routed("module"), n_features,
                                      n_outputs, generator)
        return self._default_network(n_features, n_outputs, generator)

    def _default_network(self, n_features, n_outputs, generator):
        return GraphNetwork(n_features, n_outputs, conv=self.conv,
                            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                            pooling=self.pooling, dropout=self.dropout, heads=self.heads,
                            edge_dim=self.n_edge_features_, generator=generator)

    def _optimizer_class(self):
        return resolve_optimizer(self.optimizer)

    def _build_optimizer(self, parameters):
        return self._make_optimizer(self._optimizer_class(), parameters, lr=self.lr)

    def _build_scheduler(self):
        """``lr_schedule`` when given; else the GIN paper's halving every
        ``lr_decay_every`` epochs."""
        if self.lr_schedule is not None or self.lr_decay_every is None:
            return super()._build_scheduler()
        self._schedule_per_batch = self._schedule_metric = False
        return lr_scheduler.make_scheduler("step", self.optimizer_,
                                           step_size=self.lr_decay_every, gamma=0.5)

    def _build_criterion(self):
        if self._is_classifier():
            return nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)
        return nn.MSELoss()

    def _check_batch_norm(self, loader):
        """Batch norm here normalises over a batch's nodes, not its graphs: a batch of
        one graph is fine (``batch_size=1``)."""

    def _batch_work(self, rows=None):
        return super()._batch_work(rows) * 20  # about 20 nodes per graph

    # -- input ---------------------------------------------------------------------------
    def _check_X_y(self, X, y, reset):
        graphs = _graphs(X, np.dtype(self.dtype))
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if len(y) != len(graphs):
            raise ValueError(f"y has {len(y)} targets for {len(graphs)} graphs.")
        if not self._is_classifier():
            y = y.astype(np.float64)
            if not np.isfinite(y).all():
                raise ValueError("y contains NaN or infinity.")
        _check_widths(self, graphs, reset)
        return graphs, y

    def _check_X_fast(self, X):
        graphs = _graphs(X, np.dtype(self.dtype))
        _check_widths(self, graphs, reset=False)
        return graphs

    def _dataset(self, features, y=None, sample_weight=None):
        if isinstance(features, GraphDataset):
            return features
        return GraphDataset(features, y, sample_weight)

    def _predict_outputs(self, X):
        check_is_fitted(self, "module_")
        graphs = self._check_X_fast(X)
        with thread_limits(self.n_threads, self._batch_work(len(graphs)), self._thread_pool):
            return self._forward(GraphDataset(graphs))


_HEAD = """
    Parameters
    ----------
    conv : {"gin", "gine", "gcn", "sage", "gat", "gatv2"}, default="gin"
        The graph convolution: GIN (Xu et al. 2019; each layer a two-layer
        MLP with batch norm over the sum of a node and its neighbours), GINE
        (GIN with the graphs' ``edge_attr`` added to the messages), GCN,
        GraphSAGE (mean aggregation), or graph attention (GAT, GATv2).
    module : nn.Module subclass or instance, optional
        Your own network instead of the one the parameters below describe:
        it is called with a ``data.GraphBatch`` unpacked, ``module(x,
        edge_index, edge_attr, edge_weight, batch, n_graphs)``, and returns
        one row per graph. A class is built with ``module__*`` arguments and,
        where it takes them, ``n_features``, ``n_outputs`` and ``generator``.
    hidden_layer_sizes : tuple of int, default=(64, 64, 64, 64)
        Widths of the convolution layers (the GIN paper's four).
    pooling : {"mean", "sum", "max", "attention"}, default="mean"
        How each graph's nodes are pooled ("attention": a learned softmax
        gate over each graph's nodes); every layer's pooled features feed
        the output (the GIN paper's readout). MUTAG, 10-fold CV at the
        other defaults: mean 0.883, sum 0.830.
    dropout : float in [0, 1), default=0.5
        Before each readout head.
    heads : int, default=1
        Attention heads of "gat" and "gatv2", concatenated (each hidden
        width must be a multiple).
    optimizer : str or Optimizer subclass, default="adam"
        Options as ``optimizer__*``.
    lr : float, default=0.01
        The learning rate.
    lr_decay_every : int or None, default=50
        Halve the learning rate every this many epochs (the GIN paper's
        schedule); None keeps it constant. ``lr_schedule``, when given,
        replaces it.
""" + (TRAINING_DOC_EPOCHS + TRAINING_DOC_PENALTIES).format(max_iter=100, batch_size=32)

_CLASSIFIER = """    label_smoothing : float in [0, 1], default=0.0
        Smooth the one-hot targets by this much.
    class_weight : "balanced", dict or None, default=None
        Weights per class, multiplied into ``sample_weight``.
"""

def doc_tail(network, sample="graph"):
    """The end of a graph estimator's docstring: the loop parameters, kwargs and the
    attributes every graph estimator has (``network``: the module's class)."""
    return TRAINING_DOC_LOOP.format().replace(
        "    n_iter_no_change : int, default=10\n", "    n_iter_no_change : int, default=50\n"
    ) + TRAINING_DOC_DEPRECATED + f"""    **kwargs
        ``module__*``, ``optimizer__*`` and ``callbacks__*`` routed arguments.

    Attributes
    ----------
    module_ : {network}
        The fitted network.
    n_features_in_ : int
        The node feature width.
    n_edge_features_ : int
        The edge feature width (0 without ``edge_attr``).
    history_, loss_curve_, n_iter_
        As for every estimator of the library; a sample is a {sample}.
"""


_TAIL = doc_tail("GraphNetwork")


class GNNGraphClassifier(NeuralNetClassifierMixin, _GraphNet):
    __doc__ = """Graph neural network classifier: one label per graph.

    X is a list of ``sklears_neural.data.Graph``; ``cross_val_score`` and
    ``GridSearchCV`` split it as any list.
""" + _HEAD + _CLASSIFIER + _TAIL + """    classes_ : ndarray
        The class labels.
"""

    def __init__(self, conv="gin", *, module=None, hidden_layer_sizes=(64, 64, 64, 64),
                 pooling="mean", dropout=0.5, heads=1, optimizer="adam", lr=0.01,
                 lr_decay_every=50, max_iter=100, batch_size=32, alpha=0.0, l1=0.0,
                 clip_grad_norm=None, noise=0.0,
                 lr_schedule=None, label_smoothing=0.0, class_weight=None, callbacks=None,
                 validation_fraction=None, early_stopping=False, n_iter_no_change=50,
                 tol=1e-4, shuffle=True, warm_start=False, random_state=None, device="cpu",
                 dtype="float32", verbose=0, n_threads=None, max_epochs="deprecated",
                 **kwargs):
        self._store(locals())


_REGRESSOR_POOLING = """    pooling : {"sum", "mean", "max", "attention"}, default="sum"
        How each graph's nodes are pooled; every layer's pooled features
        feed the output (the GIN paper's readout). Sum suits targets that
        grow with the graph, such as a molecule's free energy: FreeSolv
        (80/10/10 random split, test RMSE in kcal/mol, random_state 0, 1, 2)
        1.32, 1.21, 1.62 with sum against 1.53, 1.38, 1.66 with mean.
"""


class GNNGraphRegressor(NeuralNetRegressorMixin, _GraphNet):
    __doc__ = """Graph neural network regressor: one target (or several) per graph.

    X is a list of ``sklears_neural.data.Graph`` (``data.from_smiles`` makes
    molecules into graphs).
""" + _HEAD[:_HEAD.index("    pooling :")] + _REGRESSOR_POOLING + _HEAD[
        _HEAD.index("    dropout :"):] + _TAIL

    def __init__(self, conv="gin", *, module=None, hidden_layer_sizes=(64, 64, 64, 64),
                 pooling="sum", dropout=0.5, heads=1, optimizer="adam", lr=0.01,
                 lr_decay_every=50, max_iter=100, batch_size=32, alpha=0.0, l1=0.0,
                 clip_grad_norm=None, noise=0.0,
                 lr_schedule=None, callbacks=None, validation_fraction=None,
                 early_stopping=False, n_iter_no_change=50, tol=1e-4, shuffle=True,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0, n_threads=None, max_epochs="deprecated", **kwargs):
        self._store(locals())
