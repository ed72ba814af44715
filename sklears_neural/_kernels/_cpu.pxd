# Run-time choice between the three builds of the loops (``_loops``: baseline,
# ``_loops_avx2``: AVX2+FMA, ``_loops_avx512``: AVX-512F; see
# ``src/README.md``), and of the float32 GEMM (ours on AVX-512F, else the BLAS). Detection:
# ``src/skn_cpu.h`` (GCC and clang on x86; elsewhere the baseline build is
# always used).

cdef extern from "skn_cpu.h":
    bint cpu_has_avx2_fma "skn_cpu_has_avx2_fma" () nogil
    bint cpu_has_avx512f "skn_cpu_has_avx512f" () nogil


cdef bint use_avx2() noexcept nogil


cdef bint use_avx512() noexcept nogil
cdef bint use_avx512_gemm() noexcept nogil
