"""The thread policy: free CPUs, one pool per fit, the engine's ``threads`` context."""

import numpy as np
import pytest
import threadpoolctl

from sklears_neural import _threads
from sklears_neural._threads import (
    OPENBLAS_SERIAL_BELOW,
    SERIAL_BELOW_WORK,
    free_cpus,
    thread_limits,
    usable_cpus,
)
from sklears_neural.backend import threads


@pytest.fixture(autouse=True)
def fresh_free_cpus(monkeypatch):
    """Every test sees free_cpus() look again (it keeps its answer for a second)."""
    monkeypatch.setitem(_threads._last_free, "at", float("-inf"))


def _pool_threads(user_api):
    return {p["num_threads"] for p in threadpoolctl.threadpool_info()
            if p["user_api"] == user_api}


def test_free_cpus_is_between_one_and_usable():
    assert 1 <= free_cpus() <= usable_cpus()


def test_free_cpus_subtracts_other_runnable_tasks(monkeypatch, tmp_path):
    # /proc/loadavg says 3 tasks are runnable, this process runs 1 of them.
    monkeypatch.setattr(_threads, "usable_cpus", lambda: 4)
    monkeypatch.setattr(_threads, "_own_running_threads", lambda: 1)
    (tmp_path / "loadavg").write_text("1.00 0.50 0.25 3/300 12345\n")
    real_open = open

    def fake_open(path, *args, **kwargs):
        if path == "/proc/loadavg":
            return real_open(tmp_path / "loadavg", *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    assert free_cpus() == 2
    # All 3 runnable tasks are this process's own threads: every CPU is free.
    monkeypatch.setattr(_threads, "_own_running_threads", lambda: 3)
    monkeypatch.setitem(_threads._last_free, "at", float("-inf"))
    assert free_cpus() == 4


def test_free_cpus_never_below_one(monkeypatch, tmp_path):
    monkeypatch.setattr(_threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(_threads, "_own_running_threads", lambda: 1)
    path = tmp_path / "loadavg"
    path.write_text("9.0 9.0 9.0 40/300 1\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: real_open(
        path if p == "/proc/loadavg" else p, *a, **k))
    assert free_cpus() == 1


def test_small_work_runs_on_one_thread():
    with thread_limits(None, SERIAL_BELOW_WORK - 1):
        assert _pool_threads("blas") == {1}


def test_tiny_work_sets_no_limit():
    # OpenBLAS keeps such products on one thread itself; no limit is paid for.
    before = threadpoolctl.threadpool_info()
    with thread_limits(None, OPENBLAS_SERIAL_BELOW - 1):
        assert threadpoolctl.threadpool_info() == before


def test_engine_pool_holds_blas_to_one_thread():
    with thread_limits(2, SERIAL_BELOW_WORK * 4, pool="engine"):
        assert _pool_threads("blas") == {1}
        assert _pool_threads("openmp") <= {2}


def test_explicit_threads_reach_every_pool():
    with thread_limits(1, SERIAL_BELOW_WORK * 4):
        assert _pool_threads("blas") == {1}


def test_unknown_pool_is_an_error():
    with pytest.raises(ValueError, match="pool must be one of"):
        thread_limits(None, 1, pool="gpu")


def test_threads_context_caps_and_restores():
    before = _pool_threads("blas")
    with threads(1) as n:
        assert n == 1
        assert _pool_threads("blas") == {1}
    assert _pool_threads("blas") == before
    with threads(-1) as n:
        assert n == usable_cpus()
    with threads() as n:
        assert 1 <= n <= usable_cpus()


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_threads_context_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="n_threads must be None, -1 or a positive int"):
        with threads(bad):
            pass


def test_serial_blas_holds_blas_to_one_thread_and_restores():
    from sklears_neural._threads import serial_blas

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = _pool_threads("blas")
        with serial_blas():
            assert _pool_threads("blas") == {1}
            with serial_blas():  # nested: still one thread, restored only at the end
                pass
            assert _pool_threads("blas") == {1}
        assert _pool_threads("blas") == before


