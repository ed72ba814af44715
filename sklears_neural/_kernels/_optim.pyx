"""Optimizer updates, in place, in one fused pass per parameter (CPU kernels).

Same names, signatures and results as ``sklears_neural._xp._optim``, which
follows ``torch.optim``'s documented update rules. Each function updates
``param`` and its state arrays in place for one step and returns None;
``grad`` is never modified. Hyperparameter arithmetic that does not depend on
the element (bias corrections, learning-rate decay) is done once, in double,
before the loop; the loop itself uses the parameter's precision.

Large parameters are split into one contiguous chunk per OpenMP thread
(``n_threads``; None: serial below ``PARALLEL_MIN_SIZE`` elements).
Arrays that are neither C- nor F-contiguous (or laid out differently from
``param``) are updated through a contiguous copy that is written back, so
the update is in place for the caller either way.
"""

import math

import numpy as np

from cython.parallel cimport prange

from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._math cimport c_sqrt
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._kernels._validation import (
    FLOAT32,
    as_array,
    check_same_shape,
    check_writeable,
    float_dtype,
)

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step"]

# From this many elements an update uses all OpenMP threads when n_threads is
# None (measured on 2 cores; see the kernels' benchmark notes).
PARALLEL_MIN_SIZE = 1 << 18

# Chunks handed to threads are multiples of this many elements (whole cache
# lines for both precisions), so two threads never write the same line.
cdef Py_ssize_t _CHUNK_ALIGN = 16


cdef struct Hyper:
    # Optional parts of an update (momentum, AMSGrad, centered RMSprop) are
    # switched by their state pointer being NULL, not by a flag.
    # effective gradient: g = sign * grad (+ wd * param when coupled_wd)
    double sign
    double wd
    bint coupled_wd
    double lr
    # sgd / rmsprop momentum
    double momentum
    double one_minus_dampening
    bint nesterov
    bint first_step
    # adam
    double decay          # decoupled weight decay factor 1 - lr * wd (else 1)
    double beta1
    double one_minus_beta1
    double beta2
    double one_minus_beta2
    double bc2_sqrt
    double step_size      # lr / bias_correction1 (adam), lr / (1 + ...) (adagrad)
    # rmsprop
    double alpha
    double one_minus_alpha
    double eps


cdef enum:
    OPT_SGD = 0
    OPT_ADAM = 1
    OPT_RMSPROP = 2
    OPT_ADAGRAD = 3


