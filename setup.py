"""Build the Cython kernels of sklears-neural.

Everything about the package itself lives in ``pyproject.toml``; this file
only describes the compiled extensions ``sklears_neural._kernels.*``.

Compiler flags are portable by default (``-O3 -fno-math-errno
-fno-trapping-math``, no ``-march``). Set ``SKLEARS_NEURAL_NATIVE=1`` to add ``-march=native`` for a
build that only has to run on this machine. OpenMP (``-fopenmp``) is used when
a small test program compiles and links with it; otherwise the kernels are
built serial and a warning is printed (``test_openmp.py`` then fails on
purpose, so a build that silently lost OpenMP does not go unnoticed).

The hottest loops (activations, losses, optimizer updates, and the C
kernels of ``sklears_neural/_kernels/src/``: depthwise convolution,
recurrent cells) are compiled three times: with the baseline flags, with
``-mavx2 -mfma`` (``*_avx2`` modules) and with ``-mavx512f -mavx2 -mfma``
(``*_avx512`` modules); which one runs is decided at import from the CPU's
features, so the build stays portable. The float32 GEMM
(``src/skn_sgemm.h``, and the implicit-GEMM convolution products of
``src/skn_sconv.h``: module ``_gemm_avx512``) is built with the AVX-512
flags and used only on CPUs with AVX-512F. The C headers of ``src/`` are on
every kernel module's include path (see ``src/README.md``).
"""

import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
KERNELS = "sklears_neural/_kernels"
# The C kernels (headers), included by the kernel modules.
KERNELS_SRC = f"{KERNELS}/src"

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
}

OPENMP_FLAG = "-fopenmp"

_OPENMP_TEST_PROGRAM = textwrap.dedent(
    """\
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return (n > 0 && omp_get_max_threads() > 0) ? 0 : 1;
    }
    """
)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _compile_args():
    # -fno-trapping-math: we never unmask floating-point traps, and without it
    # GCC refuses to turn ``a if x > 0 else b`` into a vector select (a
    # comparison "may trap"), which left most activation loops scalar (3-30x
    # slower). It changes no result, only what may set FP exception flags.
    args = ["-O3", "-fno-math-errno", "-fno-trapping-math"]
    if _env_flag("SKLEARS_NEURAL_NATIVE"):
        args.append("-march=native")
    return args


# Modules whose name ends with this are a second build of some loops for
# CPUs with AVX2 and FMA; the package picks them at run time only on such
# CPUs (``_cpu.pxd``), so the wheel still runs on any x86-64.
AVX2_SUFFIX = "_avx2"
AVX2_FLAGS = ["-mavx2", "-mfma"]
# The same for AVX-512F (the third build of the loops, ``_loops_avx512``, and
# the float32 GEMM, ``_gemm_avx512``).
AVX512_SUFFIX = "_avx512"
AVX512_FLAGS = ["-mavx512f", "-mavx2", "-mfma"]

_AVX2_TEST_PROGRAM = textwrap.dedent(
    """\
    #include <immintrin.h>
    int main(void) {
        __m256 a = _mm256_set1_ps(1.0f);
        a = _mm256_fmadd_ps(a, a, a);
        return (int) _mm256_cvtss_f32(a) == 2 ? 0 : 1;
    }
    """
)

_AVX512_TEST_PROGRAM = textwrap.dedent(
    """\
    #include <immintrin.h>
    int main(void) {
        __m512 a = _mm512_set1_ps(1.0f);
        a = _mm512_fmadd_ps(a, a, a);
        return (int) _mm512_reduce_add_ps(a) == 32 ? 0 : 1;
    }
    """
)


