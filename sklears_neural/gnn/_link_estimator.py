"""``GNNLinkPredictor``: is there an edge between two nodes?

X is node pairs (an integer array of shape (n_pairs, 2)) of one graph, given
to ``fit`` as ``graph=``; y their labels (1: an edge), or None when every
pair is an edge. A graph network embeds the nodes, a pair scores the dot
product of its two embeddings, and each batch of pairs is joined by random
pairs labelled 0 (negative sampling). Pairs being plain arrays, ``train_test_split``,
``cross_val_score`` (with ``params={"graph": g}``) and ``roc_auc_score`` work
on them as on any data.
"""

from numbers import Real

import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from sklears_neural._threads import thread_limits
from sklears_neural.autograd import Tensor
from sklears_neural.backend import get_array_module
from sklears_neural.base._mixins import NeuralNetClassifierMixin
from sklears_neural.base._params import TRAINING_DOC_EPOCHS, TRAINING_DOC_PENALTIES
from sklears_neural.data import Graph, LinkDataset
from sklears_neural.data._graph_links import check_pairs
from sklears_neural.gnn._estimators import _check_widths, _graphs, doc_tail
from sklears_neural.gnn._network import NodeNetwork
from sklears_neural.gnn._node_estimators import _NodeNet
from sklears_neural.nn import Module
from sklears_neural.nn import functional as F

__all__ = ["GNNLinkPredictor", "LinkNetwork"]


class LinkNetwork(Module):
    """Node embeddings from graph convolutions; a pair's logit is their dot product.

    Parameters
    ----------
    n_features : int
        Node feature width.
    embedding_size : int
        Width of the node embeddings.
    hidden_layer_sizes : tuple of int
        Widths of the convolutions before the embedding's.
    **kwargs
        ``NodeNetwork``'s options (conv, dropout, heads, residual, norm,
        edge_dim, generator).
    """

    def __init__(self, n_features, embedding_size, hidden_layer_sizes=(), **kwargs):
        super().__init__()
        self.encoder = NodeNetwork(n_features, embedding_size,
                                   hidden_layer_sizes=hidden_layer_sizes, **kwargs)

    def forward(self, x, edge_index, edge_attr=None, edge_weight=None, batch=None,
                n_graphs=None, pairs=None):
        """Two logits per pair, (no edge, edge), ``(-s / 2, s / 2)`` for the score s.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, n_features)
            Node features.
        edge_index : int array of shape (2, n_edges)
            The edges.
        edge_attr : array of shape (n_edges, edge_dim), optional
            Edge features, read by ``conv="gine"``.
        edge_weight : array of shape (n_edges,), optional
            Edge weights, read by ``conv="gcn"``.
        batch : int array, optional
            Not read (one graph).
        n_graphs : int, optional
            Not read (one graph).
        pairs : int array of shape (n_pairs, 2)
            The pairs to score.

        Returns
        -------
        Tensor of shape (n_pairs, 2)
            Logits whose softmax is ``(1 - sigmoid(s), sigmoid(s))``.
        """
        z = self.encoder(x, edge_index, edge_attr, edge_weight)
        score = (F.gather_rows(z, pairs[:, 0]) * F.gather_rows(z, pairs[:, 1])).sum(
            axis=1, keepdims=True)
        xp = get_array_module(score.data)
        return score @ Tensor(xp.asarray([[-0.5, 0.5]], dtype=score.dtype))


