import numpy as np
import pytest

from sklears_neural.autograd import Function, Tensor, gradcheck


def t64(rng, *shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)),
                                    ((2, 3, 4), (3, 1)), ((1,), (5,)), ((), (2, 2))])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_broadcasting_arithmetic_gradients(rng, shapes, op):
    a, b = t64(rng, *shapes[0]), t64(rng, *shapes[1])
    if op == "div":
        b.data = np.abs(b.data) + 0.5
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
          "mul": lambda a, b: a * b, "div": lambda a, b: a / b}[op]
    assert gradcheck(fn, [a, b])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)),
                                    ((4,), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 1)),
                                    ((1, 1), (1, 1))])
def test_matmul_gradients(rng, shapes):
    a, b = t64(rng, *shapes[0]), t64(rng, *shapes[1])
    assert gradcheck(lambda a, b: a @ b, [a, b])


def test_scalar_operands_and_pow(rng):
    a = t64(rng, 3, 2)
    a.data = np.abs(a.data) + 0.1
    assert gradcheck(lambda a: 2.0 * a - 1 + a / 3 + 1 / a - (a ** 3) + 2 ** a, [a])
    b = t64(rng, 2)
    assert gradcheck(lambda a, b: a ** b, [a, b])


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 2), False),
                                            (-1, True)])
def test_reductions(rng, axis, keepdims):
    a = t64(rng, 2, 3, 4)
    assert gradcheck(lambda a: a.sum(axis=axis, keepdims=keepdims) * 1.5, [a])
    assert gradcheck(lambda a: a.mean(axis=axis, keepdims=keepdims), [a])
    np.testing.assert_allclose(a.mean(axis=axis, keepdims=keepdims).data,
                               a.data.mean(axis=axis, keepdims=keepdims))


def test_shape_ops_and_indexing(rng):
    a = t64(rng, 3, 4)
    assert gradcheck(lambda a: a.reshape(2, 6).T.reshape((12,))[1:7], [a])
    assert gradcheck(lambda a: a.transpose(1, 0)[::2], [a])
    b = t64(rng, 2, 3, 4)
    assert gradcheck(lambda b: b.transpose(2, 0, 1) * np.arange(3.0)[None, None, :], [b])
    # advanced indexing with repeats accumulates
    assert gradcheck(lambda a: a[np.array([0, 2, 0, 0])], [a])
    assert gradcheck(lambda a: a[np.array([0, 1, 1]), np.array([3, 2, 2])], [a])
    assert gradcheck(lambda a: a[..., None, 1:3], [a])


def test_exp_log_astype(rng):
    a = t64(rng, 5)
    a.data = np.abs(a.data) + 0.2
    assert gradcheck(lambda a: a.log() * a.exp(), [a])
    a.grad = None
    c = a.astype(np.float32)
    assert c.dtype == np.float32
    c.sum().backward()
    assert a.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, np.ones(5))


def test_gradient_values_against_hand_derivation(rng):
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = (x * x * x).sum()  # dy/dx = 3 x^2
    y.backward()
    np.testing.assert_allclose(x.grad, [3.0, 12.0, 27.0])


def test_gradcheck_detects_a_wrong_backward(rng):
    class WrongSquare(Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, gy):
            (x,) = self.saved
            return gy * x  # should be 2 * x * gy

    with pytest.raises(AssertionError, match="gradcheck"):
        gradcheck(lambda x: WrongSquare().apply(x), [t64(rng, 3)])


def test_gradcheck_perturbs_non_contiguous_inputs(rng):
    x = Tensor(rng.normal(size=(4, 7))[:, 1::2], requires_grad=True)  # a strided view
    assert not x.data.flags.c_contiguous
    assert gradcheck(lambda t: (t * t).sum(axis=1), [x])


def test_gradcheck_requires_float64():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda x: x * 2, [Tensor(np.ones(2, np.float32), requires_grad=True)])


# -- bad input ---------------------------------------------------------------

def test_mismatched_shapes_name_both_shapes(rng):
    a, b = t64(rng, 3, 4), t64(rng, 5)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        a + b
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        a @ b


def test_backward_on_non_scalar_needs_a_gradient(rng):
    y = t64(rng, 3) * 2
    with pytest.raises(RuntimeError, match=r"single-element.*\(3,\)"):
        y.backward()
    y.backward(np.ones(3))  # with a gradient it works


def test_mixing_dtypes_raises_instead_of_upcasting():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.ones(3, np.float64))
    with pytest.raises(ValueError, match="float32 and float64"):
        a * b
    with pytest.raises(ValueError, match="float32 and float64"):
        a + np.ones(3)  # a raw float64 array is not silently mixed in either
    assert (a * 2.5).dtype == np.float32
    assert (a + 1).dtype == np.float32
    assert (a.sum() / 3).dtype == np.float32


def test_python_floats_default_to_float32():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.array([1.0])).dtype == np.float64  # arrays keep their dtype
    with pytest.raises(ValueError, match="floating-point"):
        Tensor(np.array([1, 2]), requires_grad=True)


def test_backward_without_requires_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).backward()
