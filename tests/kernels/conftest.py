"""Fixtures for the kernel tests: dtypes, tolerances and memory layouts.

Every Cython kernel is compared with the numpy reference in
``sklears_neural._xp``; these helpers build the same input in different
layouts (C-, Fortran-ordered, strided) so each layout path of a kernel is
checked against the same expected values.
"""

import numpy as np
import pytest

DTYPES = [np.dtype(np.float32), np.dtype(np.float64)]
LAYOUTS = ["C", "F", "strided"]

# float32 to ~1e-5 relative, float64 to ~1e-12 relative; the small absolute
# tolerance covers values that are zero up to rounding.
TOLERANCES = {
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
    np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-13},
}


@pytest.fixture
def rng():
    """A seeded generator, fresh for each test (the kernel tests run on
    their own too, without the repository's top-level conftest)."""
    return np.random.default_rng(0)


@pytest.fixture(params=DTYPES, ids=[d.name for d in DTYPES])
def dtype(request):
    return request.param


@pytest.fixture
def assert_close(dtype):
    """``assert_allclose`` with the tolerance of the test's dtype.

    ``atol_scale`` widens the absolute part for sums of many terms (GEMMs),
    whose rounding depends on the summation order of the BLAS build.
    """
    tol = TOLERANCES[np.dtype(dtype)]

    def check(actual, expected, atol_scale=1.0, err_msg=""):
        assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
        assert actual.shape == expected.shape, (actual.shape, expected.shape)
        np.testing.assert_allclose(actual, expected, rtol=tol["rtol"],
                                   atol=tol["atol"] * atol_scale, err_msg=err_msg)

    return check


def with_layout(a, layout):
    """Return an array equal to ``a`` in the given memory layout.

    "C": C-contiguous; "F": Fortran-ordered; "strided": a non-contiguous
    view (every other element of a twice as wide last axis).
    """
    a = np.asarray(a)
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":
        if a.ndim == 0:
            return a.copy()
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    raise ValueError(layout)


@pytest.fixture
def layout_of():
    return with_layout


@pytest.fixture(params=["avx512", "avx2", "baseline"])
def isa(request):
    """Run a test with each build of the kernels' loops (``_loops.pxi``):
    the AVX-512 and AVX2+FMA ones, when this CPU has them, and the portable
    baseline one."""
    from sklears_neural._kernels import _cpu

    if request.param == "avx512" and not _cpu.has_avx512f():
        pytest.skip("this CPU has no AVX-512F: the AVX-512 loops cannot run here")
    if request.param != "baseline" and not _cpu.has_avx2_fma():
        pytest.skip("this CPU has no AVX2+FMA: only the baseline loops run here")
    previous = (_cpu.set_use_avx2(request.param != "baseline"),
                _cpu.set_use_avx512(request.param == "avx512"))
    assert _cpu.loops_in_use() == {"avx512": "avx512", "avx2": "avx2+fma",
                                   "baseline": "baseline"}[request.param]
    yield request.param
    _cpu.set_use_avx2(previous[0])
    _cpu.set_use_avx512(previous[1])


@pytest.fixture(params=["avx512", "blas"])
def gemm(request):
    """Run a test with each float32 GEMM of the kernels (``_blas.pyx``): our
    AVX-512 one, when this CPU has it (for products of every width, the
    tests' shapes being small), and the BLAS's sgemm."""
    from sklears_neural._kernels import _cpu

    want = request.param == "avx512"
    if want and not _cpu.has_avx512_gemm():
        pytest.skip("no AVX-512F on this CPU (or in this build): float32 products run on "
                    "the BLAS here")
    from sklears_neural._kernels import _blas

    previous = _cpu.set_use_avx512_gemm(want)
    # the tests' small shapes: send every float32 product to our GEMM
    previous_columns = _blas._set_min_columns(1)
    yield request.param
    _blas._set_min_columns(previous_columns)
    _cpu.set_use_avx512_gemm(previous)


@pytest.fixture
def omp_threads_4():
    """Let the kernels use 4 OpenMP threads, more than this machine may have,
    so the threaded paths run (and more threads than rows) on any CI box."""
    import threadpoolctl

    with threadpoolctl.threadpool_limits(limits=4, user_api="openmp"):
        yield
