"""End to end: nn.Sequential + optim.Adam learn scikit-learn's digits."""

import numpy as np
import pytest

from sklears_neural import nn, optim
from sklears_neural._demo import fit_digits_cnn, load_digits_split, train_digits_mlp
from sklears_neural.autograd import Tensor, no_grad


@pytest.mark.slow
def test_sequential_with_adam_reaches_97_percent_on_digits():
    X_train, X_test, y_train, y_test = load_digits_split(random_state=0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 128, activation="relu", generator=rng),
                          nn.Dropout(0.1, generator=rng),
                          nn.Linear(128, 10, generator=rng))
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.CrossEntropyLoss()
    for _ in range(30):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            optimizer.zero_grad()
            criterion(model(Tensor(X_train[batch])), y_train[batch]).backward()
            optimizer.step()
    model.eval()
    with no_grad():
        accuracy = (model(Tensor(X_test)).numpy().argmax(axis=1) == y_test).mean()
    assert accuracy >= 0.97


def test_demo_runs_and_reports():
    result = train_digits_mlp(epochs=2, progress=False)
    assert set(result) >= {"test_accuracy", "fit_time", "final_loss", "model"}
    assert 0.8 < result["test_accuracy"] <= 1.0  # two epochs already learn most digits
    assert result["fit_time"] > 0


def test_demo_cnn_reports_on_the_same_split():
    result = fit_digits_cnn(max_epochs=1, progress=False)
    assert result["model"].input_shape_ == (1, 8, 8)
    assert 0.5 < result["test_accuracy"] <= 1.0 and result["n_iter"] == 1


def test_demo_is_reproducible():
    a = train_digits_mlp(epochs=1, progress=False)
    b = train_digits_mlp(epochs=1, progress=False)
    assert a["final_loss"] == b["final_loss"]


def test_command_line_demo(capsys):
    from sklears_neural.__main__ import main

    assert main(["demo", "--epochs", "1", "--max-iter", "2", "--cnn-epochs", "1",
                 "--rnn-epochs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "sklears-neural" in out and "scikit-learn" in out and "speed-up" in out
    assert "CNNClassifier" in out and "(1 epochs)" in out
    assert "RNNClassifier" in out and "ItalyPowerDemand" in out
    try:
        import aeon  # noqa: F401
    except ImportError:
        assert "skipped: aeon is not installed" in out and out.count("test accuracy:") == 2
    else:
        assert out.count("test accuracy:") == 3 and "1029 test days" in out
    assert "fit time:" in out
