"""Optimizer trajectories shared by the optimizer tests: problems, runners, checks.

A problem gives initial parameters and the gradient at each step; ``run_ours``
steps an optimizer class through it, ``run_reference`` steps an independent
float64 reference rule (``ref(param, grad, state, **hyperparameters)``).
"""

import math

import numpy as np

from sklears_neural.nn import Parameter


class Quadratic:
    """f(x) = sum_i 0.5 x_i^T A_i x_i - b_i^T x_i over flattened parameters."""

    def __init__(self, shapes, seed=0):
        rng = np.random.default_rng(seed)
        self.init = [rng.standard_normal(s) for s in shapes]
        self.A, self.b = [], []
        for s in shapes:
            n = math.prod(s)
            M = rng.standard_normal((n, n))
            self.A.append(M @ M.T / n + np.eye(n))
            self.b.append(rng.standard_normal(n))

    def grads(self, step, params):
        return [(A @ p.ravel() - b).reshape(p.shape)
                for A, b, p in zip(self.A, self.b, params)]


class RandomGradients:
    """Fixed random gradients whose scale jumps (x10 every third step)."""

    def __init__(self, shapes, n_steps, seed=1):
        rng = np.random.default_rng(seed)
        self.init = [rng.standard_normal(s) for s in shapes]
        scales = [10.0 if t % 3 == 0 else 0.5 for t in range(n_steps)]
        self._grads = [[scale * rng.standard_normal(s) for s in shapes] for scale in scales]

    def grads(self, step, params):
        return self._grads[step]


def run_ours(cls, hp, problem, n_steps, dtype=np.float64):
    """Step ``cls(params, **hp)`` through ``problem``; return (trajectory, params, optimizer)."""
    params = [Parameter(x.astype(dtype)) for x in problem.init]
    opt = cls(params, **hp)
    trajectory = []
    for t in range(n_steps):
        grads = problem.grads(t, [p.data.astype(np.float64) for p in params])
        for p, g in zip(params, grads):
            p.grad = g.astype(dtype)
        opt.step()
        trajectory.append([p.data.copy() for p in params])
    return trajectory, params, opt


def run_reference(ref, hp, problem, n_steps):
    """Step the float64 reference rule ``ref`` through ``problem``; return the trajectory."""
    params = [x.copy() for x in problem.init]
    states = [{} for _ in params]
    trajectory = []
    for t in range(n_steps):
        grads = problem.grads(t, params)
        params = [ref(p, g, st, **hp) for p, g, st in zip(params, grads, states)]
        trajectory.append([p.copy() for p in params])
    return trajectory


def assert_trajectories_close(ours, ref, rtol, atol):
    for t, (step_ours, step_ref) in enumerate(zip(ours, ref)):
        for i, (a, b) in enumerate(zip(step_ours, step_ref)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                       err_msg=f"step {t + 1}, parameter {i}")
