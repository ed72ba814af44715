"""scikit-learn's estimator checks on every array-like estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from _modules import TinyNet
from sklears_neural.base import NeuralNetClassifier, NeuralNetRegressor
from sklears_neural.cnn import CNN1DClassifier, CNN1DRegressor, CNNClassifier, CNNRegressor
from sklears_neural.mlp import MLPClassifier, MLPRegressor
from sklears_neural.rnn import RNNClassifier, RNNRegressor, TransformerClassifier, TransformerRegressor

# Small, fast settings; the checks fit hundreds of models.
ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=1e-2, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=1e-2, random_state=0),
    # Full-batch L-BFGS in float64: here sample weights must equal repetition exactly.
    MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", dtype="float64", random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", dtype="float64", random_state=0),
    NeuralNetClassifier(TinyNet, max_iter=20, lr=1e-2, random_state=0),
    NeuralNetRegressor(TinyNet, max_iter=20, lr=1e-2, random_state=0),
    # Flat rows read as one-channel 1 x n_features images (-1: inferred), as after a
    # scikit-learn transformer.
    CNNClassifier(input_shape=(1, 1, -1), conv_layers=((8, 3),), hidden_layer_sizes=(16,),
                  max_iter=20, lr=1e-2, random_state=0),
    CNNRegressor(input_shape=(1, 1, -1), conv_layers=((8, 3),), hidden_layer_sizes=(16,),
                 batch_norm=False, max_iter=20, lr=1e-2, random_state=0),
    CNN1DClassifier(conv_layers=((8, 3),), hidden_layer_sizes=(16,), max_iter=20, lr=1e-2,
                    random_state=0),
    CNN1DRegressor(input_shape=(1, -1), conv_layers=((8, 3),), hidden_layer_sizes=(16,),
                   batch_norm=False, max_iter=20, lr=1e-2, random_state=0),
    # Flat rows read as univariate sequences of n_features steps: (T, F) = (-1, 1).
    RNNClassifier(hidden_size=8, input_shape=(-1, 1), max_iter=20, lr=1e-2, random_state=0),
    # Fitted input statistics (scale="channel") through every check too.
    RNNClassifier(hidden_size=8, input_shape=(-1, 1), scale="channel", max_iter=20, lr=1e-2,
                  random_state=0),
    # check_regressors_train wants R^2 > 0.5 on its regression data: 50 epochs.
    RNNRegressor("gru", hidden_size=8, input_shape=(-1, 1), max_iter=50, lr=1e-2,
                 random_state=0),
    TransformerClassifier(d_model=8, nhead=2, num_layers=1, dim_feedforward=16,
                          input_shape=(-1, 1), max_iter=20, lr=1e-2, random_state=0),
    TransformerRegressor(d_model=8, nhead=2, num_layers=1, dim_feedforward=16, max_iter=20,
                         lr=1e-2, random_state=0),
]

_SAMPLE_WEIGHT_REASON = (
    "Shuffled minibatch training is not invariant to swapping a weight of 2 for a repeated "
    "row: repetition changes the epoch length, the batches and so the optimizer's path. "
    "The weighting itself is exact: the lbfgs instances above pass this check, as "
    "scikit-learn runs it on its own MLPClassifier only with solver='lbfgs'.")
_MINIBATCH_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT_REASON,
    "check_sample_weight_equivalence_on_sparse_data": _SAMPLE_WEIGHT_REASON,
}


_ORDER_REASON = (
    "float32 convolutions and attention run their products on OpenBLAS sgemm (our AVX-512 "
    "GEMM, whose rows all take the same arithmetic, takes products of 24 columns or more, "
    "or large enough for several threads, and these test networks' are neither), whose "
    "result for a row can "
    "differ in the 7th significant digit with the row's position in the block the kernel "
    "works on (edge blocks take other micro-kernels); the check's rtol=1e-7 is below float32 "
    "resolution. Predictions are order-invariant up to that rounding (max |diff| ~3e-7 on "
    "this machine); with OPENBLAS_CORETYPE=Haswell, as set here, these estimators fail it "
    "on the code before the spine rewrite too.")


def _expected_failed_checks(estimator):
    if getattr(estimator, "solver", None) == "lbfgs":
        return {}
    failures = dict(_MINIBATCH_FAILURES)
    if type(estimator).__name__.startswith(("CNN", "Transformer")):
        failures["check_methods_sample_order_invariance"] = _ORDER_REASON
    return failures


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
