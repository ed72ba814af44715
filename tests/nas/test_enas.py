"""ENAS: the controller learns what is rewarded, the supernet runs one operation
per edge on shared weights, and the search retrains the cell it finds."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklears_neural.autograd import Tensor
from sklears_neural.cnn import CNNClassifier
from sklears_neural.nas import NASClassifier
from sklears_neural.nas._darts import OPERATIONS, CellNetwork
from sklears_neural.nas._enas import Controller, genotype_of

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_controller_learns_the_rewarded_cell():
    rng = np.random.default_rng(0)
    controller = Controller(n_edges=3, n_operations=4, lr=0.1)
    target = np.array([2, 0, 3])
    for _ in range(300):
        choices = controller.sample(rng)
        controller.update(choices, float((choices == target).mean()))
    assert controller.sample(rng, greedy=True).tolist() == target.tolist()
    assert controller.probabilities(target)[np.arange(3), target].min() > 0.8


def test_controller_learns_a_dependence_between_edges():
    """Rewarded when edge 1 repeats edge 0's choice: only the coupling can learn it."""
    rng = np.random.default_rng(1)
    controller = Controller(n_edges=2, n_operations=3, lr=0.1)
    for _ in range(400):
        choices = controller.sample(rng)
        controller.update(choices, float(choices[0] == choices[1]))
    for first in range(3):
        p = controller.probabilities([first, 0])[1]
        assert p[first] > 0.7


def test_supernet_runs_the_sampled_operations_only():
    rng = np.random.default_rng(0)
    net = CellNetwork(64, 3, (1, 8, 8), channels=4, n_cells=1, n_nodes=2, generator=rng)
    net.eval()
    x = Tensor(rng.standard_normal((5, 64)).astype(np.float32))
    choices = [OPERATIONS.index(name) for name in ("conv3x3", "zero", "skip")]
    net.choices = choices
    shared = np.asarray(net(x).data)
    genotype = genotype_of(choices, n_nodes=2)
    assert genotype == [(0, 1, "conv3x3"), (1, 2, "skip")]
    single = CellNetwork(64, 3, (1, 8, 8), channels=4, n_cells=1, n_nodes=2,
                         genotype=genotype, generator=np.random.default_rng(1))
    # copy the shared weights of the sampled operations into the discrete cell
    single.stem.load_state_dict(net.stem.state_dict())
    single.cell0_edge0.load_state_dict(net.cell0_edge0[choices[0]].state_dict())
    single.cell0_out.load_state_dict(net.cell0_out.state_dict())
    single.head.load_state_dict(net.head.state_dict())
    single.eval()
    np.testing.assert_allclose(np.asarray(single(x).data), shared, rtol=1e-5, atol=1e-6)


def test_enas_searches_a_cell_and_retrains_it():
    X, y = load_digits(return_X_y=True)
    X, y = X[:240] / 16.0, y[:240]
    search = NASClassifier(CNNClassifier(input_shape=(1, 8, 8), max_iter=2, random_state=0),
                           strategy="enas", epochs=1, random_state=0).fit(X, y)
    genotype = search.best_params_["genotype"]
    assert all(op in OPERATIONS[1:] for _, _, op in genotype)
    history = search.enas_history_
    assert len(history["loss"]) == len(history["reward"]) == 1
    assert len(history["candidates"]) == 11
    assert max(a for _, a in history["candidates"]) == pytest.approx(
        max(a for c, a in history["candidates"] if genotype_of(c, 3) == genotype))
    assert search.best_estimator_.module_.genotype == genotype
    assert search.predict(X).shape == (240,)
    with pytest.raises(ValueError, match="strategy='enas' searches a convolutional cell"):
        NASClassifier(CNNClassifier(), strategy="enas").fit(X, y)
