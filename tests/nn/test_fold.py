"""F.unfold / F.fold: layout against a direct window loop, adjointness, gradients, torch."""

import numpy as np
import pytest

from sklears_neural.autograd import Tensor, gradcheck
from sklears_neural.nn import functional as F


def _windows(x, k, stride, padding, dilation):
    """im2col by hand for 2-D input: (N, C*kh*kw, L), rows channel-major then offsets."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (h + 2 * padding[0] - dilation[0] * (k[0] - 1) - 1) // stride[0] + 1
    ow = (w + 2 * padding[1] - dilation[1] * (k[1] - 1) - 1) // stride[1] + 1
    cols = np.zeros((n, c * k[0] * k[1], oh * ow))
    for i in range(oh):
        for j in range(ow):
            for ki in range(k[0]):
                for kj in range(k[1]):
                    patch = xp[:, :, i * stride[0] + ki * dilation[0],
                               j * stride[1] + kj * dilation[1]]
                    cols[:, np.arange(c) * k[0] * k[1] + ki * k[1] + kj, i * ow + j] = patch
    return cols


@pytest.mark.parametrize("k, stride, padding, dilation", [
    ((3, 3), (1, 1), (0, 0), (1, 1)),
    ((2, 3), (2, 1), (1, 0), (1, 2)),
    ((1, 1), (1, 1), (0, 0), (1, 1)),
])
def test_unfold_matches_window_loop(k, stride, padding, dilation):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7))
    cols = F.unfold(x, k, dilation=dilation, padding=padding, stride=stride)
    np.testing.assert_allclose(cols.data, _windows(x, k, stride, padding, dilation))


def test_fold_is_the_adjoint_of_unfold():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 6))
    cols = F.unfold(x, 3, padding=1, stride=2).data
    c = rng.standard_normal(cols.shape)
    # <unfold(x), c> == <x, fold(c)>
    assert np.isclose((cols * c).sum(),
                      (x * F.fold(c, (5, 6), 3, padding=1, stride=2).data).sum())


@pytest.mark.parametrize("shape, k", [((2, 2, 7), 3), ((1, 2, 4, 5), (2, 3)), ((1, 1, 3, 4, 3), 2)])
def test_unfold_and_fold_gradients(shape, k):
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda x: F.unfold(x, k, padding=1), (x,))
    cols = F.unfold(x.data, k, padding=1).data
    c = Tensor(rng.standard_normal(cols.shape), requires_grad=True)
    assert gradcheck(lambda c: F.fold(c, shape[2:], k, padding=1), (c,))


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="unfold: input must be"):
        F.unfold(np.ones((2, 3)), 2)
    with pytest.raises(ValueError, match=r"fold: input must be \(N, C \* 9, L\)"):
        F.fold(np.ones((1, 10, 4)), (4, 4), 3)


def test_matches_torch():
    torch = pytest.importorskip("torch", reason="torch is compared against when installed")
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 5))
    ours = F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)).data
    theirs = torch.nn.functional.unfold(torch.from_numpy(x), (2, 3), dilation=(1, 2),
                                        padding=1, stride=(2, 1)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    back = F.fold(ours, (6, 5), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)).data
    ref = torch.nn.functional.fold(torch.from_numpy(theirs), (6, 5), (2, 3), dilation=(1, 2),
                                   padding=1, stride=(2, 1)).numpy()
    np.testing.assert_allclose(back, ref, rtol=1e-12)
