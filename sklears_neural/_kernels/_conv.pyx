"""Convolutions (1-D, 2-D, 3-D), transposed convolutions, im2col/col2im (CPU).

Same names, signatures and semantics as ``sklears_neural._xp._conv`` (the
argument checks both share are in ``sklears_neural._specs._conv``), plus a
keyword-only ``n_threads``. This module holds the public entry points; the
work is done by

* ``_conv_gemm``: the drivers ``_run_forward`` / ``_run_backward``, which
  pick a path per call, and the GEMM and 1x1 paths (im2col + one GEMM per
  group, or the sample as its own column matrix);
* ``_conv_implicit``: stride-1 float32 convs on AVX-512 CPUs, whose
  products read the zero-padded image in place (``src/skn_sconv.h``): no
  im2col, and the input gradient as a convolution of the padded output
  gradient, no col2im; ``_conv_gemm`` sends each product (forward, input
  gradient, weight gradient) there where it is the faster one;
* ``_conv_direct``: the direct path for depthwise convs (one input channel
  per group), whose float32 loops are C (``src/skn_depthwise.h``);
* ``_conv_geom.pxd``: the ``Geom`` struct they share.

Every rank is run as a 3-D convolution (missing leading spatial dimensions
have size 1), one sample at a time.

A transposed convolution is the input gradient of the convolution with the
same weight, so its forward is the GEMM/col2im (or direct scatter) half of
the conv backward, and its backward is a conv forward plus a weight
gradient: the same loops, seen from the other side.

Measured on the 2-core development machine (AMD EPYC, OpenBLAS SkylakeX
kernels, one thread; the machine was shared, so +-20 %), batch 64,
float32, forward + input/weight/bias gradients, 3x3 kernels, padding 1, in
ms: ours / torch 2.13 CPU / the numpy ``_xp`` reference.

* 1x28x28 -> 32 channels (GEMM path):    1.7 /  7.5 /  2.6
* 32x14x14 -> 64 channels (GEMM path):  20.8 / 14.6 / 32-45
  (on Zen 5 with our AVX-512 GEMM: 9.6 / 6.8 with the GEMM path, 6.4 with
  the implicit one; 1.3 / 3.4 for the first shape)
* depthwise 64x14x14 (direct path):      1.4-1.9 / 2.5-3.9 / 45-70
  (5.7-6.5 before the one-pass C loops; 2.6 with the baseline build)

Threads: the GEMM and 1x1 paths split the batch across the OpenMP pool,
each thread with its own im2col buffers and weight-gradient accumulator and
a single-threaded BLAS inside (``sklears_neural._threads.serial_blas``); one
pool at a time, as DESIGN.md ("Threads") asks. Measured on the 2-core
machine (OpenBLAS Haswell kernels, batch 64, forward + backward, ms, 1
thread / 2 threads batch-parallel / 2 threads inside BLAS instead):
1x28x28 -> 32: 2.50 / 1.40 / 2.47; 32x14x14 -> 64: 17.0 / 8.6 / 10.4;
64x28x28 -> 64: 122 / 62 / 73; and a multithreaded BLAS inside the
batch-parallel loop: 25.7 ms on the second shape, hence ``serial_blas``.
The direct path stays serial: it is bound by memory, and a prange over
its channels showed no gain with 2 threads.
"""

import numpy as np

from sklears_neural._kernels._conv_gemm cimport (
    _bias_grad,
    _col2im_batch,
    _im2col_batch,
    _rows,
    _run_backward,
    _run_forward,
)
from sklears_neural._kernels._conv_geom cimport Geom, _make_geom, _prod
from sklears_neural._kernels._openmp_helpers cimport resolve_n_threads

from sklears_neural._specs._arrays import FLOAT32, as_array, float_dtype
from sklears_neural._specs._conv import (
    check_grad_shape,
    conv_geometry,
    im2col_geometry,
    transpose_geometry,
)

__all__ = [
    "col2im",
    "conv_backward",
    "conv_forward",
    "conv_transpose_backward",
    "conv_transpose_forward",
    "im2col",
]


def _empty(d):
    """True when a dimension is 0: BLAS wants positive sizes, so such calls take
    the short paths below (every product is empty, or sums nothing)."""
    return d["n"] == 0 or d["c_in"] == 0 or d["c_out"] == 0


def _empty_output(shape, bias, dtype):
    """Output of a convolution with no terms to sum: zeros, plus the bias."""
    y = np.zeros(shape, dtype=dtype)
    if bias is not None and y.size:
        y += np.asarray(bias, dtype=dtype).reshape((1, -1) + (1,) * (len(shape) - 2))
    return y


def _empty_grads(grad_y, x, weight, dtype, need_input, need_weight, need_bias):
    """Gradients when a dimension is 0: input and weight gradients sum nothing."""
    gb = None
    if need_bias:  # the bias still gets every output gradient (none when N = 0)
        axes = (0,) + tuple(range(2, grad_y.ndim))
        gb = np.asarray(grad_y, dtype=np.float64).sum(axis=axes).astype(dtype)
    return (np.zeros(x.shape, dtype=dtype) if need_input else None,
            np.zeros(weight.shape, dtype=dtype) if need_weight else None, gb)


