# Run-time choice between the two builds of the loops (``_loops``: baseline,
# ``_loops_avx2``: AVX2+FMA; see ``src/README.md``). Detection:
# ``src/skn_cpu.h`` (GCC and clang on x86; elsewhere the baseline build is
# always used).

cdef extern from "skn_cpu.h":
    bint cpu_has_avx2_fma "skn_cpu_has_avx2_fma" () nogil
    bint cpu_has_avx512f "skn_cpu_has_avx512f" () nogil


cdef bint use_avx2() noexcept nogil


cdef bint use_avx512() noexcept nogil
