"""``show_versions`` prints what a bug report needs."""

from sklears_neural import _kernels
from sklears_neural._show_versions import show_versions


def test_show_versions(capsys):
    show_versions()
    out = capsys.readouterr().out
    for expected in ("python:", "sklears-neural:", "numpy:", "scipy:", "scikit-learn:",
                     "joblib:", "threadpoolctl:", "tqdm:", "Cython:", "cupy:",
                     "built with OpenMP:", "OpenMP max threads:", "BLAS libraries"):
        assert expected in out, expected
    assert f"built with OpenMP: {_kernels.openmp_enabled()}" in out
    assert f"OpenMP max threads: {_kernels.openmp_max_threads()}" in out
    assert "num_threads=" in out  # at least one BLAS library with its threads
