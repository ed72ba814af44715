"""The kernels' nogil loops, built with the portable baseline flags.

The code is ``_loops.pxi``; see there.
"""

include "_loops.pxi"
