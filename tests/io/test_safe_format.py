"""io.save / io.load: every family round-trips (predict identical, partial_fit
continues identically), a fresh process reloads, user networks load when imported
or trusted, and tampered files fail without running anything."""

import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import sklears_neural as sn
from sklears_neural import io as snio
from sklears_neural import nn
from sklears_neural.data import Graph

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(0)
X = RNG.random((30, 16))
Y = np.arange(30) % 3
SERIES = RNG.standard_normal((30, 12))
GRAPHS = [Graph(RNG.random((4, 2)), np.array([[0, 1, 2, 1, 2, 3], [1, 2, 3, 0, 1, 2]]))
          for _ in range(30)]

CASES = {
    "MLPClassifier": (lambda: sn.MLPClassifier(max_iter=2, random_state=0), X, Y),
    "MLPRegressor": (lambda: sn.MLPRegressor(max_iter=2, random_state=0), X, Y * 1.5),
    "CNNClassifier": (lambda: sn.CNNClassifier(input_shape=(1, 4, 4), max_iter=1,
                                               random_state=0), X, Y),
    "CNN1DClassifier": (lambda: sn.CNN1DClassifier(input_shape=(1, 12), conv_layers="fcn",
                                                   max_iter=1, random_state=0), SERIES, Y),
    "RNNClassifier": (lambda: sn.RNNClassifier(input_shape=(-1, 1), hidden_size=8, max_iter=1,
                                               random_state=0), SERIES, Y),
    "TransformerRegressor": (lambda: sn.TransformerRegressor(
        input_shape=(-1, 1), d_model=8, nhead=2, max_iter=1, random_state=0), SERIES, Y * 1.0),
    "GNNGraphClassifier": (lambda: sn.GNNGraphClassifier(hidden_layer_sizes=(8,), max_iter=1,
                                                         random_state=0), GRAPHS, Y),
}


def _outputs(model, data):
    return model.predict_proba(data) if hasattr(model, "predict_proba") else model.predict(data)


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_predicts_and_continues_identically(name, tmp_path):
    make, data, y = CASES[name]
    model = make().fit(data, y)
    path = snio.save(model, tmp_path / "model.skn")
    loaded = snio.load(path)
    assert type(loaded) is type(model) and loaded is not model
    np.testing.assert_array_equal(_outputs(loaded, data), _outputs(model, data))
    model.partial_fit(data, y)
    loaded.partial_fit(data, y)  # the optimizer, scheduler and random state were kept
    np.testing.assert_array_equal(_outputs(loaded, data), _outputs(model, data))
    assert loaded.n_iter_ == model.n_iter_
    assert [row["train_loss"] for row in loaded.history_] == \
        [row["train_loss"] for row in model.history_]


def test_warm_start_and_unfitted_and_a_bare_network(tmp_path):
    model = sn.MLPClassifier(max_iter=2, random_state=0).fit(X, Y)
    loaded = snio.load(snio.save(model, tmp_path / "a.skn"))
    for m in (model, loaded):
        m.set_params(warm_start=True, max_iter=3).fit(X, Y)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    unfitted = snio.load(snio.save(sn.CNNClassifier(lr=0.01), tmp_path / "b.skn"))
    assert unfitted.get_params() == sn.CNNClassifier(lr=0.01).get_params()
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    again = snio.load(snio.save(net, tmp_path / "net.skn"))
    x = sn.Tensor(RNG.random((5, 4)).astype(np.float32))
    np.testing.assert_array_equal(again(x).data, net(x).data)
    # weights shared by two layers stay shared
    net.layers_tied = net[0]
    tied = snio.load(snio.save(net, tmp_path / "tied.skn"))
    assert tied.layers_tied is tied[0]


