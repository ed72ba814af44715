# The time loops of the recurrent kernels (``_rnn_steps``), as the public
# entry points of ``_rnn`` call them: fused over float / double, with the GIL
# held (each releases it around its loop).

from libc.stdint cimport int64_t

from sklears_neural._kernels._fused cimport floating


cdef struct Seq:
    Py_ssize_t T, N, F, H
    bint reverse
    const int64_t* lens     # NULL: every sequence has length T
    int n_threads           # the batch is split into this many blocks (_rnn_steps)
    const float* packed     # the step products' recurrent weights packed once for our
                            # AVX-512 GEMM (_blas.pack_shared_b), or NULL



cdef void _lstm_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                           const floating[::1] w_hh_t, const floating[::1] b,
                           floating[::1] gates, floating[::1] hs, floating[::1] cs,
                           floating[::1] y)

cdef void _lstm_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                            const floating[::1] zrow, const floating[::1] w_hh,
                            const floating[::1] gates, const floating[::1] cs,
                            const floating[::1] x, const floating[::1] w_ih,
                            const floating[::1] hprev, Py_ssize_t chunk,
                            floating[::1] Gc, floating[::1] dh, floating[::1] dc,
                            bint need_state, floating[::1] gx, floating[::1] gwi,
                            floating[::1] gwh, double[::1] gb, bint need_input,
                            bint need_weights)

cdef void _gru_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                          const floating[::1] w_hh_t, const floating[::1] bi,
                          const floating[::1] bh, floating[::1] gates,
                          floating[::1] ghn, floating[::1] hs, floating[::1] y,
                          floating[::1] scratch)

cdef void _gru_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                           const floating[::1] zrow, const floating[::1] w_hh,
                           const floating[::1] gates, const floating[::1] ghn,
                           const floating[::1] x, const floating[::1] w_ih,
                           const floating[::1] hprev, Py_ssize_t chunk,
                           floating[::1] Gi, floating[::1] Gh, floating[::1] dh,
                           bint need_state, floating[::1] gx, floating[::1] gwi,
                           floating[::1] gwh, double[::1] gbi, double[::1] gbh,
                           bint need_input, bint need_weights)

cdef void _rnn_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                          const floating[::1] w_hh_t, const floating[::1] b,
                          floating[::1] pre, floating[::1] hs, floating[::1] y,
                          bint relu)

cdef void _rnn_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                           const floating[::1] zrow, const floating[::1] w_hh,
                           const floating[::1] hs, const floating[::1] x,
                           const floating[::1] w_ih, const floating[::1] hprev,
                           Py_ssize_t chunk, floating[::1] Gc, floating[::1] dh,
                           bint need_state, bint relu, floating[::1] gx,
                           floating[::1] gwi, floating[::1] gwh, double[::1] gb,
                           bint need_input, bint need_weights)
