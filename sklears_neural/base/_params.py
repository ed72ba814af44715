"""The parameters every estimator shares, declared once: constraints and documentation.

Each family's ``_parameter_constraints`` starts from ``TRAINING_CONSTRAINTS``
(scikit-learn's ``sklearn.utils._param_validation`` types, checked by
``_validate_params`` at the start of every ``fit``: NaN fails every
interval). Parameters whose form is richer than these types can say
(``noise``, ``lr_schedule``, ``dtype``, per-layer lists, names with a list
of choices) are marked ``"no_validation"`` here and checked by their own
parsers, whose errors name the parameter and the choices.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Hidden, Interval, StrOptions

__all__ = ["CLASSIFIER_CONSTRAINTS", "TRAINING_CONSTRAINTS", "TRAINING_DOC", "positive_int",
           "unit_interval"]


def positive_int():
    return [Interval(Integral, 1, None, closed="left")]


def unit_interval(closed="left"):
    """A float in [0, 1) (``closed="left"``) or [0, 1] (``"both"``)."""
    return [Interval(Real, 0, 1, closed=closed)]


TRAINING_CONSTRAINTS = {
    "max_iter": positive_int(),
    "max_epochs": [Interval(Integral, 1, None, closed="left"),
                   Hidden(StrOptions({"deprecated"}))],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "tol": [Interval(Real, 0, None, closed="left")],
    "n_iter_no_change": positive_int(),
    "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
    "early_stopping": ["boolean"],
    "shuffle": ["boolean"],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1": [Interval(Real, 0, None, closed="left")],
    "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "callbacks": [list, tuple, None],
    "device": [str],
    "noise": "no_validation",        # parse_noise: a float or a dict
    "lr_schedule": "no_validation",  # a name, class, callable or (spec, options)
    "dtype": "no_validation",        # check_dtype: "float32", "float64" or numpy types
}

CLASSIFIER_CONSTRAINTS = {
    "label_smoothing": unit_interval("both"),
    "class_weight": [dict, StrOptions({"balanced"}), None],
}

# The documentation of the shared parameters, in four templates (``str.format`` with
# ``max_iter`` and ``batch_size``) that each family joins in the order of its signature.
TRAINING_DOC_EPOCHS = """    max_iter : int, default={max_iter}
        Epochs of one ``fit`` (one per ``partial_fit`` call).
    batch_size : int or "auto", default={batch_size}
        Rows per minibatch ("auto": ``min(200, n_samples)``). A last batch
        of one row joins the batch before it.
"""
TRAINING_DOC_PENALTIES = """    alpha, l1 : float, default=0.0
        L2 / L1 penalties on the weight matrices (not biases or norms),
        divided by the (weighted) batch size as scikit-learn's ``alpha``.
    clip_grad_norm : float, optional
        Clip the global gradient norm of every step.
    noise : float or dict, default=0.0
        Gaussian noise in training: a float is its standard deviation on
        the inputs; ``{{"std": s, "on": "inputs" | "weights" | "activations",
        "decay": d}}`` puts it elsewhere and shrinks it by ``d`` per epoch.
    lr_schedule : str, scheduler class, callable or (spec, dict), optional
        A schedule of ``sklears_neural.optim.lr_scheduler`` by name
        ("step", "cosine", "onecycle", "plateau", …) with its options;
        "cosine" alone anneals over ``max_iter`` epochs (a warm start or
        ``partial_fit`` continues the schedule where it was).
"""
TRAINING_DOC_LOOP = """    callbacks : list of Callback or of (name, Callback), optional
        Re-read at every ``fit`` / ``partial_fit``; options settable as
        ``callbacks__<name>__<param>``.
    validation_fraction : float in [0, 1) or None, default=None
        Held-out share scored every epoch (``valid_loss``, ``valid_score``
        in ``history_``; stratified for classifiers), with or without early
        stopping. None holds out 0.1 only when ``early_stopping`` or a
        plateau schedule needs it. ``fit(X, y, validation_data=(X_val,
        y_val))`` scores given data instead.
    early_stopping : bool, default=False
        Stop when the validation score stalls and restore the best weights.
    n_iter_no_change : int, default=10
        The number of epochs without improvement that stops training (see
        ``tol``).
    tol : float, default=1e-4
        Training stops when the monitored value (training loss, or the
        validation score with early stopping) has not improved by ``tol``
        for more than ``n_iter_no_change`` epochs.
    shuffle : bool, default=True
        Shuffle the rows at every epoch.
    warm_start : bool, default=False
        Continue from the fitted weights and optimizer state.
    random_state : int, RandomState or None, default=None
        Seeds initial weights, splits, shuffling and noise: the same seed
        gives a bit-identical model.
    device : str, default="cpu"
        "cuda" / "cuda:N" trains on a GPU through CuPy.
    dtype : {{"float32", "float64"}}, default="float32"
        The dtype of the weights and of the computation.
    verbose : int, default=0
        1 shows a progress bar, 2 also prints every epoch.
    n_threads : int, optional
        Threads for fit and predict, for both the BLAS and the engine's OpenMP
        pool. None (the default) decides once per call: one thread for small
        batches, else as many as there are free CPUs (usable CPUs not busy
        with other processes), given to the one pool that does the network's
        heavy work (see doc/threads.rst).
"""
TRAINING_DOC_DEPRECATED = """    max_epochs : int
        Deprecated name of ``max_iter``; it will be removed in the next release.
"""
TRAINING_DOC = (TRAINING_DOC_EPOCHS + TRAINING_DOC_PENALTIES + TRAINING_DOC_LOOP
                + TRAINING_DOC_DEPRECATED)
