"""History: list compatibility, skorch-style indexing, to_frame and plot."""

import copy
import math
import pickle
import sys

import numpy as np
import pytest

from sklears_neural.base._history import History

KEYS = ("epoch", "train_loss", "valid_loss", "valid_score", "lr", "time")


def make_history(n_epochs=4, n_batches=3):
    """Rows like the estimators write, with per-batch losses recorded."""
    h = History()
    for e in range(1, n_epochs + 1):
        h.new_epoch(epoch=e, train_loss=1.0 / e, valid_loss=None if e == 1 else 2.0 / e,
                    valid_score=None if e == 1 else 0.5 + 0.1 * e, lr=0.1 * 0.5 ** e,
                    time=0.01 * e)
        for b in range(n_batches):
            h.new_batch(size=10)
            h.record_batch("loss", 10 * e + b)
    return h


# -- list compatibility ------------------------------------------------------------

def test_list_behaviour_len_index_iteration_append():
    h = History()
    assert isinstance(h, list) and len(h) == 0 and list(h) == []
    row = {"epoch": 1, "train_loss": 0.5, "valid_loss": None, "valid_score": None,
           "lr": 1e-3, "time": 0.1}
    h.append(row)
    assert "batches" not in row, "append must not mutate the caller's dict"
    assert h[0] is not row and h[0] == {**row, "batches": []}
    assert h[-1]["train_loss"] == 0.5 and h[np.int64(0)]["lr"] == 1e-3
    h.append({"epoch": 2, "train_loss": 0.25, "lr": 5e-4, "batches": [{"loss": 1.0}]})
    assert h[-1]["batches"] == [{"loss": 1.0}]
    assert len(h) == 2
    assert [r["lr"] for r in h] == [1e-3, 5e-4]
    assert [r["epoch"] for r in list(h)] == [1, 2]
    with pytest.raises(IndexError):
        h[2]
    with pytest.raises(TypeError, match="history rows are dicts"):
        h.append([1, 2])


def test_other_list_writers_normalise_rows():
    h = History([{"epoch": 1}])
    h.extend([{"epoch": 3}])
    h.insert(1, {"epoch": 2})
    h += [{"epoch": 4}]
    h2 = h + [{"epoch": 5}]
    assert type(h2) is History and len(h) == 4
    assert [r["epoch"] for r in h2] == [1, 2, 3, 4, 5]
    assert all(r["batches"] == [] for r in h2)
    h[0] = {"epoch": 0}
    h[1:2] = [{"epoch": 9}]
    assert h[0] == {"epoch": 0, "batches": []} and h[1] == {"epoch": 9, "batches": []}


def test_plain_slice_returns_history_of_the_same_rows():
    h = make_history(5)
    part = h[1:3]
    assert type(part) is History and len(part) == 2
    assert part[0] is h[1] and part[1] is h[2]
    assert part[:, "epoch"] == [2, 3]
    assert [r["epoch"] for r in h[::-2]] == [5, 3, 1]
    assert type(h.copy()) is History and h.copy()[0] is h[0]


def test_pickle_round_trip_and_deepcopy():
    h = make_history(3)
    h.record("custom", {"a": [1, 2]})
    for clone in (pickle.loads(pickle.dumps(h)), copy.deepcopy(h)):
        assert type(clone) is History
        assert clone == h and clone[:, "train_loss"] == [1.0, 0.5, 1 / 3]
        assert clone[-1, "batches", -1, "loss"] == 32
        assert clone[0] is not h[0] and clone[-1]["custom"] is not h[-1]["custom"]
        clone.new_batch()
        clone.record_batch("loss", -1)
        assert h[-1, "batches", -1, "loss"] == 32  # independent of the original
    shallow = copy.copy(h)
    assert type(shallow) is History and shallow[0] is h[0]


def test_repr_names_the_class():
    assert repr(History([{"epoch": 1}])) == "History([{'epoch': 1, 'batches': []}])"


# -- writing -------------------------------------------------------------------------

def test_new_epoch_record_and_batches():
    h = History()
    with pytest.raises(ValueError, match="new_epoch"):
        h.record("x", 1)
    with pytest.raises(ValueError, match="new_epoch"):
        h.new_batch()
    h.new_epoch(epoch=1)
    with pytest.raises(ValueError, match="new_batch"):
        h.record_batch("loss", 1.0)
    h.record("train_loss", 0.7)
    h.record("train_loss", 0.6)  # overwrite
    h.new_batch()
    h.record_batch("loss", 1.5)
    h.new_batch(size=4)
    h.record_batch("loss", 0.5)
    assert h == [{"epoch": 1, "train_loss": 0.6,
                  "batches": [{"loss": 1.5}, {"size": 4, "loss": 0.5}]}]


