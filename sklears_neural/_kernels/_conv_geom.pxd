# The geometry the convolution modules share (``_conv``, ``_conv_gemm``,
# ``_conv_direct`` and the direct loops of ``_loops_conv.pxi``): the path ids,
# the ``Geom`` struct every nogil loop reads, the direct path's ``Padded``,
# and small inline helpers (compiled into each module that cimports this).

from sklears_neural._kernels._fused cimport floating


cdef enum:
    PATH_GEMM = 0      # im2col + one GEMM per group
    PATH_1X1 = 1       # pointwise, stride 1, no padding: the sample is its columns
    PATH_DIRECT = 2    # one input channel per group: shifted rows, no GEMM


cdef struct Geom:
    # The conv's input image (C channels, D x H x W), kernel, output and
    # steps; 1-D and 2-D convs have leading sizes 1, steps 1, padding 0.
    Py_ssize_t C, D, H, W
    Py_ssize_t KD, KH, KW
    Py_ssize_t OD, OH, OW
    Py_ssize_t sd, sh, sw
    Py_ssize_t pd, ph, pw
    Py_ssize_t dd, dh, dw
    Py_ssize_t groups, c_out


cdef struct Padded:
    # The direct path's view of one channel of the conv's input, zero-padded:
    # (Dp, Hp, Wp), P values. ``flat``: all strides are 1, so for each tap the
    # whole output is one contiguous run of Lw values of the padded volume
    # (output position (od, oh, ow) sits at (od * Hp + oh) * Wp + ow; the
    # Wp - OW columns in between are junk that is computed and dropped).
    # Otherwise Lw = OW. ``per``: output channels per input channel; ``off``:
    # the kk taps' offsets in the padded volume; ``noff`` = -off.
    Py_ssize_t Dp, Hp, Wp, P, Lw, per, kk
    bint flat, padded
    Py_ssize_t* off
    Py_ssize_t* noff


cdef inline double _sum(const floating* a, Py_ssize_t n) noexcept nogil:
    """Sum in double with 4 independent accumulators."""
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
        i += 4
    while i < n:
        s0 += a[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef inline Geom _make_geom(tuple spatial, tuple kernel, tuple out, tuple stride,
                            tuple padding, tuple dilation, Py_ssize_t channels,
                            Py_ssize_t c_out, Py_ssize_t groups):
    """A Geom with 1-D/2-D geometries lifted to 3-D."""
    cdef Geom g
    cdef int pad = 3 - len(spatial)
    one = (1,) * pad
    spatial = one + spatial
    kernel = one + kernel
    out = one + out
    stride = one + stride
    padding = (0,) * pad + padding
    dilation = one + dilation
    g.C = channels
    g.D, g.H, g.W = spatial
    g.KD, g.KH, g.KW = kernel
    g.OD, g.OH, g.OW = out
    g.sd, g.sh, g.sw = stride
    g.pd, g.ph, g.pw = padding
    g.dd, g.dh, g.dw = dilation
    g.groups = groups
    g.c_out = c_out
    return g


cdef inline Geom _geom_of(dict d):
    """The Geom of a geometry dict of ``sklears_neural._specs._conv``."""
    return _make_geom(d["spatial"], d["kernel"], d["out"], d["stride"], d["padding"],
                      d["dilation"], d["c_in"], d["c_out"], d["groups"])


cdef inline object _prod(shape):
    """The product of the sizes in ``shape`` (a Python int)."""
    n = 1
    for s in shape:
        n *= s
    return n
