"""Losses give the target a gradient when it is a Tensor that requires one.

Checked by finite differences (float64) on input and target together, and
against PyTorch where it is installed.
"""

import numpy as np
import pytest

from sklears_neural.autograd import Tensor, gradcheck, no_grad
from sklears_neural.nn import functional as F

REDUCTIONS = ["none", "mean", "sum"]
DELTA = 0.8  # huber


def _away(rng, shape, bands):
    """Random signed offsets whose magnitude lies in one of ``bands``."""
    lo, hi = np.array(bands).T
    pick = rng.integers(0, len(bands), shape)
    mag = rng.uniform(lo[pick], hi[pick])
    return mag * rng.choice([-1.0, 1.0], shape)


def _data(name, options, shape, rng):
    """``(x, t)`` float64 arrays in the loss's valid, kink-free domain."""
    if name in ("mse", "l1", "huber"):
        t = rng.standard_normal(shape)
        # |x - t| away from 0 (l1, huber) and from the huber knee at DELTA.
        return t + _away(rng, shape, [(0.1, 0.6), (1.0, 1.6)]), t
    if name == "bce":
        return rng.standard_normal(shape) * 1.5, rng.uniform(0.1, 0.9, shape)
    if name == "poisson":
        if options.get("log_input", True):
            x = rng.standard_normal(shape) * 0.5
        else:
            x = rng.uniform(0.5, 2.0, shape)
        # Off t = 1, where full=True switches the Stirling term on.
        low = rng.uniform(0.2, 0.8, shape)
        high = rng.uniform(1.5, 4.0, shape)
        return x, np.where(rng.uniform(size=shape) < 0.5, low, high)
    if name == "ce":
        return rng.standard_normal(shape) * 2, rng.dirichlet(np.ones(shape[1]), size=shape[0])
    raise AssertionError(name)


def _ours(name, x, t, options, reduction, sample_weight=None):
    kw = dict(reduction=reduction, sample_weight=sample_weight)
    if name == "mse":
        return F.mse_loss(x, t, **kw)
    if name == "l1":
        return F.l1_loss(x, t, **kw)
    if name == "huber":
        return F.huber_loss(x, t, delta=DELTA, **kw)
    if name == "bce":
        return F.binary_cross_entropy_with_logits(x, t, **options, **kw)
    if name == "poisson":
        return F.poisson_nll_loss(x, t, **options, **kw)
    if name == "ce":
        return F.cross_entropy(x, t, **options, **kw)
    raise AssertionError(name)


def _torch(torch, name, x, t, options, reduction):
    TF = torch.nn.functional
    if name == "mse":
        return TF.mse_loss(x, t, reduction=reduction)
    if name == "l1":
        return TF.l1_loss(x, t, reduction=reduction)
    if name == "huber":
        return TF.huber_loss(x, t, reduction=reduction, delta=DELTA)
    if name == "bce":
        pw = options.get("pos_weight")
        pw = None if pw is None else torch.from_numpy(pw)
        return TF.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction=reduction)
    if name == "poisson":
        return TF.poisson_nll_loss(x, t, reduction=reduction, **options)
    if name == "ce":
        return TF.cross_entropy(x, t, reduction=reduction, **options)
    raise AssertionError(name)


PW = np.array([1.0, 3.0, 0.5])
CASES = [
    ("mse", {}),
    ("l1", {}),
    ("huber", {}),
    ("bce", {}),
    ("bce", {"pos_weight": PW}),
    ("poisson", {"log_input": True, "full": False}),
    ("poisson", {"log_input": True, "full": True}),
    ("poisson", {"log_input": False, "full": False}),
    ("poisson", {"log_input": False, "full": True}),
    ("ce", {"label_smoothing": 0.0}),
    ("ce", {"label_smoothing": 0.1}),
]
CASE_IDS = [name + "".join(f"-{k}={'pw' if k == 'pos_weight' else v}" for k, v in o.items())
            for name, o in CASES]


@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_gradcheck_input_and_target(rng, name, options, reduction, weighted):
    x, t = _data(name, options, (4, 3), rng)
    x, t = Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)
    sw = rng.uniform(0.5, 2.0, 4) if weighted else None
    assert gradcheck(lambda x, t: _ours(name, x, t, options, reduction, sw), [x, t])


