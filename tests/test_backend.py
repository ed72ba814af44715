import importlib.util

import numpy as np
import pytest

from sklears_neural import _dispatch, backend

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def test_numpy_arrays_get_numpy_and_compiled_kernels():
    x = np.zeros(3, dtype=np.float32)
    assert backend.get_array_module(x) is np
    assert backend.get_array_module(None, x) is np
    assert _dispatch.kernels_for(x).__name__ == "sklears_neural._kernels"
    assert backend.device_of(x) == "cpu"


@pytest.mark.parametrize("device, expected", [("cpu", ("cpu", None)), ("cuda", ("cuda", 0)),
                                              ("cuda:3", ("cuda", 3))])
def test_parse_device(device, expected):
    assert backend.parse_device(device) == expected


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "cpu:0", "CUDA", 0, None])
def test_parse_device_rejects_bad_strings(device):
    with pytest.raises(ValueError, match="device must be"):
        backend.parse_device(device)


def test_to_device_cpu_and_to_numpy_do_not_copy_numpy():
    x = np.arange(4.0)
    assert backend.to_device(x, "cpu") is x
    assert backend.to_numpy(x) is x
    np.testing.assert_array_equal(backend.to_device([1.0, 2.0], "cpu"), [1.0, 2.0])


@pytest.mark.skipif(HAS_CUPY, reason="checks the error raised when CuPy is not installed")
def test_cuda_without_cupy_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"CuPy.*pip install sklears-neural\[cuda\]"):
        backend.to_device(np.zeros(2), "cuda")


@pytest.mark.parametrize("dtype", [None, "float32", np.float64])
def test_check_dtype_accepts_floats(dtype):
    assert backend.check_dtype(dtype) in (np.float32, np.float64)
    assert backend.check_dtype(None) == np.float32


@pytest.mark.parametrize("dtype", ["float16", "int64", "banana"])
def test_check_dtype_rejects_others(dtype):
    with pytest.raises(ValueError, match="float32 or float64"):
        backend.check_dtype(dtype)


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUPY, reason="CuPy is not installed (GPU tests run on a GPU machine)")
def test_cupy_round_trip_and_portable_kernels():
    import cupy

    x = backend.to_device(np.arange(6.0).reshape(2, 3), "cuda")
    assert backend.get_array_module(x) is cupy
    assert backend.device_of(x) == "cuda:0"
    assert _dispatch.kernels_for(x).__name__ == "sklears_neural._xp"
    np.testing.assert_array_equal(backend.to_numpy(x), np.arange(6.0).reshape(2, 3))


def test_kernels_for_moved_to_dispatch_with_a_warning_at_the_old_name():
    with pytest.warns(FutureWarning, match="moved to sklears_neural._dispatch"):
        old = backend.kernels_for
    assert old is _dispatch.kernels_for
    with pytest.raises(AttributeError):
        backend.no_such_name  # noqa: B018
