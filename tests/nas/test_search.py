"""NASClassifier / NASRegressor: every strategy on a tiny space, determinism,
budgets, the Pareto front, resuming after Ctrl-C, GridSearchCV's result keys,
Pipelines and clone, bad input."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklears_neural.mlp import MLPClassifier, MLPRegressor
from sklears_neural.nas import (
    Choice,
    FloatRange,
    IntRange,
    NASClassifier,
    NASRegressor,
    SearchSpace,
    pareto_front,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SPACE = {"hidden_layer_sizes": Choice([(8,), (16,), (16, 16)]),
         "learning_rate_init": FloatRange(1e-3, 1e-2, log=True),
         "batch_size": IntRange(16, 64)}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240] / 16.0, y[:240]


@pytest.mark.parametrize("strategy", ["random", "evolution", "hyperband"])
def test_each_strategy_searches_and_refits(digits, strategy):
    X, y = digits
    search = NASClassifier(MLPClassifier(random_state=0), SPACE, strategy=strategy, n_trials=4,
                           epochs=9, population_size=2, random_state=0).fit(X, y)
    rows = len(search.cv_results_["params"])
    assert rows == len(search.search_history_) >= 4
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    assert search.best_score_ == search.cv_results_["mean_test_score"].max()
    assert search.score(X, y) > 0.5 and search.predict_proba(X).shape == (240, 10)
    assert set(search.classes_) == set(range(10))
    if strategy == "hyperband":  # rungs of 1, 3 and 9 epochs; survivors continue
        assert set(search.cv_results_["n_epochs"]) == {1, 3, 9}
        assert search.cv_results_["n_epochs"][search.best_index_] == 9
    else:
        assert set(search.cv_results_["n_epochs"]) == {9}


def test_hyperband_brackets_keep_a_third_per_rung(digits):
    X, y = digits
    search = NASClassifier(MLPClassifier(random_state=0, n_iter_no_change=100), SPACE,
                           strategy="hyperband", epochs=27, random_state=0).fit(X[:90], y[:90])
    epochs = list(search.cv_results_["n_epochs"])
    # brackets s = 3..0 (eta 3): 27 -> 9 -> 3 -> 1 at 1, 3, 9, 27 epochs; 12 -> 4 -> 1 at 3,
    # 9, 27; 6 -> 2 at 9, 27; 4 at 27
    expected = ([1] * 27 + [3] * 9 + [9] * 3 + [27] + [3] * 12 + [9] * 4 + [27]
                + [9] * 6 + [27] * 2 + [27] * 4)
    assert epochs == expected
    # survivors continue: a bracket-3 survivor trains 27 epochs in all, not 1 + 3 + 9 + 27
    per_fold = [27, 9, 3, 1]
    first_bracket = sum(n * e for n, e in zip(per_fold, [1, 2, 6, 18]))
    assert search.epochs_used_ <= 3 * (first_bracket + 12 * 3 + 4 * 6 + 18 + 6 * 9
                                       + 2 * 18 + 4 * 27)


def test_evolution_mutates_the_tournament_winner(digits):
    X, y = digits
    search = NASClassifier(MLPClassifier(random_state=0), SPACE, strategy="evolution",
                           n_trials=6, epochs=3, population_size=3, sample_size=3,
                           random_state=1).fit(X, y)
    history = search.search_history_
    for k in range(3, 6):  # each child differs from its population's best in one dimension
        population = history[k - 3:k]
        parent = max(population, key=lambda r: np.mean(r["scores"]))["params"]
        changed = [n for n in parent if parent[n] != history[k]["params"][n]]
        assert len(changed) == 1


@pytest.mark.parametrize("strategy", ["random", "evolution"])
def test_no_point_is_evaluated_twice_while_new_ones_remain(digits, strategy):
    X, y = digits
    space = {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-3, 1e-2]}  # 6 points
    search = NASClassifier(MLPClassifier(random_state=0), space, strategy=strategy,
                           n_trials=6, epochs=1, population_size=2, cv=2,
                           random_state=0).fit(X[:60], y[:60])
    points = [tuple(sorted(r["params"].items())) for r in search.search_history_]
    assert len(points) == 6 and len(set(points)) == 6


def test_same_seed_same_search(digits):
    X, y = digits
    runs = [NASClassifier(MLPClassifier(random_state=0), SPACE, n_trials=3, epochs=3,
                          random_state=7).fit(X, y) for _ in range(2)]
    assert [r["params"] for r in runs[0].search_history_] == \
        [r["params"] for r in runs[1].search_history_]
    np.testing.assert_array_equal(runs[0].cv_results_["mean_test_score"],
                                  runs[1].cv_results_["mean_test_score"])


def test_budgets_are_respected(digits):
    X, y = digits
    search = NASClassifier(MLPClassifier(random_state=0, n_iter_no_change=100), SPACE,
                           n_trials=50, epochs=4, max_epochs=30, random_state=0).fit(X, y)
    one = 4 * 3  # a candidate: 4 epochs x 3 folds; the budget is checked before each
    assert search.epochs_used_ <= 30 + one - 1 and len(search.search_history_) == 3
    with pytest.raises(ValueError, match="max_epochs=5 cannot train one candidate"):
        NASClassifier(MLPClassifier(), SPACE, epochs=4, max_epochs=5).fit(X, y)
    timed = NASClassifier(MLPClassifier(random_state=0), SPACE, n_trials=100, epochs=2,
                          time_budget=1e-9, random_state=0).fit(X, y)
    assert len(timed.search_history_) == 1  # the budget was spent before the second


def test_pareto_front_on_hand_made_scores():
    scores = [0.9, 0.8, 0.95, 0.7, 0.95]
    costs = [[10, 1.0], [5, 1.0], [20, 2.0], [5, 0.5], [20, 3.0]]
    # 4 is beaten by 2 (same score, cheaper), 1 and 0 and 2 and 3 trade off
    assert pareto_front(scores, costs).tolist() == [2, 0, 1, 3]


def test_objectives_give_a_front(digits):
    X, y = digits
    search = NASClassifier(MLPClassifier(random_state=0), SPACE, n_trials=4, epochs=3,
                           objectives=("n_parameters", "predict_latency"),
                           random_state=0).fit(X, y)
    front = search.pareto_front_
    assert front and front[0]["score"] == search.best_score_
    sizes = search.cv_results_["n_parameters"]
    assert sizes.min() >= 64 * 8 and all(f["n_parameters"] in sizes for f in front)


class _Interrupting(MLPClassifier):
    """Raises KeyboardInterrupt on its fit number ``stop_at`` (counted per class)."""

    fits = 0
    stop_at = None

    def fit(self, X, y):
        type(self).fits += 1
        if type(self).fits == type(self).stop_at:
            raise KeyboardInterrupt
        return super().fit(X, y)


def test_resume_after_ctrl_c(digits):
    X, y = digits
    _Interrupting.fits, _Interrupting.stop_at = 0, 8  # during the third candidate
    search = NASClassifier(_Interrupting(random_state=0), SPACE, n_trials=4, epochs=2,
                           random_state=0)
    search.fit(X, y)
    assert search.interrupted_ and len(search.search_history_) == 2
    kept = [r["params"] for r in search.search_history_]
    search.set_params(warm_start=True).fit(X, y)
    assert not search.interrupted_ and len(search.search_history_) == 4
    assert [r["params"] for r in search.search_history_[:2]] == kept


def test_results_pipeline_clone_regressor(digits):
    pd = pytest.importorskip("pandas", reason="cv_results_ read as a DataFrame")
    X, y = digits
    search = NASClassifier(MLPClassifier(random_state=0, max_iter=2), SPACE, n_trials=2,
                           random_state=0)
    pipe = make_pipeline(StandardScaler(), search).fit(X, y)
    ours = pipe[-1].cv_results_
    grid = GridSearchCV(MLPClassifier(random_state=0, max_iter=2),
                        {"hidden_layer_sizes": [(8,), (16,)]}, cv=3).fit(X, y)
    assert set(grid.cv_results_) - {"param_hidden_layer_sizes"} <= set(ours)
    assert len(pd.DataFrame(ours)) == 2
    assert clone(search).get_params()["n_trials"] == 2
    Xr, yr = make_regression(120, 5, noise=0.1, random_state=0)
    regression = NASRegressor(MLPRegressor(random_state=0), {"alpha": [1e-4, 1e-2]},
                              epochs=20, n_trials=2, random_state=0).fit(Xr, yr)
    assert regression.predict(Xr).shape == (120,)


def test_bad_input(digits):
    X, y = digits
    with pytest.raises(ValueError, match="'activation' is a Choice with no options"):
        NASClassifier(MLPClassifier(), {"activation": Choice([])}).fit(X, y)
    with pytest.raises(ValueError, match="'alpha' has low=1.0 > high=0.1"):
        NASClassifier(MLPClassifier(), {"alpha": FloatRange(1.0, 0.1)}).fit(X, y)
    with pytest.raises(ValueError, match=r"\['depth'\] are not parameters of MLPClassifier"):
        NASClassifier(MLPClassifier(), {"depth": [1, 2]}).fit(X, y)
    with pytest.raises(ValueError, match="logarithmic and needs low > 0"):
        SearchSpace({"alpha": FloatRange(0.0, 1.0, log=True)})
    with pytest.raises(ValueError, match="min_epochs=5 is more than epochs=3"):
        NASClassifier(MLPClassifier(), SPACE, strategy="hyperband", epochs=3,
                      min_epochs=5).fit(X, y)
    with pytest.raises(ValueError, match="strategy"):
        NASClassifier(MLPClassifier(), SPACE, strategy="darts").fit(X, y)
    assert Choice([1, 1]).mutate(1, np.random.default_rng(0)) == 1
    assert IntRange(3, 4).mutate(3, np.random.default_rng(0)) == 4


def test_darts_discretises_the_strongest_edges_and_operations():
    from sklears_neural.nas._darts import OPERATIONS, discretise

    alpha = np.zeros((6, len(OPERATIONS)))  # edges (0,1) (0,2) (1,2) (0,3) (1,3) (2,3)
    alpha[:, OPERATIONS.index("zero")] = 9.0  # "zero" never wins, however strong
    alpha[0, OPERATIONS.index("conv3x3")] = 2.0
    alpha[2, OPERATIONS.index("max_pool")] = 3.0
    alpha[1, OPERATIONS.index("skip")] = 1.0
    alpha[5, OPERATIONS.index("conv5x5")] = 4.0
    alpha[3, OPERATIONS.index("avg_pool")] = 2.5
    genotype = discretise(alpha, n_nodes=3)
    assert genotype == [(0, 1, "conv3x3"), (0, 2, "skip"), (1, 2, "max_pool"),
                        (0, 3, "avg_pool"), (2, 3, "conv5x5")]


def test_darts_searches_a_cell_and_retrains_it(digits):
    from sklears_neural.cnn import CNNClassifier
    from sklears_neural.rnn import RNNClassifier

    X, y = digits
    search = NASClassifier(CNNClassifier(input_shape=(1, 8, 8), max_iter=2, random_state=0),
                           strategy="darts", epochs=1, random_state=0).fit(X, y)
    genotype = search.best_params_["genotype"]
    assert len(genotype) == 5 and {g[1] for g in genotype} == {1, 2, 3}
    assert search.alpha_.shape == (6, 6) and len(search.darts_losses_) == 1
    assert search.best_estimator_.module_.genotype == genotype
    assert search.predict(X).shape == (240,)
    with pytest.raises(ValueError, match="strategy='darts' searches a convolutional cell"):
        NASClassifier(RNNClassifier(), strategy="darts").fit(X, y)


def test_callbacks_see_every_evaluation_and_can_stop(digits):
    X, y = digits
    seen = []

    def stop_after_two(search, evaluation):
        seen.append(evaluation["trial"])
        return len(seen) < 2

    search = NASClassifier(MLPClassifier(random_state=0), SPACE, n_trials=5, epochs=2,
                           callbacks=[stop_after_two], progress_bar=True,
                           random_state=0).fit(X, y)
    assert seen == [0, 1] and len(search.search_history_) == 2
    assert "fitted" not in search.search_history_[0]


def test_hyperband_resumes_inside_its_rung(digits):
    """Interrupted in the second rung of the first bracket (the second survivor's second
    fold), then continued: the same rows, scores and epochs as a search never stopped."""
    X, y = digits[0][:90], digits[1][:90]
    options = dict(strategy="hyperband", epochs=9, random_state=0)
    estimator = _Interrupting(random_state=0, n_iter_no_change=100)
    _Interrupting.fits, _Interrupting.stop_at = 0, None
    full = NASClassifier(estimator, SPACE, **options).fit(X, y)
    # bracket s=2: 9 candidates x 3 folds at 1 epoch (fits 1-27), then 3 survivors go on
    # to 3 epochs: fits 28-30, then 31 (first fold) and 32, interrupted
    _Interrupting.fits, _Interrupting.stop_at = 0, 32
    search = NASClassifier(estimator, SPACE, **options).fit(X, y)
    assert search.interrupted_ and len(search.search_history_) == 10
    assert search._state["hyperband"]["rung"] == 1
    search.set_params(warm_start=True).fit(X, y)
    assert not search.interrupted_
    np.testing.assert_array_equal(search.cv_results_["n_epochs"], full.cv_results_["n_epochs"])
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               full.cv_results_["mean_test_score"])
    assert search.epochs_used_ == full.epochs_used_
    assert [r["epochs_used"] for r in search.search_history_][-1] == full.epochs_used_
    assert all(r["fitted"] is None for r in search._records)


class _FailsFirstCandidate(MLPClassifier):
    """Fails every fit of the first candidate (its first three fits: one per fold)."""

    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        if type(self).fits <= 3:
            raise ValueError("this candidate cannot be trained")
        return super().fit(X, y)


def test_hyperband_never_promotes_a_failed_candidate(digits):
    X, y = digits
    _FailsFirstCandidate.fits = 0
    with pytest.warns(Warning, match="scores NaN"):
        search = NASClassifier(_FailsFirstCandidate(random_state=0, n_iter_no_change=100),
                               SPACE, strategy="hyperband", epochs=3, random_state=0).fit(
            X[:90], y[:90])
    history = search.search_history_
    first_rung = [r for r in history[:3] if r["epochs"] == 1]
    assert np.isnan(np.mean(first_rung[0]["scores"]))
    promoted = history[3]
    assert promoted["epochs"] == 3
    best = max(first_rung[1:], key=lambda r: np.mean(r["scores"]))
    assert promoted["params"] == best["params"]
