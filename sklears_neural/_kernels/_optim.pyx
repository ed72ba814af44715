"""Optimizer updates, in place, in one fused pass per parameter (CPU kernels).

Same names, signatures and results as ``sklears_neural._xp._optim``, which
follows ``torch.optim``'s documented update rules. Each function updates
``param`` and its state arrays in place for one step and returns None;
``grad`` is never modified. Hyperparameter arithmetic that does not depend on
the element (bias corrections, learning-rate decay) is done once, in double,
before the loop; the loop itself uses the parameter's precision.

With ``n_threads`` (keyword-only, default None: serial) a parameter of at
least ``PARALLEL_MIN_SIZE`` elements is split into one contiguous chunk per
OpenMP thread; see ``_openmp_helpers`` for why serial is the default.
LAMB and LARS scale each parameter's step by a ratio of its norms, so they
always run serially over the whole parameter (two passes: norms, update).
Arrays that are neither C- nor F-contiguous (or laid out differently from
``param``) are updated through a contiguous copy that is written back, so
the update is in place for the caller either way.
"""

import math

import numpy as np

cimport numpy as cnp
from cython.parallel cimport prange

cimport sklears_neural._kernels._loops as base
cimport sklears_neural._kernels._loops_avx2 as avx2
cimport sklears_neural._kernels._loops_avx512 as avx512
from sklears_neural._kernels._cpu cimport use_avx2, use_avx512
from sklears_neural._kernels._fused cimport floating
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads
from sklears_neural._kernels._types cimport (
    OPT_ADADELTA, OPT_ADAGRAD, OPT_ADAM, OPT_ADAMAX, OPT_LAMB, OPT_LARS, OPT_NADAM,
    OPT_RADAM, OPT_RMSPROP, OPT_SGD, Hyper,
)

from sklears_neural._specs._arrays import FLOAT32
from sklears_neural._specs._optim import check_step, momentum_state, step_states

__all__ = [
    "sgd_step",
    "adam_step",
    "rmsprop_step",
    "adagrad_step",
    "nadam_step",
    "adamax_step",
    "radam_step",
    "adadelta_step",
    "lamb_step",
    "lars_step",
]

# Below this many elements an update runs serially even when n_threads asks
# for more (measured on 2 cores: a second thread pays from ~64k elements in
# isolation; the margin covers thread wake-up).
PARALLEL_MIN_SIZE = 1 << 18

# Chunks handed to threads are multiples of this many elements (whole cache
# lines for both precisions), so two threads never write the same line.
cdef Py_ssize_t _CHUNK_ALIGN = 16


cdef inline void _run_range(int kind, floating* p, const floating* g, floating* s1,
                            floating* s2, floating* s3, Py_ssize_t lo, Py_ssize_t hi,
                            const Hyper* h) noexcept nogil:
    if use_avx512():
        avx512.run_range(kind, p, g, s1, s2, s3, lo, hi, h)
    elif use_avx2():
        avx2.run_range(kind, p, g, s1, s2, s3, lo, hi, h)
    else:
        base.run_range(kind, p, g, s1, s2, s3, lo, hi, h)


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

cnp.import_array()


cdef inline bint _plain_like(object a, cnp.ndarray ref, int typenum, bint writeable):
    """``a`` is an exact ndarray of ``ref``'s dtype and shape, C-contiguous
    and aligned (and writeable if asked)."""
    cdef cnp.ndarray arr
    if type(a) is not np.ndarray:
        return False
    arr = <cnp.ndarray> a
    if cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_SAMESHAPE(arr, ref):
        return False
    if writeable:
        return cnp.PyArray_ISCARRAY(arr)
    return cnp.PyArray_ISCARRAY_RO(arr)


cdef inline void* _data(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray> a)


