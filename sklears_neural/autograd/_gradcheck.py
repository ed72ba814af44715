"""Finite-difference check of an operation's backward, in float64."""

import numpy as np

from sklears_neural.autograd._grad_mode import no_grad
from sklears_neural.autograd._tensor import Tensor
from sklears_neural.backend import get_array_module, to_numpy

__all__ = ["gradcheck"]


def _scalar_objective(output, projection):
    """Reduce an output to a scalar with a fixed random projection."""
    if projection is None:
        return output.sum()
    return (output * Tensor(projection)).sum()


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0):
    """Compare the gradients backward gives with central finite differences.

    The output of ``fn`` (a tensor, or a tuple whose first element is used)
    is reduced to a scalar through a fixed random projection, so every
    output element matters. Each input that requires grad is perturbed one
    element at a time by ``±eps``.

    Parameters
    ----------
    fn : callable
        Takes the tensors in ``inputs`` and returns a tensor.
    inputs : sequence of Tensor
        Floating-point inputs must be float64; those with
        ``requires_grad=True`` are checked.
    eps, atol, rtol : float
        Step and tolerances: ``|analytic - numeric| <= atol + rtol * |numeric|``.
    seed : int
        Seed of the random projection.

    Returns
    -------
    bool
        True if every gradient agrees.

    Raises
    ------
    AssertionError
        Naming the first input and element where the gradients disagree.
    ValueError
        If a differentiable input is not float64.
    """
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True.")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences "
                "need float64 inputs."
            )

    def evaluate():
        out = fn(*inputs)
        return out[0] if isinstance(out, tuple) else out

    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    output = evaluate()
    rng = np.random.default_rng(seed)
    xp = get_array_module(output.data)
    projection = None
    if output.size != 1:
        projection = xp.asarray(rng.standard_normal(output.shape)).astype(output.dtype)
    _scalar_objective(output, projection).backward()

    for i in checked:
        t = inputs[i]
        analytic = np.zeros(t.shape) if t.grad is None else to_numpy(t.grad).astype(np.float64)
        numeric = np.zeros(t.shape)
        with no_grad():
            # Index the input itself (not a reshape, which copies a
            # non-contiguous array), so the perturbation reaches ``fn``.
            for j in np.ndindex(*t.shape):
                original = float(t.data[j])
                t.data[j] = original + eps
                plus = float(_scalar_objective(evaluate(), projection).item())
                t.data[j] = original - eps
                minus = float(_scalar_objective(evaluate(), projection).item())
                t.data[j] = original
                numeric[j] = (plus - minus) / (2 * eps)
        bad = ~(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric))  # NaN fails too
        if bad.any():
            j = np.unravel_index(np.argmax(bad), t.shape)
            raise AssertionError(
                f"gradcheck: input {i} (shape {t.shape}) at index {tuple(int(k) for k in j)}: "
                f"backward gave {analytic[j]!r}, finite differences {numeric[j]!r} "
                f"({int(bad.sum())} of {bad.size} elements differ)."
            )
    return True
