"""Which instruction-set build of the dispatched loops this CPU can run."""


def has_avx2_fma():
    """Return True if this CPU (and OS) support AVX2 and FMA, i.e. the
    ``*_avx2`` builds of the activation and optimizer loops can run here."""
    return bool(cpu_has_avx2_fma())
