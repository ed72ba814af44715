# The AVX-512 build of the loops; its cdef functions are declared in
# ``_loops_api.pxi``, shared with ``_loops.pxd``.

include "_loops_api.pxi"
