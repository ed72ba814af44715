# The recurrent cells' float32 passes, part of the ``_loops`` / ``_loops_avx2``
# pair (included by ``_loops.pxi``, compiled once per build): each module
# includes ``src/skn_rnn_cells.h`` and so compiles the C with its own flags
# (baseline, or -mavx2 -mfma); ``_rnn_steps`` picks the module at run time
# with ``_cpu.use_avx2()``, as for every other loop here. Each wrapper is one
# call of a static C function, which GCC inlines into it; one call per row of
# 3-4 H values (measured: as fast as the C in ``_rnn``'s own module was).

cdef extern from "skn_rnn_cells.h":
    # src/skn_rnn_cells.h
    void skn_lstm_cell_f32(float* a, const float* b, const float* cp, float* cn,
                           float* hn, float* y, Py_ssize_t H) nogil
    void skn_lstm_cell_bwd_f32(const float* a, const float* cp, const float* cn,
                               const float* gy, float* dh, float* dc, float* g_out,
                               Py_ssize_t H) nogil
    void skn_gru_cell_f32(float* a, const float* gh, const float* bi, const float* bh,
                          const float* hp, float* ghn, float* hn, float* y,
                          Py_ssize_t H) nogil
    void skn_gru_cell_bwd_f32(const float* a, const float* ghn, const float* hp,
                              const float* gy, float* dh, float* gi, float* gh,
                              Py_ssize_t H) nogil
    void skn_rnn_tanh_f32(const float* a, const float* b, float* hn, float* y,
                          Py_ssize_t H) nogil
    void skn_rnn_tanh_bwd_f32(const float* h, const float* gy, float* dh, float* g,
                              Py_ssize_t H) nogil


cdef void lstm_cell_f32(float* a, const float* b, const float* cp, float* cn, float* hn,
                        float* y, Py_ssize_t H) noexcept nogil:
    skn_lstm_cell_f32(a, b, cp, cn, hn, y, H)


cdef void lstm_cell_bwd_f32(const float* a, const float* cp, const float* cn,
                            const float* gy, float* dh, float* dc, float* g_out,
                            Py_ssize_t H) noexcept nogil:
    skn_lstm_cell_bwd_f32(a, cp, cn, gy, dh, dc, g_out, H)


cdef void gru_cell_f32(float* a, const float* gh, const float* bi, const float* bh,
                       const float* hp, float* ghn, float* hn, float* y,
                       Py_ssize_t H) noexcept nogil:
    skn_gru_cell_f32(a, gh, bi, bh, hp, ghn, hn, y, H)


cdef void gru_cell_bwd_f32(const float* a, const float* ghn, const float* hp,
                           const float* gy, float* dh, float* gi, float* gh,
                           Py_ssize_t H) noexcept nogil:
    skn_gru_cell_bwd_f32(a, ghn, hp, gy, dh, gi, gh, H)


cdef void rnn_tanh_f32(const float* a, const float* b, float* hn, float* y,
                       Py_ssize_t H) noexcept nogil:
    skn_rnn_tanh_f32(a, b, hn, y, H)


cdef void rnn_tanh_bwd_f32(const float* h, const float* gy, float* dh, float* g,
                           Py_ssize_t H) noexcept nogil:
    skn_rnn_tanh_bwd_f32(h, gy, dh, g, H)
