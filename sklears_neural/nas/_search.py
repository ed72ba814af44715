"""``NASClassifier`` / ``NASRegressor``: architecture search as a meta-estimator in
the style of ``GridSearchCV``.

Candidates are points of a search space (``SearchSpace``), each an estimator
configured by ``set_params`` and scored by cross-validation after a number of
epochs (its ``max_iter``). Strategies: ``random``; ``evolution`` (regularized
evolution: tournament selection, one mutation, the oldest dies); ``hyperband``
(brackets of successive halving on epochs; a survivor resumes its training
with ``warm_start`` instead of starting again). Every evaluation is a row of
``cv_results_``, with the keys ``GridSearchCV`` gives and the epochs it had.
"""

import copy
import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklears_neural._random import as_generator
from sklears_neural._versions import checked_state, with_versions
from sklears_neural.base import NeuralNetClassifier
from sklears_neural.nas._darts import CellNetwork, darts_search, discretise
from sklears_neural.nas._enas import enas_search, genotype_of
from sklears_neural.nas._space import SearchSpace, default_space

__all__ = ["NASClassifier", "NASRegressor", "pareto_front"]

OBJECTIVES = ("n_parameters", "predict_latency")


def pareto_front(scores, costs):
    """The rows no other row beats on every count: higher score, lower costs.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Higher is better.
    costs : array-like of shape (n, k)
        Lower is better.

    Returns
    -------
    ndarray of int
        The non-dominated rows, by score descending.
    """
    scores = np.asarray(scores, dtype=np.float64)
    costs = np.asarray(costs, dtype=np.float64).reshape(len(scores), -1)
    keep = []
    for i in range(len(scores)):
        at_least = (scores >= scores[i]) & (costs <= costs[i]).all(axis=1)
        better = (scores > scores[i]) | (costs < costs[i]).any(axis=1)
        if not (at_least & better).any():
            keep.append(i)
    keep = np.asarray(keep, dtype=np.int64)
    return keep[np.argsort(-scores[keep], kind="stable")]


def _n_parameters(estimator):
    module = getattr(estimator, "module_", None)
    if module is not None:
        return int(sum(np.size(p.data) for p in module.parameters()))
    coefs = getattr(estimator, "coefs_", None)
    return int(sum(np.size(c) for c in coefs)) if coefs is not None else np.nan


def _fit_and_score(estimator, X, y, train, test, epochs, before, scorer, objectives):
    """Fit one split's estimator for ``epochs`` (continue it, when it has trained
    ``before`` > 0 epochs already) and score it; a fit that fails scores NaN (as
    GridSearchCV's ``error_score=np.nan``)."""
    warm = before > 0
    if not warm:
        estimator = clone(estimator)
    start = time.perf_counter()
    try:
        if epochs > 0:  # a resumed split already at its rung's epochs is only scored
            estimator.set_params(max_iter=int(epochs), **({"warm_start": True} if warm else {}))
            estimator.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as error:  # noqa: BLE001 - recorded, as scikit-learn's searches do
        warnings.warn(f"a candidate failed to fit and scores NaN: {error!r}", FitFailedWarning)
        return (estimator, np.nan, time.perf_counter() - start, 0.0, 0,
                {k: np.nan for k in objectives})
    history = getattr(estimator, "history_", None)
    if epochs > 0 and history and history[-1].get("interrupted"):  # the trainer took Ctrl-C
        raise KeyboardInterrupt
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    score = float(scorer(estimator, _safe_indexing(X, test), _safe_indexing(y, test)))
    score_time = time.perf_counter() - start
    trained = getattr(estimator, "n_iter_", before + epochs)
    costs = {}
    if "n_parameters" in objectives:
        costs["n_parameters"] = _n_parameters(estimator)
    if "predict_latency" in objectives:
        costs["predict_latency"] = score_time / max(len(test), 1)
    return estimator, score, fit_time, score_time, max(int(trained) - int(before), 0), costs


def _progress_bar(name):
    try:
        from tqdm.auto import tqdm
    except ImportError as error:
        raise ImportError("progress_bar=True needs tqdm (pip install tqdm).") from error
    return tqdm(desc=name, unit="evaluation")