# -- tuple indexing --------------------------------------------------------------------

def test_epoch_key_indexing():
    h = make_history(4)
    assert h[:, "train_loss"] == [1.0, 0.5, 1 / 3, 0.25]
    assert h[-1, "valid_loss"] == 0.5 and h[1, "valid_loss"] == 1.0
    assert h[-4, "epoch"] == 1 and h[np.int64(2), "epoch"] == 3
    assert h[1:3, "epoch"] == [2, 3] and h[::-1, "epoch"] == [4, 3, 2, 1]
    assert h[:, ("epoch", "lr")] == [(e, 0.1 * 0.5 ** e) for e in range(1, 5)]
    assert h[-1, ("train_loss", "valid_loss")] == (0.25, 0.5)
    # None is a value, not a missing key
    assert h[:, "valid_score"][0] is None and len(h[:, "valid_score"]) == 4
    assert h[(0,)] is h[0]
    assert h[5:, "epoch"] == [] and History()[:, "train_loss"] == []


def test_index_errors():
    h = make_history(2)
    with pytest.raises(IndexError, match="out of range"):
        h[2, "epoch"]
    with pytest.raises(IndexError, match="out of range"):
        h[-3, "epoch"]
    with pytest.raises(IndexError, match="out of range"):
        History()[-1, "train_loss"]
    with pytest.raises(TypeError, match="integer or a slice"):
        h["a", "epoch"]
    with pytest.raises(IndexError, match="1 to 4"):
        h[:, "batches", :, "loss", 0]
    with pytest.raises(KeyError, match="Only the key 'batches'"):
        h[:, "train_loss", 0]


def test_missing_keys_skip_rows_in_slices_and_raise_on_single_rows():
    h = make_history(3)
    h[1]["grad_norm"] = 2.0
    h[2]["grad_norm"] = 3.0
    # multi-row slices skip the rows lacking the key
    assert h[:, "grad_norm"] == [2.0, 3.0]
    assert h[:, ("epoch", "grad_norm")] == [(2, 2.0), (3, 3.0)]
    # a single-row lookup raises, naming the key, the epoch and the keys available
    with pytest.raises(KeyError) as info:
        h[0, "grad_norm"]
    msg = str(info.value)
    assert "'grad_norm'" in msg and "epoch 1" in msg and "'train_loss'" in msg
    with pytest.raises(KeyError, match="'grad_norm'.*epoch 1"):
        h[-3, ("train_loss", "grad_norm")]
    # KeyError when none of the selected rows has the key
    with pytest.raises(KeyError) as info:
        h[:, "nope"]
    msg = str(info.value)
    assert "'nope'" in msg and "none of the 3 selected epoch rows" in msg and "'lr'" in msg
    with pytest.raises(KeyError, match="'grad_norm'.*none of the 1 selected"):
        h[:1, "grad_norm"]


def test_batch_indexing():
    h = make_history(3, n_batches=3)
    assert h[-1, "batches"] is h[-1]["batches"]
    assert h[:, "batches"] == [r["batches"] for r in h]
    assert h[0, "batches", 1] == {"size": 10, "loss": 11}
    assert h[:, "batches", -1] == [{"size": 10, "loss": 10 * e + 2} for e in (1, 2, 3)]
    assert h[-1, "batches", -1, "loss"] == 32
    assert h[-1, "batches", :, "loss"] == [30, 31, 32]
    assert h[:, "batches", :, "loss"] == [[10, 11, 12], [20, 21, 22], [30, 31, 32]]
    assert h[1:, "batches", ::2, "loss"] == [[20, 22], [30, 32]]
    assert h[:, "batches", 0, "loss"] == [10, 20, 30]
    assert h[:, "batches", :, ("loss", "size")][0] == [(10, 10), (11, 10), (12, 10)]
    assert h[0, "batches", 1:] == [{"size": 10, "loss": 11}, {"size": 10, "loss": 12}]


