"""Optimizer update loops built with -mavx2 -mfma (chosen at run time only on CPUs that have both).

The code is ``_optim_loops.pxi``; see there.
"""

include "_optim_loops.pxi"