cdef bint _fast_update(int kind, object param, object grad, object s1, object s2,
                       object s3, Hyper* h, object n_threads) except -1:
    """The common case without any conversion: param, grad and states are
    plain C-contiguous arrays of one float dtype and shape, one thread.
    Returns False (having done nothing) for anything else."""
    cdef cnp.ndarray p
    cdef int typenum
    cdef Py_ssize_t n
    cdef void* pp
    cdef void* gp
    cdef void* p1
    cdef void* p2
    cdef void* p3
    if n_threads is not None or type(param) is not np.ndarray:
        return False
    p = <cnp.ndarray> param
    typenum = cnp.PyArray_TYPE(p)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        return False
    if not (_plain_like(param, p, typenum, True) and _plain_like(grad, p, typenum, False)):
        return False
    for s in (s1, s2, s3):
        if s is not None and not _plain_like(s, p, typenum, True):
            return False
    n = cnp.PyArray_SIZE(p)
    pp = cnp.PyArray_DATA(p)
    gp = _data(grad)
    p1 = _data(s1)
    p2 = _data(s2)
    p3 = _data(s3)
    with nogil:
        if typenum == cnp.NPY_FLOAT32:
            _run_range(kind, <float*> pp, <const float*> gp, <float*> p1, <float*> p2,
                       <float*> p3, 0, n, h)
        else:
            _run_range(kind, <double*> pp, <const double*> gp, <double*> p1,
                       <double*> p2, <double*> p3, 0, n, h)
    return True


class _Flat:
    """1-D views of param, grad and states, in param's memory order.

    Arrays that cannot be viewed that way are copied; ``finish()`` writes the
    copies of updated arrays back into the caller's arrays.
    """

    def __init__(self, kernel, param, grad, states):
        self.dtype = dtype = check_step(kernel, param, grad, states)
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
        self.states = [None if a is None else self._inplace(kernel, name, a, param)
                       for name, a in states]
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


cdef int _dispatch(int kind, flat, Hyper h, object n_threads) except -1:
    nt = resolve_n_threads(n_threads, flat.size, PARALLEL_MIN_SIZE)
    if kind == OPT_LAMB or kind == OPT_LARS:
        nt = 1  # whole-parameter norms: never split into chunks
    s = flat.states + [None] * (3 - len(flat.states))
    if flat.dtype == FLOAT32:
        _update[float](kind, flat.param, flat.grad, s[0], s[1], s[2], h, nt)
    else:
        _update[double](kind, flat.param, flat.grad, s[0], s[1], s[2], h, nt)
    flat.finish()
    return 0


cdef tuple _used(str kernel, tuple entries):
    """The three state slots of a step: the arrays of the ``step_states``
    entries it uses, None elsewhere. A missing one is refused by
    ``step_states`` itself (one message for both twins); this loop only
    spares the common case a Python-level call."""
    cdef list slots = [None, None, None]
    cdef tuple e
    cdef Py_ssize_t i
    for i in range(len(entries)):
        e = <tuple> entries[i]
        if e[2] is not None:
            if e[1] is None:
                step_states(kernel, *entries)  # raises
            slots[i] = e[1]
    return tuple(slots)


cdef int _step(int kind, str kernel, object param, object grad, tuple entries, tuple s,
               Hyper h, object n_threads) except -1:
    """Run one step: in one pass when nothing needs converting, else through
    ``_Flat`` (which checks the arrays, ``_specs._optim.check_step``)."""
    if not _fast_update(kind, param, grad, s[0], s[1], s[2], &h, n_threads):
        _dispatch(kind, _Flat(kernel, param, grad, step_states(kernel, *entries)), h,
                  n_threads)
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
    h.inv_bc2_sqrt = 1.0
    h.step_size = 0.0
    h.alpha = h.one_minus_alpha = 0.0
    h.eps = 0.0
    h.grad_coef = h.avg_coef = 0.0
    h.rectified = False
    h.rect_factor = 0.0
    h.inv_bc1 = 1.0
    h.trust_coefficient = 0.0
    h.exclude = False
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
    entries = (momentum_state(momentum_buffer, momentum),)
    s = _used(kernel, entries)
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.lr = float(lr)
    h.momentum = momentum
    h.one_minus_dampening = 1.0 - float(dampening)
    h.nesterov = bool(nesterov)
    h.first_step = bool(first_step)
    _step(OPT_SGD, kernel, param, grad, entries, s, h, n_threads)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=1e-3,
              beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              decoupled_weight_decay=False, amsgrad=False, maximize=False, *,
              n_threads=None):
    """Adam (and AdamW with ``decoupled_weight_decay``), optionally AMSGrad.

    ``step`` is the 1-based step count after this update. ``max_exp_avg_sq``
    is None unless ``amsgrad``.
    """
    kernel = "adam_step"
    entries = (("exp_avg", exp_avg, "Adam"),
               ("exp_avg_sq", exp_avg_sq, "Adam"),
               ("max_exp_avg_sq", max_exp_avg_sq,
                "amsgrad=True" if amsgrad else None))
    s = _used(kernel, entries)
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
    h.inv_bc2_sqrt = 1.0 / math.sqrt(1.0 - beta2**step)
    h.eps = float(eps)
    _step(OPT_ADAM, kernel, param, grad, entries, s, h, n_threads)


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr=1e-2,
                 alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False, *, n_threads=None):
    """RMSprop, optionally centered and with momentum.

    ``grad_avg`` is None unless ``centered``; ``momentum_buffer`` is None
    unless ``momentum > 0``.
    """
    kernel = "rmsprop_step"
    momentum = float(momentum)
    entries = (("square_avg", square_avg, "RMSprop"),
               ("grad_avg", grad_avg, "centered=True" if centered else None),
               momentum_state(momentum_buffer, momentum))
    s = _used(kernel, entries)
    alpha = float(alpha)
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.lr = float(lr)
    h.alpha = alpha
    h.one_minus_alpha = 1.0 - alpha
    h.eps = float(eps)
    h.momentum = momentum
    _step(OPT_RMSPROP, kernel, param, grad, entries, s, h, n_threads)