def _compiles(compiler, program, flags, link=True):
    """Return True if ``compiler`` builds ``program`` with ``flags``."""
    tmp = tempfile.mkdtemp(prefix="sklears_neural_check_")
    try:
        source = os.path.join(tmp, "check.c")
        with open(source, "w") as f:
            f.write(program)
        objects = compiler.compile([source], output_dir=tmp, extra_postargs=flags)
        if link:
            compiler.link_executable(objects, "check", output_dir=tmp, extra_postargs=flags)
        return True
    except Exception:  # CompileError, LinkError, missing compiler
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExtWithOpenMP(build_ext):
    """build_ext that adds OpenMP flags when the compiler supports them, and
    the AVX2/FMA and AVX-512 flags to the ``*_avx2`` and ``*_avx512`` modules
    when it can emit them."""

    def build_extensions(self):
        avx2 = _compiles(self.compiler, _AVX2_TEST_PROGRAM, AVX2_FLAGS, link=False)
        avx512 = _compiles(self.compiler, _AVX512_TEST_PROGRAM, AVX512_FLAGS, link=False)
        # A compiler without AVX-512 builds the *_avx512 modules for AVX2 (the
        # GEMM header then compiles to a stub and the BLAS runs the products).
        flags_by_suffix = {AVX2_SUFFIX: AVX2_FLAGS if avx2 else [],
                           AVX512_SUFFIX: AVX512_FLAGS if avx512 else
                           AVX2_FLAGS if avx2 else []}
        for ext in self.extensions:
            for suffix, flags in flags_by_suffix.items():
                if ext.name.endswith(suffix):
                    ext.extra_compile_args.extend(flags)
        if not avx2:
            print("sklears_neural: the compiler cannot emit AVX2/FMA code; the "
                  "*_avx2 loop modules are built with the baseline flags.", file=sys.stderr)
        if not avx512:
            print("sklears_neural: the compiler cannot emit AVX-512 code; float32 "
                  "products use the BLAS everywhere.", file=sys.stderr)
        if _compiles(self.compiler, _OPENMP_TEST_PROGRAM, [OPENMP_FLAG]):
            for ext in self.extensions:
                ext.extra_compile_args.append(OPENMP_FLAG)
                ext.extra_link_args.append(OPENMP_FLAG)
        else:
            message = (
                "WARNING: the C compiler cannot build OpenMP programs with "
                f"{OPENMP_FLAG}; sklears_neural's kernels are built WITHOUT "
                "OpenMP and will run on one thread. Install a compiler with "
                "OpenMP support (gcc, or clang with libomp) and rebuild."
            )
            print("\n" + "*" * 78 + "\n" + message + "\n" + "*" * 78 + "\n", file=sys.stderr)
        super().build_extensions()


def _header_options(source):
    """The C headers of ``src/`` for every module, and numpy's for the
    modules that ``cimport numpy`` (only the Python-facing fast paths do;
    the loops take raw pointers)."""
    if "cimport numpy" not in source.read_text():
        return {"include_dirs": [KERNELS_SRC]}
    import numpy

    return {
        "include_dirs": [KERNELS_SRC, numpy.get_include()],
        "define_macros": [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    }


def _selected_sources():
    """The .pyx files to build: all, or those named in SKLEARS_NEURAL_BUILD_ONLY.

    ``SKLEARS_NEURAL_BUILD_ONLY=_conv,_pool`` rebuilds only those modules (a
    developer convenience: two people editing different kernels can build
    at the same time without racing on each other's files).
    """
    sources = sorted((HERE / KERNELS).glob("*.pyx"))
    only = {name.strip() for name in os.environ.get("SKLEARS_NEURAL_BUILD_ONLY", "").split(",")
            if name.strip()}
    if not only:
        return sources
    unknown = only - {p.stem for p in sources}
    if unknown:
        raise SystemExit(f"SKLEARS_NEURAL_BUILD_ONLY names unknown kernel modules: "
                         f"{sorted(unknown)}")
    return [p for p in sources if p.stem in only]


def _extensions():
    sources = _selected_sources()
    # Included (.pxi), cimported (.pxd) and C header (src/*.h) files: listed
    # as dependencies so that a change rebuilds the modules (the sdist also
    # ships them through package data, pyproject.toml).
    depends = sorted(
        f"{folder}/{p.name}"
        for folder, pattern in ((KERNELS, "*.pxi"), (KERNELS, "*.pxd"), (KERNELS_SRC, "*.h"))
        for p in (HERE / folder).glob(pattern)
    )
    extensions = [
        Extension(
            f"{KERNELS.replace('/', '.')}.{source.stem}",
            [f"{KERNELS}/{source.name}"],
            depends=depends,
            extra_compile_args=_compile_args(),
            extra_link_args=[],
            **_header_options(source),
        )
        for source in sources
    ]
    return cythonize(
        extensions,
        compiler_directives=COMPILER_DIRECTIVES,
        include_path=[str(HERE)],
    )


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExtWithOpenMP})
