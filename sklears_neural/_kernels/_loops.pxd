# The baseline build of the loops; its cdef functions are declared in
# ``_loops_api.pxi``, shared with ``_loops_avx2.pxd``.

include "_loops_api.pxi"
