"""Optimizer update loops built with the portable baseline flags.

The code is ``_optim_loops.pxi``; see there.
"""

include "_optim_loops.pxi"
