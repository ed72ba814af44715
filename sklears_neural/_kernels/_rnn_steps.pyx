"""The time loops of the recurrent kernels (vanilla RNN, LSTM, GRU), nogil.

Called by the public entry points of ``_rnn`` (argument checks, buffers)
through the typed ``*_mv`` functions at the end of this module.

Forward: the input projection of all T steps is ONE GEMM
(x (T*N, F) @ W_ih^T, written straight into the gate buffer that becomes
the workspace); then per step one recurrent GEMM (h_{t-1} @ W_hh^T, with
W_hh^T a transposed copy made once per call, so that no step repacks it:
added into that step's gate rows for the LSTM and the RNN, into a scratch
for the GRU, whose n gate needs W_hn h on its own) and one fused pass that
adds the biases, applies the gate nonlinearities in place and writes the
new states and y[t].

Backward: per step one fused pass turns the incoming gradient (grad y[t] +
the carried grad h) into the gate gradients G[t] (and the carried grad c),
then one GEMM adds G[t] @ W_hh into the carried grad h. The weight
gradients are three GEMMs over the rows of G: grad x = G @ W_ih,
grad W_ih = G^T @ X, grad W_hh = G^T @ H_prev (the previous states are one
contiguous block of the workspace), and the bias gradient a column sum of
G (the GRU has two G's, w.r.t. the input and the recurrent projections,
which differ in the n gate). All three cells run these per chunk of steps
(about 512 rows of G, ``_rnn._BWD_CHUNK_ROWS``): G of a chunk is still in
cache for them, and the buffer is about 1 MB instead of T*N*4H floats
(6.5 MB for the LSTM at T=50, N=64, H=128: a fresh buffer that size, freed
after every call, made glibc give the heap back and page-fault it in again
on every call, about 5 ms of a 30 ms forward + backward; measured with perf
and GLIBC_TUNABLES).

The float32 cell passes of the LSTM, the GRU and the tanh RNN are C
(``src/skn_rnn_cells.h``, which says why), built in the three ``_loops``
builds and picked by ``_cpu``; float64 and the relu RNN run the Cython
cells below. LSTM forward cells (N=64, T=50, H=128): 1.9 ms AVX2, 1.0 ms
AVX-512 build on a Zen 5 core. Earlier measurements (1 thread, F=32,
forward + backward, load average ~2): LSTM 38.8 ms before the C cells and
chunks, 22.8 ms after (28.6 ms with the baseline cells); GRU 31-35 ms
before, 20.3-22.1 ms after; tanh RNN 6.8 ms before, 5.7-5.9 ms after.

Padded steps (``lengths``): the pass copies the state through and writes
y = 0; backward writes G = 0 for them and leaves the carried gradients of
those rows untouched. The carried grad h of an active row is set to 0 by
the pass before the GEMM adds G @ W_hh into it (beta = 1), so padded rows
keep theirs without a second buffer.

Threads (``Seq.n_threads``, resolved by ``_rnn``): the batch rows are
independent through time, so the time loop runs one block of rows per
thread, with its own recurrent GEMMs and cell passes, and no barrier until
the last step (of a chunk, backward). The input projection is split by
rows, a chunk's weight gradients by gate columns (grad x by rows): every
thread writes its own memory. The BLAS is held to one thread meanwhile.
"""

from cython.parallel cimport prange
from libc.string cimport memcpy, memset

cimport sklears_neural._kernels._loops as base
cimport sklears_neural._kernels._loops_avx2 as avx2
cimport sklears_neural._kernels._loops_avx512 as avx512
from sklears_neural._kernels._blas cimport gemm_rowmajor, gemm_rowmajor_shared_b
from sklears_neural._kernels._cpu cimport use_avx2, use_avx512
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport c_sigmoid, c_tanh


# ---------------------------------------------------------------------------
# Step bookkeeping (shared by the three cells)
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t _fwd_t(const Seq* s, Py_ssize_t k) noexcept nogil:
    """The time index of the forward's k-th step."""
    return s.T - 1 - k if s.reverse else k


cdef inline Py_ssize_t _prev(const Seq* s, Py_ssize_t t) noexcept nogil:
    """Index into hs of the state before step t (see the _xp module)."""
    return t + 1 if s.reverse else t


cdef inline Py_ssize_t _next(const Seq* s, Py_ssize_t t) noexcept nogil:
    return t if s.reverse else t + 1


cdef inline bint _active(const Seq* s, Py_ssize_t t, Py_ssize_t n) noexcept nogil:
    return s.lens == NULL or t < s.lens[n]


cdef void _carry_state(const floating* prev, floating* nxt, floating* y,
                       Py_ssize_t H) noexcept nogil:
    """A padded step: the state goes through unchanged, the output is 0."""
    memcpy(nxt, prev, H * sizeof(floating))
    memset(y, 0, H * sizeof(floating))


cdef inline Py_ssize_t _split(Py_ssize_t n, int part, int parts) noexcept nogil:
    """Start of block ``part`` of ``parts`` near-equal blocks of range(n)."""
    return n * part // parts


