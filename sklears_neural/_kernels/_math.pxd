# Inline scalar math shared by the kernels: libc functions in the precision
# of the fused type (float math for float32, never a silent double round
# trip), the numerically safe sigmoid/softplus, and one activation element
# forward/backward that switches on the integer ids of ``_specs``.
#
# Everything here is ``cdef inline`` and compiled into each module that
# cimports it, so the calls inline into the nogil loops.

from libc.math cimport (
    erf, erff, exp, expf, expm1, expm1f, fabs, fabsf, log, log1p, log1pf,
    logf, sqrt, sqrtf, tanh, tanhf,
)

from sklears_neural._kernels._fused cimport floating


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
        return expf(x)
    else:
        return exp(x)


cdef inline floating c_expm1(floating x) noexcept nogil:
    if floating is float:
        return expm1f(x)
    else:
        return expm1(x)


cdef inline floating c_log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating c_log1p(floating x) noexcept nogil:
    if floating is float:
        return log1pf(x)
    else:
        return log1p(x)


cdef inline floating c_sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline floating c_tanh(floating x) noexcept nogil:
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)


cdef inline floating c_erf(floating x) noexcept nogil:
    if floating is float:
        return erff(x)
    else:
        return erf(x)


cdef inline floating c_fabs(floating x) noexcept nogil:
    if floating is float:
        return fabsf(x)
    else:
        return fabs(x)


cdef inline floating c_sigmoid(floating x) noexcept nogil:
    """1 / (1 + exp(-x)) with exp of a non-positive number only."""
    cdef floating e
    if x >= 0:
        return 1 / (1 + c_exp(-x))
    e = c_exp(x)
    return e / (1 + e)


cdef inline floating c_softplus(floating x, floating beta) noexcept nogil:
    """log(1 + exp(beta x)) / beta, linear above beta x > 20 (as PyTorch)."""
    cdef floating bx = beta * x
    if bx > <floating> SKN_SOFTPLUS_THRESHOLD:
        return x
    return ((bx if bx > 0 else 0) + c_log1p(c_exp(-c_fabs(bx)))) / beta


cdef inline floating act_forward_elem(floating z, int act, floating a) noexcept nogil:
    """activation(z); ``a`` is the activation's parameter (already defaulted)."""
    cdef floating inner
    if act == ACT_RELU:
        return 0 if z <= 0 else z  # NaN propagates, as numpy.maximum
    elif act == ACT_LEAKY_RELU:
        return z if z > 0 else a * z
    elif act == ACT_ELU:
        return z if z > 0 else a * c_expm1(z)
    elif act == ACT_SELU:
        return <floating> SKN_SELU_SCALE * (
            z if z > 0 else <floating> SKN_SELU_ALPHA * c_expm1(z))
    elif act == ACT_GELU:
        return <floating> 0.5 * z * (1 + c_erf(z * <floating> SKN_INV_SQRT_2))
    elif act == ACT_GELU_TANH:
        inner = <floating> SKN_SQRT_2_OVER_PI * (z + <floating> SKN_GELU_TANH_C * (z * z * z))
        return <floating> 0.5 * z * (1 + c_tanh(inner))
    elif act == ACT_SILU:
        return z * c_sigmoid(z)
    elif act == ACT_MISH:
        return z * c_tanh(c_softplus(z, <floating> 1))
    elif act == ACT_SOFTPLUS:
        return c_softplus(z, a)
    elif act == ACT_TANH:
        return c_tanh(z)
    elif act == ACT_SIGMOID:
        return c_sigmoid(z)
    return z  # identity


cdef inline floating act_backward_elem(floating g, floating v, int act,
                                       floating a) noexcept nogil:
    """g * activation'(.) where ``v`` is the activation's OUTPUT for identity,
    relu, tanh and sigmoid (``backward_uses_output``) and its INPUT otherwise.
    """
    cdef floating s, t, cdf, pdf, inner, dinner
    if act == ACT_RELU:
        return g if v > 0 else 0
    elif act == ACT_TANH:
        return g * (1 - v * v)
    elif act == ACT_SIGMOID:
        return g * v * (1 - v)
    elif act == ACT_LEAKY_RELU:
        return g if v > 0 else a * g
    elif act == ACT_ELU:
        return g if v > 0 else g * a * c_exp(v)
    elif act == ACT_SELU:
        if v > 0:
            return <floating> SKN_SELU_SCALE * g
        return g * (<floating> (SKN_SELU_SCALE * SKN_SELU_ALPHA) * c_exp(v))
    elif act == ACT_GELU:
        cdf = <floating> 0.5 * (1 + c_erf(v * <floating> SKN_INV_SQRT_2))
        pdf = <floating> SKN_INV_SQRT_2PI * c_exp(<floating> -0.5 * v * v)
        return g * (cdf + v * pdf)
    elif act == ACT_GELU_TANH:
        inner = <floating> SKN_SQRT_2_OVER_PI * (v + <floating> SKN_GELU_TANH_C * (v * v * v))
        t = c_tanh(inner)
        dinner = <floating> SKN_SQRT_2_OVER_PI * (1 + <floating> (3 * SKN_GELU_TANH_C) * v * v)
        return g * (<floating> 0.5 * (1 + t) + <floating> 0.5 * v * (1 - t * t) * dinner)
    elif act == ACT_SILU:
        s = c_sigmoid(v)
        return g * s * (1 + v * (1 - s))
    elif act == ACT_MISH:
        t = c_tanh(c_softplus(v, <floating> 1))
        return g * (t + v * (1 - t * t) * c_sigmoid(v))
    elif act == ACT_SOFTPLUS:
        if a * v > <floating> SKN_SOFTPLUS_THRESHOLD:
            return g
        return g * c_sigmoid(a * v)
    return g  # identity
