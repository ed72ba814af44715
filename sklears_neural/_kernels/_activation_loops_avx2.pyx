"""Elementwise activation loops built with -mavx2 -mfma (chosen at run time only on CPUs that have both).

The code is ``_activation_loops.pxi``; see there.
"""

include "_activation_loops.pxi"