cdef void _col_sums(const floating* a, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t j0,
                    Py_ssize_t j1, double* acc) noexcept nogil:
    """acc[j] += sum over rows of a[r, j] for j0 <= j < j1 (a is (rows, cols))."""
    cdef Py_ssize_t r, j
    cdef const floating* row
    for r in range(rows):
        row = a + r * cols
        for j in range(j0, j1):
            acc[j] += row[j]


cdef void _input_projection(const Seq* s, int part, const floating* x,
                            const floating* w_ih, floating* out,
                            Py_ssize_t G) noexcept nogil:
    """Rows [r0, r1) of block ``part`` of out (T*N, G) = x @ W_ih^T."""
    cdef Py_ssize_t rows = s.T * s.N
    cdef Py_ssize_t r0 = _split(rows, part, s.n_threads)
    cdef Py_ssize_t r1 = _split(rows, part + 1, s.n_threads)
    if r1 > r0:
        gemm_rowmajor(False, True, <int> (r1 - r0), <int> G, <int> s.F, <floating> 1,
                      x + r0 * s.F, <int> s.F, w_ih, <int> s.F, <floating> 0,
                      out + r0 * G, <int> G)


cdef void _chunk_grads(const Seq* s, int part, const floating* gi, const floating* gh,
                       Py_ssize_t rows, Py_ssize_t G, const floating* w_ih,
                       const floating* x, const floating* hprev, floating* gx,
                       floating* gwi, floating* gwh, double* gbi, double* gbh,
                       floating beta) noexcept nogil:
    """Block ``part``'s share of one chunk's grad x, grad W_ih, grad W_hh and
    bias sums: the rows [r0, r1) of grad x, the gate columns [g0, g1) of the
    weight gradients and bias sums (so the blocks write disjoint memory).

    ``gi``/``gh``: the chunk's (rows, G) gate gradients on the input and the
    recurrent side (one buffer for LSTM and RNN, whose two biases get the
    same gradient: ``gbh`` is then NULL). ``x``, ``hprev`` and ``gx`` point at
    the chunk's first row; ``gx``/``gwi`` may be NULL (not wanted). ``beta``
    is 0 for the first chunk, which overwrites the weight gradients.
    """
    cdef Py_ssize_t F = s.F, H = s.H
    cdef Py_ssize_t r0 = _split(rows, part, s.n_threads)
    cdef Py_ssize_t r1 = _split(rows, part + 1, s.n_threads)
    cdef Py_ssize_t g0 = _split(G, part, s.n_threads)
    cdef Py_ssize_t g1 = _split(G, part + 1, s.n_threads)
    if gx != NULL and r1 > r0:
        gemm_rowmajor(False, False, <int> (r1 - r0), <int> F, <int> G, <floating> 1,
                      gi + r0 * G, <int> G, w_ih, <int> F, <floating> 0, gx + r0 * F, <int> F)
    if gwi != NULL and g1 > g0:
        gemm_rowmajor(True, False, <int> (g1 - g0), <int> F, <int> rows, <floating> 1,
                      gi + g0, <int> G, x, <int> F, beta, gwi + g0 * F, <int> F)
        gemm_rowmajor(True, False, <int> (g1 - g0), <int> H, <int> rows, <floating> 1,
                      gh + g0, <int> G, hprev, <int> H, beta, gwh + g0 * H, <int> H)
        _col_sums(gi, rows, G, g0, g1, gbi)
        if gbh != NULL:
            _col_sums(gh, rows, G, g0, g1, gbh)


cdef void _chunk_grads_all(const Seq* s, const floating* gi, const floating* gh,
                           Py_ssize_t rows, Py_ssize_t G, const floating* w_ih,
                           const floating* x, const floating* hprev, floating* gx,
                           floating* gwi, floating* gwh, double* gbi, double* gbh,
                           floating beta) noexcept nogil:
    """``_chunk_grads`` of every block, on the team of ``s.n_threads`` threads."""
    cdef int p
    if s.n_threads == 1:
        _chunk_grads(s, 0, gi, gh, rows, G, w_ih, x, hprev, gx, gwi, gwh, gbi, gbh, beta)
    else:
        for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
            _chunk_grads(s, p, gi, gh, rows, G, w_ih, x, hprev, gx, gwi, gwh, gbi, gbh,
                         beta)


cdef void _project_all(const Seq* s, const floating* x, const floating* w_ih,
                       floating* out, Py_ssize_t G) noexcept nogil:
    """``_input_projection`` of every block."""
    cdef int p
    if s.n_threads == 1:
        _input_projection(s, 0, x, w_ih, out, G)
    else:
        for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
            _input_projection(s, p, x, w_ih, out, G)


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------

