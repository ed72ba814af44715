# All heavy nogil loops of the kernels, compiled twice: as ``_loops``
# (portable baseline flags) and as ``_loops_avx2`` (-mavx2 -mfma, added by
# setup.py to every module whose name ends in ``_avx2``). The Python-facing
# modules cimport both and call one or the other at run time depending on
# the CPU (``_cpu.use_avx2``). Both .pyx files only include this file (and
# both .pxd files ``_loops_api.pxi``), so the two builds cannot drift apart.
#
# The loops are in the parts below. Those written in C (the float32 loops of
# the direct convolution and of the recurrent cells) are headers in ``src/``,
# included by ``_loops_conv.pxi`` and ``_loops_rnn.pxi`` and so compiled
# into both builds the same way. See ``src/README.md`` for the mechanism.

include "_loops_activation.pxi"
include "_loops_loss.pxi"
include "_loops_optim.pxi"
include "_loops_conv.pxi"
include "_loops_rnn.pxi"
