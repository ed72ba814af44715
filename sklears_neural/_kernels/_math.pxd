# Inline scalar math shared by the kernels: elementary functions in the
# precision of the fused type, the numerically safe sigmoid/softplus/Phi,
# row reductions, and the activation element forward/backward, specialised
# at compile time per activation (the ``Act`` fused tags below).
#
# float32 uses the branch-free polynomial functions of ``src/skn_math.h``
# (skn_*f, declared below): scalar libm calls (expf, tanhf, erff, ...) cannot be vectorised, and with them our
# activations were 5-30x slower than numpy's SIMD ufuncs. These are plain C
# arithmetic plus selects, so GCC vectorises every loop that calls them, at
# the SIMD width of the build (SSE2 for ``_loops``, AVX2+FMA for
# ``_loops_avx2``, the host's with SKLEARS_NEURAL_NATIVE=1). They are within
# a few float32 ulp of the correctly rounded result; the tests hold them to
# 1e-5 relative against the numpy reference, and to the reference's own
# accuracy against float64 on a dense grid. float64 keeps libm (gradient
# checks want its accuracy). gelu's Phi(x) goes through erfc in both
# precisions (see c_normal_cdf).
#
# Everything here is ``cdef inline`` (or ``static inline`` C from the header)
# and compiled into each module that cimports it, so the calls inline into the
# nogil loops.

from libc.math cimport erfc, exp, expm1, log, log1p, logf, sqrt, sqrtf, tanh

from sklears_neural._kernels._fused cimport floating


cdef extern from "skn_math.h":
    float skn_expf(float) nogil
    float skn_expm1f(float) nogil
    float skn_log1p_unitf(float) nogil
    float skn_tanhf(float) nogil
    float skn_erfcf(float) nogil


# Activation ids: the order of ``sklears_neural._specs.ACTIVATIONS``
# (checked when ``_activation`` is imported, and by the tests).
cdef enum:
    ACT_IDENTITY = 0
    ACT_RELU = 1
    ACT_LEAKY_RELU = 2
    ACT_ELU = 3
    ACT_SELU = 4
    ACT_GELU = 5
    ACT_GELU_TANH = 6
    ACT_SILU = 7
    ACT_MISH = 8
    ACT_SOFTPLUS = 9
    ACT_TANH = 10
    ACT_SIGMOID = 11
    ACT_CELU = 12
    ACT_HARDSWISH = 13
    ACT_HARDSIGMOID = 14
    ACT_SOFTSIGN = 15
    ACT_TANHSHRINK = 16
    ACT_LOGSIGMOID = 17


# Compile-time activation tags. ``Act`` is a fused type over empty structs:
# a loop written with ``Act`` is specialised once per activation and then
# contains only that activation's few lines, which the C compiler inlines and
# vectorises (one function switching over all of them at run time is too big
# for GCC to inline into the loop, and the loop then stays scalar).
# A kernel passes ``<ActGelu*> NULL`` to pick a specialisation; the pointer
# is never dereferenced.
ctypedef struct ActIdentity:
    char unused
ctypedef struct ActRelu:
    char unused
ctypedef struct ActLeakyRelu:
    char unused
ctypedef struct ActElu:
    char unused
ctypedef struct ActSelu:
    char unused
ctypedef struct ActGelu:
    char unused
ctypedef struct ActGeluTanh:
    char unused
ctypedef struct ActSilu:
    char unused
ctypedef struct ActMish:
    char unused
ctypedef struct ActSoftplus:
    char unused
ctypedef struct ActTanh:
    char unused
ctypedef struct ActSigmoid:
    char unused
ctypedef struct ActCelu:
    char unused
ctypedef struct ActHardswish:
    char unused
ctypedef struct ActHardsigmoid:
    char unused
ctypedef struct ActSoftsign:
    char unused
ctypedef struct ActTanhshrink:
    char unused
ctypedef struct ActLogsigmoid:
    char unused

ctypedef fused Act:
    ActIdentity
    ActRelu
    ActLeakyRelu
    ActElu
    ActSelu
    ActGelu
    ActGeluTanh
    ActSilu
    ActMish
    ActSoftplus
    ActTanh
    ActSigmoid
    ActCelu
    ActHardswish
    ActHardsigmoid
    ActSoftsign
    ActTanhshrink
    ActLogsigmoid


