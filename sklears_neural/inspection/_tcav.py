"""Testing with concept activation vectors (TCAV; Kim et al. 2018).

A concept (examples of it, such as striped images) is a direction in a
layer's activations: the normal of a linear classifier that separates the
concept's activations from those of random examples (the concept
activation vector, CAV). The TCAV score of a class is the share of its
inputs whose output for that class grows along the direction (positive
directional derivative). As a CAV also separates any two random sets,
CAVs are learned against several random sets, and their scores are tested
against those of CAVs between two random sets.
"""

import numpy as np
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.utils import Bunch, check_random_state

from sklears_neural.inspection._gradients import _positive_int, _prepare, as_values
from sklears_neural.inspection._layers import find_layer

__all__ = ["tcav"]


def tcav(estimator, X, concept_examples, random_examples, target=None, *, layer,
         n_runs=10, alpha=0.05, random_state=None, batch_size=256):
    """TCAV scores of a concept for the predictions on X, with a significance test.

    Parameters
    ----------
    estimator : fitted estimator of sklears_neural, or Pipeline ending in one
        The model; inputs pass the Pipeline's steps first.
    X : array-like
        Inputs of the class to test (in the form the estimator predicts on).
    concept_examples : array-like
        Inputs that show the concept.
    random_examples : array-like
        A pool of other inputs; each run draws as many as there are concept
        examples (twice, for the random-against-random runs), so it needs at
        least twice as many.
    target : label or int, optional
        The class label (classifiers; None: each input's predicted class) or
        output index (regressors) whose sensitivity is tested.
    layer : str or Module
        The layer of the fitted ``module_`` whose activations hold the
        concept (a dotted name of ``module_.named_modules()`` or the object).
    n_runs : int, default=10
        CAVs learned, each against another random draw; as many random CAVs.
    alpha : float, default=0.05
        Significance level of the two-sided t-test of the concept's scores
        against the random CAVs'.
    random_state : int, RandomState instance or None, default=None
        Seeds the random draws and the linear classifiers.
    batch_size : int, default=256
        Inputs per engine pass.

    Returns
    -------
    Bunch
        ``score`` (the mean TCAV score), ``scores`` and ``random_scores``
        (per run), ``p_value``, ``significant`` (``p_value < alpha``),
        ``cav_accuracy`` (the mean cross-validated accuracy of the concept
        CAVs), ``cavs`` (n_runs, n_activations) and ``target``.
    """
    n_runs = _positive_int(n_runs, "n_runs")
    model, Z, indices, targets = _prepare(estimator, X, target, "logits")
    chosen = find_layer(model.net.module_, layer)
    batch_size = _positive_int(batch_size, "batch_size")
    concept = _activations(model, concept_examples, chosen, batch_size)
    pool = _activations(model, random_examples, chosen, batch_size)
    if len(pool) < 2 * len(concept):
        raise ValueError(f"random_examples has {len(pool)} inputs; it needs at least twice "
                         f"as many as concept_examples ({2 * len(concept)}).")
    _, _, grads = model.layer_outputs_and_gradients(Z, indices, chosen, batch_size)
    grads = grads.reshape(len(grads), -1)
    rng = check_random_state(random_state)
    cavs, scores, random_scores, accuracies = [], [], [], []
    for _ in range(n_runs):
        draw = rng.permutation(len(pool))
        first, second = pool[draw[:len(concept)]], pool[draw[len(concept):2 * len(concept)]]
        cav, accuracy = _cav(concept, first)
        random_cav, _ = _cav(second, first)
        cavs.append(cav)
        accuracies.append(accuracy)
        scores.append(float(np.mean(grads @ cav > 0)))
        random_scores.append(float(np.mean(grads @ random_cav > 0)))
    scores, random_scores = np.array(scores), np.array(random_scores)
    if np.ptp(np.concatenate([scores, random_scores])) == 0:
        p_value = 1.0
    else:
        p_value = float(stats.ttest_ind(scores, random_scores).pvalue)
    return Bunch(score=float(scores.mean()), scores=scores, random_scores=random_scores,
                 p_value=p_value, significant=bool(p_value < alpha),
                 cav_accuracy=float(np.mean(accuracies)), cavs=np.array(cavs),
                 target=targets)


def _activations(model, examples, layer, batch_size):
    Z = as_values(model.explained_input(examples))
    return model.layer_activations(Z, layer, batch_size).reshape(len(Z), -1)


def _cav(positive, negative):
    """The unit normal of a logistic regression of ``positive`` against ``negative``
    (pointing to ``positive``), and its cross-validated accuracy."""
    data = np.vstack([positive, negative]).astype(np.float64)
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    classifier = LogisticRegression(max_iter=1000)
    folds = min(5, len(positive))
    accuracy = (float(cross_val_score(classifier, data, labels, cv=folds).mean())
                if folds >= 2 else float("nan"))
    classifier.fit(data, labels)
    direction = classifier.coef_[0]
    norm = np.linalg.norm(direction)
    return direction / norm if norm > 0 else direction, accuracy
