"""Which build of the kernels' loops runs (AVX-512, AVX2+FMA or the portable baseline), and whether the AVX-512 GEMM does.

The heavy loops (``_loops.pxi``, with the C kernels of ``src/`` it
includes) are compiled three times, as ``_loops``, ``_loops_avx2`` and
``_loops_avx512``; every kernel asks ``use_avx512()``, then ``use_avx2()``
which one to call (``src/README.md``). A build is used when the CPU (and
OS) support its instructions (``src/skn_cpu.h``), unless the environment
variable ``SKLEARS_NEURAL_DISABLE_AVX512`` (or ``..._AVX2``, which turns off
both) is set when the package is imported.

float32 matrix products run on our AVX-512 GEMM (``src/skn_sgemm.h``) under
the same condition (``use_avx512_gemm()``); else on the BLAS (``_blas.pyx``).
"""

import os

from sklears_neural._kernels._gemm_avx512 cimport sgemm_avx512_compiled

cdef bint _use_avx2 = cpu_has_avx2_fma() and not os.environ.get("SKLEARS_NEURAL_DISABLE_AVX2")
cdef bint _use_avx512 = (_use_avx2 and cpu_has_avx512f()
                         and not os.environ.get("SKLEARS_NEURAL_DISABLE_AVX512"))
cdef bint _use_avx512_gemm = _use_avx512 and sgemm_avx512_compiled()


cdef bint use_avx2() noexcept nogil:
    return _use_avx2


cdef bint use_avx512() noexcept nogil:
    return _use_avx512 and _use_avx2


cdef bint use_avx512_gemm() noexcept nogil:
    return _use_avx512_gemm


def has_avx2_fma():
    """Return True if this CPU (and OS) support AVX2 and FMA."""
    return bool(cpu_has_avx2_fma())


def loops_in_use():
    """Name of the build of the loops that runs: "avx512", "avx2+fma" or "baseline"."""
    if _use_avx2:
        return "avx512" if _use_avx512 else "avx2+fma"
    return "baseline"


def set_use_avx2(flag):
    """Allow the AVX2+FMA loops (if the CPU has them), or only the baseline ones.

    The AVX-512 loops run only while both this and ``set_use_avx512`` allow
    them. Returns the previous setting. Meant for tests and benchmarks.
    """
    global _use_avx2
    previous = _use_avx2
    _use_avx2 = bool(flag) and cpu_has_avx2_fma()
    return previous


def has_avx512f():
    """Return True if this CPU (and OS) support AVX-512F (and FMA)."""
    return bool(cpu_has_avx512f())


def has_avx512_gemm():
    """Return True if our AVX-512 GEMM can run here: built with it, on a CPU with AVX-512F."""
    return bool(cpu_has_avx512f() and sgemm_avx512_compiled())


def gemm_in_use():
    """Which float32 GEMM runs: "avx512" (ours) or "blas"."""
    return "avx512" if _use_avx512_gemm else "blas"


def set_use_avx512(flag):
    """Allow the AVX-512 loops (if the CPU has AVX-512F) over the AVX2 ones.

    Returns the previous setting. Meant for tests and benchmarks.
    """
    global _use_avx512
    previous = _use_avx512
    _use_avx512 = bool(flag) and cpu_has_avx512f()
    return previous


def set_use_avx512_gemm(flag):
    """Run float32 products on our AVX-512 GEMM (if the CPU has it) or the BLAS.

    Returns the previous setting. Meant for tests and benchmarks.
    """
    global _use_avx512_gemm
    previous = _use_avx512_gemm
    _use_avx512_gemm = bool(flag) and cpu_has_avx512f() and sgemm_avx512_compiled()
    return previous
