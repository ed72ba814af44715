"""Which build of the kernels' loops runs (AVX2+FMA or the portable baseline), and whether the AVX-512 GEMM does.

The heavy loops (``_loops.pxi``, with the C kernels of ``src/`` it
includes) are compiled twice, as ``_loops`` and ``_loops_avx2``; every
kernel asks ``use_avx2()`` which one to call (``src/README.md``). The AVX2
build is used when the CPU (and OS) support AVX2 and FMA
(``src/skn_cpu.h``), unless the environment variable
``SKLEARS_NEURAL_DISABLE_AVX2`` is set when the package is imported.

float32 matrix products run on our AVX-512 GEMM (``src/skn_sgemm.h``) when
the CPU has AVX-512F, unless ``SKLEARS_NEURAL_DISABLE_AVX512`` is set; else
on the BLAS (``_blas.pyx``).
"""

import os

cdef bint _use_avx2 = cpu_has_avx2_fma() and not os.environ.get("SKLEARS_NEURAL_DISABLE_AVX2")
cdef bint _use_avx512 = (cpu_has_avx512f()
                         and not os.environ.get("SKLEARS_NEURAL_DISABLE_AVX512"))


cdef bint use_avx2() noexcept nogil:
    return _use_avx2


cdef bint use_avx512() noexcept nogil:
    return _use_avx512


def has_avx2_fma():
    """Return True if this CPU (and OS) support AVX2 and FMA."""
    return bool(cpu_has_avx2_fma())


def loops_in_use():
    """Name of the build of the loops that runs: "avx2+fma" or "baseline"."""
    return "avx2+fma" if _use_avx2 else "baseline"


def set_use_avx2(flag):
    """Use the AVX2+FMA loops (if the CPU has them) or the baseline ones.

    Returns the previous setting. Meant for tests and benchmarks.
    """
    global _use_avx2
    previous = _use_avx2
    _use_avx2 = bool(flag) and cpu_has_avx2_fma()
    return previous


def has_avx512f():
    """Return True if this CPU (and OS) support AVX-512F (and FMA)."""
    return bool(cpu_has_avx512f())


def gemm_in_use():
    """Which float32 GEMM runs: "avx512" (ours) or "blas"."""
    return "avx512" if _use_avx512 else "blas"


def set_use_avx512(flag):
    """Run float32 products on our AVX-512 GEMM (if the CPU has it) or the BLAS.

    Returns the previous setting. Meant for tests and benchmarks.
    """
    global _use_avx512
    previous = _use_avx512
    _use_avx512 = bool(flag) and cpu_has_avx512f()
    return previous
