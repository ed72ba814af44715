"""Edge cases: state restored after a failure, scalers' flags, near-constant series,
input forms of lists, frames, one feature, multilabel targets."""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklears_neural import CNN1DClassifier, MLPClassifier, nn
from sklears_neural.autograd import no_grad
from sklears_neural.base._sequence_input import channel_statistics, scale_values
from sklears_neural.inspection import (
    deeplift,
    grad_cam,
    guided_backprop,
    integrated_gradients,
    kernel_shap,
    layer_activations,
    saliency,
)
from sklears_neural.inspection._explained import ExplainedModel
from sklears_neural.rnn import RNNClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_an_interrupted_explanation_leaves_the_model_and_thread_as_they_were(rng):
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 2, 30)
    model = MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y)

    def failing(rows):
        raise KeyboardInterrupt

    explained = ExplainedModel(model)
    with pytest.raises(KeyboardInterrupt):  # the second batch's replacement fails
        explained.layer_outputs_and_gradients(
            X[:4], np.zeros(4, int), model.module_.layers[0], batch_size=2,
            replace=lambda rows: failing(rows) if rows.start else None)
    assert all(p.requires_grad for p in model.module_.parameters())
    assert nn.Dropout(0.5).training  # no evaluation mode left on in this thread
    assert "forward" not in model.module_.layers[0].__dict__


def test_scalers_that_do_not_centre_are_folded_as_they_transform(rng):
    X = rng.normal(5.0, 2.0, size=(60, 3))
    y = (X[:, 0] > 5).astype(int)
    pipe = make_pipeline(StandardScaler(with_mean=False), MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=20, random_state=0)).fit(X, y)
    result = saliency(pipe, X[:5], target=1, output="probabilities")
    np.testing.assert_allclose(result.outputs, pipe.predict_proba(X[:5])[:, 1], rtol=1e-5)


def test_near_constant_series_are_centred_not_blown_up():
    values = np.full((1, 7, 1), 0.7151893663724195)
    lengths = np.array([7])
    assert np.abs(scale_values(values, lengths, "series")).max() < 1e-12
    _, std = channel_statistics(np.full((3, 4, 1), 0.3), np.array([4, 4, 4]))
    assert std[0] == 1.0


def test_lists_of_univariate_series_keep_their_shape(rng):
    X = [rng.normal(size=n) for n in (8, 5, 6, 8)] * 4
    y = np.arange(len(X)) % 2
    model = RNNClassifier(hidden_size=4, max_iter=2, dtype="float64", random_state=0).fit(X, y)
    result = integrated_gradients(model, X[:3], n_steps=32)
    assert [v.shape for v in result.values] == [x.shape for x in X[:3]]


def test_cnn1d_lists_of_another_length_and_layer_methods_in_several_batches(rng):
    X = [rng.normal(size=(2, n)) for n in (12, 9, 10, 12)] * 3
    y = np.arange(len(X)) % 2
    model = CNN1DClassifier(conv_layers="fcn", max_iter=1, random_state=0).fit(X, y)
    other = [rng.normal(size=(2, 7)) for _ in range(3)]  # one length, not the fitted one
    assert [v.shape for v in saliency(model, other).values] == [(2, 7)] * 3
    assert grad_cam(model, X[:5], batch_size=2).values.shape == (5, 12)
    assert layer_activations(model, X[:5], "blocks", batch_size=2).shape[0] == 5


def test_guided_backprop_reports_the_probabilities_and_rules_work_under_no_grad(rng):
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    model = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    result = guided_backprop(model, X[:4], target=1, output="probabilities")
    np.testing.assert_allclose(result.outputs, model.predict_proba(X[:4])[:, 1], rtol=1e-5)
    with no_grad():
        assert deeplift(model, X[:2]).values.shape == (2, 3)


def test_kernel_shap_one_feature_frames_and_multilabel(rng):
    pd = pytest.importorskip("pandas")
    X = rng.normal(size=(40, 1))
    model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    model.fit(X, (X[:, 0] > 0).astype(int))
    one = kernel_shap(model, X[:2], X[10:20], target=1)
    np.testing.assert_allclose(one.values[:, 0], one.outputs - one.base_values)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    pipe = make_pipeline(ColumnTransformer([("scale", StandardScaler(), ["a", "c"])]),
                         MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0))
    pipe.fit(frame, (frame["a"] > 0).astype(int))
    assert kernel_shap(pipe, frame.iloc[:2], frame.iloc[10:20]).values.shape == (2, 3)
    labels = np.column_stack([X[:, 0] > 0, X[:, 0] > 1]).astype(int)
    multilabel = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    multilabel.fit(X, labels)
    with pytest.raises(ValueError, match="a multilabel classifier needs target"):
        kernel_shap(multilabel, X[:2], X[10:20])
