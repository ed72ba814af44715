import sys

import numpy as np
import pytest

from sklears_neural.autograd import Function, Tensor, no_grad
from sklears_neural.autograd import is_grad_enabled


def test_long_chain_has_no_recursion_limit():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    n = max(10_000, sys.getrecursionlimit() + 1)
    for _ in range(n):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(2, 1.0001 ** n), rtol=1e-10)


def test_graph_is_freed_after_backward_unless_retained():
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * 2).sum()
    node = y.grad_fn
    y.backward()
    assert node.saved is None and node.inputs is None
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    z = (x * 3).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad, np.full(3, 2.0 + 3.0 + 3.0))


def test_gradients_accumulate_in_place_across_calls():
    x = Tensor(np.ones(3), requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x * 5).sum().backward()
    assert x.grad is first  # same buffer, added into
    np.testing.assert_allclose(x.grad, np.full(3, 7.0))


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    (a + b).sum().backward()  # add hands the same array to both leaves
    assert a.grad is not b.grad
    (a * 3).sum().backward()
    np.testing.assert_allclose(a.grad, [4.0, 4.0])
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_diamond_graph_sums_both_paths():
    x = Tensor(np.array([2.0]), requires_grad=True)
    h = x * x
    y = h * 3 + h * h  # dy/dx = (3 + 2h) * 2x = (3 + 8) * 4
    y.backward()
    np.testing.assert_allclose(x.grad, [44.0])


def test_user_gradient_array_is_not_modified():
    x = Tensor(np.ones(3), requires_grad=True)
    g = np.array([1.0, 2.0, 3.0])
    (x + 0).backward(g)
    (x * 1).backward(g)
    np.testing.assert_array_equal(g, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


def test_no_grad_records_nothing_and_restores_state():
    x = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
    assert is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad

    @no_grad()
    def infer(t):
        return t * 3

    assert infer(x).grad_fn is None


def test_backward_is_skipped_for_inputs_that_need_no_gradient():
    calls = {}

    class Spy(Function):
        def forward(self, a, b):
            calls["needs"] = self.needs_input_grad
            return a * b

        def backward(self, gy):
            return (gy if self.needs_input_grad[0] else None,
                    gy if self.needs_input_grad[1] else None)

    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2))
    Spy().apply(a, b).sum().backward()
    assert calls["needs"] == (True, False)
    assert b.grad is None and a.grad is not None


def test_branch_without_gradient_does_not_block_the_rest():
    class OnlyFirst(Function):
        def forward(self, a):
            return a * 1, a * 2

        def backward(self, g1, g2):
            assert g2 is None
            return g1

    x = Tensor(np.ones(2), requires_grad=True)
    first, second = OnlyFirst().apply(x)
    first.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_detach_cuts_the_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    doubled = x * 2
    y = doubled.detach()
    assert y.grad_fn is None and not y.requires_grad
    assert y.data is doubled.data  # shares the data, not the graph
    z = (x * y).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