def _cell_image_shape(estimator, strategy):
    """The (channels, height, width) DARTS and ENAS search a cell for, or a clear error."""
    shape = estimator.get_params().get("input_shape")
    if (type(estimator).__name__ != "CNNClassifier" or shape is None or len(shape) != 3
            or not all(isinstance(s, Integral) and s > 0 for s in shape)):
        raise ValueError(f"strategy={strategy!r} searches a convolutional cell for images: "
                         "estimator must be a CNNClassifier with input_shape=(channels, "
                         f"height, width); got {type(estimator).__name__} with input_shape="
                         f"{shape!r}.")
    return tuple(int(s) for s in shape)


def _in_training(bracket):
    """The rows of a Hyperband bracket whose split estimators it still continues: this
    rung's scored candidates and the survivors of the last rung it has not reached."""
    done = len(bracket["scored"])
    return ([trial for _, _, trial in bracket["scored"]]
            + [k for k in bracket["alive"][done:] if k is not None])


def _point_key(params):
    return repr(sorted(params.items()))


def _batch(size):
    return 64 if size in (None, "auto") else int(size)



class _NASBase(MetaEstimatorMixin, BaseEstimator):
    _parameter_constraints = {
        "estimator": "no_validation", "search_space": [dict, SearchSpace, None],
        "strategy": [StrOptions({"random", "evolution", "hyperband", "darts", "enas"})],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "time_budget": [Interval(Real, 0, None, closed="neither"), None],
        "cv": ["cv_object"], "scoring": [str, callable, None], "n_jobs": [Integral, None],
        "objectives": [tuple, list, None],
        "population_size": [Interval(Integral, 2, None, closed="left")],
        "sample_size": [Interval(Integral, 1, None, closed="left")],
        "eta": [Interval(Integral, 2, None, closed="left")],
        "min_epochs": [Interval(Integral, 1, None, closed="left")],
        "refit": ["boolean"], "warm_start": ["boolean"], "random_state": ["random_state"],
        "verbose": ["verbose"], "callbacks": [list, tuple, None], "progress_bar": ["boolean"],
    }

    def __init__(self, estimator, search_space=None, *, strategy="random", n_trials=20,
                 epochs=None, max_epochs=None, time_budget=None, cv=3, scoring=None,
                 n_jobs=None, objectives=None, population_size=10, sample_size=3, eta=3,
                 min_epochs=1, refit=True, warm_start=False, random_state=None, verbose=0,
                 callbacks=None, progress_bar=False):
        self.estimator, self.search_space, self.strategy = estimator, search_space, strategy
        self.n_trials, self.epochs, self.max_epochs = n_trials, epochs, max_epochs
        self.time_budget, self.cv, self.scoring, self.n_jobs = time_budget, cv, scoring, n_jobs
        self.objectives, self.population_size = objectives, population_size
        self.sample_size, self.eta, self.min_epochs = sample_size, eta, min_epochs
        self.refit, self.warm_start = refit, warm_start
        self.random_state, self.verbose = random_state, verbose
        self.callbacks, self.progress_bar = callbacks, progress_bar

    # -- set-up ---------------------------------------------------------------------------
    def _setup(self, X, y):
        self._validate_params()
        if self.strategy in ("darts", "enas"):
            space = None
            _cell_image_shape(self.estimator, self.strategy)
        else:
            space = (default_space(self.estimator) if self.search_space is None
                     else self.search_space if isinstance(self.search_space, SearchSpace)
                     else SearchSpace(self.search_space))
            space.check_estimator(self.estimator)
        if "max_iter" not in self.estimator.get_params():
            raise ValueError(f"{type(self.estimator).__name__} has no max_iter: the search "
                             "trains candidates for a number of epochs.")
        objectives = tuple(self.objectives or ())
        unknown = set(objectives) - set(OBJECTIVES)
        if unknown:
            raise ValueError(f"objectives must be among {OBJECTIVES}; got {sorted(unknown)}.")
        epochs = self.epochs or self.estimator.get_params()["max_iter"]
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y))
        first = self.min_epochs if self.strategy == "hyperband" else epochs
        if self.max_epochs is not None and self.max_epochs < first * len(splits):
            raise ValueError(f"max_epochs={self.max_epochs} cannot train one candidate: it "
                             f"takes {first} epochs x {len(splits)} folds = "
                             f"{first * len(splits)}.")
        if self.strategy == "hyperband" and "warm_start" not in self.estimator.get_params():
            raise ValueError(f"strategy='hyperband' continues survivors with warm_start, "
                             f"which {type(self.estimator).__name__} does not have.")
        if self.strategy == "hyperband" and self.min_epochs > epochs:
            raise ValueError(f"min_epochs={self.min_epochs} is more than epochs={epochs}.")
        return space, objectives, int(epochs), splits

    def fit(self, X, y, **fit_params):
        """Search, then refit the best candidate on all of X.

        Ctrl-C stops the search and keeps what it found (``interrupted_``);
        with ``warm_start=True`` the next ``fit`` continues it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data.
        y : array-like of shape (n_samples,)
            The targets.
        **fit_params : dict
            Not supported (an error names them).

        Returns
        -------
        self : object
            The fitted search.
        """
        if fit_params:
            raise ValueError(f"{type(self).__name__}.fit takes no fit parameters; got "
                             f"{sorted(fit_params)}.")
        space, objectives, epochs, splits = self._setup(X, y)
        resume = self.warm_start and hasattr(self, "search_history_")
        if not resume:
            self._records, self._state = [], {"rng": as_generator(self.random_state)}
            self.epochs_used_ = 0
        self._scorer = check_scoring(self.estimator, self.scoring)
        self._start, self.interrupted_ = time.perf_counter(), False
        self._context, self._stopped = (X, y, splits, objectives), False
        self._bar = _progress_bar(type(self).__name__) if self.progress_bar else None
        try:
            getattr(self, f"_search_{self.strategy}")(space, epochs)
        except KeyboardInterrupt:
            self.interrupted_ = True
        finally:
            del self._context
            if self._bar is not None:
                self._bar.close()
            self._bar = None
            bracket = self._state.get("hyperband")  # unfinished: stopped by Ctrl-C or budget
            resumable = set() if bracket is None else set(_in_training(bracket))
            for record in self._records:  # only an unfinished bracket's survivors continue
                if record["trial"] not in resumable:
                    record["fitted"] = None
        if not self._records:
            raise ValueError("the search evaluated no candidate: raise the budget.")
        self._summarise(objectives)
        if self.refit:
            best = self._records[self.best_index_]
            base = best["base"] if best.get("base") is not None else \
                clone(self.estimator).set_params(**best["params"])
            self.best_estimator_ = clone(base).set_params(max_iter=best["epochs"]).fit(X, y)
        return self

    # -- evaluation ---------------------------------------------------------------------
    def _out_of_budget(self):
        if self._stopped:  # a callback asked
            return True
        if not self._records:  # a search scores at least one candidate
            return False
        if self.time_budget is not None and time.perf_counter() - self._start > \
                self.time_budget:
            return True
        return self.max_epochs is not None and self.epochs_used_ >= self.max_epochs

    def _evaluate(self, params, epochs, resumed=None, base=None):
        """Cross-validate ``params`` at ``epochs`` epochs (continuing ``resumed``'s split
        estimators; ``base``: the estimator, when not ``estimator`` with ``params``); one
        record."""
        X, y, splits, objectives = self._context
        if resumed is None:
            base = clone(self.estimator).set_params(**params) if base is None else base
            jobs = [(base, 0, epochs) for _ in splits]
        else:
            # from where each split's estimator stands (one interrupted mid-rung is ahead;
            # its epochs count here, as its evaluation did not end)
            before = resumed["epochs"]
            jobs = [(est, before, epochs - int(getattr(est, "n_iter_", before)))
                    for est in resumed["fitted"]]
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_and_score)(est, X, y, train, test, n, before, self._scorer,
                                    objectives)
            for (est, before, n), (train, test) in zip(jobs, splits))
        fitted, scores, fit_times, score_times, trained, costs = zip(*results)
        self.epochs_used_ += int(sum(trained))
        record = {"params": dict(params), "epochs": int(epochs), "scores": list(scores),
                  "fit_time": list(fit_times), "score_time": list(score_times),
                  "costs": {k: float(np.mean([c[k] for c in costs])) for k in objectives},
                  "fitted": list(fitted), "trial": len(self._records),
                  "epochs_used": self.epochs_used_,
                  "base": None if resumed is not None else base}
        self._records.append(record)
        if self.verbose:
            print(f"{type(self).__name__}: trial {record['trial']}, {epochs} epochs, score "
                  f"{np.mean(scores):.4f}, {params}")
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(best=max(np.nanmean(r["scores"]) for r in self._records),
                                  refresh=False)
        for callback in self.callbacks or ():
            if callback(self, {k: v for k, v in record.items() if k not in ("fitted", "base")}) \
                    is False:
                self._stopped = True
        return record

    # -- strategies ---------------------------------------------------------------------
    def _novel(self, propose):
        """A proposal not evaluated yet (up to 20 tries; a small space may be exhausted)."""
        seen = {_point_key(r["params"]) for r in self._records}
        for _ in range(20):
            params = propose()
            if _point_key(params) not in seen:
                return params
        return params

    def _search_random(self, space, epochs):
        rng = self._state["rng"]
        while len(self._records) < self.n_trials and not self._out_of_budget():
            self._drop_fitted(self._evaluate(self._novel(lambda: space.sample(rng)), epochs))

    def _search_evolution(self, space, epochs):
        rng = self._state["rng"]
        while len(self._records) < self.n_trials and not self._out_of_budget():
            if len(self._records) < self.population_size:
                params = self._novel(lambda: space.sample(rng))
            else:  # the living population: the last population_size evaluated (aging)
                population = self._records[-self.population_size:]
                picks = rng.choice(len(population), min(self.sample_size, len(population)),
                                   replace=False)
                parent = max((population[i] for i in picks), key=lambda r: np.mean(r["scores"]))
                params = self._novel(lambda: space.mutate(parent["params"], rng))
            self._drop_fitted(self._evaluate(params, epochs))

    def _search_hyperband(self, space, epochs):
        """Hyperband (Li et al. 2018): brackets of successive halving, the most aggressive
        first; survivors continue their training with ``warm_start``. The bracket in
        progress lives in ``_state["hyperband"]`` (its candidates, the rung, the scores
        so far, the survivors' rows), so an interrupted search continues in its rung."""
        rng, eta = self._state["rng"], self.eta
        s_max = int(math.floor(math.log(epochs / self.min_epochs) / math.log(eta) + 1e-9))
        bracket = self._state.get("hyperband")
        if bracket is not None and any(self._records[k]["fitted"] is None
                                       for k in _in_training(bracket)):
            bracket = None  # its estimators in training were not kept (a pickle): restart it
        for s in range(self._state.get("bracket", s_max), -1, -1):
            if bracket is None or bracket["s"] != s:
                n = int(math.ceil((s_max + 1) / (s + 1) * eta ** s))
                bracket = {"s": s, "rung": 0, "params": [space.sample(rng) for _ in range(n)],
                           "alive": [None] * n, "scored": []}
            self._state["bracket"], self._state["hyperband"] = s, bracket
            while bracket["rung"] <= s:
                i, params, alive, scored = (bracket["rung"], bracket["params"], bracket["alive"],
                                            bracket["scored"])
                rung_epochs = max(1, int(round(epochs * eta ** (i - s))))
                for k in range(len(scored), len(alive)):
                    if self._out_of_budget():
                        return
                    previous = None if alive[k] is None else self._records[alive[k]]
                    record = self._evaluate(params[k], rung_epochs, previous)
                    if previous is not None:
                        previous["fitted"] = None
                    scored.append((float(np.mean(record["scores"])), k, record["trial"]))
                keep = max(1, len(alive) // eta) if i < s else 0
                # best first; a failed fit (NaN) last
                order = sorted(scored, key=lambda t: (not np.isfinite(t[0]), -t[0]))
                for _, _, trial in order[keep:]:
                    self._records[trial]["fitted"] = None
                bracket.update(rung=i + 1, scored=[],
                               params=[params[k] for _, k, _ in order[:keep]],
                               alive=[trial for _, _, trial in order[:keep]])
            bracket = None
        self._state["bracket"], self._state["hyperband"] = -1, None

    def _search_darts(self, space, epochs):
        """First-order DARTS over a convolutional cell (``_darts``), then the derived
        cell retrained and cross-validated as one candidate."""
        self._search_cell(epochs, "darts")

    def _search_enas(self, space, epochs):
        """ENAS over the same cell (``_enas``): shared weights and a controller, then
        the best sampled cell retrained and cross-validated as one candidate."""
        self._search_cell(epochs, "enas")

    def _search_cell(self, epochs, strategy):
        if self._records:  # a finished search: nothing to continue
            return
        X, y, _, _ = self._context
        image_shape = _cell_image_shape(self.estimator, strategy)
        classes, codes = np.unique(np.asarray(y), return_inverse=True)
        options = self.estimator.get_params()
        flat = np.asarray(X, dtype=np.float32).reshape(len(codes), -1)
        shared = dict(batch_size=_batch(options.get("batch_size")), lr=options.get("lr", 1e-3),
                      rng=self._state["rng"])
        if strategy == "darts":
            alpha, losses = darts_search(flat, codes, len(classes), image_shape, epochs,
                                         **shared)
            self.alpha_, self.darts_losses_ = alpha, losses
            genotype = discretise(alpha, n_nodes=3)
        else:
            choices, self.enas_history_ = enas_search(flat, codes, len(classes), image_shape,
                                                      epochs, **shared)
            genotype = genotype_of(choices, n_nodes=3)
        base = NeuralNetClassifier(
            CellNetwork, module__image_shape=image_shape, module__genotype=genotype,
            lr=options.get("lr", 1e-3), batch_size=options.get("batch_size", "auto"),
            max_iter=options["max_iter"], random_state=options.get("random_state"))
        self._drop_fitted(self._evaluate({"genotype": genotype}, options["max_iter"],
                                         base=base))

    @staticmethod
    def _drop_fitted(record):
        record["fitted"] = None  # not resumed: let the split estimators go

    # -- results --------------------------------------------------------------------------
    def _summarise(self, objectives):
        records = self._records
        n_splits = len(records[0]["scores"])
        results = {}
        for key, values in (("fit_time", "fit_time"), ("score_time", "score_time")):
            table = np.array([r[values] for r in records])
            results[f"mean_{key}"] = table.mean(axis=1)
            results[f"std_{key}"] = table.std(axis=1)
        names = sorted({name for r in records for name in r["params"]})
        for name in names:
            column = np.ma.MaskedArray(np.empty(len(records), dtype=object),
                                       mask=[name not in r["params"] for r in records])
            for i, r in enumerate(records):
                if name in r["params"]:
                    column[i] = r["params"][name]
            results[f"param_{name}"] = column
        results["params"] = [r["params"] for r in records]
        scores = np.array([r["scores"] for r in records])
        for k in range(n_splits):
            results[f"split{k}_test_score"] = scores[:, k]
        results["mean_test_score"] = scores.mean(axis=1)
        results["std_test_score"] = scores.std(axis=1)
        ranked = np.where(np.isnan(results["mean_test_score"]), -np.inf,
                          results["mean_test_score"])
        results["rank_test_score"] = rankdata(-ranked, method="min").astype(np.int32)
        results["n_epochs"] = np.array([r["epochs"] for r in records])
        for name in objectives:
            results[name] = np.array([r["costs"][name] for r in records])
        self.cv_results_ = results
        # the best of the rows trained longest (hyperband's last rungs), as HalvingSearchCV
        final = results["n_epochs"] == results["n_epochs"].max()
        candidates = np.where(final, ranked, -np.inf)
        self.best_index_ = int(np.argmax(candidates))
        self.best_params_ = dict(records[self.best_index_]["params"])
        self.best_score_ = float(results["mean_test_score"][self.best_index_])
        self.n_splits_ = n_splits
        self.search_history_ = [{k: v for k, v in r.items() if k not in ("fitted", "base")}
                                for r in records]
        if objectives:
            costs = np.column_stack([results[name] for name in objectives])
            rows = pareto_front(results["mean_test_score"], costs)
            self.pareto_front_ = [{"index": int(i), "params": records[i]["params"],
                                   "score": float(results["mean_test_score"][i]),
                                   **{n: float(results[n][i]) for n in objectives}}
                                  for i in rows]
        else:
            self.pareto_front_ = [{"index": self.best_index_, "params": self.best_params_,
                                   "score": self.best_score_}]

    # -- the best estimator's methods -----------------------------------------------------
    def predict(self, X):
        """Predict with ``best_estimator_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray
            Its predictions.
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def score(self, X, y, sample_weight=None):
        """Score ``best_estimator_`` with ``scoring`` (its own score by default).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,)
            The targets.
        sample_weight : array-like of shape (n_samples,), optional
            Passed to the estimator's own score.

        Returns
        -------
        float
            The score.
        """
        check_is_fitted(self, "best_estimator_")
        if self.scoring is None:
            return self.best_estimator_.score(X, y, sample_weight=sample_weight)
        return float(check_scoring(self.best_estimator_, self.scoring)(
            self.best_estimator_, X, y))

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_scorer", None)
        state.pop("_bar", None)
        if "_records" in state:  # the split estimators are only kept to resume a rung
            state["_records"] = [{**r, "fitted": None} for r in state["_records"]]
        state["_state"] = copy.copy(state.get("_state", {}))
        return with_versions(state)

    def __setstate__(self, state):
        self.__dict__.update(checked_state(state, type(self).__name__))


_DOC = """
    Parameters
    ----------
    estimator : estimator
        The family searched (an estimator of this library, or any with
        ``max_iter`` and, for ``hyperband``, ``warm_start``).
    search_space : dict or SearchSpace, optional
        Parameter name -> ``Choice`` / ``IntRange`` / ``FloatRange`` (a list
        reads as a choice); default ``default_space(estimator)``.
    strategy : {"random", "evolution", "hyperband", "darts", "enas"}, default="random"
        How candidates are proposed and trained. "darts" (first-order DARTS)
        and "enas" (shared weights and a learned controller), for a
        ``CNNClassifier`` with a 3-D ``input_shape``, search a convolutional
        cell for ``epochs`` epochs (DARTS's weights in ``alpha_``, ENAS's
        rewards and candidates in ``enas_history_``) and retrain the cell
        found with the estimator's ``lr``, ``batch_size`` and ``max_iter`` as
        a ``NeuralNetClassifier``; ``search_space`` is not read.
    n_trials : int, default=20
        Candidates of "random" and "evolution".
    epochs : int, optional
        Epochs of a candidate (hyperband's most); default the estimator's
        ``max_iter``.
    max_epochs : int, optional
        Budget: epochs over all candidates and folds.
    time_budget : float, optional
        Budget: seconds; no candidate starts after it (the first always
        does).
    cv : int, cross-validation generator or iterable, default=3
        As ``GridSearchCV``'s.
    scoring : str or callable, optional
        As ``GridSearchCV``'s (default the estimator's ``score``).
    n_jobs : int, optional
        Folds trained in parallel (joblib).
    objectives : tuple of {"n_parameters", "predict_latency"}, optional
        Costs measured beside the score; ``pareto_front_`` holds the
        candidates no other beats on score and every cost.
    population_size, sample_size : int, default=10, 3
        Regularized evolution's living population and tournament.
    eta : int, default=3
        Hyperband's halving rate.
    min_epochs : int, default=1
        Hyperband's fewest epochs.
    refit : bool, default=True
        Refit the best candidate on all the data (``best_estimator_``).
    warm_start : bool, default=False
        Continue the search of the last ``fit`` (after Ctrl-C, say):
        random and evolution go on to ``n_trials``; hyperband continues the
        rung it was in (after Ctrl-C, a budget or a callback stopped it), its
        survivors' training included (a search pickled since restarts that
        bracket: the estimators in training are not saved).
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the candidates.
    verbose : int, default=0
        Print each evaluation.
    callbacks : list of callable, optional
        Each called as ``callback(search, evaluation)`` after every
        evaluation (a dict as in ``search_history_``); returning False stops
        the search (what was found is kept).
    progress_bar : bool, default=False
        A tqdm bar over the evaluations with the best score so far (needs
        tqdm).

    Attributes
    ----------
    best_estimator_ : estimator
        The best candidate refitted (the best of those trained for the
        most epochs).
    best_params_ : dict
        Its parameters.
    best_score_ : float
        Its mean cross-validated score.
    best_index_ : int
        Its row of ``cv_results_``.
    cv_results_ : dict of arrays
        ``GridSearchCV``'s keys, one row per evaluation, plus ``n_epochs``
        and the objectives.
    pareto_front_ : list of dict
        The non-dominated candidates (the best alone without objectives).
    search_history_ : list of dict
        Every evaluation in order: its parameters, epochs, scores per split,
        times, costs, and ``epochs_used`` (epochs over all folds spent by the
        search when it ended).
    epochs_used_ : int
        Epochs trained over all folds.
    interrupted_ : bool
        Whether Ctrl-C stopped the search.
"""


class NASClassifier(_NASBase):
    __doc__ = """Neural architecture search for a classifier.
""" + _DOC

    def predict_proba(self, X):
        """Class probabilities of ``best_estimator_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The probabilities.
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @property
    def classes_(self):
        """The best estimator's classes."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        return tags


class NASRegressor(_NASBase):
    __doc__ = """Neural architecture search for a regressor.
""" + _DOC

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        return tags