def test_a_fresh_process_predicts_identically(tmp_path):
    model = sn.MLPClassifier(max_iter=3, random_state=0).fit(X, Y)
    path = snio.save(model, tmp_path / "model.skn")
    np.save(tmp_path / "X.npy", X)
    code = textwrap.dedent(f"""
        import numpy as np
        from sklears_neural import io
        model = io.load({str(path)!r})
        X = np.load({str(tmp_path / 'X.npy')!r})
        np.save({str(tmp_path / 'out.npy')!r}, model.predict_proba(X))
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), model.predict_proba(X))


class UserNet(nn.Module):
    """A network of one's own (this test module is imported, so it loads)."""

    def __init__(self, n_features, n_outputs, generator=None):
        super().__init__()
        self.linear = nn.Linear(n_features, n_outputs, generator=generator)

    def forward(self, x):
        return self.linear(x)


def test_user_network_loads_when_imported_or_trusted(tmp_path):
    model = sn.NeuralNetClassifier(UserNet, max_iter=2, random_state=0).fit(X, Y)
    path = snio.save(model, tmp_path / "user.skn")
    np.testing.assert_array_equal(snio.load(path).predict(X), model.predict(X))  # imported here
    # a fresh process that has not imported the class: refused, then trusted
    package = tmp_path / "userpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(textwrap.dedent('''
        from sklears_neural import nn

        class Net(nn.Module):
            def __init__(self, n_features, n_outputs, generator=None):
                super().__init__()
                self.linear = nn.Linear(n_features, n_outputs, generator=generator)

            def forward(self, x):
                return self.linear(x)
    '''))
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from userpkg.nets import Net
        import numpy as np
        import sklears_neural as sn
        from sklears_neural import io
        X = np.load({str(tmp_path / 'X.npy')!r})
        model = sn.NeuralNetClassifier(Net, max_iter=2, random_state=0).fit(X, np.arange(30) % 3)
        io.save(model, {str(tmp_path / 'pkg.skn')!r})
    """)
    np.save(tmp_path / "X.npy", X)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    check = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from sklears_neural import io
        path = {str(tmp_path / 'pkg.skn')!r}
        try:
            io.load(path)
        except io.UntrustedTypeError as error:
            assert error.names == ["userpkg.nets.Net"], error.names
            assert "trusted=['userpkg.nets.Net']" in str(error)
            assert "userpkg.nets" not in sys.modules  # refused before importing it
        else:
            raise SystemExit("loaded an untrusted class")
        assert io.get_untrusted_types(path) == ["userpkg.nets.Net"]
        model = io.load(path, trusted=["userpkg.nets.Net"])
        print(type(model.module_).__name__)
    """)
    out = subprocess.run([sys.executable, "-c", check], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    assert out.strip() == "Net"


def _rewrite(path, edit):
    """Rewrite the JSON header of a saved file through ``edit``."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(members["sklears_neural.json"])
    edit(header)
    members["sklears_neural.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


PAYLOAD = textwrap.dedent("""
    import pathlib
    pathlib.Path({marker!r}).write_text("ran")

    class Payload:
        def __setstate__(self, state):
            pathlib.Path({marker!r}).write_text("ran")
""")


@pytest.mark.parametrize("tamper", ["class", "function", "nested_attribute", "dunder"])
def test_a_json_naming_an_arbitrary_class_fails_and_runs_nothing(tmp_path, monkeypatch, tamper):
    marker = tmp_path / "marker"
    (tmp_path / "evil_module.py").write_text(PAYLOAD.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    path = snio.save(sn.MLPClassifier(max_iter=1).fit(X, Y), tmp_path / "model.skn")
    named = {"class": "evil_module.Payload", "function": "os.system",
             "nested_attribute": "sklears_neural.base._safe_format.os.system",
             "dunder": "sklears_neural.__main__.main"}[tamper]

    def edit(header):
        state = header["object"]["state"]
        if tamper in ("class", "dunder"):
            state["_targets"] = {"__object__": named, "state": {}, "id": 10 ** 6}
        else:
            state["_targets"] = {"__function__": named}

    _rewrite(path, edit)
    with pytest.raises(snio.UntrustedTypeError, match="trusted="):
        snio.load(path)
    assert not marker.exists() and "evil_module" not in sys.modules


def test_a_pickle_payload_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "marker"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    pickled = tmp_path / "model.joblib"
    pickled.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ValueError, match="not a file saved by sklears_neural.io.save"):
        snio.load(pickled)
    # a pickled object array smuggled in as an array member
    path = snio.save(sn.MLPClassifier(max_iter=1).fit(X, Y), tmp_path / "model.skn")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    import io as stdio

    buffer = stdio.BytesIO()
    np.save(buffer, np.array([Exploit()], dtype=object), allow_pickle=True)
    first = sorted(m for m in members if m.startswith("arrays/"))[0]
    members[first] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="allow_pickle"):
        snio.load(path)
    assert not marker.exists()


def test_bad_input(tmp_path):
    model = sn.MLPClassifier(max_iter=1).fit(X, Y)
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        snio.save(model, tmp_path / "missing" / "model.skn")
    with pytest.raises(FileNotFoundError, match="no file"):
        snio.load(tmp_path / "absent.skn")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a file saved by sklears_neural.io.save"):
        snio.load(text)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("data.csv", "1,2")
    with pytest.raises(ValueError, match="not one saved by sklears_neural.io.save"):
        snio.load(other)
    from sklears_neural.base import LearningRateSchedule

    with_lambda = sn.NeuralNetClassifier(UserNet, max_iter=1, callbacks=[
        LearningRateSchedule(lambda epoch, lr: lr)]).fit(X, Y)
    with pytest.raises(TypeError, match=r"callbacks\[0\]\.schedule: <lambda>|lambda"):
        snio.save(with_lambda, tmp_path / "lambda.skn")
    assert not (tmp_path / "lambda.skn").exists()


def test_skops_loads_our_estimators_in_a_pipeline(tmp_path):
    sio = pytest.importorskip("skops.io", reason="skops is an optional peer")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), sn.MLPClassifier(max_iter=2, random_state=0))
    pipe.fit(X, Y)
    path = tmp_path / "pipe.skops"
    sio.dump(pipe, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and set(untrusted) <= set(snio.skops_trusted_types())
    loaded = sio.load(path, trusted=snio.skops_trusted_types())
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_load_metadata_reads_the_header_only(tmp_path):
    path = snio.save(sn.MLPRegressor(), tmp_path / "m.skn", metadata={"note": "x"})
    header = snio.load_metadata(path)
    assert header["class"] == "sklears_neural.mlp._mlp.MLPRegressor"
    assert header["metadata"] == {"note": "x"} and header["versions"]["sklears-neural"]
    assert os.path.getsize(path) > 0