def adagrad_step(param, grad, state_sum, step, lr=1e-2, lr_decay=0.0,
                 weight_decay=0.0, eps=1e-10, maximize=False, *, n_threads=None):
    """Adagrad with learning-rate decay; ``step`` is 1-based after this update."""
    kernel = "adagrad_step"
    entries = (("state_sum", state_sum, "Adagrad"),)
    s = _used(kernel, entries)
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.step_size = float(lr) / (1.0 + (step - 1) * float(lr_decay))
    h.eps = float(eps)
    _step(OPT_ADAGRAD, kernel, param, grad, entries, s, h, n_threads)


cdef Hyper _adam_like(double lr, double beta1, double beta2, double eps, double weight_decay,
                      bint decoupled, bint maximize, object step):
    """Hyper with the moment rates, eps and (coupled or decoupled) decay set."""
    cdef Hyper h = _effective_grad(0.0 if decoupled else weight_decay, maximize)
    if decoupled and weight_decay:
        h.decay = 1.0 - lr * weight_decay
    h.lr = lr
    h.beta1 = beta1
    h.one_minus_beta1 = 1.0 - beta1
    h.beta2 = beta2
    h.one_minus_beta2 = 1.0 - beta2
    h.inv_bc2_sqrt = 1.0 / math.sqrt(1.0 - beta2**step)
    h.eps = eps
    return h


def nadam_step(param, grad, exp_avg, exp_avg_sq, step, mu, mu_next, mu_product,
               lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
               decoupled_weight_decay=False, maximize=False, *, n_threads=None):
    """NAdam (``torch.optim.NAdam``), optionally with decoupled weight decay.

    ``step`` is the 1-based step count after this update; ``mu`` and
    ``mu_next`` are the momentum coefficients of this step and the next
    (``beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))``) and
    ``mu_product`` the product of all ``mu`` up to and including this step.
    """
    kernel = "nadam_step"
    entries = (("exp_avg", exp_avg, "NAdam"),
               ("exp_avg_sq", exp_avg_sq, "NAdam"))
    s = _used(kernel, entries)
    lr = float(lr)
    mu = float(mu)
    mu_next = float(mu_next)
    mu_product = float(mu_product)
    cdef Hyper h = _adam_like(lr, float(beta1), float(beta2), float(eps),
                              float(weight_decay), bool(decoupled_weight_decay),
                              bool(maximize), step)
    h.grad_coef = lr * (1.0 - mu) / (1.0 - mu_product)
    h.avg_coef = lr * mu_next / (1.0 - mu_product * mu_next)
    _step(OPT_NADAM, kernel, param, grad, entries, s, h, n_threads)


def adamax_step(param, grad, exp_avg, exp_inf, step, lr=2e-3, beta1=0.9, beta2=0.999,
                eps=1e-8, weight_decay=0.0, maximize=False, *, n_threads=None):
    """Adamax (``torch.optim.Adamax``); ``step`` is 1-based after this update."""
    kernel = "adamax_step"
    entries = (("exp_avg", exp_avg, "Adamax"),
               ("exp_inf", exp_inf, "Adamax"))
    s = _used(kernel, entries)
    beta1 = float(beta1)
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.beta1 = beta1
    h.one_minus_beta1 = 1.0 - beta1
    h.beta2 = float(beta2)
    h.eps = float(eps)
    h.step_size = float(lr) / (1.0 - beta1**step)
    _step(OPT_ADAMAX, kernel, param, grad, entries, s, h, n_threads)


