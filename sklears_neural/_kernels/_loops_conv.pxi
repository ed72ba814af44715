# The direct (depthwise) convolution's loops, part of the ``_loops`` /
# ``_loops_avx2`` pair (included by ``_loops.pxi``, compiled once per build);
# ``_conv_direct`` sets them up and calls one build or the other. They live
# here, in the module that also compiles the C of ``src/skn_depthwise.h``
# (float32), so that the plane loops below call the short C loops (several
# per plane of a few hundred values) directly or inline them: called across
# modules, through a function pointer each, they made the depthwise forward
# + backward 8-16 % slower (measured).
#
# Unit strides (``*_flat``): plane by plane in memory order, all taps in one
# register-blocked pass (``_corr``) over the flat run of the padded plane;
# the input gradient is the same correlation with flipped taps written
# straight into gx, the weight gradient a dot product per tap
# (``_tap_dots``), the bias gradient a sum of each gy plane. Other strides
# (``*_group``): per-tap loops, channel by channel. float32 goes to the C
# loops, float64 runs the Cython ones below.

from libc.string cimport memcpy, memset

from sklears_neural._kernels._conv_geom cimport Geom, Padded, _sum
from sklears_neural._kernels._fused cimport floating


cdef extern from "skn_depthwise.h":
    # src/skn_depthwise.h
    void skn_dw_corr_f32(float* y, const float* src, Py_ssize_t n, const float* wt,
                         const Py_ssize_t* off, Py_ssize_t kk, int accumulate,
                         float bias) nogil
    void skn_dw_dots_f32(const float* g, const float* src, Py_ssize_t n,
                         const Py_ssize_t* off, Py_ssize_t kk, double* out) nogil
    void skn_dw_rows_f32(float* dst, Py_ssize_t ds, const float* src, Py_ssize_t ss,
                         Py_ssize_t rows, Py_ssize_t cols, int add) nogil
    double skn_dw_sum_f32(const float* a, Py_ssize_t n) nogil


cdef inline void _copy_rows(floating* dst, Py_ssize_t ds, const floating* src,
                            Py_ssize_t ss, Py_ssize_t rows, Py_ssize_t cols,
                            bint add) noexcept nogil:
    """dst[r * ds + c] = src[r * ss + c] (+= when ``add``), r < rows, c < cols;
    the rows do not overlap."""
    cdef Py_ssize_t r, c
    if floating is float:
        skn_dw_rows_f32(dst, ds, src, ss, rows, cols, add)
    elif add:
        for r in range(rows):
            for c in range(cols):
                dst[r * ds + c] += src[r * ss + c]
    else:
        for r in range(rows):
            memcpy(dst + r * ds, src + r * ss, cols * sizeof(floating))


cdef inline double _plane_sum(const floating* a, Py_ssize_t n) noexcept nogil:
    """sum of a[i], i < n, in double."""
    if floating is float:
        return skn_dw_sum_f32(a, n)
    else:
        return _sum(a, n)


cdef void _pad_channel(const floating* x, floating* xp, const Geom* g,
                       const Padded* q) noexcept nogil:
    """The interior of xp = x; its border is zeroed once per call by the
    driver and never written."""
    cdef Py_ssize_t d
    for d in range(g.D):
        _copy_rows(xp + ((d + g.pd) * q.Hp + g.ph) * q.Wp + g.pw, q.Wp,
                   x + d * g.H * g.W, g.W, g.H, g.W, False)


cdef void _unpad_add_channel(const floating* xp, floating* x, const Geom* g,
                             const Padded* q) noexcept nogil:
    cdef Py_ssize_t d
    for d in range(g.D):
        _copy_rows(x + d * g.H * g.W, g.W,
                   xp + ((d + g.pd) * q.Hp + g.ph) * q.Wp + g.pw, q.Wp, g.H, g.W, True)


cdef inline Py_ssize_t _row_offset(const Geom* g, const Padded* q, Py_ssize_t od,
                                   Py_ssize_t oh) noexcept nogil:
    return (od * g.sd * q.Hp + oh * g.sh) * q.Wp


