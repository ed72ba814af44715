"""The main job: train a network from this engine on scikit-learn's digits.

``sklears-neural demo`` runs it. It stays on the engine (``nn`` + ``optim``)
so that it shows what the foundation does end to end: real data, a
progress bar, test accuracy and fit time.
"""

import time

import numpy as np

__all__ = ["compare_mlp_on_digits", "fit_digits_cnn", "fit_italy_power_lstm", "load_digits_split",
           "train_digits_mlp"]


def load_digits_split(random_state=0):
    """Digits (1797 8x8 images) standardised, with a 25% stratified test split.

    Returns
    -------
    X_train, X_test : float32 arrays of shape (n, 64)
    y_train, y_test : int64 arrays
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state)
    scaler = StandardScaler().fit(X_train)
    return (scaler.transform(X_train).astype(np.float32), scaler.transform(X_test).astype(np.float32),
            y_train.astype(np.int64), y_test.astype(np.int64))


def train_digits_mlp(hidden=(128,), epochs=30, batch_size=64, lr=1e-3, random_state=0,
                     progress=True):
    """Train an MLP built from ``nn.Sequential`` with ``optim.Adam`` on digits.

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer widths (ReLU fused into each ``Linear``).
    epochs, batch_size, lr : training settings
    random_state : int
        Seeds the split, the initial weights and the shuffling.
    progress : bool
        Show a tqdm progress bar over epochs.

    Returns
    -------
    dict
        ``test_accuracy``, ``fit_time`` (seconds), ``final_loss`` and the
        trained ``model``.
    """
    from tqdm.auto import tqdm

    from sklears_neural import nn, optim
    from sklears_neural.autograd import Tensor, no_grad
    from sklears_neural.data import ArrayDataset, DataLoader

    X_train, X_test, y_train, y_test = load_digits_split(random_state)
    rng = np.random.default_rng(random_state)
    sizes = (X_train.shape[1],) + tuple(hidden)
    layers = [nn.Linear(a, b, activation="relu", generator=rng) for a, b in zip(sizes, sizes[1:])]
    model = nn.Sequential(*layers, nn.Linear(sizes[-1], 10, generator=rng))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()

    loader = DataLoader(ArrayDataset(X_train, y_train), batch_size=batch_size, shuffle=True,
                        generator=rng)
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc="digits MLP", unit="epoch", disable=not progress)
    for _ in bar:
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(Tensor(xb)), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        bar.set_postfix(loss=f"{total / len(X_train):.4f}")
    fit_time = time.perf_counter() - start

    model.eval()
    with no_grad():
        predicted = model(Tensor(X_test)).numpy().argmax(axis=1)
    return {"test_accuracy": float((predicted == y_test).mean()), "fit_time": fit_time,
            "final_loss": total / len(X_train), "model": model}


def compare_mlp_on_digits(max_iter=200, random_state=0, progress=True):
    """Fit our MLPClassifier and scikit-learn's with identical settings on digits.

    Both get scikit-learn's defaults (hidden (100,), relu, adam, batch 200,
    early stopping off) and the same standardised 25% stratified split; ours
    runs in its default float32.

    Returns
    -------
    list of dict
        One row per library: ``library``, ``test_accuracy``, ``fit_time``,
        ``n_iter``.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from sklears_neural.mlp import MLPClassifier

    X_train, X_test, y_train, y_test = load_digits_split(random_state)
    X_train64, X_test64 = X_train.astype(np.float64), X_test.astype(np.float64)
    rows = []
    for library, model, Xtr, Xte in (
            ("sklears-neural", MLPClassifier(max_iter=max_iter, random_state=random_state,
                                             verbose=progress), X_train, X_test),
            ("scikit-learn", SklearnMLP(max_iter=max_iter, random_state=random_state),
             X_train64, X_test64)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(Xtr, y_train)
            fit_time = time.perf_counter() - start
        rows.append({"library": library, "test_accuracy": float(model.score(Xte, y_test)),
                     "fit_time": fit_time, "n_iter": int(model.n_iter_)})
    return rows


def _fit_and_score(model, X_train, y_train, X_test, y_test):
    """Fit an estimator; its test accuracy, fit time, epochs and the model."""
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    return {"test_accuracy": float(model.score(X_test, y_test)), "fit_time": fit_time,
            "n_iter": int(model.n_iter_), "model": model}


def fit_digits_cnn(max_epochs=20, random_state=0, progress=True):
    """Fit ``CNNClassifier`` with its defaults on digits read as 1x8x8 images.

    The split and scaling are those of the MLP comparison; the flat rows
    become images through ``input_shape``, as after any scikit-learn
    transformer.

    Returns
    -------
    dict
        ``test_accuracy``, ``fit_time`` (seconds), ``n_iter`` and the
        fitted ``model``.
    """
    from sklears_neural.cnn import CNNClassifier

    X_train, X_test, y_train, y_test = load_digits_split(random_state)
    model = CNNClassifier(input_shape=(1, 8, 8), max_iter=max_epochs,
                          random_state=random_state, verbose=int(progress))
    return _fit_and_score(model, X_train, y_train, X_test, y_test)


def fit_italy_power_lstm(max_epochs=50, random_state=0, progress=True):
    """Fit ``RNNClassifier`` (an LSTM, defaults) on ItalyPowerDemand.

    A UCR time-series dataset bundled with aeon (the ``[demo]`` extra): 24
    hourly electricity-demand readings per day, classified as October–March
    or April–September; official split, 67 training and 1029 test days.
    aeon returns (n, channels, length) arrays, read with ``layout="NCT"``.

    Returns
    -------
    dict
        ``test_accuracy``, ``fit_time`` (seconds), ``n_iter``, ``n_train``,
        ``n_test`` and the fitted ``model``.

    Raises
    ------
    ImportError
        Without aeon.
    """
    from aeon.datasets import load_classification

    from sklears_neural.rnn import RNNClassifier

    X_train, y_train = load_classification("ItalyPowerDemand", split="train")
    X_test, y_test = load_classification("ItalyPowerDemand", split="test")
    model = RNNClassifier("lstm", layout="NCT", max_iter=max_epochs,
                          random_state=random_state, verbose=int(progress))
    return {**_fit_and_score(model, X_train, y_train, X_test, y_test),
            "n_train": len(X_train), "n_test": len(X_test)}
