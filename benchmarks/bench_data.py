"""asv benchmarks of the data layer: does ``DataLoader(prefetch=True)`` pay?

One epoch = iterate a ``DataLoader`` and, per batch, a realistic step: a
numpy forward + backward + SGD update of a dense net ``F-256-128-10``
(F = 784 for the 20k-row arrays, 64 for digits, the 16 features of every
time step for the sequences). Prefetch gathers the next batch on a thread
while this runs; it can only win if fetching is slow and the compute
releases the GIL (BLAS does).

Data: sklearn's digits (1797 x 64), 20 000 x 784 float32 rows, 2 000
variable-length sequences (T in 10..60, 16 features) in a
``SequenceDataset``, and the 20k rows behind a plain Python ``Dataset``
(``__getitem__`` per row, ``default_collate``), the slow-fetch case.

Runs single-threaded (BLAS limited to one thread in ``setup``), as the other
suites do; ``python benchmarks/bench_data.py --threads 2`` measures with two.

    python benchmarks/bench_data.py            # the table, ~1 min on 2 cores
    python benchmarks/bench_data.py --repeat 9
"""

import argparse
import time

import numpy as np
import threadpoolctl

from sklears_neural.data import ArrayDataset, DataLoader, Dataset, SequenceDataset

CASES = ("digits", "rows784", "sequences", "python")
BATCHES = (32, 128, 512)


class _PythonRows(Dataset):
    """Rows served one at a time, as a user's own Dataset would."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


def make_dataset(case, seed=0):
    """The dataset of ``case`` and its per-row feature count."""
    rng = np.random.default_rng(seed)
    if case == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return ArrayDataset(X.astype(np.float32) / 16, y), 64
    if case in ("rows784", "python"):
        X = rng.standard_normal((20_000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 20_000)
        return (ArrayDataset(X, y) if case == "rows784" else _PythonRows(X, y)), 784
    if case == "sequences":
        lengths = rng.integers(10, 61, 2_000)
        seqs = [rng.standard_normal((t, 16), dtype=np.float32) for t in lengths]
        return SequenceDataset(seqs, rng.integers(0, 10, 2_000)), 16
    raise ValueError(case)


class _Net:
    """A numpy F-256-128-10 ReLU net: forward, backward, an SGD step's arithmetic."""

    def __init__(self, features, seed=0):
        rng = np.random.default_rng(seed)
        sizes = (features, 256, 128, 10)
        self.W = [rng.standard_normal((a, b), dtype=np.float32) * np.float32(1 / np.sqrt(a))
                  for a, b in zip(sizes[:-1], sizes[1:])]
        # The update is written to scratch arrays: the same work every epoch,
        # without weights that drift (towards denormals) over the repeats.
        self.scratch = [np.empty_like(W) for W in self.W]

    def step(self, x):
        W1, W2, W3 = self.W
        h1 = np.maximum(x @ W1, 0)
        h2 = np.maximum(h1 @ W2, 0)
        g = h2 @ W3  # stands in for d loss / d logits
        d2 = (g @ W3.T) * (h2 > 0)
        d1 = (d2 @ W2.T) * (h1 > 0)
        for W, out, grad in zip(self.W[::-1], self.scratch[::-1], (h2.T @ g, h1.T @ d2,
                                                                    x.T @ d1)):
            grad *= np.float32(1e-3)
            np.subtract(W, grad, out=out)


def _rows(batch):
    x = batch[0]
    if isinstance(x, tuple):  # Padded(values, lengths): every time step is a row
        x = x[0].reshape(-1, x[0].shape[-1])
    return x


def run_epoch(loader, net):
    for batch in loader:
        net.step(_rows(batch))


class PrefetchEpoch:
    """One shuffled epoch with a dense forward + backward per batch."""

    params = (list(CASES), list(BATCHES), [False, True])
    param_names = ["data", "batch_size", "prefetch"]
    timeout = 120

    def setup(self, data, batch_size, prefetch):
        self._limiter = threadpoolctl.threadpool_limits(limits=1)
        dataset, features = make_dataset(data)
        self.net = _Net(features)
        self.loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=0,
                                 prefetch=prefetch)

    def time_epoch(self, data, batch_size, prefetch):
        run_epoch(self.loader, self.net)


class LoaderOnly:
    """One shuffled epoch of fetching alone (no compute): the loader's own cost."""

    params = (list(CASES), list(BATCHES), [False, True])
    param_names = ["data", "batch_size", "prefetch"]
    timeout = 120

    def setup(self, data, batch_size, prefetch):
        self.loader = DataLoader(make_dataset(data)[0], batch_size=batch_size, shuffle=True,
                                 generator=0, prefetch=prefetch)

    def time_epoch(self, data, batch_size, prefetch):
        for _ in self.loader:
            pass


def _best_pair(fn_off, fn_on, repeat):
    """Best times (ms) of two functions, run alternately so that load from
    other processes falls on both."""
    fn_off(), fn_on()  # warm up
    times = ([], [])
    for _ in range(repeat):
        for fn, out in zip((fn_off, fn_on), times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return min(times[0]) * 1e3, min(times[1]) * 1e3


def _epoch_fn(loader, net):
    if net is None:
        return lambda: [None for _ in loader]
    return lambda: run_epoch(loader, net)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    print(f"ms per epoch, best of {args.repeat}, BLAS threads = {args.threads}")
    print(f"{'data':<10} {'batch':>5} {'fetch off':>10} {'fetch on':>9} "
          f"{'epoch off':>10} {'epoch on':>9} {'on/off':>7}")
    with threadpoolctl.threadpool_limits(limits=args.threads):
        for case in args.cases.split(","):
            dataset, features = make_dataset(case)
            for batch_size in BATCHES:
                row = []
                for compute in (False, True):
                    fns = []
                    for prefetch in (False, True):
                        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                            generator=0, prefetch=prefetch)
                        fns.append(_epoch_fn(loader, _Net(features) if compute else None))
                    row.extend(_best_pair(*fns, args.repeat))
                print(f"{case:<10} {batch_size:>5} {row[0]:>10.1f} {row[1]:>9.1f} "
                      f"{row[2]:>10.1f} {row[3]:>9.1f} {row[3] / row[2]:>7.2f}")


if __name__ == "__main__":
    main()
