"""ENAS (Pham et al. 2018) over the convolutional cell DARTS searches.

Every candidate cell is a sub-network of one supernet (``CellNetwork``): an
edge of the cell picks one of ``OPERATIONS`` ("zero" drops the edge), and all
candidates share the supernet's weights, so a candidate is scored without
training it. A controller, a learned policy over the edges' choices, proposes
the candidates. Training alternates two phases per epoch: the shared weights
take a gradient step on each minibatch of one half of the data, each step on a
cell the controller samples; then the controller takes REINFORCE steps whose
reward is a sampled cell's accuracy on a minibatch of the other half. At the
end, cells sampled from the trained controller are scored on the whole other
half with the shared weights, and the best is retrained from scratch.

The controller is autoregressive: the logits of edge ``e`` are a learned bias
plus a learned term for each earlier edge's choice (the role the paper's LSTM
plays, with one table per pair of edges instead of a recurrent state).
"""

import numpy as np

from sklears_neural import nn, optim
from sklears_neural.autograd import Tensor, no_grad
from sklears_neural.nas._darts import OPERATIONS, CellNetwork, cell_edges

__all__ = ["Controller", "enas_search", "genotype_of"]


def _softmax(z):
    z = np.exp(z - z.max())
    return z / z.sum()


class Controller:
    """An autoregressive categorical policy over a cell's edges, trained by REINFORCE.

    Parameters
    ----------
    n_edges : int
        Decisions, one per edge.
    n_operations : int
        Options per decision.
    lr : float, default=0.01
        Adam's step.
    entropy_weight : float, default=1e-2
        Weight of the policy's entropy in the objective (keeps it exploring).
    baseline_decay : float, default=0.9
        Decay of the moving average of rewards subtracted from each reward.
    """

    def __init__(self, n_edges, n_operations, lr=0.01, entropy_weight=1e-2,
                 baseline_decay=0.9):
        self.bias = np.zeros((n_edges, n_operations))
        # coupling[e, f, a] is added to edge e's logits when an earlier edge f chose a
        self.coupling = np.zeros((n_edges, n_edges, n_operations, n_operations))
        self.lr, self.entropy_weight, self.baseline_decay = lr, entropy_weight, baseline_decay
        self.baseline = None
        self._moments = [np.zeros_like(self.bias), np.zeros_like(self.bias),
                         np.zeros_like(self.coupling), np.zeros_like(self.coupling)]
        self._steps = 0

    def _logits(self, e, choices):
        logits = self.bias[e].copy()
        for f in range(e):
            logits += self.coupling[e, f, choices[f]]
        return logits

    def probabilities(self, choices):
        """Each edge's option probabilities given the choices of the edges before it.

        Parameters
        ----------
        choices : sequence of int
            One option per edge.

        Returns
        -------
        ndarray of shape (n_edges, n_operations)
            Row e: edge e's distribution given ``choices[:e]``.
        """
        return np.stack([_softmax(self._logits(e, choices)) for e in range(len(self.bias))])

    def sample(self, rng, greedy=False):
        """Draw a cell, one edge after the other.

        Parameters
        ----------
        rng : numpy.random.Generator
            The draws.
        greedy : bool, default=False
            Take each edge's most likely option instead.

        Returns
        -------
        ndarray of int of shape (n_edges,)
            One option per edge.
        """
        choices = np.zeros(len(self.bias), dtype=np.int64)
        for e in range(len(self.bias)):
            p = _softmax(self._logits(e, choices))
            choices[e] = int(np.argmax(p)) if greedy else int(rng.choice(len(p), p=p))
        return choices

    def update(self, choices, reward):
        """One REINFORCE step: raise the log-probability of ``choices`` in proportion
        to ``reward`` minus the moving baseline, plus the entropy bonus.

        Parameters
        ----------
        choices : sequence of int
            The sampled cell.
        reward : float
            Its reward.

        Returns
        -------
        float
            The advantage used (reward minus the baseline before this step).
        """
        if self.baseline is None:
            self.baseline = float(reward)
        advantage = float(reward) - self.baseline
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward
        probabilities = self.probabilities(choices)
        grad_bias = np.zeros_like(self.bias)
        grad_coupling = np.zeros_like(self.coupling)
        for e, p in enumerate(probabilities):
            log_p = np.log(np.maximum(p, 1e-300))
            entropy = -float(p @ log_p)
            grad = -advantage * p  # d(advantage * log p[a]) / d logits
            grad[choices[e]] += advantage
            grad += self.entropy_weight * -p * (log_p + entropy)  # d entropy / d logits
            grad_bias[e] = grad
            for f in range(e):
                grad_coupling[e, f, choices[f]] += grad
        self._steps += 1
        for value, grad, (m, v) in ((self.bias, grad_bias, self._moments[:2]),
                                    (self.coupling, grad_coupling, self._moments[2:])):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            m_hat = m / (1 - 0.9 ** self._steps)
            v_hat = v / (1 - 0.999 ** self._steps)
            value += self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)  # ascent
        return advantage


