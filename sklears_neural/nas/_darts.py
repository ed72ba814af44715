"""DARTS (Liu et al. 2019), first order, over a convolutional cell.

A cell is a small DAG: node 0 is the cell's input, node j > 0 sums a mixed
operation of every earlier node, and the cell's output is a 1x1 convolution
of its nodes concatenated. On an edge, the mixed operation is
``sum_k softmax(alpha_e)_k op_k(x)``; the architecture weights ``alpha``
(shared by the network's cells) are trained by gradient descent on half of the
training data while the operations' weights train on the other half. The
architecture is then discretised (each node keeps its two strongest incoming
edges, each its strongest operation other than "zero") and retrained.
"""

import numpy as np

from sklears_neural import nn, optim
from sklears_neural._random import as_generator
from sklears_neural.autograd import Tensor
from sklears_neural.nn import functional as F

__all__ = ["OPERATIONS", "CellNetwork", "cell_edges", "darts_search", "discretise"]

OPERATIONS = ("zero", "skip", "conv3x3", "conv5x5", "max_pool", "avg_pool")


class _Zero(nn.Module):
    def forward(self, x):
        return x * 0.0


def _operation(name, channels, generator):
    if name == "zero":
        return _Zero()
    if name == "skip":
        return nn.Identity()
    if name in ("conv3x3", "conv5x5"):
        size = 3 if name == "conv3x3" else 5
        return nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, size, padding=size // 2,
                                                  bias=False, generator=generator),
                             nn.BatchNorm2d(channels))
    pool = nn.MaxPool2d if name == "max_pool" else nn.AvgPool2d
    return pool(3, stride=1, padding=1)


def cell_edges(n_nodes):
    """(source, target) of every edge of a cell with ``n_nodes`` computed nodes."""
    return [(i, j) for j in range(1, n_nodes + 1) for i in range(j)]


class CellNetwork(nn.Module):
    """A stem convolution, cells, global average pooling and a linear head.

    With ``genotype`` None every edge is a mixed operation weighted by the
    shared ``alpha`` (DARTS's supernet), or, while ``choices`` holds one
    operation index per edge, that operation alone (ENAS's shared weights);
    with a genotype, the edges it lists carry one operation each.

    Parameters
    ----------
    n_features : int
        Flat input width (``prod(image_shape)``).
    n_outputs : int
        Classes.
    image_shape : tuple of int
        (channels, height, width) of one input.
    channels : int, default=16
        Width of the cells.
    n_cells : int, default=2
        Cells in a row.
    n_nodes : int, default=3
        Computed nodes per cell.
    genotype : list of (source, target, operation), optional
        A discrete cell.
    generator : numpy.random.Generator, optional
        Seeds the weights.
    """

    def __init__(self, n_features, n_outputs, image_shape, channels=16, n_cells=2, n_nodes=3,
                 genotype=None, generator=None):
        super().__init__()
        self.image_shape, self.n_nodes = tuple(image_shape), n_nodes
        self.genotype = None if genotype is None else [tuple(g) for g in genotype]
        self.stem = nn.Sequential(nn.Conv2d(image_shape[0], channels, 3, padding=1, bias=False,
                                            generator=generator), nn.BatchNorm2d(channels))
        self.n_cells = n_cells
        edges = cell_edges(n_nodes) if genotype is None else [(i, j) for i, j, _ in self.genotype]
        for c in range(n_cells):
            for e, (i, j) in enumerate(edges):
                if genotype is None:
                    ops = [_operation(name, channels, generator) for name in OPERATIONS]
                    setattr(self, f"cell{c}_edge{e}", nn.Sequential(*ops))  # a list, not run
                else:
                    setattr(self, f"cell{c}_edge{e}",
                            _operation(self.genotype[e][2], channels, generator))
            setattr(self, f"cell{c}_out", nn.Sequential(
                nn.ReLU(), nn.Conv2d(n_nodes * channels, channels, 1, bias=False,
                                     generator=generator), nn.BatchNorm2d(channels)))
        self._edge_list = edges
        self.choices = None
        self.head = nn.Linear(channels, n_outputs, generator=generator)
        if genotype is None:
            draws = as_generator(generator).standard_normal((len(edges), len(OPERATIONS)))
            self.alpha = nn.Parameter((1e-3 * draws).astype(np.float32))

    def weight_parameters(self):
        """Every parameter but ``alpha``.

        Returns
        -------
        list of Parameter
            The operations' weights.
        """
        return [p for name, p in self.named_parameters() if name != "alpha"]

    def forward(self, x):
        """Class logits.

        Parameters
        ----------
        x : Tensor of shape (n, n_features) or (n, *image_shape)
            Images, flat or not.

        Returns
        -------
        Tensor of shape (n, n_outputs)
            Logits.
        """
        h = self.stem(x.reshape(x.shape[0], *self.image_shape))
        sampled = self.choices if self.genotype is None else None
        mix = None if self.genotype is not None or sampled is not None else \
            F.softmax(self.alpha, dim=1)
        for c in range(self.n_cells):
            states = [h]
            for j in range(1, self.n_nodes + 1):
                total = None
                for e, (src, dst) in enumerate(self._edge_list):
                    if dst != j:
                        continue
                    edge = getattr(self, f"cell{c}_edge{e}")
                    if sampled is not None:  # ENAS: one operation, its weights shared
                        k = int(sampled[e])
                        out = None if OPERATIONS[k] == "zero" else edge[k](states[src])
                    elif mix is None:
                        out = edge(states[src])
                    else:  # the mixed operation ("zero" adds nothing)
                        out = None
                        for k, op in enumerate(edge):
                            if OPERATIONS[k] == "zero":
                                continue
                            term = op(states[src]) * mix[e:e + 1, k:k + 1].reshape(1, 1, 1, 1)
                            out = term if out is None else out + term
                    if out is not None:
                        total = out if total is None else total + out
                states.append(total if total is not None else states[0] * 0.0)
            h = getattr(self, f"cell{c}_out")(F.cat(states[1:], dim=1)) + h
        return self.head(h.mean(axis=(2, 3)))