cdef void _correlate(floating* y, const floating* src, Py_ssize_t n,
                     const floating* wk, const Py_ssize_t* off,
                     Py_ssize_t kk) noexcept nogil:
    """y[i] += sum over taps t of wk[t] * src[i + off[t]], i < n (float64;
    float32 goes to ``skn_dw_corr_f32``,
    src/skn_depthwise.h).

    Four taps per pass over y: one load and store of y[i] for four products,
    instead of one per product."""
    cdef Py_ssize_t t = 0, m, i, j
    cdef floating v0, v1, v2, v3
    cdef const floating* p0
    cdef const floating* p1
    cdef const floating* p2
    cdef const floating* p3
    while t < kk:
        m = kk - t
        if m > 4:
            m = 4
        p0 = src + off[t]
        v0 = wk[t]
        if m == 1:
            for i in range(n):
                y[i] += v0 * p0[i]
        elif m == 2:
            p1 = src + off[t + 1]
            v1 = wk[t + 1]
            for i in range(n):
                y[i] += v0 * p0[i] + v1 * p1[i]
        elif m == 3:
            p1 = src + off[t + 1]
            v1 = wk[t + 1]
            p2 = src + off[t + 2]
            v2 = wk[t + 2]
            for i in range(n):
                y[i] += v0 * p0[i] + v1 * p1[i] + v2 * p2[i]
        else:
            p1 = src + off[t + 1]
            v1 = wk[t + 1]
            p2 = src + off[t + 2]
            v2 = wk[t + 2]
            p3 = src + off[t + 3]
            v3 = wk[t + 3]
            for i in range(n):
                y[i] += v0 * p0[i] + v1 * p1[i] + v2 * p2[i] + v3 * p3[i]
        t += m


cdef inline void _corr(floating* y, const floating* src, Py_ssize_t n,
                       const floating* wk, const Py_ssize_t* off, Py_ssize_t kk,
                       bint accumulate, floating bias) noexcept nogil:
    """y[i] = (y[i] if accumulate else bias) + sum over taps t of
    wk[t] * src[i + off[t]], i < n."""
    cdef Py_ssize_t i
    if floating is float:
        skn_dw_corr_f32(y, src, n, wk, off, kk, accumulate, bias)
    else:
        if not accumulate:
            for i in range(n):
                y[i] = bias
        _correlate(y, src, n, wk, off, kk)


cdef enum:
    DOT_LANES = 8


cdef inline double _dot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    """sum of a[i] * b[i], i < n, in DOT_LANES independent lanes (a running
    scalar sum would not vectorise without -ffast-math)."""
    cdef floating acc[DOT_LANES]
    cdef Py_ssize_t i = 0, k
    cdef double s = 0
    for k in range(DOT_LANES):
        acc[k] = 0
    while i + DOT_LANES <= n:
        for k in range(DOT_LANES):
            acc[k] += a[i + k] * b[i + k]
        i += DOT_LANES
    while i < n:
        s += a[i] * b[i]
        i += 1
    for k in range(DOT_LANES):
        s += acc[k]
    return s


cdef inline void _tap_dots(const floating* gyw, const floating* src, Py_ssize_t n,
                           const Py_ssize_t* off, Py_ssize_t kk,
                           double* out) noexcept nogil:
    """out[t] += sum over i < n of gyw[i] * src[i + off[t]], for every tap t."""
    cdef Py_ssize_t t
    if floating is float:
        skn_dw_dots_f32(gyw, src, n, off, kk, out)
    else:
        for t in range(kk):
            out[t] += _dot(gyw, src + off[t], n)