def radam_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999,
               eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, maximize=False,
               *, n_threads=None):
    """RAdam (``torch.optim.RAdam``); ``step`` is 1-based after this update.

    While the variance is not tractable (``rho_t <= 5``) the update is the
    bias-corrected momentum alone, as in the paper and torch.
    """
    kernel = "radam_step"
    entries = (("exp_avg", exp_avg, "RAdam"),
               ("exp_avg_sq", exp_avg_sq, "RAdam"))
    s = _used(kernel, entries)
    lr = float(lr)
    beta1 = float(beta1)
    beta2 = float(beta2)
    cdef Hyper h = _adam_like(lr, beta1, beta2, float(eps), float(weight_decay),
                              bool(decoupled_weight_decay), bool(maximize), step)
    bias_correction1 = 1.0 - beta1**step
    bias_correction2 = 1.0 - beta2**step
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * step * beta2**step / bias_correction2
    h.step_size = lr / bias_correction1
    h.rectified = rho_t > 5.0
    if h.rectified:
        h.rect_factor = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        ) * math.sqrt(bias_correction2)
    _step(OPT_RADAM, kernel, param, grad, entries, s, h, n_threads)


def adadelta_step(param, grad, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6,
                  weight_decay=0.0, maximize=False, *, n_threads=None):
    """Adadelta (``torch.optim.Adadelta``)."""
    kernel = "adadelta_step"
    entries = (("square_avg", square_avg, "Adadelta"),
               ("acc_delta", acc_delta, "Adadelta"))
    s = _used(kernel, entries)
    rho = float(rho)
    cdef Hyper h = _effective_grad(float(weight_decay), bool(maximize))
    h.lr = float(lr)
    h.alpha = rho
    h.one_minus_alpha = 1.0 - rho
    h.eps = float(eps)
    _step(OPT_ADADELTA, kernel, param, grad, entries, s, h, n_threads)


def lamb_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999,
              eps=1e-6, weight_decay=0.0, *, n_threads=None):
    """LAMB (You et al. 2019, Algorithm 2) with the identity as scaling function.

    ``r = m_hat / (sqrt(v_hat) + eps) + weight_decay * param`` and
    ``param -= lr * ||param|| / ||r|| * r``; the ratio is 1 when either norm
    is 0. Norms are accumulated in double. ``step`` is 1-based after this
    update. Always serial (``n_threads`` is accepted and ignored).
    """
    kernel = "lamb_step"
    entries = (("exp_avg", exp_avg, "LAMB"),
               ("exp_avg_sq", exp_avg_sq, "LAMB"))
    s = _used(kernel, entries)
    beta1 = float(beta1)
    cdef Hyper h = _adam_like(float(lr), beta1, float(beta2), float(eps), 0.0, False,
                              False, step)
    h.wd = float(weight_decay)
    h.inv_bc1 = 1.0 / (1.0 - beta1**step)
    _step(OPT_LAMB, kernel, param, grad, entries, s, h, None)


def lars_step(param, grad, momentum_buffer, lr, momentum=0.9, weight_decay=0.0,
              trust_coefficient=0.001, eps=1e-8, exclude_from_adaptation=False, *,
              n_threads=None):
    """LARS (You et al. 2017) with momentum on the scaled step.

    ``local_lr = trust_coefficient * ||param|| / (||grad|| + weight_decay *
    ||param|| + eps)`` (1 when either norm is 0, or when
    ``exclude_from_adaptation``, which also drops the weight decay);
    ``v = momentum * v + lr * local_lr * (grad + weight_decay * param)``,
    ``param -= v``. ``momentum_buffer`` starts at zeros, and is None when
    ``momentum == 0`` (then ``param -= lr * local_lr * (...)``). Always
    serial (``n_threads`` is accepted and ignored).
    """
    kernel = "lars_step"
    momentum = float(momentum)
    entries = (momentum_state(momentum_buffer, momentum),)
    s = _used(kernel, entries)
    cdef Hyper h = _effective_grad(0.0, False)
    h.wd = float(weight_decay)
    h.lr = float(lr)
    h.momentum = momentum
    h.trust_coefficient = float(trust_coefficient)
    h.eps = float(eps)
    h.exclude = bool(exclude_from_adaptation)
    _step(OPT_LARS, kernel, param, grad, entries, s, h, None)
