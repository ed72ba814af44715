"""The kernels' nogil loops, built with -mavx512f -mavx2 -mfma (used at run time only on CPUs with AVX-512F).

The code is ``_loops.pxi`` (and the C headers of ``src/`` it includes); see there.
"""

include "_loops.pxi"