def genotype_of(choices, n_nodes):
    """The cell an ENAS choice vector describes.

    Parameters
    ----------
    choices : sequence of int
        One index into ``OPERATIONS`` per edge of ``cell_edges(n_nodes)``.
    n_nodes : int
        Computed nodes of the cell.

    Returns
    -------
    list of (source, target, operation)
        The edges whose operation is not "zero".
    """
    return [(i, j, OPERATIONS[int(k)]) for (i, j), k in zip(cell_edges(n_nodes), choices)
            if OPERATIONS[int(k)] != "zero"]


def _accuracy(net, X, y, choices, batch_size):
    """A cell's accuracy with the shared weights (batch statistics, as in training)."""
    net.choices = choices
    correct = seen = 0
    with no_grad():
        for start in range(0, len(X), batch_size):
            rows = slice(start, start + batch_size)
            if len(X[rows]) < 2:  # batch normalisation needs two rows: not scored
                continue
            logits = net(Tensor(X[rows])).data
            correct += int((np.asarray(logits).argmax(axis=1) == y[rows]).sum())
            seen += len(X[rows])
    return correct / max(seen, 1)


def enas_search(X, y, n_classes, image_shape, epochs, batch_size=64, lr=1e-3,
                controller_steps=20, n_candidates=10, channels=16, n_cells=2, n_nodes=3,
                rng=None):
    """ENAS: train shared weights on sampled cells and a controller on their rewards.

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
        Passes of the shared weights over their half.
    batch_size : int, default=64
        Rows per step.
    lr : float, default=1e-3
        Adam's step for the shared weights.
    controller_steps : int, default=20
        Controller updates per epoch.
    n_candidates : int, default=10
        Cells sampled from the trained controller at the end (with its most
        likely cell), the best of them on the other half returned.
    channels, n_cells, n_nodes : int
        The supernet's shape.
    rng : numpy.random.Generator, optional
        Seeds the split, the batches, the weights and the draws.

    Returns
    -------
    choices : ndarray of int of shape (n_edges,)
        The best cell found, one operation index per edge.
    history : dict
        "loss" (the shared weights' training loss per epoch), "reward" (the
        controller's mean reward per epoch) and "candidates" (each final
        candidate's choices and accuracy).
    """
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(len(X))
    half = len(X) // 2
    w_rows, r_rows = order[:half], order[half:]
    X = np.asarray(X, dtype=np.float32)
    net = CellNetwork(X.shape[1], n_classes, image_shape, channels, n_cells, n_nodes,
                      generator=rng)
    controller = Controller(len(cell_edges(n_nodes)), len(OPERATIONS))
    w_opt = optim.Adam(net.weight_parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    history = {"loss": [], "reward": [], "candidates": []}
    net.train()
    for _ in range(int(epochs)):
        batches = rng.permutation(w_rows)
        total = 0.0
        for start in range(0, len(batches), batch_size):
            index = batches[start:start + batch_size]
            if len(index) < 2:
                continue
            net.choices = controller.sample(rng)
            w_opt.zero_grad()
            loss = criterion(net(Tensor(X[index])), y[index])
            loss.backward()
            w_opt.step()
            total += float(loss.item()) * len(index)
        history["loss"].append(total / max(len(w_rows), 1))
        rewards = []
        for _ in range(int(controller_steps)):
            choices = controller.sample(rng)
            index = rng.choice(r_rows, min(batch_size, len(r_rows)), replace=False)
            reward = _accuracy(net, X[index], y[index], choices, batch_size)
            controller.update(choices, reward)
            rewards.append(reward)
        history["reward"].append(float(np.mean(rewards)) if rewards else float("nan"))
    candidates = [controller.sample(rng, greedy=True)]
    candidates += [controller.sample(rng) for _ in range(int(n_candidates))]
    best, best_accuracy = None, -1.0
    for choices in candidates:
        accuracy = _accuracy(net, X[r_rows], y[r_rows], choices, batch_size)
        history["candidates"].append((choices.tolist(), accuracy))
        if accuracy > best_accuracy:
            best, best_accuracy = choices, accuracy
    net.choices = None
    return best, history