cdef extern from *:
    """
    #define SKN_SELU_ALPHA 1.6732632423543772848170429916717
    #define SKN_SELU_SCALE 1.0507009873554804934193349852946
    #define SKN_SOFTPLUS_THRESHOLD 20.0
    #define SKN_SQRT_2_OVER_PI 0.79788456080286535587989211986876
    #define SKN_INV_SQRT_2 0.70710678118654752440084436210485
    #define SKN_INV_SQRT_2PI 0.39894228040143267793994605993438
    #define SKN_GELU_TANH_C 0.044715
    """
    const double SKN_SELU_ALPHA
    const double SKN_SELU_SCALE
    const double SKN_SOFTPLUS_THRESHOLD
    const double SKN_SQRT_2_OVER_PI
    const double SKN_INV_SQRT_2
    const double SKN_INV_SQRT_2PI
    const double SKN_GELU_TANH_C


cdef inline floating c_exp(floating x) noexcept nogil:
    if floating is float:
        return skn_expf(x)
    else:
        return exp(x)


cdef inline floating c_expm1(floating x) noexcept nogil:
    if floating is float:
        return skn_expm1f(x)
    else:
        return expm1(x)


cdef inline floating c_log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating c_log1p_unit(floating t) noexcept nogil:
    """log(1 + t) for t in [0, 1]."""
    if floating is float:
        return skn_log1p_unitf(t)
    else:
        return log1p(t)


cdef inline floating c_sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline floating c_tanh(floating x) noexcept nogil:
    if floating is float:
        return skn_tanhf(x)
    else:
        return tanh(x)


cdef inline floating c_normal_cdf(floating x) noexcept nogil:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, as erfc(-x / sqrt 2) / 2: accurate
    relative to Phi itself, also for x << 0 where 1 + erf(.) cancels."""
    if floating is float:
        return <floating> 0.5 * skn_erfcf(-x * <floating> SKN_INV_SQRT_2)
    else:
        return 0.5 * erfc(-x * SKN_INV_SQRT_2)


cdef inline floating c_fabs(floating x) noexcept nogil:
    return -x if x < 0 else x


# Row reductions with four partial results: no long dependency chain, and
# the order of the additions is fixed by the code (not by -ffast-math), so a
# row gives the same result wherever it is computed.

cdef inline floating row_max(const floating* x, Py_ssize_t n) noexcept nogil:
    """max(x[:n]) for n >= 1. A NaN may be skipped, but it then makes
    exp(x - max) and every sum over the row NaN, as numpy's max would."""
    cdef floating m0 = x[0], m1 = x[0], m2 = x[0], m3 = x[0]
    cdef Py_ssize_t j = 0
    while j + 4 <= n:
        m0 = x[j] if x[j] > m0 else m0
        m1 = x[j + 1] if x[j + 1] > m1 else m1
        m2 = x[j + 2] if x[j + 2] > m2 else m2
        m3 = x[j + 3] if x[j + 3] > m3 else m3
        j += 4
    while j < n:
        m0 = x[j] if x[j] > m0 else m0
        j += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


