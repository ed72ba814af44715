"""Points and weights of the rules that integrate a gradient along a path.

Named as captum names them: for ``n`` steps, the points ``alphas`` in
[0, 1] at which the gradient is taken and the weights ``step_sizes`` that
sum to 1 (the integral over the unit interval). The points are captum's;
so are the weights, except for "riemann_trapezoid": captum weighs its n
evenly spaced points by 1/n (halved at the ends), which sums to (n - 1)/n,
where the trapezoid rule weighs them by 1/(n - 1); its attributions are
(n - 1)/n of ours.
"""

import numpy as np

__all__ = ["INTEGRATION_METHODS", "integration_rule"]

INTEGRATION_METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right",
                       "riemann_middle")


def integration_rule(method, n_steps):
    """(alphas, step_sizes), each of shape (n_steps,), of an integration rule."""
    if method not in INTEGRATION_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, INTEGRATION_METHODS))}; "
                         f"got {method!r}.")
    n = int(n_steps)
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return 0.5 * (nodes + 1.0), 0.5 * weights
    if method == "riemann_trapezoid":
        if n < 2:
            raise ValueError(f"method='riemann_trapezoid' needs n_steps >= 2; got {n}.")
        steps = np.full(n, 1.0 / (n - 1))
        steps[[0, -1]] /= 2
        return np.linspace(0.0, 1.0, n), steps
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    return (np.arange(n) + offset) / n, np.full(n, 1.0 / n)
