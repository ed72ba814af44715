"""``GNNNodeClassifier`` / ``GNNNodeRegressor``: one prediction per node.

X is a graph (or a list of graphs) and y one target per node, an
unlabelled node marked with -1 (NaN for a regressor) or left out by the
graph's ``mask``. Training is transductive: every node's features and edges
pass messages, the labelled nodes alone give the loss. ``predict`` returns
one row per node of the graphs it is given: the training graph, or new
graphs (inductive prediction).
"""

from numbers import Integral

import numpy as np
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklears_neural._threads import thread_limits
from sklears_neural.base._checks import resolve_optimizer
from sklears_neural.base._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from sklears_neural.base._params import TRAINING_DOC_EPOCHS, TRAINING_DOC_PENALTIES
from sklears_neural.data import Graph, NodeDataset
from sklears_neural.gnn._estimators import _check_widths, _GraphNet, _graphs, doc_tail
from sklears_neural.gnn._network import NodeNetwork

__all__ = ["GNNNodeClassifier", "GNNNodeRegressor"]


def _node_graphs(X, dtype):
    """X (a Graph, a list of them or a NodeDataset's graphs) as checked Graphs."""
    if isinstance(X, NodeDataset):
        X = X.graphs
    if not isinstance(X, Graph):
        return _graphs(X, dtype)
    (graph,) = _graphs([X], dtype)
    graph.name = "X" if X.name == "graph" else X.name
    return [graph]


def _labelled(graphs, y, classifier):
    """The labelled nodes (numbered over the graphs) and their targets.

    ``y`` is one target per node, or None to read each graph's ``y``; a node
    is unlabelled when its graph's ``mask`` leaves it out, or its target is
    -1 (a classifier's numeric labels), None, or NaN.
    """
    total = sum(g.n_nodes for g in graphs)
    if y is None:
        missing = next((g.name for g in graphs if g.y is None or len(g.y) != g.n_nodes), None)
        if missing is not None:
            raise ValueError(f"y is None and {missing} has no node targets (graph.y, one per "
                             "node): pass y, one target per node with -1 for an unlabelled "
                             "node.")
        y = np.concatenate([np.asarray(g.y) for g in graphs])
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != total:
        raise ValueError(f"y has {y.shape[0] if y.ndim else 0} targets for {total} nodes: give "
                         "one per node of X (-1 marks an unlabelled node, or use the "
                         "graphs' mask).")
    labelled = np.ones(total, dtype=bool)
    if any(g.mask is not None for g in graphs):
        labelled = np.concatenate([np.ones(g.n_nodes, bool) if g.mask is None else g.mask
                                   for g in graphs])
    if y.dtype.kind == "O":
        labelled &= np.array([v is not None and v == v for v in y], dtype=bool)
    elif y.dtype.kind == "f":
        labelled &= ~np.isnan(y) if y.ndim == 1 else ~np.isnan(y).any(axis=1)
    if classifier and y.dtype.kind in "iuf" and y.ndim == 1:
        labelled &= y != -1
    if not labelled.any():
        raise ValueError("No node is labelled: give at least one target that is not -1 (or "
                         "NaN), inside the graphs' mask.")
    nodes = np.flatnonzero(labelled)
    return nodes, (y[nodes].astype(np.float64) if not classifier else y[nodes])