class GNNLinkPredictor(NeuralNetClassifierMixin, _NodeNet):
    __doc__ = """Link prediction with a graph network: the probability that two nodes are linked.

    ``fit(pairs, y=None, graph=g)`` learns from the pairs of g that are
    edges (and those of ``y == 0`` that are not) against random pairs drawn
    every batch; ``predict_proba(pairs)`` scores pairs of the same graph,
    or of ``graph=`` another one. Hold test edges out of the graph that
    passes messages: ``data.split_edges`` does it.

    Parameters
    ----------
    conv : {"gcn", "gat", "gatv2", "sage", "gin", "gine"}, default="gcn"
        The graph convolution.
    module : nn.Module subclass or instance, optional
        Your own network instead of the one the parameters below describe:
        it is called with a ``data.LinkBatch`` unpacked, ``module(x,
        edge_index, edge_attr, edge_weight, batch, n_graphs, pairs)``, and
        returns two logits (no edge, edge) per pair. A class is built with
        ``module__*`` arguments and, where it takes them, ``n_features``,
        ``n_outputs`` (2) and ``generator``.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the convolutions; the last is the embedding's.
    dropout : float in [0, 1), default=0.0
        Before each convolution.
    heads : int, default=8
        Attention heads of the hidden "gat" / "gatv2" layers.
    residual : bool, default=False
        Skip connections around the hidden layers.
    norm : {None, "batch", "layer"}, default=None
        Normalisation after each hidden convolution.
    negative_ratio : float, default=1.0
        Random pairs (labelled 0) drawn per pair of a batch.
    optimizer : str or Optimizer subclass, default="adam"
        Options as ``optimizer__*``.
    lr : float, default=0.01
        The learning rate.
    lr_decay_every : int or None, default=None
        Halve the learning rate every this many epochs; None keeps it.
""" + (TRAINING_DOC_EPOCHS + TRAINING_DOC_PENALTIES).format(
        max_iter=100, batch_size=None).replace(
        '    batch_size : int or "auto", default=None\n        Rows per minibatch',
        '    batch_size : int, "auto" or None, default=None\n        Pairs per '
        'minibatch (None: all of them)') + """    label_smoothing : float in [0, 1], default=0.0
        Smooth the one-hot targets by this much.
    class_weight : "balanced", dict or None, default=None
        Weights per class, multiplied into ``sample_weight``.
""" + doc_tail("LinkNetwork", "pair") + """    graph_ : Graph
        The graph of ``fit``, scored by ``predict_proba`` by default.
    classes_ : ndarray
        ``[0, 1]``.
"""
    _parameter_constraints = {
        **_NodeNet._parameter_constraints,
        "negative_ratio": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, conv="gcn", *, module=None, hidden_layer_sizes=(128, 64), dropout=0.0,
                 heads=8, residual=False, norm=None, negative_ratio=1.0, optimizer="adam", lr=0.01,
                 lr_decay_every=None, max_iter=100, batch_size=None, alpha=0.0, l1=0.0,
                 clip_grad_norm=None, noise=0.0, lr_schedule=None, label_smoothing=0.0,
                 class_weight=None, callbacks=None, validation_fraction=None,
                 early_stopping=False, n_iter_no_change=50, tol=1e-4, shuffle=True,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0, n_threads=None, max_epochs="deprecated", **kwargs):
        self._store(locals())

    def fit(self, X, y=None, sample_weight=None, *, graph=None, validation_data=None):
        """Learn to score the pairs X of ``graph``.

        If anything raises, the estimator is left exactly as it was before
        the call.

        Parameters
        ----------
        X : array-like of int of shape (n_pairs, 2)
            Node pairs (source, target) of ``graph``.
        y : array-like of shape (n_pairs,), optional
            1 for an edge, 0 for none; None: every pair is an edge.
        sample_weight : array-like of shape (n_pairs,), optional
            One weight per pair.
        graph : Graph
            The graph whose edges pass the messages (required).
        validation_data : tuple (pairs_val, y_val), optional
            Pairs of the same graph scored every epoch, as given: give
            non-edges (y 0) too, no negatives are drawn for them. A
            ``validation_fraction`` split draws its negatives once.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(self._link_dataset(X, y, sample_weight, graph), None, None,
                         incremental=False, validation_data=validation_data)

    def partial_fit(self, X, y=None, sample_weight=None, *, graph=None, **kwargs):
        """One epoch over the pairs X of ``graph`` (see ``fit``).

        Parameters
        ----------
        X : array-like of int of shape (n_pairs, 2)
            Node pairs.
        y : array-like of shape (n_pairs,), optional
            Their labels (None: all edges).
        sample_weight : array-like of shape (n_pairs,), optional
            One weight per pair.
        graph : Graph
            The graph (required).
        **kwargs : dict
            ``classes`` and ``validation_data``, as for ``fit``.

        Returns
        -------
        self : object
            The updated estimator.
        """
        kwargs.setdefault("classes", [0, 1])
        return self._fit(self._link_dataset(X, y, sample_weight, graph), None, None,
                         incremental=True, **kwargs)

    def _node_dataset(self, X, y, sample_weight):
        return X  # fit and partial_fit made the LinkDataset

    def _link_dataset(self, X, y, sample_weight, graph):
        if not isinstance(graph, Graph):
            raise ValueError("GNNLinkPredictor.fit needs graph=, the Graph whose node pairs X "
                             f"are; got {type(graph).__name__}.")
        pairs = check_pairs(X, graph.n_nodes)
        y = np.ones(len(pairs), dtype=np.int64) if y is None else np.asarray(y)
        if y.shape != (len(pairs),) or not np.isin(y, [0, 1]).all():
            raise ValueError(f"y must be one label per pair, 1 (an edge) or 0 (none); got "
                             f"shape {y.shape}.")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
        return LinkDataset(graph, pairs, y.astype(np.int64), sample_weight)

    def _initial_targets(self, y, classes):
        return np.array([0, 1])

    def _default_network(self, n_features, n_outputs, generator):
        sizes = tuple(self.hidden_layer_sizes)
        return LinkNetwork(n_features, sizes[-1], sizes[:-1], conv=self.conv,
                           dropout=self.dropout, heads=self.heads, residual=self.residual,
                           norm=self.norm, edge_dim=self.n_edge_features_,
                           generator=generator)

    def _extra_validation(self):
        super()._extra_validation()
        if self.module is None and not self.hidden_layer_sizes:
            raise ValueError("hidden_layer_sizes must hold at least the embedding's width.")

    def _loader(self, dataset):
        return super()._loader(dataset.with_negatives(self.negative_ratio, self._rng))

    def _split(self, data, share):
        train, valid = super()._split(data, share)
        return train, valid.with_negatives(self.negative_ratio, self._rng, fixed=True)

    # -- input ---------------------------------------------------------------------------
    def _check_X_y(self, X, y, reset):
        if isinstance(X, LinkDataset):
            graph, pairs, y = X.graph, X.pairs, np.asarray(y)
        else:  # validation_data: pairs of the fitted graph
            graph = self._graph
            pairs = check_pairs(X, graph.n_nodes)
            y = np.asarray(y)
        (graph,) = _graphs([graph], np.dtype(self.dtype))
        _check_widths(self, graphs=[graph], reset=reset)
        if reset or isinstance(X, LinkDataset):
            self._graph = graph
        return LinkDataset(graph, pairs), y

    def _check_X_fast(self, X, graph=None):
        """X as pairs of ``graph`` (default the fitted graph), a LinkDataset."""
        if graph is None:
            graph = self.graph_
        elif not isinstance(graph, Graph):
            raise ValueError(f"graph must be a Graph; got {type(graph).__name__}.")
        (graph,) = _graphs([graph], np.dtype(self.dtype))
        _check_widths(self, [graph], reset=False)
        return LinkDataset(graph, check_pairs(X, graph.n_nodes))

    def _pair_outputs(self, X, graph):
        check_is_fitted(self, "module_")
        features = self._check_X_fast(X, graph)
        with thread_limits(self.n_threads, self._batch_work(len(features)), self._thread_pool):
            return self._forward(features)

    def _dataset(self, features, y=None, sample_weight=None):
        return LinkDataset(features.graph, features.pairs, y, sample_weight)

    @property
    def graph_(self):
        """The graph of ``fit`` (scored by default)."""
        check_is_fitted(self, "module_")
        return self._graph

    def predict_proba(self, X, graph=None):
        """The probability of each pair being an edge (columns: no edge, edge).

        Parameters
        ----------
        X : array-like of int of shape (n_pairs, 2)
            Node pairs.
        graph : Graph, optional
            Their graph (default: the graph of ``fit``).

        Returns
        -------
        ndarray of shape (n_pairs, 2)
            ``[P(no edge), P(edge)]`` per pair.
        """
        outputs = self._pair_outputs(X, graph)
        return self._targets.probabilities(outputs.astype(np.float64))

    def predict(self, X, graph=None):
        """Whether each pair is an edge (1) or not (0).

        Parameters
        ----------
        X : array-like of int of shape (n_pairs, 2)
            Node pairs.
        graph : Graph, optional
            Their graph (default: the graph of ``fit``).

        Returns
        -------
        ndarray of shape (n_pairs,)
            0 or 1 per pair.
        """
        return self._predict_from_outputs(self._pair_outputs(X, graph))

    def predict_log_proba(self, X, graph=None):
        """The log of ``predict_proba``.

        Parameters
        ----------
        X : array-like of int of shape (n_pairs, 2)
            Node pairs.
        graph : Graph, optional
            Their graph (default: the graph of ``fit``).

        Returns
        -------
        ndarray of shape (n_pairs, 2)
            Log-probabilities (-inf where a probability is 0).
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, graph))

    def score(self, X, y, sample_weight=None, graph=None):
        """Accuracy of ``predict`` on labelled pairs.

        Parameters
        ----------
        X : array-like of int of shape (n_pairs, 2)
            Node pairs.
        y : array-like of shape (n_pairs,)
            1 (an edge) or 0 (none).
        sample_weight : array-like of shape (n_pairs,), optional
            One weight per pair.
        graph : Graph, optional
            Their graph (default: the graph of ``fit``).

        Returns
        -------
        float
            The accuracy.
        """
        return float(accuracy_score(y, self.predict(X, graph), sample_weight=sample_weight))