cdef void direct_forward_flat(Py_ssize_t N, const floating* x, const floating* w,
                               const floating* b, floating* y, floating* xpad,
                               floating* yw, const Geom* g, const Padded* q) noexcept nogil:
    """y = conv(x) (+ b) with unit strides: per plane, one pass over all taps
    (``_corr``) into the flat run ``yw``, whose rows are then copied out.
    Planes go in memory order (sample by sample): the hardware prefetcher
    follows that, not the channel-major order that jumped C planes at a
    time (this pass is bound by memory, not arithmetic)."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t n, ci, j, co, od
    cdef const floating* xs
    cdef floating* yo
    for n in range(N):
        for ci in range(g.C):
            xs = x + (n * g.C + ci) * DHW
            if q.padded:
                _pad_channel(xs, xpad, g, q)
                xs = xpad
            for j in range(q.per):
                co = ci * q.per + j
                yo = y + (n * g.c_out + co) * L
                _corr(yw, xs, q.Lw, w + co * q.kk, q.off, q.kk, False,
                      b[co] if b != NULL else 0)
                for od in range(g.OD):
                    _copy_rows(yo + od * g.OH * g.OW, g.OW, yw + od * q.Hp * q.Wp, q.Wp,
                               g.OH, g.OW, False)


cdef void direct_backward_flat(Py_ssize_t N, const floating* gy, const floating* x,
                                const floating* w, const floating* init, floating* gx,
                                double* gw_acc, double* gb_acc, floating* xpad,
                                floating* gxpad, floating* gyext, const Geom* g,
                                const Padded* q) noexcept nogil:
    """Gradients of ``direct_forward_flat``, plane by plane in memory order:
    gx = input gradient (+ init[ci] per channel when init; gx is written,
    not pre-filled) when gx, gw_acc[co * kk + t] += weight gradient when
    gw_acc, gb_acc[co] += the sums of gy when gb_acc (while gy is in cache).

    gy is laid out like the padded input, after a margin of M zeros (M = the
    last tap's offset) and with zeros in the junk columns (``gyext``, zeroed
    once per call by the driver; only the valid columns are ever written),
    so the input gradient is a correlation with the flipped taps (a gather,
    ``_corr``) over the interior [j0, j1) of the padded volume, and the
    weight gradient one dot product per tap over gy and the padded input
    (``_tap_dots``), summed in double per plane."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t M = q.off[q.kk - 1]
    cdef Py_ssize_t j0 = (g.pd * q.Hp + g.ph) * q.Wp + g.pw
    cdef Py_ssize_t j1 = ((g.pd + g.D - 1) * q.Hp + g.ph + g.H - 1) * q.Wp + g.pw + g.W
    cdef Py_ssize_t n, ci, j, co, od, d
    cdef const floating* xs = NULL
    cdef floating* gxo = NULL
    cdef floating* gxs = NULL
    cdef floating* gyw = gyext + M
    cdef const floating* gyo
    cdef floating iv
    for n in range(N):
        for ci in range(g.C):
            if gw_acc != NULL:
                xs = x + (n * g.C + ci) * DHW
                if q.padded:
                    _pad_channel(xs, xpad, g, q)
                    xs = xpad
            if gx != NULL:
                gxo = gx + (n * g.C + ci) * DHW
                gxs = gxpad if q.padded else gxo
            iv = init[ci] if init != NULL else 0
            for j in range(q.per):
                co = ci * q.per + j
                gyo = gy + (n * g.c_out + co) * L
                if gb_acc != NULL:
                    gb_acc[co] += _plane_sum(gyo, L)
                for od in range(g.OD):
                    _copy_rows(gyw + od * q.Hp * q.Wp, q.Wp, gyo + od * g.OH * g.OW, g.OW,
                               g.OH, g.OW, False)
                if gx != NULL:
                    # the first output channel writes [j0, j1) (from init),
                    # the second adds
                    _corr(gxs + j0, gyw + j0, j1 - j0, w + co * q.kk, q.noff, q.kk,
                          j > 0, iv)
                if gw_acc != NULL:
                    _tap_dots(gyw, xs, q.Lw, q.off, q.kk, gw_acc + co * q.kk)
            if gx != NULL and q.padded:
                for d in range(g.D):
                    _copy_rows(gxo + d * g.H * g.W, g.W,
                               gxpad + ((d + g.pd) * q.Hp + g.ph) * q.Wp + g.pw, q.Wp,
                               g.H, g.W, False)