cdef inline void _lstm_cell_any(floating* a, const floating* b, const floating* cp,
                            floating* cn, floating* hn, floating* y,
                            Py_ssize_t H) noexcept nogil:
    """a (4H,) pre-activations -> activations in place; new c, h and y."""
    cdef Py_ssize_t j
    cdef floating i, f, g, o, c, h
    for j in range(H):
        i = c_sigmoid(a[j] + b[j])
        f = c_sigmoid(a[H + j] + b[H + j])
        g = c_tanh(a[2 * H + j] + b[2 * H + j])
        o = c_sigmoid(a[3 * H + j] + b[3 * H + j])
        c = f * cp[j] + i * g
        h = o * c_tanh(c)
        a[j] = i
        a[H + j] = f
        a[2 * H + j] = g
        a[3 * H + j] = o
        cn[j] = c
        hn[j] = h
        y[j] = h


cdef inline void _lstm_cell(floating* a, const floating* b, const floating* cp,
                            floating* cn, floating* hn, floating* y, Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx512():
            avx512.lstm_cell_f32(a, b, cp, cn, hn, y, H)
        elif use_avx2():
            avx2.lstm_cell_f32(a, b, cp, cn, hn, y, H)
        else:
            base.lstm_cell_f32(a, b, cp, cn, hn, y, H)
    else:
        _lstm_cell_any(a, b, cp, cn, hn, y, H)


cdef void _lstm_steps(const Seq* s, int part, const floating* w_hh_t, const floating* b,
                      floating* gates, floating* hs, floating* cs,
                      floating* y) noexcept nogil:
    """The T steps of the batch rows of block ``part`` (rows are independent
    through time: one block per thread, no barrier until the end)."""
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H, G = 4 * s.H
    cdef Py_ssize_t n0 = _split(N, part, s.n_threads)
    cdef Py_ssize_t n1 = _split(N, part + 1, s.n_threads)
    cdef Py_ssize_t k, t, n
    cdef floating* a
    cdef floating* hp
    cdef floating* hn
    cdef floating* cp
    cdef floating* cn
    if n1 <= n0:
        return
    for k in range(T):
        t = _fwd_t(s, k)
        a = gates + t * N * G
        hp = hs + _prev(s, t) * NH
        hn = hs + _next(s, t) * NH
        cp = cs + _prev(s, t) * NH
        cn = cs + _next(s, t) * NH
        gemm_rowmajor_shared_b(False, False, <int> (n1 - n0), <int> G, <int> H, <floating> 1,
                      hp + n0 * H, <int> H, w_hh_t, <int> G, s.packed, <floating> 1, a + n0 * G,
                      <int> G)
        for n in range(n0, n1):
            if _active(s, t, n):
                _lstm_cell(a + n * G, b, cp + n * H, cn + n * H, hn + n * H,
                           y + (t * N + n) * H, H)
            else:
                _carry_state(hp + n * H, hn + n * H, y + (t * N + n) * H, H)
                memcpy(cn + n * H, cp + n * H, H * sizeof(floating))


cdef void _lstm_forward(const Seq* s, const floating* x, const floating* w_ih,
                        const floating* w_hh_t, const floating* b, floating* gates,
                        floating* hs, floating* cs, floating* y) noexcept nogil:
    cdef int p
    _project_all(s, x, w_ih, gates, 4 * s.H)
    if s.n_threads == 1:
        _lstm_steps(s, 0, w_hh_t, b, gates, hs, cs, y)
    else:
        for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
            _lstm_steps(s, p, w_hh_t, b, gates, hs, cs, y)


cdef inline void _lstm_cell_backward_any(const floating* a, const floating* cp,
                                     const floating* cn, const floating* gy,
                                     floating* dh, floating* dc, floating* g_out,
                                     Py_ssize_t H) noexcept nogil:
    """Gate gradients of one row; dc <- dc_t * f, dh <- 0 (the GEMM adds)."""
    cdef Py_ssize_t j
    cdef floating i, f, g, o, tc, d_h, d_c
    for j in range(H):
        i = a[j]
        f = a[H + j]
        g = a[2 * H + j]
        o = a[3 * H + j]
        tc = c_tanh(cn[j])
        d_h = dh[j] + gy[j]
        d_c = dc[j] + d_h * o * (1 - tc * tc)
        g_out[j] = d_c * g * i * (1 - i)
        g_out[H + j] = d_c * cp[j] * f * (1 - f)
        g_out[2 * H + j] = d_c * i * (1 - g * g)
        g_out[3 * H + j] = d_h * tc * o * (1 - o)
        dc[j] = d_c * f
        dh[j] = 0


cdef inline void _lstm_cell_backward(const floating* a, const floating* cp,
                                     const floating* cn, const floating* gy,
                                     floating* dh, floating* dc, floating* g_out,
                                     Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx512():
            avx512.lstm_cell_bwd_f32(a, cp, cn, gy, dh, dc, g_out, H)
        elif use_avx2():
            avx2.lstm_cell_bwd_f32(a, cp, cn, gy, dh, dc, g_out, H)
        else:
            base.lstm_cell_bwd_f32(a, cp, cn, gy, dh, dc, g_out, H)
    else:
        _lstm_cell_backward_any(a, cp, cn, gy, dh, dc, g_out, H)


cdef void _lstm_backward_steps(const Seq* s, int part, Py_ssize_t k_hi, Py_ssize_t k_lo,
                               Py_ssize_t t_lo, const floating* gy, const floating* zrow,
                               const floating* w_hh, const floating* gates,
                               const floating* cs, floating* Gc, floating* dh,
                               floating* dc, bint need_state) noexcept nogil:
    """Steps k_hi down to k_lo for the batch rows of block ``part``."""
    cdef Py_ssize_t N = s.N, H = s.H, NH = s.N * s.H, G = 4 * s.H
    cdef Py_ssize_t n0 = _split(N, part, s.n_threads)
    cdef Py_ssize_t n1 = _split(N, part + 1, s.n_threads)
    cdef Py_ssize_t k, t, n
    cdef const floating* gyr
    cdef floating* grow
    if n1 <= n0:
        return
    for k in range(k_hi, k_lo - 1, -1):
        t = _fwd_t(s, k)
        grow = Gc + (t - t_lo) * N * G
        for n in range(n0, n1):
            if _active(s, t, n):
                gyr = gy + (t * N + n) * H if gy != NULL else zrow
                _lstm_cell_backward(gates + (t * N + n) * G,
                                    cs + _prev(s, t) * NH + n * H,
                                    cs + _next(s, t) * NH + n * H, gyr, dh + n * H,
                                    dc + n * H, grow + n * G, H)
            else:
                memset(grow + n * G, 0, G * sizeof(floating))
        if k > 0 or need_state:
            gemm_rowmajor_shared_b(False, False, <int> (n1 - n0), <int> H, <int> G, <floating> 1,
                          grow + n0 * G, <int> G, w_hh, <int> H, s.packed, <floating> 1,
                          dh + n0 * H, <int> H)


cdef void _lstm_backward(const Seq* s, const floating* gy, const floating* zrow,
                         const floating* w_hh, const floating* gates,
                         const floating* cs, const floating* x, const floating* w_ih,
                         const floating* hprev, Py_ssize_t chunk, floating* Gc,
                         floating* dh, floating* dc, bint need_state, floating* gx,
                         floating* gwi, floating* gwh, double* gb) noexcept nogil:
    """Backward through time in chunks of ``chunk`` steps.

    The gate gradients of a chunk's steps go to ``Gc`` ((chunk * N, G), rows
    in time order); once the chunk is done, its share of the weight
    gradients is three GEMMs over those rows (gx = Gc @ W_ih,
    gwi += Gc^T @ X, gwh += Gc^T @ H_prev) and a column sum (gb), while Gc
    is still in cache. ``hprev`` is the block of previous states (row t:
    the state before step t). gx / gwi (with gwh, gb) NULL: not wanted.
    With several threads, the steps of a chunk run one block of batch rows
    per thread, then the chunk's GEMMs split their rows or gate columns.
    """
    cdef Py_ssize_t T = s.T, N = s.N, NH = s.N * s.H, G = 4 * s.H
    cdef Py_ssize_t F = s.F
    cdef Py_ssize_t k_hi, k_lo, t_lo, rows
    cdef int p
    cdef floating beta = 0
    k_hi = T - 1
    while k_hi >= 0:
        k_lo = k_hi - chunk + 1 if k_hi - chunk + 1 > 0 else 0
        t_lo = T - 1 - k_hi if s.reverse else k_lo
        rows = (k_hi - k_lo + 1) * N
        if s.n_threads == 1:
            _lstm_backward_steps(s, 0, k_hi, k_lo, t_lo, gy, zrow, w_hh, gates, cs, Gc, dh,
                                 dc, need_state)
        else:
            for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
                _lstm_backward_steps(s, p, k_hi, k_lo, t_lo, gy, zrow, w_hh, gates, cs, Gc,
                                     dh, dc, need_state)
        _chunk_grads_all(s, Gc, Gc, rows, G, w_ih, x + t_lo * N * F, hprev + t_lo * NH,
                         gx + t_lo * N * F if gx != NULL else NULL, gwi, gwh, gb, NULL, beta)
        beta = 1
        k_hi = k_lo - 1


# ---------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------

cdef inline void _gru_cell_any(floating* a, const floating* gh, const floating* bi,
                           const floating* bh, const floating* hp, floating* ghn,
                           floating* hn, floating* y, Py_ssize_t H) noexcept nogil:
    """a (3H,) input projections -> (r, z, n) in place; ghn, new h and y."""
    cdef Py_ssize_t j
    cdef floating r, z, q, nn, h
    for j in range(H):
        r = c_sigmoid(a[j] + bi[j] + gh[j] + bh[j])
        z = c_sigmoid(a[H + j] + bi[H + j] + gh[H + j] + bh[H + j])
        q = gh[2 * H + j] + bh[2 * H + j]
        nn = c_tanh(a[2 * H + j] + bi[2 * H + j] + r * q)
        h = (1 - z) * nn + z * hp[j]
        a[j] = r
        a[H + j] = z
        a[2 * H + j] = nn
        ghn[j] = q
        hn[j] = h
        y[j] = h


cdef inline void _gru_cell(floating* a, const floating* gh, const floating* bi,
                           const floating* bh, const floating* hp, floating* ghn,
                           floating* hn, floating* y, Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx512():
            avx512.gru_cell_f32(a, gh, bi, bh, hp, ghn, hn, y, H)
        elif use_avx2():
            avx2.gru_cell_f32(a, gh, bi, bh, hp, ghn, hn, y, H)
        else:
            base.gru_cell_f32(a, gh, bi, bh, hp, ghn, hn, y, H)
    else:
        _gru_cell_any(a, gh, bi, bh, hp, ghn, hn, y, H)


cdef void _gru_steps(const Seq* s, int part, const floating* w_hh_t, const floating* bi,
                     const floating* bh, floating* gates, floating* ghn, floating* hs,
                     floating* y, floating* scratch) noexcept nogil:
    """The T steps of the batch rows of block ``part``; ``scratch`` (N, 3H)
    holds each step's recurrent projections (rows of the block only)."""
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H, G = 3 * s.H
    cdef Py_ssize_t n0 = _split(N, part, s.n_threads)
    cdef Py_ssize_t n1 = _split(N, part + 1, s.n_threads)
    cdef Py_ssize_t k, t, n
    cdef floating* hp
    cdef floating* hn
    if n1 <= n0:
        return
    for k in range(T):
        t = _fwd_t(s, k)
        hp = hs + _prev(s, t) * NH
        hn = hs + _next(s, t) * NH
        gemm_rowmajor_shared_b(False, False, <int> (n1 - n0), <int> G, <int> H, <floating> 1,
                      hp + n0 * H, <int> H, w_hh_t, <int> G, s.packed, <floating> 0,
                      scratch + n0 * G, <int> G)
        for n in range(n0, n1):
            if _active(s, t, n):
                _gru_cell(gates + (t * N + n) * G, scratch + n * G, bi, bh, hp + n * H,
                          ghn + (t * N + n) * H, hn + n * H, y + (t * N + n) * H, H)
            else:
                _carry_state(hp + n * H, hn + n * H, y + (t * N + n) * H, H)


cdef void _gru_forward(const Seq* s, const floating* x, const floating* w_ih,
                       const floating* w_hh_t, const floating* bi, const floating* bh,
                       floating* gates, floating* ghn, floating* hs, floating* y,
                       floating* scratch) noexcept nogil:
    cdef int p
    _project_all(s, x, w_ih, gates, 3 * s.H)
    if s.n_threads == 1:
        _gru_steps(s, 0, w_hh_t, bi, bh, gates, ghn, hs, y, scratch)
    else:
        for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
            _gru_steps(s, p, w_hh_t, bi, bh, gates, ghn, hs, y, scratch)


cdef inline void _gru_cell_backward_any(const floating* a, const floating* ghn,
                                    const floating* hp, const floating* gy,
                                    floating* dh, floating* gi, floating* gh,
                                    Py_ssize_t H) noexcept nogil:
    """Gate gradients of one row; dh <- dh_t * z (the GEMM adds the rest)."""
    cdef Py_ssize_t j
    cdef floating r, z, nn, d_h, dn, dz, dr
    for j in range(H):
        r = a[j]
        z = a[H + j]
        nn = a[2 * H + j]
        d_h = dh[j] + gy[j]
        dn = d_h * (1 - z) * (1 - nn * nn)
        dz = d_h * (hp[j] - nn) * z * (1 - z)
        dr = dn * ghn[j] * r * (1 - r)
        gi[j] = dr
        gi[H + j] = dz
        gi[2 * H + j] = dn
        gh[j] = dr
        gh[H + j] = dz
        gh[2 * H + j] = dn * r
        dh[j] = d_h * z


cdef inline void _gru_cell_backward(const floating* a, const floating* ghn,
                                    const floating* hp, const floating* gy,
                                    floating* dh, floating* gi, floating* gh,
                                    Py_ssize_t H) noexcept nogil:
    if floating is float:
        if use_avx512():
            avx512.gru_cell_bwd_f32(a, ghn, hp, gy, dh, gi, gh, H)
        elif use_avx2():
            avx2.gru_cell_bwd_f32(a, ghn, hp, gy, dh, gi, gh, H)
        else:
            base.gru_cell_bwd_f32(a, ghn, hp, gy, dh, gi, gh, H)
    else:
        _gru_cell_backward_any(a, ghn, hp, gy, dh, gi, gh, H)


cdef void _gru_backward_steps(const Seq* s, int part, Py_ssize_t k_hi, Py_ssize_t k_lo,
                              Py_ssize_t t_lo, const floating* gy, const floating* zrow,
                              const floating* w_hh, const floating* gates,
                              const floating* ghn, const floating* hprev, floating* Gi,
                              floating* Gh, floating* dh, bint need_state) noexcept nogil:
    """Steps k_hi down to k_lo for the batch rows of block ``part``."""
    cdef Py_ssize_t N = s.N, H = s.H, G = 3 * s.H
    cdef Py_ssize_t n0 = _split(N, part, s.n_threads)
    cdef Py_ssize_t n1 = _split(N, part + 1, s.n_threads)
    cdef Py_ssize_t k, t, n, row, off
    cdef const floating* gyr
    if n1 <= n0:
        return
    for k in range(k_hi, k_lo - 1, -1):
        t = _fwd_t(s, k)
        off = (t - t_lo) * N * G
        for n in range(n0, n1):
            row = t * N + n
            if _active(s, t, n):
                gyr = gy + row * H if gy != NULL else zrow
                _gru_cell_backward(gates + row * G, ghn + row * H, hprev + row * H, gyr,
                                   dh + n * H, Gi + off + n * G, Gh + off + n * G, H)
            else:
                memset(Gi + off + n * G, 0, G * sizeof(floating))
                memset(Gh + off + n * G, 0, G * sizeof(floating))
        if k > 0 or need_state:
            gemm_rowmajor_shared_b(False, False, <int> (n1 - n0), <int> H, <int> G, <floating> 1,
                          Gh + off + n0 * G, <int> G, w_hh, <int> H, s.packed, <floating> 1,
                          dh + n0 * H, <int> H)


cdef void _gru_backward(const Seq* s, const floating* gy, const floating* zrow,
                        const floating* w_hh, const floating* gates,
                        const floating* ghn, const floating* x, const floating* w_ih,
                        const floating* hprev, Py_ssize_t chunk, floating* Gi,
                        floating* Gh, floating* dh, bint need_state, floating* gx,
                        floating* gwi, floating* gwh, double* gbi,
                        double* gbh) noexcept nogil:
    """Backward through time in chunks of ``chunk`` steps, as the LSTM's.

    A chunk's gate gradients go to ``Gi`` (w.r.t. the input projections) and
    ``Gh`` (w.r.t. the recurrent ones; they differ in the n gate), both
    ((chunk * N, 3H), rows in time order); then gx = Gi @ W_ih,
    gwi += Gi^T @ X, gwh += Gh^T @ H_prev and the column sums of Gi (gbi) and
    Gh (gbh) over the chunk's rows. gx / gwi (with gwh, gbi, gbh) NULL: not
    wanted.
    """
    cdef Py_ssize_t T = s.T, N = s.N, NH = s.N * s.H, G = 3 * s.H
    cdef Py_ssize_t F = s.F
    cdef Py_ssize_t k_hi, k_lo, t_lo, rows
    cdef int p
    cdef floating beta = 0
    k_hi = T - 1
    while k_hi >= 0:
        k_lo = k_hi - chunk + 1 if k_hi - chunk + 1 > 0 else 0
        t_lo = T - 1 - k_hi if s.reverse else k_lo
        rows = (k_hi - k_lo + 1) * N
        if s.n_threads == 1:
            _gru_backward_steps(s, 0, k_hi, k_lo, t_lo, gy, zrow, w_hh, gates, ghn, hprev,
                                Gi, Gh, dh, need_state)
        else:
            for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
                _gru_backward_steps(s, p, k_hi, k_lo, t_lo, gy, zrow, w_hh, gates, ghn,
                                    hprev, Gi, Gh, dh, need_state)
        _chunk_grads_all(s, Gi, Gh, rows, G, w_ih, x + t_lo * N * F, hprev + t_lo * NH,
                         gx + t_lo * N * F if gx != NULL else NULL, gwi, gwh, gbi, gbh, beta)
        beta = 1
        k_hi = k_lo - 1


# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------

cdef inline void _rnn_cell(const floating* a, const floating* b, floating* hn,
                           floating* y, Py_ssize_t H, bint relu) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating v, h
    if relu:
        for j in range(H):
            v = a[j] + b[j]
            h = v if v > 0 else 0
            hn[j] = h
            y[j] = h
    elif floating is float:
        if use_avx512():
            avx512.rnn_tanh_f32(a, b, hn, y, H)
        elif use_avx2():
            avx2.rnn_tanh_f32(a, b, hn, y, H)
        else:
            base.rnn_tanh_f32(a, b, hn, y, H)
    else:
        for j in range(H):
            h = c_tanh(a[j] + b[j])
            hn[j] = h
            y[j] = h


cdef void _rnn_steps(const Seq* s, int part, const floating* w_hh_t, const floating* b,
                     floating* pre, floating* hs, floating* y, bint relu) noexcept nogil:
    """The T steps of the batch rows of block ``part``."""
    cdef Py_ssize_t T = s.T, N = s.N, H = s.H, NH = s.N * s.H
    cdef Py_ssize_t n0 = _split(N, part, s.n_threads)
    cdef Py_ssize_t n1 = _split(N, part + 1, s.n_threads)
    cdef Py_ssize_t k, t, n
    cdef floating* a
    cdef floating* hp
    cdef floating* hn
    if n1 <= n0:
        return
    for k in range(T):
        t = _fwd_t(s, k)
        a = pre + t * NH
        hp = hs + _prev(s, t) * NH
        hn = hs + _next(s, t) * NH
        gemm_rowmajor_shared_b(False, False, <int> (n1 - n0), <int> H, <int> H, <floating> 1,
                      hp + n0 * H, <int> H, w_hh_t, <int> H, s.packed, <floating> 1, a + n0 * H,
                      <int> H)
        for n in range(n0, n1):
            if _active(s, t, n):
                _rnn_cell(a + n * H, b, hn + n * H, y + (t * N + n) * H, H, relu)
            else:
                _carry_state(hp + n * H, hn + n * H, y + (t * N + n) * H, H)


cdef void _rnn_forward(const Seq* s, const floating* x, const floating* w_ih,
                       const floating* w_hh_t, const floating* b, floating* pre,
                       floating* hs, floating* y, bint relu) noexcept nogil:
    cdef int p
    _project_all(s, x, w_ih, pre, s.H)
    if s.n_threads == 1:
        _rnn_steps(s, 0, w_hh_t, b, pre, hs, y, relu)
    else:
        for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
            _rnn_steps(s, p, w_hh_t, b, pre, hs, y, relu)


cdef inline void _rnn_cell_backward(const floating* h, const floating* gy,
                                    floating* dh, floating* g, Py_ssize_t H,
                                    bint relu) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating d
    if relu:
        for j in range(H):
            d = dh[j] + gy[j]
            g[j] = d if h[j] > 0 else 0
            dh[j] = 0
    elif floating is float:
        if use_avx512():
            avx512.rnn_tanh_bwd_f32(h, gy, dh, g, H)
        elif use_avx2():
            avx2.rnn_tanh_bwd_f32(h, gy, dh, g, H)
        else:
            base.rnn_tanh_bwd_f32(h, gy, dh, g, H)
    else:
        for j in range(H):
            d = dh[j] + gy[j]
            g[j] = d * (1 - h[j] * h[j])
            dh[j] = 0


cdef void _rnn_backward_steps(const Seq* s, int part, Py_ssize_t k_hi, Py_ssize_t k_lo,
                              Py_ssize_t t_lo, const floating* gy, const floating* zrow,
                              const floating* w_hh, const floating* hs, floating* Gc,
                              floating* dh, bint need_state, bint relu) noexcept nogil:
    """Steps k_hi down to k_lo for the batch rows of block ``part``."""
    cdef Py_ssize_t N = s.N, H = s.H, NH = s.N * s.H
    cdef Py_ssize_t n0 = _split(N, part, s.n_threads)
    cdef Py_ssize_t n1 = _split(N, part + 1, s.n_threads)
    cdef Py_ssize_t k, t, n, row
    cdef const floating* gyr
    cdef floating* grow
    if n1 <= n0:
        return
    for k in range(k_hi, k_lo - 1, -1):
        t = _fwd_t(s, k)
        grow = Gc + (t - t_lo) * NH
        for n in range(n0, n1):
            row = t * N + n
            if _active(s, t, n):
                gyr = gy + row * H if gy != NULL else zrow
                _rnn_cell_backward(hs + _next(s, t) * NH + n * H, gyr, dh + n * H,
                                   grow + n * H, H, relu)
            else:
                memset(grow + n * H, 0, H * sizeof(floating))
        if k > 0 or need_state:
            gemm_rowmajor_shared_b(False, False, <int> (n1 - n0), <int> H, <int> H, <floating> 1,
                          grow + n0 * H, <int> H, w_hh, <int> H, s.packed, <floating> 1,
                          dh + n0 * H, <int> H)


cdef void _rnn_backward(const Seq* s, const floating* gy, const floating* zrow,
                        const floating* w_hh, const floating* hs, const floating* x,
                        const floating* w_ih, const floating* hprev, Py_ssize_t chunk,
                        floating* Gc, floating* dh, bint need_state, bint relu,
                        floating* gx, floating* gwi, floating* gwh,
                        double* gb) noexcept nogil:
    """Backward through time in chunks of ``chunk`` steps, as the LSTM's
    (``Gc`` is (chunk * N, H))."""
    cdef Py_ssize_t T = s.T, N = s.N, NH = s.N * s.H
    cdef Py_ssize_t F = s.F
    cdef Py_ssize_t k_hi, k_lo, t_lo, rows
    cdef int p
    cdef floating beta = 0
    k_hi = T - 1
    while k_hi >= 0:
        k_lo = k_hi - chunk + 1 if k_hi - chunk + 1 > 0 else 0
        t_lo = T - 1 - k_hi if s.reverse else k_lo
        rows = (k_hi - k_lo + 1) * N
        if s.n_threads == 1:
            _rnn_backward_steps(s, 0, k_hi, k_lo, t_lo, gy, zrow, w_hh, hs, Gc, dh,
                                need_state, relu)
        else:
            for p in prange(s.n_threads, num_threads=s.n_threads, schedule="static"):
                _rnn_backward_steps(s, p, k_hi, k_lo, t_lo, gy, zrow, w_hh, hs, Gc, dh,
                                    need_state, relu)
        _chunk_grads_all(s, Gc, Gc, rows, s.H, w_ih, x + t_lo * N * F, hprev + t_lo * NH,
                         gx + t_lo * N * F if gx != NULL else NULL, gwi, gwh, gb, NULL, beta)
        beta = 1
        k_hi = k_lo - 1


# ---------------------------------------------------------------------------
# Typed entry points (fused over float / double), called with the GIL held
# ---------------------------------------------------------------------------

cdef void _lstm_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                           const floating[::1] w_hh_t, const floating[::1] b,
                           floating[::1] gates, floating[::1] hs, floating[::1] cs,
                           floating[::1] y):
    with nogil:
        _lstm_forward(s, &x[0], &w_ih[0], &w_hh_t[0], &b[0], &gates[0], &hs[0],
                      &cs[0], &y[0])


cdef void _lstm_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                            const floating[::1] zrow, const floating[::1] w_hh,
                            const floating[::1] gates, const floating[::1] cs,
                            const floating[::1] x, const floating[::1] w_ih,
                            const floating[::1] hprev, Py_ssize_t chunk,
                            floating[::1] Gc, floating[::1] dh, floating[::1] dc,
                            bint need_state, floating[::1] gx, floating[::1] gwi,
                            floating[::1] gwh, double[::1] gb, bint need_input,
                            bint need_weights):
    with nogil:
        _lstm_backward(s, &gy[0] if has_gy else NULL, &zrow[0], &w_hh[0], &gates[0],
                       &cs[0], &x[0], &w_ih[0], &hprev[0], chunk, &Gc[0], &dh[0],
                       &dc[0], need_state, &gx[0] if need_input else NULL,
                       &gwi[0] if need_weights else NULL,
                       &gwh[0] if need_weights else NULL,
                       &gb[0] if need_weights else NULL)


cdef void _gru_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                          const floating[::1] w_hh_t, const floating[::1] bi,
                          const floating[::1] bh, floating[::1] gates,
                          floating[::1] ghn, floating[::1] hs, floating[::1] y,
                          floating[::1] scratch):
    with nogil:
        _gru_forward(s, &x[0], &w_ih[0], &w_hh_t[0], &bi[0], &bh[0], &gates[0],
                     &ghn[0], &hs[0], &y[0], &scratch[0])


