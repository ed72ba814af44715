"""``show_versions()``: what a bug report about sklears-neural should include.

Versions of Python, the package and its dependencies, whether the compiled
kernels have OpenMP (and how many threads it would use), which SIMD build of
the kernel loops runs, and the BLAS / OpenMP libraries loaded in the process
with their thread counts (from threadpoolctl).
"""

import importlib
import importlib.metadata
import platform
import sys

__all__ = ["show_versions"]

# (name shown, module to import, distribution name for the metadata fallback)
_DEPENDENCIES = [
    ("numpy", "numpy", "numpy"),
    ("scipy", "scipy", "scipy"),
    ("scikit-learn", "sklearn", "scikit-learn"),
    ("joblib", "joblib", "joblib"),
    ("threadpoolctl", "threadpoolctl", "threadpoolctl"),
    ("tqdm", "tqdm", "tqdm"),
    ("Cython", "Cython", "Cython"),
]
_CUPY_DISTRIBUTIONS = ("cupy", "cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x")


def _package_version():
    try:
        return importlib.metadata.version("sklears-neural")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _module_version(module_name, dist_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        module = None
    version = getattr(module, "__version__", None)
    if version is not None:
        return str(version)
    try:
        return importlib.metadata.version(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed" if module is None else "unknown"


def _cupy_version():
    """CuPy's version from the package metadata (importing CuPy is slow and
    needs a CUDA driver, and a version is all a report needs)."""
    for dist in _CUPY_DISTRIBUTIONS:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def _get_sys_info():
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _get_deps_info():
    deps = {"sklears-neural": _package_version()}
    for shown, module_name, dist_name in _DEPENDENCIES:
        deps[shown] = _module_version(module_name, dist_name)
    deps["cupy"] = _cupy_version()
    return deps


def _get_kernels_info():
    try:
        from sklears_neural import _kernels
        from sklears_neural._kernels import _cpu
    except ImportError as exc:  # not compiled (e.g. a source checkout)
        message = f"not available ({exc})"
        return {"compiled kernels": message}
    return {
        "built with OpenMP": str(_kernels.openmp_enabled()),
        "OpenMP max threads": str(_kernels.openmp_max_threads()),
        "CPU has AVX2+FMA": str(_cpu.has_avx2_fma()),
        "kernel loops in use": _cpu.loops_in_use(),
    }


def _get_threadpool_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    # Load the libraries whose thread pools matter here: numpy's and scipy's
    # BLAS (the kernels' GEMMs go through scipy's) and the kernels' OpenMP.
    for module_name in ("numpy", "scipy.linalg", "sklears_neural._kernels"):
        try:
            importlib.import_module(module_name)
        except ImportError:
            pass
    return threadpool_info()


def _print_section(title, info):
    print(f"\n{title}:")
    width = max((len(k) for k in info), default=0)
    for key, value in info.items():
        print(f"{key:>{width + 4}}: {value}")


def show_versions():
    """Print versions and build details useful in a bug report.

    Prints the Python and platform, the versions of sklears-neural and its
    dependencies (CuPy "not installed" when absent), whether the compiled
    kernels were built with OpenMP and how many threads it would use, which
    SIMD build of the kernel loops runs, and every BLAS and OpenMP library
    loaded in the process with its number of threads.

    Examples
    --------
    >>> from sklears_neural import show_versions
    >>> show_versions()  # doctest: +SKIP
    """
    _print_section("System", _get_sys_info())
    _print_section("Python dependencies", _get_deps_info())
    _print_section("Compiled kernels", _get_kernels_info())
    pools = _get_threadpool_info()
    if pools is None:
        print("\nthreadpoolctl is not installed: no BLAS / OpenMP details.")
        return
    blas = [p for p in pools if p.get("user_api") == "blas"]
    others = [p for p in pools if p.get("user_api") != "blas"]
    print("\nBLAS libraries (threadpoolctl):")
    if not blas:
        print("    none loaded")
    for pool in blas:
        print(f"    {pool.get('internal_api')} {pool.get('version')}: "
              f"num_threads={pool.get('num_threads')}, "
              f"threading_layer={pool.get('threading_layer', 'n/a')}, "
              f"architecture={pool.get('architecture', 'n/a')}")
        print(f"        {pool.get('filepath')}")
    if others:
        print("\nOther thread pools (threadpoolctl):")
        for pool in others:
            print(f"    {pool.get('user_api')} / {pool.get('internal_api')} "
                  f"{pool.get('version')}: num_threads={pool.get('num_threads')}")
            print(f"        {pool.get('filepath')}")
