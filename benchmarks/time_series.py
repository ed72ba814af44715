"""Time-series classification: our sequence estimators at their defaults
against aeon's MiniRocket and 1-NN DTW, on UCR/UEA datasets aeon bundles.

    python -m benchmarks.time_series                      # the four datasets
    python -m benchmarks.time_series --datasets GunPoint  # a subset
    python -m benchmarks.time_series --skip-slow          # no ACSF1 (1460 steps)

Every estimator runs with its defaults and ``random_state=0`` on the
official train/test split (aeon's ``load_classification``), at the
machine's default threads, in one process; the table gives test accuracy
and fit time. The last columns are the accuracies the papers report for
the same datasets: FCN and ResNet from Fawaz et al. (2019), "Deep learning
for time series classification: a review" (mean of 10 runs; the
dl-4-tsc results), InceptionTime (an ensemble of five Inception networks;
ours is one of them) from Ismail Fawaz et al. (2020); "-" where they did
not run the dataset. Needs aeon (the ``[test]`` extra); tqdm is not used.
"""

import argparse
import time
import warnings

import numpy as np

DATASETS = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "ACSF1")
SLOW = ("ACSF1",)

# dataset -> (FCN, ResNet, InceptionTime) test accuracy as published
PUBLISHED = {
    "GunPoint": (1.000, 0.991, 1.000),
    "ItalyPowerDemand": (0.961, 0.963, 0.968),
}


def _ours():
    from sklears_neural import CNN1DClassifier, RNNClassifier, TransformerClassifier

    return {
        "CNN1DClassifier() [inception]": lambda: CNN1DClassifier(random_state=0),
        'CNN1DClassifier(conv_layers="fcn")':
            lambda: CNN1DClassifier(conv_layers="fcn", random_state=0),
        'CNN1DClassifier(conv_layers="resnet")':
            lambda: CNN1DClassifier(conv_layers="resnet", random_state=0),
        'RNNClassifier(layout="NCT")': lambda: RNNClassifier(layout="NCT", random_state=0),
        'TransformerClassifier(layout="NCT")':
            lambda: TransformerClassifier(layout="NCT", random_state=0),
    }


def _peers():
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    return {
        "aeon MiniRocketClassifier": lambda: MiniRocketClassifier(random_state=0),
        'aeon 1-NN DTW': lambda: KNeighborsTimeSeriesClassifier(distance="dtw",
                                                               n_neighbors=1),
    }


def run(datasets):
    """Fit and score every estimator on every dataset; returns the rows."""
    from aeon.datasets import load_classification

    rows = []
    makers = {**_ours(), **_peers()}
    for name in datasets:
        X_train, y_train = load_classification(name, split="train")
        X_test, y_test = load_classification(name, split="test")
        shape = f"{X_train.shape[0]}/{X_test.shape[0]} x {X_train.shape[1]} x {X_train.shape[2]}"
        for label, make in makers.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make().fit(X_train, y_train)
            fit_s = time.perf_counter() - start
            accuracy = float(np.mean(model.predict(X_test) == y_test))
            rows.append((name, shape, label, accuracy, fit_s))
            print(f"  {name:17s} {label:42s} {accuracy:.3f}  {fit_s:7.1f} s", flush=True)
    return rows


def render(rows):
    """The plain-text table."""
    lines = [f"{'dataset':17s} {'n train/test x C x L':22s} {'estimator':42s} "
             f"{'accuracy':>8s} {'fit s':>7s}",
             "-" * 100]
    for name, shape, label, accuracy, fit_s in rows:
        lines.append(f"{name:17s} {shape:22s} {label:42s} {accuracy:8.3f} {fit_s:7.1f}")
    lines.append("")
    lines.append("published (FCN / ResNet / InceptionTime): " + "; ".join(
        f"{name} {' / '.join(f'{a:.3f}' for a in PUBLISHED[name])}"
        if name in PUBLISHED else f"{name} -" for name in dict.fromkeys(r[0] for r in rows)))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated aeon dataset names")
    parser.add_argument("--skip-slow", action="store_true", help="leave out " + ", ".join(SLOW))
    args = parser.parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    if args.skip_slow:
        datasets = [d for d in datasets if d not in SLOW]
    print(render(run(datasets)))


if __name__ == "__main__":
    main()
