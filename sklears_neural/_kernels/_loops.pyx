"""The kernels' nogil loops, built with the portable baseline flags.

The code is ``_loops.pxi`` (and the C headers of ``src/`` it includes); see there.
"""

include "_loops.pxi"
