"""Table s: architecture search on digits (25 % stratified test split): each NAS
strategy against GridSearchCV over a 10-point hand grid and scikit-learn's
HalvingRandomSearchCV, at about the same budget of epochs; the test accuracy of
the refitted best, the epochs spent over all folds and the wall-clock."""

import time

import numpy as np

from ._common import Table

GRID = {"hidden_layer_sizes": [(64,), (128,), (256,), (128, 128), (256, 256)],
        "alpha": [1e-4, 1e-2]}
EPOCHS, EPOCHS_QUICK = 60, 6
# DARTS and ENAS: a convolutional cell on the digits as 8x8 images, searched for
# 10 epochs, then retrained 30 epochs (as benchmarks/nas_digits_cells.py)
CELL_EPOCHS, CELL_EPOCHS_QUICK = (10, 30), (1, 2)
SEEDS, SEEDS_QUICK = (0, 1, 2), (0,)


def _data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)


def _epochs_of(search):
    """Epochs trained over all folds by a scikit-learn search, an upper bound: its
    candidates' resources (or max_iter) times the folds (the fitted estimators'
    n_iter_ are not kept)."""
    results = search.cv_results_
    n_folds = sum(1 for key in results
                  if key.startswith("split") and key.endswith("_test_score"))
    resources = results.get("n_resources")
    if resources is not None:
        return int(np.sum(resources) * n_folds)
    return int(len(results["params"]) * n_folds * search.estimator.max_iter)


def _epochs_to_reach(hyperband, random):
    """Hyperband's epochs spent when it first matched random search's best score, over
    random search's epochs (1.0 when it never did)."""
    for evaluation in hyperband.search_history_:
        if np.mean(evaluation["scores"]) >= random.best_score_:
            return evaluation["epochs_used"] / random.epochs_used_
    return 1.0


def _distributions():
    """``default_space(MLPClassifier)`` as scikit-learn's parameter distributions."""
    from scipy.stats import loguniform

    from sklears_neural.mlp import MLPClassifier
    from sklears_neural.nas import default_space

    space = default_space(MLPClassifier()).dimensions
    return {name: (loguniform(d.low, d.high) if hasattr(d, "low") else d.options)
            for name, d in space.items()}


def bench_search(cfg):
    """Table s: NAS strategies against scikit-learn's searches on digits."""
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV

    from sklears_neural.cnn import CNNClassifier
    from sklears_neural.mlp import MLPClassifier
    from sklears_neural.nas import NASClassifier

    X_train, X_test, y_train, y_test = _data()
    epochs = EPOCHS_QUICK if cfg.quick else EPOCHS
    seeds = SEEDS_QUICK if cfg.quick else SEEDS
    budget = 10 * 3 * epochs  # the grid's: 10 candidates x 3 folds x epochs

    def run(name, seed):
        base = MLPClassifier(random_state=seed, max_iter=epochs, n_iter_no_change=epochs)
        if name == "default MLPClassifier":
            model = MLPClassifier(random_state=seed).fit(X_train, y_train)
            return model, model.n_iter_
        if name == "GridSearchCV (10 points)":
            search = GridSearchCV(base, GRID, cv=3).fit(X_train, y_train)
            return search, _epochs_of(search)
        if name == "HalvingRandomSearchCV":
            search = HalvingRandomSearchCV(  # our default space; about the grid's budget
                base, _distributions(), n_candidates=30, factor=3, resource="max_iter",
                max_resources=epochs, min_resources=max(1, epochs // 9), cv=3,
                random_state=seed).fit(X_train, y_train)
            return search, _epochs_of(search)
        strategy = name.split()[1]
        if strategy in ("darts", "enas"):
            search_epochs, retrain = CELL_EPOCHS_QUICK if cfg.quick else CELL_EPOCHS
            cnn = CNNClassifier(input_shape=(1, 8, 8), max_iter=retrain, lr=1e-3,
                                batch_size=64, random_state=seed)
            search = NASClassifier(cnn, strategy=strategy, epochs=search_epochs,
                                   random_state=seed).fit(X_train, y_train)
            return search, search.epochs_used_ + search_epochs
        search = NASClassifier(base, strategy=strategy, n_trials=10, epochs=epochs,
                               max_epochs=budget, population_size=4,
                               random_state=seed).fit(X_train, y_train)
        return search, search.epochs_used_

    names = ["default MLPClassifier", "GridSearchCV (10 points)", "HalvingRandomSearchCV",
             "NAS random", "NAS evolution", "NAS hyperband", "NAS darts (CNN cell)",
             "NAS enas (CNN cell)"]
    table = Table("search", f"s. Architecture search on digits, test accuracy of the refitted "
                  f"best (mean of {len(seeds)} seeds), {epochs} epochs a candidate "
                  f"(threads={cfg.threads})",
                  ["search", "test accuracy", "epochs over folds", "wall s"])
    accuracy, fitted = {}, {}
    for name in names:
        scores, spent, seconds = [], [], []
        for seed in seeds:
            start = time.perf_counter()
            model, used = run(name, seed)
            fitted[name, seed] = model
            seconds.append(time.perf_counter() - start)
            scores.append(model.score(X_test, y_test))
            spent.append(used)
        accuracy[name] = float(np.mean(scores))
        table.add_row([name, f"{np.mean(scores):.4f}", f"{np.mean(spent):.0f}",
                       f"{np.mean(seconds):.1f}"], name=name, accuracy=accuracy[name],
                      epochs=float(np.mean(spent)), seconds=float(np.mean(seconds)))
    best_reference = max(accuracy["default MLPClassifier"], accuracy["GridSearchCV (10 points)"])
    for name in names[3:]:
        table.add_check(f"{name} - best of default and grid", accuracy[name] - best_reference,
                        0.0, ">")  # beats: strictly
    reach = [_epochs_to_reach(fitted["NAS hyperband", seed], fitted["NAS random", seed])
             for seed in seeds]
    table.add_check("hyperband epochs to random's best / random's epochs",
                    float(np.mean(reach)), 0.5, "<=")
    table.add_note("The NAS strategies and HalvingRandomSearchCV (30 candidates, factor 3) "
                   "search default_space(MLPClassifier) (widths and depth, activation, alpha, "
                   "learning rate, batch size, batch norm, dropout) under about the grid's "
                   f"budget of {budget} epochs over folds; evolution keeps a population of 4. "
                   "The grid's and halving's epochs are their upper bounds (candidates x folds "
                   "x max_iter). "
                   "DARTS and ENAS search a convolutional cell on the 8x8 images for "
                   f"{CELL_EPOCHS[0]} epochs and retrain it for {CELL_EPOCHS[1]} "
                   "(CNNClassifier, lr 1e-3, batch 64): their epochs are the search's plus "
                   "the retraining's over folds, CNN epochs, costlier than the MLP's. The "
                   "last check: the epochs over folds Hyperband had spent when a candidate "
                   "first matched random search's best cross-validated score, over all the "
                   "epochs random search spent (mean over seeds; 1 if never matched).")
    return table