cdef void direct_forward_group(Py_ssize_t ci, Py_ssize_t N, const floating* x,
                                const floating* w, const floating* b, floating* y,
                                floating* xpad, const Geom* g,
                                const Padded* q) noexcept nogil:
    """y[:, ci * per:(ci + 1) * per] = conv of input channel ci (+ b), any
    strides (the unit-stride case is ``direct_forward_flat``)."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t n, j, co, kd, kh, kw, od, oh, ow, i, t, off
    cdef const floating* xs
    cdef const floating* src
    cdef floating* yo
    cdef floating* yr
    cdef floating wv, bv
    for n in range(N):
        xs = x + (n * g.C + ci) * DHW
        if q.padded:
            _pad_channel(xs, xpad, g, q)
            xs = xpad
        for j in range(q.per):
            co = ci * q.per + j
            yo = y + (n * g.c_out + co) * L
            bv = b[co] if b != NULL else 0
            for i in range(L):
                yo[i] = bv
            t = 0
            for kd in range(g.KD):
                for kh in range(g.KH):
                    for kw in range(g.KW):
                        wv = w[co * q.kk + t]
                        off = q.off[t]
                        t += 1
                        for od in range(g.OD):
                            for oh in range(g.OH):
                                src = xs + _row_offset(g, q, od, oh) + off
                                yr = yo + (od * g.OH + oh) * g.OW
                                for ow in range(g.OW):
                                    yr[ow] += wv * src[ow * g.sw]


cdef void direct_backward_group(Py_ssize_t ci, Py_ssize_t N, const floating* gy,
                                 const floating* x, const floating* w, floating* gx,
                                 floating* gw, floating* xpad, floating* gxpad,
                                 floating* acc, const Geom* g,
                                 const Padded* q) noexcept nogil:
    """gx[:, ci] += input gradient (if gx) and gw[ci * per:(ci + 1) * per] +=
    weight gradient (if gw) of ``direct_forward_group`` (strided).

    The input gradient is scattered into the padded plane; the weight
    gradient is accumulated elementwise in ``acc`` (per * kk rows of Lw)
    over all samples and reduced once at the end."""
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t DHW = g.D * g.H * g.W
    cdef Py_ssize_t j0 = (g.pd * q.Hp + g.ph) * q.Wp + g.pw
    cdef Py_ssize_t j1 = ((g.pd + g.D - 1) * q.Hp + g.ph + g.H - 1) * q.Wp + g.pw + g.W
    cdef Py_ssize_t n, j, co, kd, kh, kw, od, oh, ow, t, off, r
    cdef const floating* xs = NULL
    cdef floating* gxs = NULL
    cdef const floating* gyo
    cdef const floating* gr
    cdef floating* a
    cdef floating wv
    if gw != NULL:
        memset(acc, 0, q.per * q.kk * q.Lw * sizeof(floating))
    for n in range(N):
        if gw != NULL:
            xs = x + (n * g.C + ci) * DHW
            if q.padded:
                _pad_channel(xs, xpad, g, q)
                xs = xpad
        if gx != NULL:
            gxs = gx + (n * g.C + ci) * DHW
            if q.padded:
                memset(gxpad + j0, 0, (j1 - j0) * sizeof(floating))
                gxs = gxpad
        for j in range(q.per):
            co = ci * q.per + j
            gyo = gy + (n * g.c_out + co) * L
            t = 0
            for kd in range(g.KD):
                for kh in range(g.KH):
                    for kw in range(g.KW):
                        off = q.off[t]
                        a = acc + (j * q.kk + t) * q.Lw
                        wv = w[co * q.kk + t] if gx != NULL else 0
                        t += 1
                        for od in range(g.OD):
                            for oh in range(g.OH):
                                r = _row_offset(g, q, od, oh) + off
                                gr = gyo + (od * g.OH + oh) * g.OW
                                if gw != NULL:
                                    for ow in range(g.OW):
                                        a[ow] += gr[ow] * xs[r + ow * g.sw]
                                if gx != NULL:
                                    for ow in range(g.OW):
                                        gxs[r + ow * g.sw] += wv * gr[ow]
        if gx != NULL and q.padded:
            _unpad_add_channel(gxpad, gx + (n * g.C + ci) * DHW, g, q)
    if gw != NULL:
        for j in range(q.per):
            co = ci * q.per + j
            for t in range(q.kk):
                gw[co * q.kk + t] += <floating> _sum(acc + (j * q.kk + t) * q.Lw, q.Lw)