@pytest.mark.parametrize("name", ["mse", "l1", "huber", "bce", "poisson"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_target_only_nd(rng, name, reduction):
    """Target the only input requiring grad, on a 3-d shape (flattened rows)."""
    x, t = _data(name, {}, (2, 3, 2), rng)
    x, t = Tensor(x), Tensor(t, requires_grad=True)
    sw = rng.uniform(0.5, 2.0, 2)
    assert gradcheck(lambda t: _ours(name, x, t, {}, reduction, sw), [t])
    assert x.grad is None


@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_pytorch(rng, name, options, reduction):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed in this environment")
    x, t = _data(name, options, (5, 3), rng)
    ours_x, ours_t = Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)
    ref_x = torch.tensor(x, requires_grad=True)
    ref_t = torch.tensor(t, requires_grad=True)
    ours = _ours(name, ours_x, ours_t, options, reduction)
    ref = _torch(torch, name, ref_x, ref_t, options, reduction)
    np.testing.assert_allclose(ours.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    proj = rng.standard_normal(ours.shape)
    (ours * Tensor(proj)).sum().backward()
    (ref * torch.from_numpy(proj)).sum().backward()
    np.testing.assert_allclose(ours_x.grad, ref_x.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_t.grad, ref_t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
def test_constant_target_gets_no_gradient(rng, name, options):
    x, t = _data(name, options, (4, 3), rng)
    sw = rng.uniform(0.5, 2.0, 4)
    grads = []
    for target in (t, Tensor(t), Tensor(t, requires_grad=True)):
        xt = Tensor(x, requires_grad=True)
        _ours(name, xt, target, options, "mean", sw).backward()
        grads.append(xt.grad)
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], grads[2])  # same input gradient either way
    plain = Tensor(t)
    _ours(name, Tensor(x, requires_grad=True), plain, options, "sum").backward()
    assert plain.grad is None
    # Under no_grad a target requiring grad is a constant too.
    grad_target = Tensor(t, requires_grad=True)
    with no_grad():
        out = _ours(name, Tensor(x, requires_grad=True), grad_target, options, "mean")
    assert not out.requires_grad and grad_target.grad is None


def test_target_of_another_dtype(rng):
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t32 = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    F.mse_loss(x, t32).backward()
    assert t32.grad.dtype == np.float32
    np.testing.assert_allclose(t32.grad, -x.grad, rtol=1e-6)
    # A constant target of another dtype is cast, as before.
    loss = F.l1_loss(x, t32.data.astype(np.float32))
    assert loss.dtype == np.float64
    p = rng.dirichlet(np.ones(3), size=4).astype(np.float32)
    p = Tensor(p, requires_grad=True)
    F.cross_entropy(Tensor(x.data.astype(np.float32), requires_grad=True), p).backward()
    assert p.grad.dtype == np.float32 and p.grad.shape == (4, 3)


def test_scalar_input_and_target(rng):
    x, t = Tensor(np.array(0.3), requires_grad=True), Tensor(np.array(-0.4), requires_grad=True)
    F.mse_loss(x, t).backward()
    assert t.grad.shape == () and np.isclose(float(t.grad), -1.4)
    assert np.isclose(float(x.grad), 1.4)


def test_class_index_targets_get_no_gradient_and_check_range(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = np.array([0, 3, 1])
    F.cross_entropy(x, y).backward()
    assert x.grad is not None
    F.nll_loss(F.log_softmax(x), Tensor(y)).backward()
    for bad, lo, hi in ((np.array([0, 1, 4]), 0, 4), (np.array([-1, 1, 2]), -1, 2)):
        message = rf"class-index target must lie in \[0, 3\]; got values from {lo} to {hi}\."
        # the kernels check the range in their own pass and name the first bad row
        with pytest.raises(ValueError, match=r"target\[\d\] = -?\d is not a class index in "
                                             r"\[0, 3\]"):
            F.cross_entropy(x, bad)
        with pytest.raises(ValueError, match=message):
            F.cross_entropy(x, bad, weight=np.ones(4))
        with pytest.raises(ValueError, match=message):
            F.nll_loss(F.log_softmax(x), bad)
    F.cross_entropy(x[:0], np.array([], dtype=np.int64), reduction="sum")  # empty: no check
