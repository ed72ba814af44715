# Run-time CPU feature detection for the loops that are built twice
# (baseline and AVX2+FMA). GCC and clang on x86 only; elsewhere the
# baseline build is always used.

cdef extern from *:
    """
    static int skn_cpu_has_avx2_fma(void) {
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    #else
        return 0;
    #endif
    }
    """
    bint cpu_has_avx2_fma "skn_cpu_has_avx2_fma" () nogil