cdef void _gru_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                           const floating[::1] zrow, const floating[::1] w_hh,
                           const floating[::1] gates, const floating[::1] ghn,
                           const floating[::1] x, const floating[::1] w_ih,
                           const floating[::1] hprev, Py_ssize_t chunk,
                           floating[::1] Gi, floating[::1] Gh, floating[::1] dh,
                           bint need_state, floating[::1] gx, floating[::1] gwi,
                           floating[::1] gwh, double[::1] gbi, double[::1] gbh,
                           bint need_input, bint need_weights):
    with nogil:
        _gru_backward(s, &gy[0] if has_gy else NULL, &zrow[0], &w_hh[0], &gates[0],
                      &ghn[0], &x[0], &w_ih[0], &hprev[0], chunk, &Gi[0], &Gh[0],
                      &dh[0], need_state, &gx[0] if need_input else NULL,
                      &gwi[0] if need_weights else NULL,
                      &gwh[0] if need_weights else NULL,
                      &gbi[0] if need_weights else NULL,
                      &gbh[0] if need_weights else NULL)


cdef void _rnn_forward_mv(Seq* s, const floating[::1] x, const floating[::1] w_ih,
                          const floating[::1] w_hh_t, const floating[::1] b,
                          floating[::1] pre, floating[::1] hs, floating[::1] y,
                          bint relu):
    with nogil:
        _rnn_forward(s, &x[0], &w_ih[0], &w_hh_t[0], &b[0], &pre[0], &hs[0], &y[0], relu)


cdef void _rnn_backward_mv(Seq* s, const floating[::1] gy, bint has_gy,
                           const floating[::1] zrow, const floating[::1] w_hh,
                           const floating[::1] hs, const floating[::1] x,
                           const floating[::1] w_ih, const floating[::1] hprev,
                           Py_ssize_t chunk, floating[::1] Gc, floating[::1] dh,
                           bint need_state, bint relu, floating[::1] gx,
                           floating[::1] gwi, floating[::1] gwh, double[::1] gb,
                           bint need_input, bint need_weights):
    with nogil:
        _rnn_backward(s, &gy[0] if has_gy else NULL, &zrow[0], &w_hh[0], &hs[0], &x[0],
                      &w_ih[0], &hprev[0], chunk, &Gc[0], &dh[0], need_state, relu,
                      &gx[0] if need_input else NULL,
                      &gwi[0] if need_weights else NULL,
                      &gwh[0] if need_weights else NULL,
                      &gb[0] if need_weights else NULL)
