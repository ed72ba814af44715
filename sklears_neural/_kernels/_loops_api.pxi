# The cdef functions of the ``_loops`` / ``_loops_avx2`` pair, declared once:
# both .pxd files include this file, as both .pyx files include
# ``_loops.pxi``, so the two builds cannot drift apart. Callers cimport both
# modules and pick one with ``_cpu.use_avx2()``.

from sklears_neural._kernels._conv_geom cimport Geom, Padded
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._types cimport Hyper


cdef void act_forward(const floating* x, floating* y, Py_ssize_t n, int act,
                      floating a) noexcept nogil

cdef void act_forward_rows(floating* y, const floating* bias, floating* pre,
                           Py_ssize_t pre_row_stride, Py_ssize_t n_rows,
                           Py_ssize_t n_cols, int act, floating a) noexcept nogil

cdef void act_backward(const floating* g, const floating* v, floating* gz,
                       Py_ssize_t n, int act, floating a) noexcept nogil

cdef void act_backward_rows(const floating* g, const floating* v, floating* gz,
                            double* colsum, Py_ssize_t n_rows, Py_ssize_t n_cols,
                            int act, floating a) noexcept nogil

cdef void prelu_forward(const floating* x, const floating* w, floating* y,
                        Py_ssize_t n_outer, Py_ssize_t n_ch,
                        Py_ssize_t n_inner) noexcept nogil

cdef void prelu_backward(const floating* g, const floating* x, const floating* w,
                         floating* gx, double* gw, Py_ssize_t n_outer,
                         Py_ssize_t n_ch, Py_ssize_t n_inner) noexcept nogil

cdef void softmax_rows(const floating* x, floating* out, Py_ssize_t n, Py_ssize_t c,
                       bint take_log) noexcept nogil

cdef void softmax_backward_rows(const floating* gy, const floating* y, floating* gx,
                                Py_ssize_t n, Py_ssize_t c, bint from_log) noexcept nogil

cdef Py_ssize_t sce_rows(const floating* x, Py_ssize_t n, Py_ssize_t c,
                         const Py_ssize_t* tp, const floating* qp, const floating* wp,
                         floating* losses, floating* grad, double label_smoothing,
                         double scale) noexcept nogil

cdef void elementwise_loss(int kind, const floating* xp, const floating* tp,
                           const floating* wp, const floating* pwp,
                           Py_ssize_t pw_row_stride, floating* lp, floating* gp,
                           Py_ssize_t n, Py_ssize_t d, double scale, double p1,
                           bint flag1, bint flag2) noexcept nogil

cdef void run_range(int kind, floating* p, const floating* g, floating* s1,
                    floating* s2, floating* s3, Py_ssize_t lo, Py_ssize_t hi,
                    const Hyper* h) noexcept nogil


# --- the direct (depthwise) convolution (``_loops_conv.pxi``) -----------------

cdef void direct_forward_flat(Py_ssize_t N, const floating* x, const floating* w,
                              const floating* b, floating* y, floating* xpad,
                              floating* yw, const Geom* g, const Padded* q) noexcept nogil
cdef void direct_backward_flat(Py_ssize_t N, const floating* gy, const floating* x,
                               const floating* w, const floating* init, floating* gx,
                               double* gw_acc, double* gb_acc, floating* xpad,
                               floating* gxpad, floating* gyext, const Geom* g,
                               const Padded* q) noexcept nogil
cdef void direct_forward_group(Py_ssize_t ci, Py_ssize_t N, const floating* x,
                               const floating* w, const floating* b, floating* y,
                               floating* xpad, const Geom* g, const Padded* q) noexcept nogil
cdef void direct_backward_group(Py_ssize_t ci, Py_ssize_t N, const floating* gy,
                                const floating* x, const floating* w, floating* gx,
                                floating* gw, floating* xpad, floating* gxpad,
                                floating* acc, const Geom* g, const Padded* q) noexcept nogil

# --- the recurrent cells, float32 (``_loops_rnn.pxi``: src/skn_rnn_cells.h) ----

cdef void lstm_cell_f32(float* a, const float* b, const float* cp, float* cn, float* hn,
                        float* y, Py_ssize_t H) noexcept nogil
cdef void lstm_cell_bwd_f32(const float* a, const float* cp, const float* cn,
                            const float* gy, float* dh, float* dc, float* g_out,
                            Py_ssize_t H) noexcept nogil
cdef void gru_cell_f32(float* a, const float* gh, const float* bi, const float* bh,
                       const float* hp, float* ghn, float* hn, float* y,
                       Py_ssize_t H) noexcept nogil
cdef void gru_cell_bwd_f32(const float* a, const float* ghn, const float* hp,
                           const float* gy, float* dh, float* gi, float* gh,
                           Py_ssize_t H) noexcept nogil
cdef void rnn_tanh_f32(const float* a, const float* b, float* hn, float* y,
                       Py_ssize_t H) noexcept nogil
cdef void rnn_tanh_bwd_f32(const float* h, const float* gy, float* dh, float* g,
                           Py_ssize_t H) noexcept nogil