def _arrays(*arrays):
    return tuple(None if a is None else as_array(a) for a in arrays)


def conv_forward(x, weight, bias, stride, padding, dilation, groups, *, n_threads=None):
    """Forward of a 1-D, 2-D or 3-D convolution (cross-correlation).

    Parameters
    ----------
    x : array-like of shape (N, C_in, *S)
    weight : array-like of shape (C_out, C_in // groups, *K)
    bias : array-like of shape (C_out,) or None
    stride, padding, dilation : int or tuple of d ints
        ``stride >= 1``, symmetric zero ``padding >= 0``, ``dilation >= 1``.
    groups : int
        Divides both C_in and C_out.
    n_threads : None or int, keyword-only
        Threads for the GEMM paths, which split the batch (each thread runs
        whole samples with a single-threaded BLAS). None: every thread of
        the OpenMP pool (``threadpoolctl``/``thread_limits`` set it) once the
        call has ``_conv_gemm.PARALLEL_MIN_WORK`` multiply-adds, else one.
        An int: that many, never more than the samples or the pool's
        threads. The direct (depthwise) path runs on one thread.

    Returns
    -------
    y : ndarray of shape (N, C_out, *out)
        ``out = (S + 2 * padding - dilation * (K - 1) - 1) // stride + 1``,
        C-contiguous, dtype of ``x``.
    """
    kernel = "conv_forward"
    dtype = float_dtype(kernel, ("x", x), ("weight", weight), ("bias", bias))
    x, weight, bias = _arrays(x, weight, bias)
    d = conv_geometry(kernel, x.shape, weight.shape, None if bias is None else bias.shape,
                      stride, padding, dilation, groups)
    resolve_n_threads(n_threads, 1, 1)
    if _empty(d):
        return _empty_output((d["n"], d["c_out"]) + d["out"], bias, dtype)
    return _run_forward(x, weight, bias, d, dtype, n_threads)


def conv_backward(grad_y, x, weight, stride, padding, dilation, groups,
                  need_input=True, need_weight=True, need_bias=True, *, n_threads=None):
    """Backward of ``conv_forward``.

    Parameters
    ----------
    grad_y : array-like of shape (N, C_out, *out)
    x, weight : the forward inputs
    stride, padding, dilation, groups : as in the forward
    need_input, need_weight, need_bias : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``conv_forward``.

    Returns
    -------
    grad_x, grad_weight, grad_bias : ndarrays or None
    """
    kernel = "conv_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y), ("x", x), ("weight", weight))
    grad_y, x, weight = _arrays(grad_y, x, weight)
    d = conv_geometry(kernel, x.shape, weight.shape, None, stride, padding, dilation,
                      groups)
    check_grad_shape(kernel, grad_y, (d["n"], d["c_out"]) + d["out"])
    resolve_n_threads(n_threads, 1, 1)
    need_input, need_weight, need_bias = bool(need_input), bool(need_weight), bool(need_bias)
    if _empty(d):
        return _empty_grads(grad_y, x, weight, dtype, need_input, need_weight, need_bias)
    gx = gw = gb = None
    if need_input or need_weight:
        gx, gw, gb = _run_backward(grad_y, x, weight, None, d, dtype, need_input,
                                   need_weight, need_bias, n_threads)
    if need_bias and gb is None:
        gb = _bias_grad(grad_y, d["c_out"], dtype)
    return gx, gw, gb


def conv_transpose_forward(x, weight, bias, stride, padding, output_padding,
                           dilation, groups, *, n_threads=None):
    """Forward of a transposed convolution (PyTorch's ``ConvTranspose``).

    Parameters
    ----------
    x : array-like of shape (N, C_in, *S)
    weight : array-like of shape (C_in, C_out // groups, *K)
    bias : array-like of shape (C_out,) or None
    stride, padding, output_padding, dilation : int or tuple of d ints
        ``output_padding`` must be smaller than ``stride`` or ``dilation``.
    groups : int
    n_threads : None or int, keyword-only
        As in ``conv_forward``.

    Returns
    -------
    y : ndarray of shape (N, C_out, *out)
        ``out = (S - 1) * stride - 2 * padding + dilation * (K - 1)
        + output_padding + 1``, C-contiguous.
    """
    kernel = "conv_transpose_forward"
    dtype = float_dtype(kernel, ("x", x), ("weight", weight), ("bias", bias))
    x, weight, bias = _arrays(x, weight, bias)
    d = transpose_geometry(kernel, x.shape, weight.shape,
                           None if bias is None else bias.shape,
                           stride, padding, output_padding, dilation, groups)
    resolve_n_threads(n_threads, 1, 1)
    if _empty(d):
        return _empty_output((d["n"], d["c_in"]) + d["spatial"], bias, dtype)
    y, _, _ = _run_backward(x, None, weight, bias, d, dtype, True, False, False,
                            n_threads)
    return y


