"""The Cython kernel set exports the same API as the portable ``_xp`` one."""

import inspect

import pytest

from sklears_neural import _kernels as K
from sklears_neural import _xp as X

EXTRA = {"openmp_enabled", "openmp_max_threads"}


def test_same_names():
    assert set(K.__all__) == set(X.__all__) | EXTRA
    assert len(K.__all__) == len(set(K.__all__))
    for name in K.__all__:
        assert callable(getattr(K, name))


@pytest.mark.parametrize("name", sorted(X.__all__))
def test_same_signature(name):
    """Same positional/keyword parameters and defaults; the kernels may only
    add keyword-only parameters (``n_threads``) with a default."""
    ref = list(inspect.signature(getattr(X, name)).parameters.values())
    got = list(inspect.signature(getattr(K, name)).parameters.values())
    assert [(p.name, p.kind, p.default) for p in got[: len(ref)]] == \
        [(p.name, p.kind, p.default) for p in ref]
    for p in got[len(ref):]:
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None, p