def discretise(alpha, n_nodes, keep=2):
    """The cell DARTS derives from its architecture weights.

    Parameters
    ----------
    alpha : ndarray of shape (n_edges, n_operations)
        The weights (before the softmax).
    n_nodes : int
        Computed nodes of the cell.
    keep : int, default=2
        Incoming edges each node keeps (all it has when fewer).

    Returns
    -------
    list of (source, target, operation)
        Each node's strongest edges, each with its strongest operation other
        than "zero".
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    weights = np.exp(alpha - alpha.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    nonzero = [k for k, name in enumerate(OPERATIONS) if name != "zero"]
    genotype = []
    edges = cell_edges(n_nodes)
    for j in range(1, n_nodes + 1):
        incoming = [(e, i) for e, (i, t) in enumerate(edges) if t == j]
        strength = [(weights[e, nonzero].max(), e, i) for e, i in incoming]
        for _, e, i in sorted(strength, reverse=True)[:keep]:
            genotype.append((i, j, OPERATIONS[nonzero[int(np.argmax(weights[e, nonzero]))]]))
    return sorted(genotype, key=lambda g: (g[1], g[0]))


def darts_search(X, y, n_classes, image_shape, epochs, batch_size=64, lr=1e-3, arch_lr=3e-3,
                 channels=16, n_cells=2, n_nodes=3, rng=None):
    """First-order DARTS: alternate architecture and weight steps on two halves of X.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        Flat images.
    y : ndarray of int of shape (n,)
        Class indices.
    n_classes : int
        Classes.
    image_shape : tuple of int
        One image's (channels, height, width).
    epochs : int
        Passes over the weights' half.
    batch_size : int, default=64
        Rows per step.
    lr, arch_lr : float, default=1e-3, 3e-3
        Adam's steps for the weights and for ``alpha``.
    channels, n_cells, n_nodes : int
        The supernet's shape.
    rng : numpy.random.Generator, optional
        Seeds the split, the batches and the weights.

    Returns
    -------
    alpha : ndarray of shape (n_edges, n_operations)
        The learned architecture weights.
    losses : list of float
        The weights' training loss per epoch.
    """
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(len(X))
    half = len(X) // 2
    w_rows, a_rows = order[:half], order[half:]
    net = CellNetwork(X.shape[1], n_classes, image_shape, channels, n_cells, n_nodes,
                      generator=rng)
    w_opt = optim.Adam(net.weight_parameters(), lr=lr)
    a_opt = optim.Adam([net.alpha], lr=arch_lr, betas=(0.5, 0.999), weight_decay=1e-3)
    criterion = nn.CrossEntropyLoss()
    X = np.asarray(X, dtype=np.float32)
    losses = []
    for _ in range(int(epochs)):
        net.train()
        w_batches = rng.permutation(w_rows)
        a_batches = rng.permutation(a_rows)
        total = 0.0
        for start in range(0, len(w_batches), batch_size):
            a_index = a_batches[start % len(a_batches):][:batch_size]
            if len(a_index) > 1:  # the architecture step, on the other half
                a_opt.zero_grad()
                criterion(net(Tensor(X[a_index])), y[a_index]).backward()
                a_opt.step()
            index = w_batches[start:start + batch_size]
            if len(index) < 2:
                continue
            w_opt.zero_grad()
            loss = criterion(net(Tensor(X[index])), y[index])
            loss.backward()
            w_opt.step()
            total += float(loss.item()) * len(index)
        losses.append(total / len(w_rows))
    return np.asarray(net.alpha.data, dtype=np.float64), losses