def conv_transpose_backward(grad_y, x, weight, stride, padding, output_padding,
                            dilation, groups, need_input=True, need_weight=True,
                            need_bias=True, *, n_threads=None):
    """Backward of ``conv_transpose_forward``.

    Parameters
    ----------
    grad_y : array-like of shape (N, C_out, *out)
    x, weight : the forward inputs
    stride, padding, output_padding, dilation, groups : as in the forward
    need_input, need_weight, need_bias : bool
        Which gradients to compute; the others are returned as None.
    n_threads : None or int, keyword-only
        As in ``conv_forward``.

    Returns
    -------
    grad_x, grad_weight, grad_bias : ndarrays or None
    """
    kernel = "conv_transpose_backward"
    dtype = float_dtype(kernel, ("grad_y", grad_y), ("x", x), ("weight", weight))
    grad_y, x, weight = _arrays(grad_y, x, weight)
    d = transpose_geometry(kernel, x.shape, weight.shape, None, stride, padding,
                           output_padding, dilation, groups)
    check_grad_shape(kernel, grad_y, (d["n"], d["c_in"]) + d["spatial"])
    resolve_n_threads(n_threads, 1, 1)
    need_input, need_weight, need_bias = bool(need_input), bool(need_weight), bool(need_bias)
    if _empty(d):
        return _empty_grads(grad_y, x, weight, dtype, need_input, need_weight, need_bias)
    gx = gw = gb = None
    if need_input:
        gx = _run_forward(grad_y, weight, None, d, dtype, n_threads)
    if need_weight:
        # The underlying conv maps grad_y's space to x's: its weight gradient
        # pairs "its input" grad_y with "its output gradient" x.
        _, gw, _ = _run_backward(x, grad_y, None, None, d, dtype, False, True, False,
                                 n_threads)
    if need_bias:
        gb = _bias_grad(grad_y, d["c_in"], dtype)
    return gx, gw, gb


def im2col(x, kernel_size, stride, padding, dilation, *, n_threads=None):
    """Unfold the sliding windows of ``x`` into columns.

    Parameters
    ----------
    x : array-like of shape (N, C, *S)
    kernel_size, stride, padding, dilation : int or tuple of d ints
    n_threads : None or int, keyword-only
        Accepted for the common signature; runs on one thread.

    Returns
    -------
    cols : ndarray of shape (N, C * prod(K), prod(out))
        Rows are ordered channel-major, then kernel offsets (C, k1, k2, ...);
        columns are the output positions in C order. Padding reads zeros.
    """
    kernel = "im2col"
    dtype = float_dtype(kernel, ("x", x))
    x = as_array(x)
    _, k, out, stride, padding, dilation = im2col_geometry(
        kernel, x.shape, kernel_size, stride, padding, dilation)
    resolve_n_threads(n_threads, 1, 1)
    n, c = x.shape[:2]
    cols = np.empty((n, c * _prod(k), _prod(out)), dtype=dtype)
    if cols.size == 0:
        return cols
    cdef Geom g = _make_geom(tuple(x.shape[2:]), k, out, stride, padding, dilation,
                             c, c, 1)
    x2 = _rows(x, dtype)
    if dtype == FLOAT32:
        _im2col_batch[float](x2, cols.reshape(n, -1), &g)
    else:
        _im2col_batch[double](x2, cols.reshape(n, -1), &g)
    return cols


def col2im(cols, input_shape, kernel_size, stride, padding, dilation, *,
           n_threads=None):
    """Fold columns back into an image, summing overlapping contributions.

    The adjoint of ``im2col``.

    Parameters
    ----------
    cols : array-like of shape (N, C * prod(K), prod(out))
    input_shape : tuple (N, C, *S)
    kernel_size, stride, padding, dilation : int or tuple of d ints
    n_threads : None or int, keyword-only
        Accepted for the common signature; runs on one thread.

    Returns
    -------
    x : ndarray of shape ``input_shape``
    """
    kernel = "col2im"
    dtype = float_dtype(kernel, ("cols", cols))
    cols = as_array(cols)
    input_shape = tuple(int(s) for s in input_shape)
    _, k, out, stride, padding, dilation = im2col_geometry(
        kernel, input_shape, kernel_size, stride, padding, dilation)
    resolve_n_threads(n_threads, 1, 1)
    n, c = input_shape[:2]
    expected = (n, c * _prod(k), _prod(out))
    if tuple(cols.shape) != expected:
        raise ValueError(
            f"{kernel}: cols has shape {tuple(cols.shape)} but input_shape "
            f"{input_shape} with kernel_size {k} needs cols of shape {expected}."
        )
    x = np.zeros(input_shape, dtype=dtype)
    if x.size == 0:
        return x
    cdef Geom g = _make_geom(input_shape[2:], k, out, stride, padding, dilation, c, c, 1)
    cols2 = _rows(cols, dtype)
    if dtype == FLOAT32:
        _col2im_batch[float](cols2, x.reshape(n, -1), &g)
    else:
        _col2im_batch[double](cols2, x.reshape(n, -1), &g)
    return x
