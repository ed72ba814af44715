"""RNN and Transformer estimators: input forms, variable lengths, errors, persistence."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklears_neural.rnn import RNNClassifier, RNNRegressor, TransformerClassifier, TransformerRegressor

SMALL = {
    "lstm": lambda **kw: RNNClassifier(hidden_size=8, max_iter=3, lr=1e-2, random_state=0, **kw),
    "gru_bi_mean": lambda **kw: RNNClassifier("gru", hidden_size=8, bidirectional=True,
                                              pooling="mean", max_iter=3, lr=1e-2,
                                              random_state=0, **kw),
    "rnn_2layer_max": lambda **kw: RNNClassifier("rnn", hidden_size=8, num_layers=2,
                                                 pooling="max", max_iter=3, lr=1e-2,
                                                 random_state=0, **kw),
    "lstm_attention": lambda **kw: RNNClassifier(hidden_size=8, pooling="attention",
                                                 max_iter=3, lr=1e-2, random_state=0, **kw),
    "transformer_mean": lambda **kw: TransformerClassifier(d_model=8, nhead=2, num_layers=1,
                                                           dim_feedforward=16, dropout=0.0,
                                                           max_iter=3, lr=1e-2,
                                                           random_state=0, **kw),
    "transformer_last": lambda **kw: TransformerClassifier(d_model=8, nhead=2, num_layers=2,
                                                           dim_feedforward=16, dropout=0.0,
                                                           pooling="last", max_iter=3,
                                                           lr=1e-2, random_state=0, **kw),
}


def _sequences(n=40, steps=7, features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, features))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    return X, y


def _ragged(n=30, features=2, seed=1):
    rng = np.random.default_rng(seed)
    seqs = [rng.normal(size=(int(rng.integers(1, 9)), features)) for _ in range(n)]
    return seqs, np.array([int(s[:, 0].sum() > 0) for s in seqs])


# -- input forms -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_input_form_gives_the_same_model(name):
    X, y = _sequences()
    reference = SMALL[name]().fit(X, y).predict_proba(X)
    n, steps, features = X.shape
    forms = {
        "NCT": (SMALL[name](layout="NCT"), X.transpose(0, 2, 1)),
        "flat NTC": (SMALL[name](input_shape=(steps, -1)), X.reshape(n, -1)),
        "flat NCT": (SMALL[name](layout="NCT", input_shape=(features, steps)),
                     X.transpose(0, 2, 1).reshape(n, -1)),
        "list": (SMALL[name](), list(X)),
        "list NCT": (SMALL[name](layout="NCT"), [x.T for x in X]),
    }
    for form, (model, data) in forms.items():
        np.testing.assert_allclose(model.fit(data, y).predict_proba(data), reference,
                                   rtol=1e-5, atol=1e-6, err_msg=form)
        assert model.input_shape_ == (steps, features)
        assert model.n_features_in_ == steps * features


@pytest.mark.parametrize("name", sorted(SMALL))
def test_padded_sequences_predict_as_if_alone(name):
    seqs, y = _ragged()
    model = SMALL[name]().fit(seqs, y)
    assert model.input_shape_ == (max(len(s) for s in seqs), 2)
    together = model.predict_proba(seqs)
    alone = np.vstack([model.predict_proba([s]) for s in seqs])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-6)
    # an equal-length 3-D batch of one sequence is the same as the list of it
    np.testing.assert_allclose(model.predict_proba(seqs[0][None]), alone[:1], rtol=1e-5)


def test_predict_takes_other_sequence_lengths():
    X, y = _sequences(steps=7)
    model = SMALL["lstm"]().fit(X, y)
    longer, _ = _sequences(n=5, steps=11, seed=3)
    assert model.predict(longer).shape == (5,)
    assert model.predict(list(longer[:, :4])).shape == (5,)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((5, 7 * 3 + 1)))  # flat rows must match n_features_in_


def test_regressors_fit_sequences():
    X, _ = _sequences(n=120, steps=6, features=2)
    y = np.stack([X[:, :, 0].sum(axis=1), X[:, -1, 1]], axis=1)
    for model in (RNNRegressor(hidden_size=16, max_iter=60, lr=1e-2, random_state=0),
                  TransformerRegressor(d_model=16, nhead=2, num_layers=1, dropout=0.0,
                                       max_iter=60, lr=1e-2, random_state=0)):
        assert model.fit(X, y).score(X, y) > 0.8
        assert model.predict(X).shape == (120, 2)


# -- bad input ---------------------------------------------------------------------------
def test_ragged_array_without_a_list_is_refused():
    seqs, y = _ragged()
    ragged = np.empty(len(seqs), dtype=object)
    ragged[:] = seqs
    with pytest.raises(ValueError, match="list"):
        SMALL["lstm"]().fit(ragged, y)


@pytest.mark.parametrize("where", ["array", "list"])
def test_nan_in_sequences_is_refused(where):
    X, y = _sequences()
    X[3, 2, 1] = np.nan
    data = X if where == "array" else list(X)
    with pytest.raises(ValueError, match="NaN"):
        SMALL["lstm"]().fit(data, y)
    model = SMALL["lstm"]().fit(_sequences()[0], y)
    with pytest.raises(ValueError, match="NaN"):
        model.predict(data)


def test_zero_length_sequences_are_refused():
    seqs, y = _ragged()
    seqs[4] = np.zeros((0, 2))
    with pytest.raises(ValueError, match=r"X\[4\] has 0 time steps"):
        SMALL["lstm"]().fit(seqs, y)
    with pytest.raises(ValueError, match="0 time steps"):
        SMALL["lstm"]().fit(np.zeros((10, 0, 2)), np.arange(10) % 2)


def test_layout_that_contradicts_the_data():
    X, y = _sequences(steps=9, features=1)
    aeon_style = X.transpose(0, 2, 1)  # (n, 1 channel, 9 steps)
    with pytest.raises(ValueError, match="layout='NCT'"):
        SMALL["lstm"]().fit(aeon_style, y)  # read as 1 step of 9 features
    unequal = [np.ones((2, int(t))) for t in (3, 5, 4, 6)]  # (F, T_i) sequences
    with pytest.raises(ValueError, match="layout='NCT'"):
        SMALL["lstm"]().fit(unequal, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="reverse"):
        SMALL["lstm"](input_shape=(3, 9)).fit(np.ones((4, 9, 3)), [0, 1, 0, 1])
    model = SMALL["lstm"]().fit(*_sequences(steps=5, features=3))
    with pytest.raises(ValueError, match="layout"):
        model.predict(np.ones((2, 3, 5)))  # transposed at predict
    with pytest.raises(ValueError, match="layout must be"):
        SMALL["lstm"](layout="TNC").fit(*_sequences())


@pytest.mark.parametrize("params, match", [
    ({"cell": "transformer"}, "cell"),
    ({"pooling": "first"}, "pooling"),
    ({"hidden_size": 0}, "hidden_size"),
    ({"input_shape": (2, 2, 2)}, "input_shape"),
    ({"input_shape": (5, -1)}, "input_shape"),
    ({"nonlinearity": "gelu"}, "nonlinearity"),
    ({"unknown_option": 1}, "unknown_option"),
])
def test_bad_rnn_parameters_name_themselves(params, match):
    X, y = _sequences()
    with pytest.raises(ValueError, match=match):
        RNNClassifier(**params).fit(X.reshape(len(X), -1), y)


@pytest.mark.parametrize("params, match", [
    ({"d_model": 10, "nhead": 4}, "divisible"),
    ({"positional_encoding": "rotary"}, "positional_encoding"),
    ({"activation": "swish2"}, "activation"),
    ({"max_len": 4}, "max_len"),
])
def test_bad_transformer_parameters_name_themselves(params, match):
    X, y = _sequences()
    with pytest.raises(ValueError, match=match):
        TransformerClassifier(**params).fit(X, y)


def test_sparse_input_is_refused():
    X, y = _sequences()
    with pytest.raises(TypeError, match="dense"):
        SMALL["lstm"]().fit(sp.csr_matrix(X.reshape(len(X), -1)), y)


def test_learned_positions_refuse_longer_sequences():
    X, y = _sequences(steps=6)
    model = TransformerClassifier(d_model=8, nhead=2, num_layers=1, positional_encoding="learned",
                                  max_len=6, max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="max_len=6"):
        model.predict(_sequences(n=3, steps=7)[0])


# -- scikit-learn integration --------------------------------------------------------------
def test_pickle_grid_search_and_pipeline():
    X, y = _sequences(n=60)
    flat = X.reshape(len(X), -1)
    model = SMALL["gru_bi_mean"]().fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    pipe = make_pipeline(StandardScaler(), SMALL["lstm"](input_shape=(7, 3)))
    assert pipe.fit(flat, y).predict(flat).shape == (60,)
    grid = GridSearchCV(SMALL["lstm"](), {"cell": ["lstm", "gru"], "optimizer__weight_decay":
                                          [0.0, 1e-4]}, cv=2).fit(X, y)
    assert grid.best_params_["cell"] in ("lstm", "gru")


def test_warm_start_continues_with_other_lengths():
    seqs, y = _ragged()
    model = SMALL["lstm"](warm_start=True).fit(seqs, y)
    first = model.n_iter_
    model.fit(seqs[:10], y[:10])  # a shorter longest sequence: still the same model
    assert model.n_iter_ == first + 3
    with pytest.raises(ValueError, match="features per time step"):
        model.fit(np.ones((4, 3, 5)), [0, 1, 0, 1])
    X, y = _sequences(n=12, steps=4, features=2)
    model = SMALL["lstm"](warm_start=True).fit(X, y)
    model.fit(X.reshape(12, -1), y)  # flat rows continue as the fitted (T, F) = (4, 2)
    assert model.n_iter_ == 6 and model.input_shape_ == (4, 2)
