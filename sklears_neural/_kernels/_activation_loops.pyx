"""Elementwise activation loops built with the portable baseline flags.

The code is ``_activation_loops.pxi``; see there.
"""

include "_activation_loops.pxi"
