"""Cases a review of the safe format, the checkpoints and the export found: a file
naming a library function or an unsafe class as a value, self-referencing
containers, oversized scalars, one warning per library, a continued fit's
checkpoint, cloned checkpoints, batch-dependent constants, opset 18."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from test_safe_format import _rewrite

import sklears_neural as sn
from sklears_neural import io as snio
from sklears_neural.base import Checkpoint
from sklears_neural.base._codec import Decoder, Encoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(0)
X = RNG.random((40, 5))
Y = np.arange(40) % 2


def test_a_library_function_as_a_schedule_is_refused_before_anything_runs(tmp_path):
    path = snio.save(sn.MLPClassifier(max_iter=2, lr_schedule="cosine").fit(X, Y),
                     tmp_path / "m.skn")
    target = tmp_path / "pwned"

    def edit(header):
        state = header["object"]["state"]
        state["lr_schedule"] = {"__tuple__": [
            {"__function__": "sklears_neural.base._safe_format.save"},
            {"__dict__": [["path", str(target)]], "id": 10 ** 6}]}

    _rewrite(path, edit)
    with pytest.raises(snio.UntrustedTypeError, match="does not create or call unless trusted"):
        snio.load(path)
    assert not target.exists()
    assert snio.get_untrusted_types(path) == ["sklears_neural.base._safe_format.save"]


def test_only_networks_optimizers_schedulers_callbacks_and_estimators_load_as_classes():
    decoder = Decoder(read_array=None)
    assert decoder.resolve("sklears_neural.optim._adam.Adam", "type") is sn.optim.Adam
    with pytest.raises(snio.UntrustedTypeError, match="never takes as a class"):
        decoder.resolve("sklears_neural.data._dataset.ArrayStream", "type")
    with pytest.raises(snio.UntrustedTypeError):
        decoder.resolve("sklears_neural._kernels._dense.anything", "object")
    with pytest.raises(snio.UntrustedTypeError):
        decoder.resolve("builtins.eval", "type")


def test_containers_that_refer_to_themselves_round_trip():
    holder = sn.nn.Module()
    cycle = np.empty(2, dtype=object)
    cycle[0], cycle[1] = holder, 3
    holder.__dict__["back"] = cycle
    encoder = Encoder()
    tree = encoder.encode(cycle)
    again = Decoder(read_array=encoder.arrays.__getitem__).decode(tree)
    assert again[0].back is again and again[1] == 3
    with pytest.raises(ValueError, match="before defining it"):
        Decoder(read_array=None).decode({"__list__": [{"__ref__": 7}], "id": 0})
    with pytest.raises(ValueError, match="never writes"):
        Decoder(read_array=None).decode({"__scalar__": "S2000000000", "value": ""})


def test_one_warning_per_library_from_a_file_of_other_versions(tmp_path):
    path = snio.save(sn.MLPClassifier(max_iter=1).fit(X, Y), tmp_path / "m.skn")
    _rewrite(path, lambda header: header["versions"].update(numpy="1.0.0"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snio.load(path)
    ours = [w for w in caught if issubclass(w.category, snio.InconsistentVersionWarning)]
    assert len(ours) == 1 and "numpy 1.0.0" in str(ours[0].message)


def test_a_continued_fit_keeps_the_best_checkpoint(tmp_path):
    path = tmp_path / "best.skn"
    net = sn.MLPClassifier(max_iter=5, random_state=0, learning_rate_init=0.01,
                           callbacks=[Checkpoint(path, monitor="train_loss")]).fit(X, Y)
    best = snio.load_metadata(path)["metadata"]["value"]
    net.set_params(learning_rate_init=5.0)  # a much worse step size from here on
    net.partial_fit(X, Y)
    assert snio.load_metadata(path)["metadata"]["value"] <= best + 1e-12


def test_clones_of_a_checkpoint_share_its_files(tmp_path):
    path = tmp_path / "search.skn"
    search = GridSearchCV(sn.MLPClassifier(max_iter=2, random_state=0,
                                           callbacks=[Checkpoint(path, monitor="train_loss")]),
                          {"alpha": [1e-4, 1e-2]}, cv=2, error_score="raise").fit(X, Y)
    assert path.exists() and clone(search.best_estimator_).get_params()["callbacks"]


def test_export_refuses_a_constant_that_follows_the_batch_and_writes_opset_18():
    pytest.importorskip("onnx", reason="the onnx package builds the graphs")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime runs them")
    from sklears_neural.export import OnnxExportError, to_onnx

    class ScaledByBatch(sn.nn.Module):
        def forward(self, x):
            return x * sn.Tensor(np.array(float(x.shape[0]), dtype=np.float32))

    with pytest.raises(OnnxExportError, match="follows the batch"):
        to_onnx(ScaledByBatch(), np.ones((2, 3), np.float32))
    series = RNG.standard_normal((30, 12))
    model = sn.TransformerClassifier(input_shape=(-1, 1), d_model=8, nhead=2, max_iter=1,
                                     random_state=0).fit(series, np.arange(30) % 3)
    onnx_model = to_onnx(model, series[:2], opset=18)
    session = ort.InferenceSession(onnx_model.SerializeToString())
    probabilities = session.run(["probabilities"], {"X": series.astype(np.float32)})[0]
    np.testing.assert_allclose(probabilities, model.predict_proba(series), atol=1e-5)