cdef inline void _sgd_range(floating* p, const floating* grad, floating* buf,
                            Py_ssize_t lo, Py_ssize_t hi,
                            const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating lr = <floating> h.lr, mom = <floating> h.momentum
    cdef floating omd = <floating> h.one_minus_dampening
    cdef bint coupled = h.coupled_wd, nesterov = h.nesterov, first = h.first_step
    cdef floating g, b
    cdef Py_ssize_t i
    for i in range(lo, hi):
        g = sign * grad[i]
        if coupled:
            g = g + wd * p[i]
        if buf != NULL:
            if first:
                b = g
            else:
                b = buf[i] * mom + omd * g
            buf[i] = b
            if nesterov:
                g = g + mom * b
            else:
                g = b
        p[i] = p[i] - lr * g


cdef inline void _adam_range(floating* p, const floating* grad, floating* m,
                             floating* v, floating* vmax, Py_ssize_t lo,
                             Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating decay = <floating> h.decay
    cdef floating b1 = <floating> h.beta1, omb1 = <floating> h.one_minus_beta1
    cdef floating b2 = <floating> h.beta2, omb2 = <floating> h.one_minus_beta2
    cdef floating bc2 = <floating> h.bc2_sqrt, eps = <floating> h.eps
    cdef floating step = <floating> h.step_size
    cdef bint coupled = h.coupled_wd
    cdef floating g, pi, mi, vi, vm
    cdef Py_ssize_t i
    for i in range(lo, hi):
        g = sign * grad[i]
        pi = p[i]
        if coupled:
            g = g + wd * pi
        pi = pi * decay
        mi = m[i] * b1 + omb1 * g
        vi = v[i] * b2 + omb2 * g * g
        m[i] = mi
        v[i] = vi
        if vmax != NULL:
            vm = vmax[i]
            if not (vi <= vm):  # numpy.maximum: a NaN wins
                vm = vi
            vmax[i] = vm
            vi = vm
        p[i] = pi - step * mi / (c_sqrt(vi) / bc2 + eps)


cdef inline void _rmsprop_range(floating* p, const floating* grad, floating* sq,
                                floating* gavg, floating* buf, Py_ssize_t lo,
                                Py_ssize_t hi, const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating lr = <floating> h.lr, mom = <floating> h.momentum
    cdef floating alpha = <floating> h.alpha, oma = <floating> h.one_minus_alpha
    cdef floating eps = <floating> h.eps
    cdef bint coupled = h.coupled_wd
    cdef floating g, s, ga, avg, b
    cdef Py_ssize_t i
    for i in range(lo, hi):
        g = sign * grad[i]
        if coupled:
            g = g + wd * p[i]
        s = sq[i] * alpha + oma * g * g
        sq[i] = s
        if gavg != NULL:
            ga = gavg[i] * alpha + oma * g
            gavg[i] = ga
            avg = c_sqrt(s - ga * ga) + eps
        else:
            avg = c_sqrt(s) + eps
        if buf != NULL:
            b = buf[i] * mom + g / avg
            buf[i] = b
            p[i] = p[i] - lr * b
        else:
            p[i] = p[i] - lr * g / avg


cdef inline void _adagrad_range(floating* p, const floating* grad, floating* ssum,
                                Py_ssize_t lo, Py_ssize_t hi,
                                const Hyper* h) noexcept nogil:
    cdef floating sign = <floating> h.sign, wd = <floating> h.wd
    cdef floating clr = <floating> h.step_size, eps = <floating> h.eps
    cdef bint coupled = h.coupled_wd
    cdef floating g, s
    cdef Py_ssize_t i
    for i in range(lo, hi):
        g = sign * grad[i]
        if coupled:
            g = g + wd * p[i]
        s = ssum[i] + g * g
        ssum[i] = s
        p[i] = p[i] - clr * g / (c_sqrt(s) + eps)


cdef inline void _run_range(int kind, floating* p, const floating* g, floating* s1,
                            floating* s2, floating* s3, Py_ssize_t lo, Py_ssize_t hi,
                            const Hyper* h) noexcept nogil:
    if kind == OPT_ADAM:
        _adam_range(p, g, s1, s2, s3, lo, hi, h)
    elif kind == OPT_SGD:
        _sgd_range(p, g, s1, lo, hi, h)
    elif kind == OPT_RMSPROP:
        _rmsprop_range(p, g, s1, s2, s3, lo, hi, h)
    else:
        _adagrad_range(p, g, s1, lo, hi, h)


cdef int _update(int kind, floating[::1] p, const floating[::1] g, object s1,
                 object s2, object s3, Hyper h, int n_threads) except -1:
    """Run optimizer ``kind`` over ``p``; the states s1..s3 are 1-D arrays
    or None (None switches the matching part of the update off)."""
    cdef floating[::1] v1, v2, v3
    cdef floating* sp1 = NULL
    cdef floating* sp2 = NULL
    cdef floating* sp3 = NULL
    cdef Py_ssize_t n = p.shape[0], chunk, lo, hi
    cdef int c
    if s1 is not None:
        v1 = s1
        sp1 = &v1[0]
    if s2 is not None:
        v2 = s2
        sp2 = &v2[0]
    if s3 is not None:
        v3 = s3
        sp3 = &v3[0]
    with nogil:
        if n_threads <= 1:
            _run_range(kind, &p[0], &g[0], sp1, sp2, sp3, 0, n, &h)
        else:
            chunk = (n + n_threads - 1) // n_threads
            chunk = (chunk + _CHUNK_ALIGN - 1) // _CHUNK_ALIGN * _CHUNK_ALIGN
            for c in prange(n_threads, num_threads=n_threads, schedule="static"):
                lo = c * chunk
                hi = min(n, lo + chunk)
                if lo < hi:
                    _run_range(kind, &p[0], &g[0], sp1, sp2, sp3, lo, hi, &h)
    return 0


# ---------------------------------------------------------------------------
# Python side
# ---------------------------------------------------------------------------

class _Flat:
    """1-D views of param, grad and states, in param's memory order.

    Arrays that cannot be viewed that way are copied; ``finish()`` writes the
    copies of updated arrays back into the caller's arrays.
    """

    def __init__(self, kernel, param, grad, states):
        check_writeable(kernel, "param", param)
        named = [("param", param), ("grad", grad)]
        named += [(name, a) for name, a in states if a is not None]
        self.dtype = dtype = float_dtype(kernel, *named)
        grad = as_array(grad)
        if param.dtype != dtype:
            raise ValueError(
                f"{kernel}: param has dtype {param.dtype}; it must be float32 or float64."
            )
        check_same_shape(kernel, "param", param, "grad", grad)
        if param.flags.c_contiguous:
            self.order = "C"
        elif param.flags.f_contiguous:
            self.order = "F"
        else:
            self.order = "C"
        self._writeback = []
        self.param = self._inplace(kernel, "param", param, param)
        g = np.asarray(grad, dtype=dtype, order=self.order)
        self.grad = g.reshape(-1, order=self.order)
        self.states = []
        for name, a in states:
            if a is None:
                self.states.append(None)
                continue
            check_writeable(kernel, name, a)
            if a.dtype != dtype:
                raise ValueError(
                    f"{kernel}: {name} has dtype {a.dtype} but param has dtype {dtype}."
                )
            check_same_shape(kernel, name, a, "param", param)
            self.states.append(self._inplace(kernel, name, a, param))
        self.size = self.param.shape[0]

    def _inplace(self, kernel, name, a, param):
        order = self.order
        if (a.flags.c_contiguous if order == "C" else a.flags.f_contiguous):
            return a.reshape(-1, order=order)
        tmp = np.array(a, order=order, copy=True)
        self._writeback.append((a, tmp))
        return tmp.reshape(-1, order=order)

    def finish(self):
        for a, tmp in self._writeback:
            a[...] = tmp


def _missing_state(kernel, name, reason):
    return ValueError(f"{kernel}: {name} is None, but {reason} needs it; pass an array "
                      "of param's shape (zeros before the first step).")


cdef int _dispatch(int kind, flat, Hyper h, object n_threads) except -1:
    nt = resolve_n_threads(n_threads, flat.size, PARALLEL_MIN_SIZE)
    s = flat.states + [None] * (3 - len(flat.states))
    if flat.dtype == FLOAT32:
        _update[float](kind, flat.param, flat.grad, s[0], s[1], s[2], h, nt)
    else:
        _update[double](kind, flat.param, flat.grad, s[0], s[1], s[2], h, nt)
    flat.finish()
    return 0


cdef Hyper _effective_grad(double weight_decay, bint maximize):
    cdef Hyper h
    h.sign = -1.0 if maximize else 1.0
    h.wd = weight_decay
    h.coupled_wd = weight_decay != 0.0
    h.lr = 0.0
    h.momentum = 0.0
    h.one_minus_dampening = 1.0
    h.nesterov = False
    h.first_step = False
    h.decay = 1.0
    h.beta1 = h.one_minus_beta1 = h.beta2 = h.one_minus_beta2 = 0.0
    h.bc2_sqrt = 1.0
    h.step_size = 0.0
    h.alpha = h.one_minus_alpha = 0.0
    h.eps = 0.0
    return h


def sgd_step(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
             nesterov=False, weight_decay=0.0, maximize=False, first_step=False, *,
             n_threads=None):
    """SGD with momentum, dampening, Nesterov and (coupled) weight decay.

    ``momentum_buffer`` is None when ``momentum == 0``; on ``first_step`` it
    is set to the gradient, as ``torch.optim.SGD`` does.
    """
    kernel = "sgd_step"
    momentum = float(momentum)
    if momentum and momentum_buffer is None:
        raise _missing_state(kernel, "momentum_buffer", f"momentum={momentum}")
    buf = momentum_buffer if momentum else None
    flat = _Flat(kernel, param, grad, [("momentum_buffer", buf)])
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.lr = float(lr)
    h.momentum = momentum
    h.one_minus_dampening = 1.0 - float(dampening)
    h.nesterov = bool(nesterov)
    h.first_step = bool(first_step)
    _dispatch(OPT_SGD, flat, h, n_threads)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=1e-3,
              beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              decoupled_weight_decay=False, amsgrad=False, maximize=False, *,
              n_threads=None):
    """Adam (and AdamW with ``decoupled_weight_decay``), optionally AMSGrad.

    ``step`` is the 1-based step count after this update. ``max_exp_avg_sq``
    is None unless ``amsgrad``.
    """
    kernel = "adam_step"
    if amsgrad and max_exp_avg_sq is None:
        raise _missing_state(kernel, "max_exp_avg_sq", "amsgrad=True")
    if exp_avg is None or exp_avg_sq is None:
        raise _missing_state(kernel, "exp_avg/exp_avg_sq", "Adam")
    flat = _Flat(kernel, param, grad, [
        ("exp_avg", exp_avg),
        ("exp_avg_sq", exp_avg_sq),
        ("max_exp_avg_sq", max_exp_avg_sq if amsgrad else None),
    ])
    lr = float(lr)
    beta1 = float(beta1)
    beta2 = float(beta2)
    weight_decay = float(weight_decay)
    decoupled = bool(decoupled_weight_decay)
    cdef Hyper h = _effective_grad(0.0 if decoupled else weight_decay, bool(maximize))
    if decoupled and weight_decay:
        h.decay = 1.0 - lr * weight_decay
    h.beta1 = beta1
    h.one_minus_beta1 = 1.0 - beta1
    h.beta2 = beta2
    h.one_minus_beta2 = 1.0 - beta2
    h.step_size = lr / (1.0 - beta1**step)
    h.bc2_sqrt = math.sqrt(1.0 - beta2**step)
    h.eps = float(eps)
    _dispatch(OPT_ADAM, flat, h, n_threads)


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr=1e-2,
                 alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False, *, n_threads=None):
    """RMSprop, optionally centered and with momentum.

    ``grad_avg`` is None unless ``centered``; ``momentum_buffer`` is None
    unless ``momentum > 0``.
    """
    kernel = "rmsprop_step"
    momentum = float(momentum)
    if square_avg is None:
        raise _missing_state(kernel, "square_avg", "RMSprop")
    if centered and grad_avg is None:
        raise _missing_state(kernel, "grad_avg", "centered=True")
    if momentum and momentum_buffer is None:
        raise _missing_state(kernel, "momentum_buffer", f"momentum={momentum}")
    flat = _Flat(kernel, param, grad, [
        ("square_avg", square_avg),
        ("grad_avg", grad_avg if centered else None),
        ("momentum_buffer", momentum_buffer if momentum else None),
    ])
    alpha = float(alpha)
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.lr = float(lr)
    h.alpha = alpha
    h.one_minus_alpha = 1.0 - alpha
    h.eps = float(eps)
    h.momentum = momentum
    _dispatch(OPT_RMSPROP, flat, h, n_threads)


def adagrad_step(param, grad, state_sum, step, lr=1e-2, lr_decay=0.0,
                 weight_decay=0.0, eps=1e-10, maximize=False, *, n_threads=None):
    """Adagrad with learning-rate decay; ``step`` is 1-based after this update."""
    kernel = "adagrad_step"
    if state_sum is None:
        raise _missing_state(kernel, "state_sum", "Adagrad")
    flat = _Flat(kernel, param, grad, [("state_sum", state_sum)])
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.step_size = float(lr) / (1.0 + (step - 1) * float(lr_decay))
    h.eps = float(eps)
    _dispatch(OPT_ADAGRAD, flat, h, n_threads)