def test_batch_indexing_missing_keys_and_batches():
    h = make_history(3, n_batches=2)
    h[0]["batches"][1]["acc"] = 0.5
    h[2]["batches"][0]["acc"] = 0.9
    h.new_epoch(epoch=4)  # an epoch without batches
    # batches lacking the key are skipped, and epochs where no batch has it
    assert h[:, "batches", :, "acc"] == [[0.5], [0.9]]
    assert h[:, "batches", -1, "acc"] == [0.5]
    assert h[:, "batches", -1] == [h[e]["batches"][-1] for e in range(3)]
    assert h[-1, "batches", :, "acc"] == []
    assert h[-1, "batches"] == []
    with pytest.raises(KeyError, match="'acc'.*batch 1 of epoch 2"):
        h[1, "batches", -1, "acc"]
    with pytest.raises(KeyError, match="'acc'.*none of the 2 selected batch rows"):
        h[1, "batches", :, "acc"]
    with pytest.raises(KeyError, match="'nope'.*none of the 6 selected batch rows"):
        h[:, "batches", :, "nope"]
    with pytest.raises(IndexError, match="out of range for epoch 4"):
        h[-1, "batches", -1]
    with pytest.raises(IndexError, match="out of range for all 4"):
        h[:, "batches", 5, "loss"]


# -- to_frame --------------------------------------------------------------------------

def test_to_frame_per_epoch_and_per_batch():
    pd = pytest.importorskip("pandas", reason="History.to_frame needs pandas")
    h = make_history(3, n_batches=2)
    h.record("grad_norm", 4.0)
    df = h.to_frame()
    assert isinstance(df, pd.DataFrame) and df.shape == (3, 7)
    assert list(df.columns) == [*KEYS, "grad_norm"]
    np.testing.assert_allclose(df["train_loss"], [1.0, 0.5, 1 / 3])
    np.testing.assert_allclose(df["valid_loss"], [np.nan, 1.0, 2 / 3])
    assert df["grad_norm"].isna().tolist() == [True, True, False]

    bf = h.to_frame(batches=True)
    assert list(bf.columns) == ["epoch", "size", "loss"] and len(bf) == 6
    assert bf["epoch"].tolist() == [1, 1, 2, 2, 3, 3]
    assert bf["loss"].tolist() == [10, 11, 20, 21, 30, 31]

    empty = History().to_frame(batches=True)
    assert len(empty) == 0 and list(empty.columns) == ["epoch"]
    assert len(History([{"epoch": 1}]).to_frame(batches=True)) == 0
    assert History().to_frame().shape == (0, 0)


def test_to_frame_without_pandas_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        make_history(1).to_frame()


# -- plot ------------------------------------------------------------------------------

@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib", reason="History.plot needs matplotlib "
                                                   "(pip install matplotlib)")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_losses_and_score_on_twin_axis(plt):
    from matplotlib.axes import Axes
    from matplotlib.colors import same_color

    h = make_history(4)
    ax = h.plot()
    assert isinstance(ax, Axes)
    assert [line.get_label() for line in ax.get_lines()] == ["train_loss", "valid_loss"]
    train, valid = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(train.get_ydata(), h[:, "train_loss"])
    np.testing.assert_allclose(valid.get_ydata(), [np.nan, 1.0, 2 / 3, 0.5])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"

    twins = [a for a in ax.figure.axes if a is not ax]
    assert len(twins) == 1
    (score,) = twins[0].get_lines()
    assert score.get_label() == "valid_score" and twins[0].get_ylabel() == "valid_score"
    np.testing.assert_allclose(score.get_ydata(), [np.nan, 0.7, 0.8, 0.9])
    assert not any(same_color(score.get_color(), line.get_color()) for line in (train, valid))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["train_loss", "valid_loss", "valid_score"]


def test_plot_skips_all_none_keys_and_uses_given_axes(plt):
    rows = [{"epoch": e, "train_loss": 1.0 / e, "valid_loss": None, "valid_score": None}
            for e in (1, 2, 3)]
    h = History(rows)
    fig, ax = plt.subplots()
    out = h.plot(ax=ax)
    assert out is ax and fig.axes == [ax]  # no score axis: all None
    assert [line.get_label() for line in ax.get_lines()] == ["train_loss"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.0, 0.5, 1 / 3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train_loss"]

    ax2 = h.plot(keys="lr", score_key=None)  # missing everywhere: nothing drawn
    assert ax2 is not ax and ax2.get_lines() == [] and ax2.get_legend() is None

    h.record("grad_norm", 2.0)
    ax3 = h.plot(keys=("train_loss", "grad_norm"), score_key=None)
    assert ax3.get_ylabel() == "train_loss, grad_norm"
    y = ax3.get_lines()[1].get_ydata()
    assert math.isnan(y[0]) and math.isnan(y[1]) and y[2] == 2.0


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        make_history(1).plot()