def test_free_cpus_ignores_a_task_seen_only_once(monkeypatch):
    monkeypatch.setattr(_threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(_threads, "_LOOK_GAP_S", 0)
    looks = iter([1, 0, 1])
    monkeypatch.setattr(_threads, "_other_runnable_tasks", lambda: next(looks))
    assert free_cpus() == 2
    monkeypatch.setattr(_threads, "_other_runnable_tasks", lambda: 1)  # busy every time
    monkeypatch.setitem(_threads._last_free, "at", float("-inf"))
    assert free_cpus() == 1


def test_batch_kernels_take_threads_only_when_the_engine_owns_them():
    from sklears_neural._threads import batch_threads

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        assert batch_threads(None, 2) == 1  # the BLAS owns the cores
        assert batch_threads(2, 2) == 2  # an explicit count is obeyed
        # products on our own GEMM never wake the BLAS's pool
        assert batch_threads(None, 2, own_products=True) == 2
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert batch_threads(None, 2) == 2
    assert batch_threads(None, 1) == 1
    assert batch_threads(None, 1, own_products=True) == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_float32_lstm_takes_its_threads_while_the_blas_owns_the_cores(dtype, monkeypatch):
    """With its products on our GEMM, a float32 recurrent kernel splits its
    batch even while the BLAS runs several threads; float64 (BLAS products)
    stays on one thread there. Results agree either way."""
    from sklears_neural._kernels._openmp_helpers import openmp_max_threads

    from sklears_neural._kernels import _blas, _rnn, lstm_forward

    if openmp_max_threads() < 2:
        pytest.skip("needs an OpenMP pool of at least 2 threads")
    chosen = []

    def recording_batch_threads(*args, **kwargs):
        chosen.append(_threads.batch_threads(*args, **kwargs))
        return chosen[-1]

    monkeypatch.setattr(_rnn, "batch_threads", recording_batch_threads)
    rng = np.random.default_rng(0)
    T, N, F, H = 40, 64, 32, 64
    x = rng.standard_normal((T, N, F)).astype(dtype)
    w_ih = (0.1 * rng.standard_normal((4 * H, F))).astype(dtype)
    w_hh = (0.1 * rng.standard_normal((4 * H, H))).astype(dtype)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        y = lstm_forward(x, None, None, w_ih, w_hh, None, None)[0]
    assert chosen == [2 if _blas.products_on_own_gemm(dtype) else 1]
    y1 = lstm_forward(x, None, None, w_ih, w_hh, None, None, n_threads=1)[0]
    np.testing.assert_allclose(y, y1, rtol=1e-5, atol=1e-6)


def test_threads_context_engine_pool_holds_blas_to_one_thread():
    with threads(2, pool="engine") as n:
        assert n == 2
        assert _pool_threads("blas") == {1}
    with pytest.raises(ValueError, match="pool must be one of"):
        with threads(2, pool="gpu"):
            pass


def test_estimator_thread_limit_reaches_the_kernels_openmp_pool():
    """The kernels' OpenMP runtime is loaded with the package, so the pools the
    thread policy limits include it (a fit with n_threads=1 really uses one)."""
    import subprocess
    import sys

    code = ("import sklears_neural, threadpoolctl\n"
            "from sklears_neural._threads import thread_limits\n"
            "with thread_limits(1, 2**30, pool='engine'):\n"
            "    from sklears_neural._kernels._openmp_helpers import openmp_max_threads\n"
            "    print(openmp_max_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "1"


def test_free_cpus_keeps_its_answer_for_a_while(monkeypatch):
    looks = []
    monkeypatch.setattr(_threads, "usable_cpus", lambda: 4)
    monkeypatch.setattr(_threads, "_other_runnable_tasks", lambda: looks.append(1) or 0)
    assert free_cpus() == 4 and free_cpus() == 4
    assert len(looks) == 1  # the second call reused the first answer
    monkeypatch.setitem(_threads._last_free, "at", float("-inf"))
    monkeypatch.setattr(_threads, "_other_runnable_tasks", lambda: 3)
    monkeypatch.setattr(_threads, "_LOOK_GAP_S", 0)
    assert free_cpus() == 1


def test_a_pinned_process_counts_other_tasks_on_the_rest_of_the_machine_first(monkeypatch,
                                                                              tmp_path):
    # Pinned to 2 of 64 CPUs, 40 other tasks runnable: they fit on the other 62 CPUs.
    monkeypatch.setattr(_threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(_threads.os, "cpu_count", lambda: 64)
    monkeypatch.setattr(_threads, "_own_running_threads", lambda: 1)
    path = tmp_path / "loadavg"
    path.write_text("40.0 40.0 40.0 41/900 1\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: real_open(
        path if p == "/proc/loadavg" else p, *a, **k))
    assert free_cpus() == 2
    path.write_text("70.0 70.0 70.0 71/900 1\n")  # the host is full: 70 others on 64 CPUs
    monkeypatch.setitem(_threads._last_free, "at", float("-inf"))
    monkeypatch.setattr(_threads, "_LOOK_GAP_S", 0)
    assert free_cpus() == 1


def test_elementwise_kernels_take_the_pool_only_while_the_engine_owns_it():
    from sklears_neural._kernels._openmp_helpers import (
        openmp_enabled,
        resolve_n_threads,
    )

    if not openmp_enabled():
        pytest.skip("the kernels were built without OpenMP")
    with threadpoolctl.threadpool_limits(limits={"openmp": 2, "blas": 2}):
        assert resolve_n_threads(None, 10**6, 1000) == 1  # the BLAS owns the cores
        # ... unless the network's products run in the OpenMP pool too
        assert resolve_n_threads(None, 10**6, 1000, True) == 2
        assert resolve_n_threads(None, 10, 1000, True) == 1  # below the measured size
    with threadpoolctl.threadpool_limits(limits={"openmp": 2, "blas": 1}):
        assert resolve_n_threads(None, 10**6, 1000) == 2
        assert resolve_n_threads(None, 10, 1000) == 1  # below the measured size


@pytest.mark.parametrize("use_avx512", [True, False])
def test_products_pool_follows_the_gemm_that_runs_them(use_avx512):
    """float32 products on our AVX-512 GEMM run in the OpenMP pool, so an MLP's
    fit gives that pool the cores; float64 and BLAS-run products keep the BLAS's."""
    from sklears_neural._dispatch import products_pool
    from sklears_neural._kernels import _cpu
    from sklears_neural.cnn import CNNClassifier
    from sklears_neural.mlp import MLPClassifier

    previous = _cpu.set_use_avx512_gemm(use_avx512)
    try:
        ours = _cpu.gemm_in_use() == "avx512"
        assert products_pool(np.float32) == ("engine" if ours else "blas")
        assert products_pool(np.float64) == "blas"
        assert MLPClassifier()._thread_pool == ("engine" if ours else "blas")
        assert MLPClassifier(dtype=np.float64)._thread_pool == "blas"
        assert CNNClassifier()._thread_pool == "engine"
    finally:
        _cpu.set_use_avx512_gemm(previous)


def test_a_small_engine_pool_step_leaves_the_blas_thread_count_alone():
    """Below OpenBLAS's own threshold only the OpenMP pool is capped (per
    calling thread), so a predict in one Python thread cannot race a fit in
    another over the BLAS's process-wide count: replayed here in one thread,
    a small step that enters during a fit and leaves after it must not put
    back the fit's BLAS count."""
    def counts(api):
        return [c.num_threads for c in threadpoolctl.ThreadpoolController().lib_controllers
                if c.user_api == api]

    if not counts("openmp"):
        pytest.skip("no OpenMP runtime loaded (kernels built without OpenMP)")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with thread_limits(None, 1000, pool="engine"):
            assert counts("blas") == [2] * len(counts("blas"))
            assert set(counts("openmp")) == {1}
        fit = thread_limits(None, 2**20, pool="engine")
        predict = thread_limits(None, 1000, pool="engine")
        fit.__enter__()
        assert set(counts("blas")) == {1}
        predict.__enter__()
        fit.__exit__(None, None, None)
        predict.__exit__(None, None, None)
        assert counts("blas") == [2] * len(counts("blas"))
