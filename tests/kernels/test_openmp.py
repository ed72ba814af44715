"""Guard against a build that silently lost OpenMP (it cost scikit-learn a
release): this test fails when the kernels were compiled without it, unless
SKLEARS_NEURAL_SKIP_OPENMP_TEST is set (for platforms known to lack it)."""

import os

import pytest
import threadpoolctl

from sklears_neural import _kernels as K
from sklears_neural._kernels._openmp_helpers import resolve_n_threads

SKIP_VAR = "SKLEARS_NEURAL_SKIP_OPENMP_TEST"


def test_openmp_is_built_in():
    if os.environ.get(SKIP_VAR):
        pytest.skip(f"{SKIP_VAR} is set: OpenMP support is not required on this build.")
    assert K.openmp_enabled(), (
        "sklears_neural._kernels was compiled WITHOUT OpenMP: every parallel "
        "kernel runs on one thread. Rebuild with a compiler that supports "
        f"-fopenmp, or set {SKIP_VAR}=1 if that is intended."
    )


def test_openmp_max_threads():
    n = K.openmp_max_threads()
    assert isinstance(n, int) and n >= 1
    if not K.openmp_enabled():
        assert n == 1


def test_resolve_n_threads():
    max_threads = K.openmp_max_threads() if K.openmp_enabled() else 1
    big = 10**9
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        # default: serial while the BLAS owns the cores (whatever an earlier test left)
        assert resolve_n_threads(None, big, 1000) == 1
    assert resolve_n_threads(1, big, 1000) == 1
    assert resolve_n_threads(-1, big, 1000) == max_threads
    assert resolve_n_threads(10**6, big, 1000) == max_threads  # capped
    assert resolve_n_threads(-1, 999, 1000) == 1  # below the measured size
    if K.openmp_enabled() and max_threads >= 2:
        assert resolve_n_threads(2, 1000, 1000) == 2
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="n_threads"):
            resolve_n_threads(bad, 10, 1000)
