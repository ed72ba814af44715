/* skn_cpu.h: does this CPU (and OS) run the AVX2+FMA build of the loops,
   and the AVX-512 GEMM?

   GCC and clang on x86 ask the CPU (``__builtin_cpu_supports`` also checks
   that the OS saves the AVX registers); elsewhere the answer is always no
   and the baseline build runs. Used by ``_cpu.pyx`` (``use_avx2()``,
   ``use_avx512()``). */

#ifndef SKN_CPU_H
#define SKN_CPU_H

static inline int skn_cpu_has_avx2_fma(void) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static inline int skn_cpu_has_avx512f(void) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

#endif  /* SKN_CPU_H */
