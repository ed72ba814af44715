"""Pickles and saved files record the versions they were made with and warn when
loaded under others; Checkpoint writes the safe format, keeps off files it did not
write, and load_checkpoint restores the best or the last state."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import InconsistentVersionWarning as SklearnVersionWarning

import sklears_neural as sn
from sklears_neural import io as snio
from sklears_neural._versions import STATE_KEY, library_versions
from sklears_neural.base import Checkpoint

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(0)
X = RNG.random((40, 6))
Y = np.arange(40) % 2


def test_pickles_record_versions_and_warn_when_they_differ():
    model = sn.MLPClassifier(max_iter=1).fit(X, Y)
    state = model.__getstate__()
    assert state[STATE_KEY] == library_versions()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(model))  # same versions: silent
    ours = library_versions()["sklears-neural"]
    other = "9" * len(ours)  # the same length: the pickle's framing stays valid
    blob = pickle.dumps(model)
    assert blob.count(ours.encode()) == 1
    with pytest.warns(snio.InconsistentVersionWarning,
                      match=f"saved with sklears-neural {other}") as record:
        pickle.loads(blob.replace(ours.encode(), other.encode()))
    assert isinstance(record[0].message, SklearnVersionWarning)  # scikit-learn's filters apply
    assert record[0].message.original_version == other


@pytest.mark.parametrize("library", ["numpy", "scikit-learn"])
def test_joblib_pickles_of_other_families_warn_too(tmp_path, library):
    from sklears_neural.nas import NASClassifier

    search = NASClassifier(sn.MLPClassifier(max_iter=1), {"alpha": [1e-4]}, n_trials=1, cv=2)
    for obj in (search.fit(X, Y), sn.CNNClassifier()):
        state = obj.__getstate__()
        state[STATE_KEY] = {**state[STATE_KEY], library: "0.1"}
        clone = type(obj).__new__(type(obj))
        with pytest.warns(snio.InconsistentVersionWarning, match=f"saved with {library} 0.1"):
            clone.__setstate__(state)
    path = tmp_path / "m.joblib"
    joblib.dump(sn.MLPRegressor(), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joblib.load(path)


def test_saved_files_warn_under_other_versions(tmp_path):
    from test_safe_format import _rewrite

    path = snio.save(sn.MLPClassifier(max_iter=1).fit(X, Y), tmp_path / "m.skn")
    _rewrite(path, lambda header: header["versions"].update(numpy="1.0.0"))
    with pytest.warns(snio.InconsistentVersionWarning, match="saved with numpy 1.0.0"):
        snio.load(path)


def test_checkpoint_saves_best_and_last_and_restores_them(tmp_path):
    path = tmp_path / "best.skn"
    checkpoint = Checkpoint(path, monitor="train_loss", save_last=True)
    net = sn.MLPClassifier(max_iter=6, random_state=0, callbacks=[checkpoint]).fit(X, Y)
    best_epoch = int(np.argmin(net.loss_curve_)) + 1
    best = snio.load_checkpoint(path)
    assert best.n_iter_ == best_epoch and len(best.history_) == best_epoch
    last = snio.load_checkpoint(path, which="last")
    np.testing.assert_array_equal(last.predict_proba(X), net.predict_proba(X))
    assert snio.load_metadata(path)["metadata"]["epoch"] == best_epoch
    # the restored estimator continues training like the one that was saved
    last.partial_fit(X, Y)
    net.partial_fit(X, Y)
    np.testing.assert_array_equal(last.predict_proba(X), net.predict_proba(X))
    # the same checkpoint may write its files again
    net.set_params(max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="which must be 'best' or 'last'"):
        snio.load_checkpoint(path, which="first")
    plain = snio.save(net, tmp_path / "plain.skn")
    with pytest.raises(ValueError, match="not by a Checkpoint"):
        snio.load_checkpoint(plain)


def test_checkpoint_refuses_a_file_it_did_not_write(tmp_path):
    path = tmp_path / "precious.skn"
    path.write_text("someone's work")
    net = sn.MLPClassifier(max_iter=2, random_state=0,
                           callbacks=[Checkpoint(path, monitor="train_loss")])
    with pytest.raises(FileExistsError, match="no checkpoint of this session wrote it; pass "
                       "overwrite=True"):
        net.fit(X, Y)
    assert path.read_text() == "someone's work" and not hasattr(net, "n_iter_")
    other = tmp_path / "other.skn"
    sn.MLPClassifier(max_iter=1, callbacks=[Checkpoint(other, monitor="train_loss")]).fit(X, Y)
    # this session's checkpoints (a clone, a refit) may write it again...
    sn.MLPClassifier(max_iter=1, callbacks=[Checkpoint(other, monitor="train_loss")]).fit(X, Y)
    from sklears_neural.base import _callbacks

    _callbacks._WRITTEN.discard(str(other.resolve()))  # ...one of an earlier session not
    with pytest.raises(FileExistsError):
        sn.MLPClassifier(max_iter=1, callbacks=[Checkpoint(other, monitor="train_loss")]).fit(X, Y)
    sn.MLPClassifier(max_iter=1, callbacks=[
        Checkpoint(path, monitor="train_loss", overwrite=True)]).fit(X, Y)
    assert snio.load_checkpoint(path).n_iter_ == 1
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        sn.MLPClassifier(max_iter=1, callbacks=[
            Checkpoint(tmp_path / "no" / "x.skn", monitor="train_loss")]).fit(X, Y)
