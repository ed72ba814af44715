"""The Cython kernel set exports the same API as the portable ``_xp`` one."""

import inspect

import pytest

import sklears_neural._kernels as K
import sklears_neural._xp as X
from sklears_neural._specs import KERNEL_NAMES

EXTRA = {"openmp_enabled", "openmp_max_threads"}


def test_same_names():
    assert set(K.__all__) == set(KERNEL_NAMES) | EXTRA
    assert set(X.__all__) == set(KERNEL_NAMES)
    assert len(KERNEL_NAMES) == len(set(KERNEL_NAMES))
    for name in K.__all__:
        assert callable(getattr(K, name)), name
    for name in X.__all__:
        assert callable(getattr(X, name)), name


@pytest.mark.parametrize("twin", [K, X], ids=["kernels", "xp"])
def test_modules_export_only_kernel_names(twin):
    """Each module's ``__all__`` is its share of the one list, so that the
    package's star imports bring in the entry points and nothing else."""
    import importlib
    import pkgutil

    shared = set(KERNEL_NAMES) | EXTRA
    for info in pkgutil.iter_modules(twin.__path__):
        module = importlib.import_module(f"{twin.__name__}.{info.name}")
        names = set(getattr(module, "__all__", ()))
        assert names <= shared, (info.name, sorted(names - shared))


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
