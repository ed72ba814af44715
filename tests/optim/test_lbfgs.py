import numpy as np
import pytest
import scipy.optimize

from sklears_neural.nn import Parameter
from sklears_neural.optim import LBFGS


def test_lbfgs_solves_a_quadratic_exactly():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    A = A @ A.T + 6 * np.eye(6)
    b = rng.standard_normal(6)
    w = Parameter(np.zeros(6))
    opt = LBFGS([w], tol=1e-12)

    def closure():
        loss = 0.5 * (w @ (w @ A)) - (w * b).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(w.data, np.linalg.solve(A, b), atol=1e-6)
    assert opt.state[w]["n_iter"] == opt.result_.nit > 0


def test_lbfgs_follows_scipy_on_the_same_problem():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((50, 3)), rng.integers(0, 2, 50)
    w, b = Parameter(np.zeros(3)), Parameter(np.zeros(1))

    def closure():
        z = X @ w + b
        loss = (((1 + (-z).exp()).log()) * y + (1 + z.exp()).log() * (1 - y)).mean()
        loss.backward()
        return loss

    LBFGS([w, b], tol=1e-10, max_iter=500).step(closure)

    def fun(theta):
        z = X @ theta[:3] + theta[3]
        value = np.mean(np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y))
        residual = (1 / (1 + np.exp(-z)) - y) / len(y)
        return value, np.concatenate([X.T @ residual, [residual.sum()]])

    expected = scipy.optimize.minimize(fun, np.zeros(4), jac=True, method="L-BFGS-B",
                                       options={"gtol": 1e-10, "maxiter": 500}).x
    np.testing.assert_allclose(np.concatenate([w.data, b.data]), expected, atol=1e-5)


def test_lbfgs_limits_and_bad_arguments():
    w = Parameter(np.array([5.0]))
    opt = LBFGS([w], max_fun=3)

    def closure():
        loss = (w ** 4).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert opt.result_.nfev <= 4
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="max_iter"):
        LBFGS([w], max_iter=0)
    with pytest.raises(ValueError, match="one parameter group"):
        LBFGS([{"params": [w]}, {"params": [Parameter(np.ones(1))]}])
