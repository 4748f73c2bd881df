"""parafit.MLPRegressor: scikit-learn's own check_estimator, and the same weights as
`parafit train` with the same settings."""
import json
import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

import parafit
from conftest import read_json, run_cli


def test_passes_scikit_learns_check_estimator():
    # Every check runs; none is skipped.
    check_estimator(parafit.MLPRegressor(random_state=0))


def test_same_weights_as_the_command_line(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (2000, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2]
    path = tmp_path / "d.csv"
    np.savetxt(path, np.c_[X, y], delimiter=",", header="x0,x1,x2,y", comments="", fmt="%.17g")
    model = tmp_path / "m.json"
    r = run_cli("train", "--data", path, "--model", "mlp:16,8", "--activation", "relu", "--optimizer", "adam",
                "--lr", "0.003", "--batch", "64", "--epochs", "4", "--seed", "9", "--weight-decay", "0.0001",
                "--precision", "float64", "--save", model)
    assert r.returncode == 0, r.stderr
    m = parafit.MLPRegressor(hidden_layer_sizes=(16, 8), learning_rate_init=0.003, batch_size=64, max_iter=4,
                             random_state=9, precision="float64").fit(X, y)
    assert json.loads(m.model_)["weights"] == read_json(model)["weights"]


def test_predict_score_pickle_partial_fit_and_threads():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (3000, 4))
    y = X[:, 0] ** 2 + np.sin(2 * X[:, 1]) - X[:, 2] * X[:, 3]
    m = parafit.MLPRegressor(hidden_layer_sizes=(32, 32), max_iter=40, random_state=2, threads=1).fit(X, y)
    assert m.score(X, y) > 0.9
    assert len(m.loss_curve_) == 40 and m.n_iter_ == 40 and m.loss_curve_[-1] < m.loss_curve_[0]
    again = pickle.loads(pickle.dumps(m))
    assert np.array_equal(again.predict(X), m.predict(X))
    two = parafit.MLPRegressor(hidden_layer_sizes=(32, 32), max_iter=40, random_state=2, threads=2).fit(X, y)
    assert np.array_equal(two.predict(X), m.predict(X))  # the same weights for any threads
    before = m.predict(X[:5])
    m.partial_fit(X, y)
    assert m.n_iter_ == 41 and not np.array_equal(m.predict(X[:5]), before)
    with pytest.raises(ValueError, match="activation"):
        parafit.MLPRegressor(activation="identity").fit(X, y)
    robust = parafit.MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, loss="huber:0.1").fit(X, y)
    assert robust.loss_ < np.mean((robust.predict(X) - y) ** 2)