cdef inline double row_sum(const floating* x, Py_ssize_t n) noexcept nogil:
    """sum(x[:n]) accumulated in double."""
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    cdef Py_ssize_t j = 0
    while j + 4 <= n:
        s0 += x[j]
        s1 += x[j + 1]
        s2 += x[j + 2]
        s3 += x[j + 3]
        j += 4
    while j < n:
        s0 += x[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


cdef inline double row_dot(const floating* x, const floating* y, Py_ssize_t n) noexcept nogil:
    """sum(x[:n] * y[:n]) accumulated in double."""
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    cdef Py_ssize_t j = 0
    while j + 4 <= n:
        s0 += x[j] * y[j]
        s1 += x[j + 1] * y[j + 1]
        s2 += x[j + 2] * y[j + 2]
        s3 += x[j + 3] * y[j + 3]
        j += 4
    while j < n:
        s0 += x[j] * y[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


# The functions below compute every candidate value first and only then
# select (``a if cond else b`` between plain variables): a conditional
# floating-point operation may not be speculated under -ftrapping-math, and
# one would keep the loop from being vectorised.

cdef inline floating c_sigmoid(floating x) noexcept nogil:
    """1 / (1 + exp(-x)) with exp of a non-positive number only."""
    cdef floating one = 1
    cdef floating e = c_exp(-c_fabs(x))
    cdef floating r = one / (one + e)
    cdef floating neg = e * r
    return r if x >= 0 else neg


cdef inline floating c_relu6(floating x) noexcept nogil:
    """min(max(x, 0), 6), NaN in NaN out (as numpy.clip)."""
    cdef floating zero = 0, six = 6
    cdef floating lo = zero if x < zero else x
    return six if lo > six else lo


cdef inline floating c_log1p_exp_neg_abs(floating x) noexcept nogil:
    """log(1 + exp(-|x|)), the stable tail of softplus and BCE."""
    return c_log1p_unit(c_exp(-c_fabs(x)))


cdef inline floating c_softplus(floating x, floating beta) noexcept nogil:
    """log(1 + exp(beta x)) / beta, linear above beta x > 20 (as PyTorch)."""
    cdef floating zero = 0
    cdef floating bx = beta * x
    cdef floating pos = bx if bx > zero else zero
    cdef floating soft = (pos + c_log1p_exp_neg_abs(bx)) / beta
    return x if bx > <floating> SKN_SOFTPLUS_THRESHOLD else soft


cdef inline floating act_forward_elem(const Act* tag, floating z,
                                      floating a) noexcept nogil:
    """activation(z); ``a`` is the activation's parameter (already defaulted)."""
    cdef floating pos, neg, inner, e
    # Typed constants: Cython writes a bare literal as a double (``1.0``), which
    # would turn float32 arithmetic into double at half the SIMD width.
    cdef floating zero = 0, one = 1, two = 2, three = 3, six = 6
    if Act is ActRelu:
        return zero if z <= zero else z  # NaN propagates, as numpy.maximum
    elif Act is ActLeakyRelu:
        neg = a * z
        return z if z > zero else neg
    elif Act is ActElu:
        neg = a * c_expm1(z)
        return z if z > zero else neg
    elif Act is ActSelu:
        neg = <floating> SKN_SELU_ALPHA * c_expm1(z)
        pos = z if z > zero else neg
        return <floating> SKN_SELU_SCALE * pos
    elif Act is ActGelu:
        return z * c_normal_cdf(z)
    elif Act is ActGeluTanh:
        # 0.5 (1 + tanh(u)) = sigmoid(2 u): no cancellation for z < 0
        inner = <floating> SKN_SQRT_2_OVER_PI * (z + <floating> SKN_GELU_TANH_C * (z * z * z))
        return z * c_sigmoid(two * inner)
    elif Act is ActSilu:
        return z * c_sigmoid(z)
    elif Act is ActMish:
        # tanh(softplus(z)) = n / (n + 2) with n = e^z (e^z + 2); softplus is
        # z itself above the threshold 20, where tanh rounds to 1.
        e = c_exp(z if z < <floating> SKN_SOFTPLUS_THRESHOLD else <floating> SKN_SOFTPLUS_THRESHOLD)
        inner = e * (e + two)
        pos = z * (inner / (inner + two))
        return pos if z <= <floating> SKN_SOFTPLUS_THRESHOLD else z
    elif Act is ActSoftplus:
        return c_softplus(z, a)
    elif Act is ActTanh:
        return c_tanh(z)
    elif Act is ActSigmoid:
        return c_sigmoid(z)
    elif Act is ActCelu:
        # max(0, z) + min(0, a (exp(z / a) - 1)); a != 0 (checked by the op)
        neg = a * c_expm1(z / a)
        return z if z > zero else neg
    elif Act is ActHardswish:
        return z * c_relu6(z + three) / six
    elif Act is ActHardsigmoid:
        return c_relu6(z + three) / six
    elif Act is ActSoftsign:
        return z / (one + c_fabs(z))
    elif Act is ActTanhshrink:
        return z - c_tanh(z)
    elif Act is ActLogsigmoid:
        # log sigmoid(z) = min(z, 0) - log(1 + exp(-|z|)): no overflow, and
        # no cancellation (both terms have the same sign).
        neg = z if z < zero else zero
        return neg - c_log1p_exp_neg_abs(z)
    else:
        return z  # identity


cdef inline floating act_backward_elem(const Act* tag, floating g, floating v,
                                       floating a) noexcept nogil:
    """g * activation'(.) where ``v`` is the activation's OUTPUT for identity,
    relu, tanh and sigmoid (``backward_uses_output``) and its INPUT otherwise.
    """
    cdef floating s, t, e, n, cdf, pdf, inner, dinner, pos, neg
    cdef floating zero = 0, one = 1, two = 2, three = 3, six = 6  # see act_forward_elem
    if Act is ActRelu:
        return g if v > zero else zero
    elif Act is ActTanh:
        return g * (one - v * v)
    elif Act is ActSigmoid:
        return g * v * (one - v)
    elif Act is ActLeakyRelu:
        neg = a * g
        return g if v > zero else neg
    elif Act is ActElu:
        neg = g * a * c_exp(v)
        return g if v > zero else neg
    elif Act is ActSelu:
        pos = <floating> SKN_SELU_SCALE * g
        neg = g * (<floating> (SKN_SELU_SCALE * SKN_SELU_ALPHA) * c_exp(v))
        return pos if v > zero else neg
    elif Act is ActGelu:
        cdf = c_normal_cdf(v)
        pdf = <floating> SKN_INV_SQRT_2PI * c_exp(<floating> -0.5 * v * v)
        return g * (cdf + v * pdf)
    elif Act is ActGeluTanh:
        # With s(.) the sigmoid and t = tanh(u): 0.5 (1 + t) = s(2u) and
        # 1 - t^2 = 4 s(2u) s(-2u), so the derivative
        # 0.5 (1 + t) + 0.5 v (1 - t^2) u' = s(2u) (1 + 2 v s(-2u) u'),
        # free of the cancellation in 1 - t^2 when |u| is large.
        inner = <floating> SKN_SQRT_2_OVER_PI * (v + <floating> SKN_GELU_TANH_C * (v * v * v))
        dinner = <floating> SKN_SQRT_2_OVER_PI * (one + <floating> (3 * SKN_GELU_TANH_C) * v * v)
        e = c_exp(-two * c_fabs(inner))
        s = one / (one + e)  # s(2|u|)
        t = e * s        # s(-2|u|)
        pos = s if inner >= zero else t  # s(2u)
        neg = t if inner >= zero else s  # s(-2u)
        return g * (pos * (one + two * v * neg * dinner))
    elif Act is ActSilu:
        s = c_sigmoid(v)
        return g * s * (one + v * (one - s))
    elif Act is ActMish:
        # t = tanh(softplus(v)) as in the forward; d/dv = t + v (1 - t^2) sigmoid(v)
        e = c_exp(v if v < <floating> SKN_SOFTPLUS_THRESHOLD else <floating> SKN_SOFTPLUS_THRESHOLD)
        n = e * (e + two)
        t = n / (n + two)
        t = t if v <= <floating> SKN_SOFTPLUS_THRESHOLD else one
        return g * (t + v * (one - t * t) * c_sigmoid(v))
    elif Act is ActSoftplus:
        pos = g * c_sigmoid(a * v)
        return g if a * v > <floating> SKN_SOFTPLUS_THRESHOLD else pos
    elif Act is ActCelu:
        neg = g * c_exp(v / a)  # an overflow for v > 0 is not selected
        return g if v > zero else neg
    elif Act is ActHardswish:
        # PyTorch's (2.x) convention at the kinks: 0 for x <= -3,
        # x / 3 + 1/2 on the open interval (-3, 3), 1 for x >= 3 (and NaN).
        pos = g * (v / three + <floating> 0.5)
        neg = pos if v < three else g
        return zero if v <= -three else neg
    elif Act is ActHardsigmoid:
        # 1/6 on the open interval (-3, 3), 0 elsewhere (PyTorch)
        pos = g / six
        return pos if (v > -three) & (v < three) else zero
    elif Act is ActSoftsign:
        t = one / (one + c_fabs(v))
        return g * t * t
    elif Act is ActTanhshrink:
        t = c_tanh(v)
        return g * (t * t)
    elif Act is ActLogsigmoid:
        return g * c_sigmoid(-v)
    else:
        return g  # identity