class _NodeNet(_GraphNet):
    _parameter_constraints = {
        **_GraphNet._parameter_constraints,
        "conv": [StrOptions({"gcn", "gat", "gatv2", "sage", "gin", "gine"})],
        "residual": ["boolean"],
        "norm": [StrOptions({"batch", "layer"}), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}),
                       None],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # the graphs may carry their targets
        return tags

    def fit(self, X, y=None, sample_weight=None, *, validation_data=None):
        """Train on the labelled nodes of X.

        If anything raises, the estimator is left exactly as it was before
        the call.

        Parameters
        ----------
        X : Graph, list of Graph or NodeDataset
            The graph(s): every node passes messages.
        y : array-like of shape (n_nodes,) or (n_nodes, n_outputs), optional
            One target per node of X (numbered graph after graph); -1 (a
            classifier's numeric labels) or NaN marks an unlabelled node.
            None reads each graph's ``y`` (and ``mask``).
        sample_weight : array-like of shape (n_nodes,), optional
            One weight per node (unlabelled nodes' are not read).
        validation_data : tuple (X_val, y_val[, sample_weight_val]), optional
            Graph(s), per-node targets (and weights) scored every epoch: the
            same graph with other nodes labelled, for a transductive split.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight, validation_data=validation_data)

    def _fit(self, X, y, sample_weight, incremental, classes=None, validation_data=None):
        """``fit`` and ``partial_fit``: X, y and per-node weights become the dataset of
        the labelled nodes first."""
        return super()._fit(self._node_dataset(X, y, sample_weight), None, None, incremental,
                            classes=classes, validation_data=validation_data)

    def _node_dataset(self, X, y, sample_weight):
        """X, y and per-node weights as a NodeDataset of the labelled nodes."""
        if isinstance(X, NodeDataset):
            if y is not None or sample_weight is not None:
                raise ValueError("X is a NodeDataset, which holds its nodes' targets and "
                                 "weights: pass y=None and sample_weight=None.")
            if X.y is None:
                raise ValueError("X is a NodeDataset without targets: build it with y (one "
                                 "per node it lists), or pass the graphs and y.")
            return X
        graphs = _node_graphs(X, np.dtype("float64"))
        nodes, targets = _labelled(graphs, y, self._is_classifier())
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sample_weight.shape[0] != sum(g.n_nodes for g in graphs):
                raise ValueError(f"sample_weight has {sample_weight.shape[0]} values: give one "
                                 "per node of X.")
            sample_weight = sample_weight[nodes]
        return NodeDataset(graphs, nodes, targets, sample_weight)

    def _default_network(self, n_features, n_outputs, generator):
        return NodeNetwork(n_features, n_outputs, conv=self.conv,
                           hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                           dropout=self.dropout, heads=self.heads, residual=self.residual,
                           norm=self.norm, edge_dim=self.n_edge_features_, generator=generator)

    def _extra_validation(self):
        self._check_routed()
        resolve_optimizer(self.optimizer)
        sizes = self.hidden_layer_sizes
        if (not isinstance(sizes, (tuple, list))
                or not all(isinstance(s, Integral) and s > 0 for s in sizes)):
            raise ValueError(f"hidden_layer_sizes must be a tuple of positive ints (empty for "
                             f"one convolution); got {sizes!r}.")

    def _batch_rows(self, n_samples):
        """None (the default): every labelled node in one batch (full-batch training)."""
        if self.batch_size is None:
            return n_samples if n_samples is not None else 1 << 30
        return super()._batch_rows(n_samples)

    def _predict_batch_rows(self):
        return 1 << 62  # one pass over the graphs: every node of a batch is computed anyway

    def _batch_work(self, rows=None):
        return self._parameter_count * max(rows or 0, 1000)

    # -- input ---------------------------------------------------------------------------
    def _check_X_y(self, X, y, reset):
        graphs = _node_graphs(X, np.dtype(self.dtype))
        if isinstance(X, NodeDataset):
            nodes, y = X.nodes, np.asarray(y)
        else:  # validation_data: graphs and per-node targets
            nodes, y = _labelled(graphs, y, self._is_classifier())
        _check_widths(self, graphs, reset)
        return NodeDataset(graphs, nodes), y

    def _check_X_fast(self, X):
        graphs = _node_graphs(X, np.dtype(self.dtype))
        _check_widths(self, graphs, reset=False)
        return NodeDataset(graphs)

    def _dataset(self, features, y=None, sample_weight=None):
        return NodeDataset(features.graphs, features.nodes, y, sample_weight)

    def _predict_outputs(self, X):
        check_is_fitted(self, "module_")
        features = self._check_X_fast(X)
        with thread_limits(self.n_threads, self._batch_work(len(features)), self._thread_pool):
            return self._forward(features)

    def _validation_dataset(self, validation_data):
        """``validation_data`` (graphs, per-node targets[, per-node weights]) read as
        ``fit`` reads its input: the labelled nodes and their weights."""
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
            weights = validation_data[2] if len(validation_data) == 3 else None
            data = self._node_dataset(validation_data[0], validation_data[1], weights)
            validation_data = (data, data.y, data.sample_weight)
        return super()._validation_dataset(validation_data)

    def score(self, X, y=None, sample_weight=None):
        """Accuracy (classifier) or R² (regressor) over the labelled nodes of X.

        Parameters
        ----------
        X : Graph or list of Graph
            The graph(s).
        y : array-like of shape (n_nodes,), optional
            One target per node, unlabelled nodes marked as for ``fit``
            (None: the graphs' own).
        sample_weight : array-like of shape (n_nodes,), optional
            One weight per node.

        Returns
        -------
        float
            The score over the labelled nodes.
        """
        graphs = _node_graphs(X, np.dtype(self.dtype))
        nodes, targets = _labelled(graphs, y, self._is_classifier())
        weights = None if sample_weight is None else np.asarray(sample_weight)[nodes]
        predicted = self.predict(graphs)[nodes]
        metric = accuracy_score if self._is_classifier() else r2_score
        return float(metric(targets, predicted, sample_weight=weights))


_HEAD = """
    Parameters
    ----------
    conv : {"gcn", "gat", "gatv2", "sage", "gin", "gine"}, default="gcn"
        The graph convolution: GCN (Kipf and Welling 2017), graph attention
        (GAT, GATv2), GraphSAGE (mean), GIN, or GINE (reads ``edge_attr``).
    module : nn.Module subclass or instance, optional
        Your own network instead of the one the parameters below describe:
        it is called with a ``data.NodeBatch`` unpacked, ``module(x,
        edge_index, edge_attr, edge_weight, batch, n_graphs, nodes)``, and
        returns one row per entry of ``nodes``. A class is built with
        ``module__*`` arguments and, where it takes them, ``n_features``,
        ``n_outputs`` and ``generator``.
    hidden_layer_sizes : tuple of int, default=(16,)
        Widths of the hidden convolutions (the GCN paper's one layer of 16);
        empty for one convolution straight to the outputs.
    dropout : float in [0, 1), default=0.5
        Before each convolution.
    heads : int, default=8
        Attention heads of the hidden "gat" / "gatv2" layers, concatenated
        (each hidden width must be a multiple; the output layer has one).
    residual : bool, default=False
        Skip connections around the hidden layers.
    norm : {None, "batch", "layer"}, default=None
        Normalisation after each hidden convolution.
    optimizer : str or Optimizer subclass, default="adam"
        Options as ``optimizer__*``.
    lr : float, default=0.01
        The learning rate.
    lr_decay_every : int or None, default=None
        Halve the learning rate every this many epochs; None keeps it.
""" + (TRAINING_DOC_EPOCHS + TRAINING_DOC_PENALTIES).format(
    max_iter=200, batch_size=None).replace(
    '    batch_size : int or "auto", default=None\n        Rows per minibatch',
    '    batch_size : int, "auto" or None, default=None\n        Labelled nodes per '
    'minibatch (None: all of them, full-batch training as in the GCN paper)').replace(
    "    alpha, l1 : float, default=0.0\n"
    "        L2 / L1 penalties on the weight matrices (not biases or norms),\n"
    "        divided by the (weighted) batch size as scikit-learn's ``alpha``.\n",
    "    alpha : float, default=5e-4\n"
    "        L2 penalty on the weight matrices (not biases or norms), divided by\n"
    "        the labelled nodes in a batch (scikit-learn's ``alpha``).\n"
    "    l1 : float, default=0.0\n"
    "        L1 penalty on the weight matrices, divided likewise.\n")

_TAIL = doc_tail("NodeNetwork", "labelled node")


class GNNNodeClassifier(NeuralNetClassifierMixin, _NodeNet):
    __doc__ = """Graph neural network classifier: one label per node.

    ``fit(graph, y)`` with y one label per node, -1 for the unlabelled;
    ``predict(graph)`` labels every node.
""" + _HEAD + """    label_smoothing : float in [0, 1], default=0.0
        Smooth the one-hot targets by this much.
    class_weight : "balanced", dict or None, default=None
        Weights per class, multiplied into ``sample_weight``.
""" + _TAIL + """    classes_ : ndarray
        The class labels (of the labelled nodes).

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> from sklears_neural.data import Graph
    >>> from sklears_neural.gnn import GNNNodeClassifier
    >>> karate = nx.karate_club_graph()
    >>> clubs = np.array([karate.nodes[i]["club"] == "Officer" for i in karate], dtype=int)
    >>> y = np.full(34, -1)
    >>> y[[0, 33]] = clubs[[0, 33]]
    >>> graph = Graph.from_networkx(karate, np.eye(34))
    >>> model = GNNNodeClassifier(random_state=0).fit(graph, y)
    >>> model.predict(graph).shape
    (34,)
"""

    def __init__(self, conv="gcn", *, module=None, hidden_layer_sizes=(16,), dropout=0.5,
                 heads=8, residual=False, norm=None, optimizer="adam", lr=0.01, lr_decay_every=None,
                 max_iter=200, batch_size=None, alpha=5e-4, l1=0.0, clip_grad_norm=None,
                 noise=0.0, lr_schedule=None, label_smoothing=0.0, class_weight=None,
                 callbacks=None, validation_fraction=None, early_stopping=False,
                 n_iter_no_change=50, tol=1e-4, shuffle=True, warm_start=False,
                 random_state=None, device="cpu", dtype="float32", verbose=0, n_threads=None,
                 max_epochs="deprecated", **kwargs):
        self._store(locals())


class GNNNodeRegressor(NeuralNetRegressorMixin, _NodeNet):
    __doc__ = """Graph neural network regressor: one target (or several) per node.

    ``fit(graph, y)`` with y one target per node, NaN for the unlabelled;
    ``predict(graph)`` predicts every node.
""" + _HEAD + _TAIL

    def __init__(self, conv="gcn", *, module=None, hidden_layer_sizes=(16,), dropout=0.5,
                 heads=8, residual=False, norm=None, optimizer="adam", lr=0.01, lr_decay_every=None,
                 max_iter=200, batch_size=None, alpha=5e-4, l1=0.0, clip_grad_norm=None,
                 noise=0.0, lr_schedule=None, callbacks=None, validation_fraction=None,
                 early_stopping=False, n_iter_no_change=50, tol=1e-4, shuffle=True,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0, n_threads=None, max_epochs="deprecated", **kwargs):
        self._store(locals())
