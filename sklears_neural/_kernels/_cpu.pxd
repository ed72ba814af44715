# Run-time choice between the two builds of the loops (``_loops``: baseline,
# ``_loops_avx2``: AVX2+FMA). Detection: GCC and clang on x86; elsewhere the
# baseline build is always used.

cdef extern from *:
    """
    static inline int skn_cpu_has_avx2_fma(void) {
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    #else
        return 0;
    #endif
    }
    """
    bint cpu_has_avx2_fma "skn_cpu_has_avx2_fma" () nogil


cdef bint use_avx2() noexcept nogil
