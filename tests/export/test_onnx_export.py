"""ONNX export of every family: onnxruntime gives predict_proba / predict within 1e-5
on 100 rows, alone and in a StandardScaler Pipeline through skl2onnx, at any batch
size; modules export on their own; what cannot be exported says why."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklears_neural as sn
from sklears_neural import nn

ort = pytest.importorskip("onnxruntime", reason="onnxruntime runs the exported models")
pytest.importorskip("onnx", reason="the onnx package builds them")
skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx exports Pipelines")
from sklears_neural.export import OnnxExportError, to_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(0)
X = RNG.standard_normal((100, 16)) * 3 + 1
SERIES = RNG.standard_normal((100, 12))
Y = np.arange(100) % 3

FAMILIES = {
    "MLPClassifier": (lambda: sn.MLPClassifier(max_iter=5, batch_norm=True, dropout=0.1,
                                               random_state=0), X, np.array(["a", "b", "c"])[Y]),
    "MLPClassifier-binary": (lambda: sn.MLPClassifier(max_iter=5, activation="gelu",
                                                      random_state=0), X, Y % 2),
    "MLPRegressor": (lambda: sn.MLPRegressor(max_iter=5, random_state=0), X, Y * 1.5),
    "MLPRegressor-residual": (lambda: sn.MLPRegressor(
        hidden_layer_sizes=(16, 16, 16), residual=True, layer_norm=True, max_iter=5,
        random_state=0), X, Y * 1.5),
    "CNNClassifier": (lambda: sn.CNNClassifier(input_shape=(1, 4, 4), max_iter=2,
                                               random_state=0), X, Y),
    "CNN1DClassifier-inception": (lambda: sn.CNN1DClassifier(
        input_shape=(1, 12), max_iter=1, random_state=0), SERIES, Y),
    "CNN1DRegressor-resnet": (lambda: sn.CNN1DRegressor(
        input_shape=(1, 12), conv_layers="resnet", max_iter=1, random_state=0), SERIES, Y * 1.0),
    "RNNClassifier-lstm": (lambda: sn.RNNClassifier(input_shape=(-1, 1), hidden_size=16,
                                                    max_iter=2, random_state=0), SERIES, Y),
    "RNNClassifier-gru": (lambda: sn.RNNClassifier(
        input_shape=(-1, 2), cell="gru", bidirectional=True, num_layers=2, pooling="attention",
        hidden_size=8, scale="channel", max_iter=2, random_state=0), SERIES, Y),
    "RNNRegressor-rnn": (lambda: sn.RNNRegressor(
        input_shape=(-1, 1), cell="rnn", pooling="max", scale="series", hidden_size=8,
        max_iter=2, random_state=0), SERIES, Y * 1.0),
    "TransformerClassifier": (lambda: sn.TransformerClassifier(
        input_shape=(-1, 1), d_model=16, nhead=2, max_iter=2, random_state=0), SERIES, Y),
    "TransformerRegressor": (lambda: sn.TransformerRegressor(
        input_shape=(-1, 2), d_model=16, nhead=4, pooling="attention",
        positional_encoding="learned", max_iter=2, random_state=0), SERIES, Y * 1.0),
}


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString())
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name:
                                              X.astype(np.float32)})))


def _check(estimator, outputs, X, pipeline=None):
    reference = pipeline if pipeline is not None else estimator
    if "variable" in outputs:
        np.testing.assert_allclose(outputs["variable"].ravel(), reference.predict(X).ravel(),
                                   atol=1e-5, rtol=1e-5)
        return
    probabilities = outputs.get("probabilities", outputs.get("output_probability"))
    labels = outputs.get("label", outputs.get("output_label"))
    if isinstance(probabilities, list):  # ZipMap: one dict per row
        probabilities = np.array([[row[c] for c in estimator.classes_] for row in probabilities])
    np.testing.assert_allclose(probabilities, reference.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(labels, reference.predict(X))


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_exported_estimator_matches_predict(name):
    make, data, y = FAMILIES[name]
    estimator = make().fit(data, y)
    model = to_onnx(estimator, data[:3])
    _check(estimator, _run(model, data), data)
    _check(estimator, _run(model, data[:1]), data[:1])  # the batch size is dynamic


@pytest.mark.parametrize("name", ["MLPClassifier", "CNNClassifier", "RNNClassifier-lstm",
                                  "TransformerRegressor", "CNN1DClassifier-inception"])
def test_skl2onnx_exports_a_scaled_pipeline(name):
    make, data, y = FAMILIES[name]
    estimator = make()
    pipeline = make_pipeline(StandardScaler(), estimator).fit(data, y)
    sample = data[:1].astype(np.float32)
    model = skl2onnx.to_onnx(pipeline, sample, target_opset=17)
    _check(estimator, _run(model, data), data, pipeline)
    if hasattr(estimator, "classes_"):  # a probability matrix instead of ZipMap
        model = skl2onnx.to_onnx(pipeline, sample, target_opset=17,
                                 options={id(estimator): {"zipmap": False}})
        _check(estimator, _run(model, data), data, pipeline)


def test_a_module_exports_on_its_own():
    net = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 2))
    x = RNG.standard_normal((7, 5)).astype(np.float32)
    outputs = _run(to_onnx(net, x), x)
    np.testing.assert_allclose(outputs["output"], net(sn.Tensor(x)).data, atol=1e-5)
    conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 2 * 2, 3))
    conv.eval()
    images = RNG.standard_normal((3, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(_run(to_onnx(conv, images), images)["output"],
                               conv(sn.Tensor(images)).data, atol=1e-5)


class _Unmapped(sn.autograd.Function):
    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy * 2


class _UsesUnmapped(nn.Module):
    def forward(self, x):
        return _Unmapped().apply(x)


def test_what_cannot_be_exported_says_why():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        to_onnx(sn.MLPClassifier())
    with pytest.raises(OnnxExportError, match="_Unmapped has no ONNX mapping"):
        to_onnx(_UsesUnmapped(), np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="X, an example batch"):
        to_onnx(nn.Linear(2, 2))
    rnn = sn.RNNClassifier(hidden_size=4, max_iter=1).fit(
        [np.ones((3, 1)), np.ones((5, 1))] * 2, [0, 1, 0, 1])
    with pytest.raises(OnnxExportError, match="sequences of one length"):
        to_onnx(rnn, [np.ones((3, 1)), np.ones((5, 1))])
    with pytest.raises(TypeError, match="exports this library's estimators"):
        to_onnx(StandardScaler().fit(X))
