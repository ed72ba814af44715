"""The data layer under the estimators and under a hand-written loop: streamed fits equal
in-memory fits, prefetch changes nothing, a custom Dataset trains with nn + optim."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from sklears_neural import MLPClassifier, MLPRegressor, nn, optim
from sklears_neural.autograd import Tensor
from sklears_neural.data import (
    ArrayDataset,
    ArrayStream,
    DataLoader,
    Dataset,
    GeneratorStream,
    SequenceDataset,
)
from sklears_neural.rnn import RNNClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _weights(model):
    return model.module_.state_dict()


def _assert_same_model(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


@pytest.mark.parametrize("chunk_size", [7, 64, 1000])
def test_a_memmap_stream_fits_the_same_model_as_the_array(tmp_path, chunk_size):
    X, y = make_classification(n_samples=300, n_features=10, n_informative=6, n_classes=3,
                               random_state=0)
    path = tmp_path / "X.dat"
    memmap = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    memmap[:] = X
    memmap.flush()
    reader = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    params = dict(hidden_layer_sizes=(16,), max_iter=3, batch_size=32, shuffle=False,
                  random_state=0)
    in_memory = MLPClassifier(**params).fit(X, y)
    streamed = MLPClassifier(**params).fit(ArrayStream(reader, y, chunk_size=chunk_size))
    _assert_same_model(in_memory, streamed)
    np.testing.assert_array_equal(streamed.classes_, in_memory.classes_)
    assert streamed.n_features_in_ == 10 and streamed.t_ == in_memory.t_ == 900
    np.testing.assert_array_equal(streamed.predict(X), in_memory.predict(X))


def test_a_generator_stream_fits_the_same_model_as_the_array():
    X, y = make_regression(n_samples=250, n_features=6, random_state=0)
    y = y / y.std()

    def chunks():
        for start in range(0, len(X), 40):
            yield X[start:start + 40], y[start:start + 40]

    params = dict(hidden_layer_sizes=(8,), max_iter=2, batch_size=25, shuffle=False,
                  random_state=0)
    in_memory = MLPRegressor(**params).fit(X, y)
    streamed = MLPRegressor(**params).fit(GeneratorStream(chunks))
    _assert_same_model(in_memory, streamed)
    with pytest.raises(TypeError, match="function"):
        MLPRegressor(**params).fit(GeneratorStream(chunks()))


def test_streams_refuse_a_validation_split_and_accept_validation_data():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    stream = ArrayStream(X[:150], y[:150], chunk_size=50)
    with pytest.raises(ValueError, match="validation_fraction=0"):
        MLPClassifier(max_iter=2, validation_fraction=0.2).fit(stream)
    model = MLPClassifier(max_iter=2, hidden_layer_sizes=(8,), random_state=0)
    model.fit(stream, validation_data=(X[150:], y[150:]))
    assert all(r["valid_score"] is not None for r in model.history_)
    with pytest.raises(ValueError, match="y=None"):
        MLPClassifier().fit(stream, y[:150])
    with pytest.raises(ValueError, match="solver='lbfgs' .* stream"):
        MLPClassifier(solver="lbfgs").fit(stream)
    first = ArrayStream(X[:100], y[:100], chunk_size=30)
    model = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    model.partial_fit(first, classes=np.unique(y))
    model.partial_fit(ArrayStream(X[100:], y[100:], chunk_size=30))
    assert model.n_iter_ == 2 and model.t_ == 200


def test_a_dataset_holding_its_targets_is_accepted_as_x():
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    params = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    _assert_same_model(MLPClassifier(**params).fit(X, y),
                       MLPClassifier(**params).fit(ArrayDataset(X, y)))
    sequences = [np.random.default_rng(i).normal(size=(3 + i % 4, 2)) for i in range(40)]
    labels = np.arange(40) % 2
    rnn = dict(hidden_size=4, max_iter=2, random_state=0)
    _assert_same_model(RNNClassifier(**rnn).fit(sequences, labels),
                       RNNClassifier(**rnn).fit(SequenceDataset(sequences, labels)))


class Rings(Dataset):
    """A plain user Dataset: only __len__ and __getitem__ (one row at a time)."""

    def __init__(self, n, seed=0):
        rng = np.random.default_rng(seed)
        self.radius = rng.uniform(0, 2, n)
        angle = rng.uniform(0, 2 * np.pi, n)
        self.points = np.stack([self.radius * np.cos(angle), self.radius * np.sin(angle)], 1)

    def __len__(self):
        return len(self.radius)

    def __getitem__(self, i):
        return self.points[i].astype(np.float32), np.int64(self.radius[i] > 1)


def _train_by_hand(prefetch):
    net = nn.Sequential(nn.Linear(2, 16, activation="tanh", generator=0), nn.Linear(16, 2,
                                                                                    generator=1))
    opt = optim.Adam(net.parameters(), lr=0.05)
    loader = DataLoader(Rings(256), batch_size=32, shuffle=True, generator=0,
                        prefetch=prefetch)
    losses = []
    for _ in range(15):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(Tensor(xb)), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return net, losses


def test_a_custom_dataset_trains_with_nn_and_optim_and_prefetch_changes_nothing():
    plain, losses = _train_by_hand(prefetch=False)
    prefetched, losses_prefetched = _train_by_hand(prefetch=True)
    assert losses == losses_prefetched
    for (name, a), (_, b) in zip(plain.state_dict().items(), prefetched.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    data = Rings(256, seed=1)
    xb, yb = DataLoader(data, batch_size=256).__iter__().__next__()
    accuracy = (plain(Tensor(xb)).data.argmax(1) == yb).mean()
    assert accuracy > 0.9 and np.mean(losses[-8:]) < 0.5 * np.mean(losses[:8])


def test_sequence_streams_fit_the_same_model_as_in_memory_sequences():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 7, 2))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    params = dict(hidden_size=4, max_iter=2, batch_size=16, shuffle=False, random_state=0)
    _assert_same_model(RNNClassifier(**params).fit(X, y),
                       RNNClassifier(**params).fit(ArrayStream(X, y, chunk_size=25)))
    sequences = [rng.normal(size=(3 + i % 5, 2)) for i in range(60)]
    labels = np.arange(60) % 2

    def chunks():  # lists of variable-length sequences, 13 at a time
        for start in range(0, 60, 13):
            yield sequences[start:start + 13], labels[start:start + 13]

    _assert_same_model(RNNClassifier(**params).fit(sequences, labels),
                       RNNClassifier(**params).fit(GeneratorStream(chunks)))


def test_streamed_weights_match_in_memory_ones():
    X, y = make_classification(n_samples=200, n_features=6, weights=[0.8], random_state=0)
    w = np.ones(200)
    w[:20] = 0.0  # dropped, as in an in-memory fit
    params = dict(hidden_layer_sizes=(8,), max_iter=2, batch_size=10, shuffle=False,
                  random_state=0, class_weight="balanced")
    in_memory = MLPClassifier(**params).fit(X, y, sample_weight=w)
    streamed = MLPClassifier(**params).fit(ArrayStream(X, y, sample_weight=w, chunk_size=50))
    _assert_same_model(in_memory, streamed)  # balanced over the whole stream, not per chunk
    assert streamed.t_ == in_memory.t_ == 2 * 180


def test_a_stream_that_can_be_read_once_fails_instead_of_fitting_nothing():
    from sklears_neural.data import IterableDataset

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)

    class Once(IterableDataset):
        def __init__(self):
            self.chunks = iter([(X[:30], y[:30]), (X[30:], y[30:])])

        def __iter__(self):
            return self.chunks

    with pytest.raises(ValueError, match="gave no batch in epoch 1"):
        MLPClassifier(max_iter=3).fit(Once())
