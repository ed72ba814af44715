"""Samplers: coverage, replacement, weights, reproducibility, stratified proportions."""

import numpy as np
import pytest

from sklears_neural.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StratifiedBatchSampler,
    WeightedRandomSampler,
)

N = 50


def test_sequential_sampler_yields_ints_in_order():
    sampler = SequentialSampler(range(N))
    order = list(sampler)
    assert order == list(range(N))
    assert all(type(i) is int for i in order)
    np.testing.assert_array_equal(sampler.indices(), np.arange(N))
    assert sampler.indices().dtype == np.int64
    assert len(sampler) == N


def test_random_sampler_is_a_permutation_each_epoch():
    sampler = RandomSampler(range(N), generator=0)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(N)) and sorted(second) == list(range(N))
    assert first != second  # a new draw every epoch
    assert first != list(range(N))
    assert all(type(i) is int for i in first)


def test_random_sampler_num_samples_without_replacement_concatenates_permutations():
    order = RandomSampler(range(10), num_samples=25, generator=0).indices()
    assert len(order) == 25
    for start in (0, 10):
        assert sorted(order[start:start + 10]) == list(range(10))
    assert len(set(order[20:].tolist())) == 5
    short = RandomSampler(range(10), num_samples=4, generator=0)
    assert len(short) == 4 and len(set(short.indices().tolist())) == 4


def test_random_sampler_with_replacement_repeats_rows():
    sampler = RandomSampler(range(N), replacement=True, num_samples=500, generator=0)
    order = sampler.indices()
    assert len(order) == 500 == len(sampler)
    assert order.min() >= 0 and order.max() < N
    assert len(np.unique(order)) < 500  # repeats, impossible without replacement
    assert len(np.unique(order)) == N  # 500 draws over 50 rows reach them all (seeded)


@pytest.mark.parametrize("make", [
    lambda g: RandomSampler(range(N), generator=g),
    lambda g: RandomSampler(range(N), replacement=True, generator=g),
    lambda g: WeightedRandomSampler(np.arange(1.0, N + 1), N, generator=g),
    lambda g: StratifiedBatchSampler(np.arange(N) % 3, 8, generator=g),
])
def test_seeded_generator_reproduces_the_order(make):
    def epochs(g):
        sampler = make(g)
        return [np.concatenate([np.atleast_1d(b) for b in sampler]) for _ in range(2)]

    a, b, c = epochs(7), epochs(np.random.default_rng(7)), epochs(8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], a[1])


def test_weighted_sampler_frequencies_follow_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    order = WeightedRandomSampler(weights, 20000, generator=0).indices()
    freq = np.bincount(order, minlength=5) / len(order)
    np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.015)
    assert freq[4] == 0


def test_weighted_sampler_without_replacement():
    weights = np.array([1.0, 1.0, 5.0, 0.0, 1.0])
    order = WeightedRandomSampler(weights, 4, replacement=False, generator=0).indices()
    assert sorted(order.tolist()) == [0, 1, 2, 4]
    with pytest.raises(ValueError, match="non-zero weights"):
        WeightedRandomSampler(weights, 5, replacement=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(weights=[1.0, -1.0], num_samples=2), "non-negative"),
    (dict(weights=[0.0, 0.0], num_samples=2), "not all zero"),
    (dict(weights=[1.0], num_samples=0), "num_samples must be an integer >= 1; got 0"),
])
def test_weighted_sampler_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WeightedRandomSampler(**kwargs)


def test_sampler_argument_errors():
    with pytest.raises(ValueError, match="num_samples must be an integer >= 1; got 0"):
        RandomSampler(range(5), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(5), replacement=1)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1; got 0"):
        BatchSampler(SequentialSampler(range(5)), 0, False)
    with pytest.raises(TypeError, match="drop_last"):
        BatchSampler(SequentialSampler(range(5)), 2, "no")


@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_batch_sampler_cuts_the_order(drop_last, sizes):
    sampler = BatchSampler(SequentialSampler(range(10)), 4, drop_last)
    batches = list(sampler)
    assert [len(b) for b in batches] == sizes == [4] * len(sizes[:-1]) + sizes[-1:]
    assert len(sampler) == len(sizes)
    assert all(isinstance(b, np.ndarray) and b.dtype == np.int64 for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), np.arange(sum(sizes)))


def test_batch_sampler_over_a_plain_iterable_and_a_custom_sampler():
    assert [b.tolist() for b in BatchSampler([3, 1, 2], 2, False)] == [[3, 1], [2]]

    class Reversed(Sampler):
        def __iter__(self):
            return iter(range(len(self.data_source) - 1, -1, -1))

        def __len__(self):
            return len(self.data_source)

    custom = Reversed(range(5))
    np.testing.assert_array_equal(custom.indices(), [4, 3, 2, 1, 0])
    assert [b.tolist() for b in BatchSampler(custom, 2, False)] == [[4, 3], [2, 1], [0]]
    with pytest.raises(NotImplementedError):
        iter(Sampler(range(3)))


@pytest.mark.parametrize("n_per_class, batch_size, shuffle", [
    ((30, 20, 10), 12, True),   # proportions 1/2, 1/3, 1/6: not integral per batch
    ((97, 41, 5, 3), 16, True),
    ((97, 41, 5, 3), 16, False),
    ((50, 50), 7, True),
    ((1, 99), 10, True),
])
def test_stratified_batches_keep_class_proportions(n_per_class, batch_size, shuffle):
    labels = np.repeat(np.array(["a", "b", "c", "d"])[:len(n_per_class)], n_per_class)
    labels = np.random.default_rng(1).permutation(labels)
    sampler = StratifiedBatchSampler(labels, batch_size, shuffle=shuffle, generator=0)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(len(labels)))
    classes, counts = np.unique(labels, return_counts=True)
    ideal = batch_size * counts / len(labels)
    full = [b for b in batches if len(b) == batch_size]
    assert len(full) == len(labels) // batch_size
    for batch in full:
        per_class = np.array([(labels[batch] == c).sum() for c in classes])
        assert np.all(np.abs(per_class - ideal) < 1), (per_class, ideal)


def test_stratified_sampler_shuffle_and_drop_last():
    labels = np.arange(103) % 3
    fixed = StratifiedBatchSampler(labels, 10, shuffle=False, drop_last=True)
    a, b = [x.tolist() for x in fixed], [x.tolist() for x in fixed]
    assert a == b and len(a) == 10 == len(fixed)
    assert all(len(x) == 10 for x in a)
    assert len(StratifiedBatchSampler(labels, 10)) == 11
    with pytest.raises(ValueError, match="1-D"):
        StratifiedBatchSampler(labels.reshape(-1, 1), 10)
