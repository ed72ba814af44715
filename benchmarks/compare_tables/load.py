"""Table l: MLP training throughput while a second process trains the same model.

A user's machine is rarely idle. This table starts a second Python process
that trains the same model with the same implementation, over and over, and
times fits in this process while it runs; every pool is at the machine's
default threads (what a user gets), whatever ``--threads`` says. Threads that
spin while they wait for each other, or more threads than free cores, show up
here as a collapse that a quiet machine hides.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import threadpoolctl

from ._common import Table, _timing_record, torch
from .mlp import _mlp_datasets, _mlp_implementations, measure_runs

LOAD_BATCH = 128
LOAD_EPOCHS = 3
LOAD_SAMPLES = 8_000
LOAD_TARGET = 0.5  # ours under load over ours quiet at 1 thread, >=
_IMPLEMENTATIONS = ("ours", "sklearn-f64", "torch", "torch-fused")

_BACKGROUND = """
import sys, warnings
sys.path[:0] = {paths!r}
warnings.simplefilter("ignore")
from compare_tables.load import _train_forever
_train_forever({key!r})
"""


def _data(quick):
    key, label, X, y = _mlp_datasets(quick)[0]  # the 784-feature set
    n = min(X.shape[0], LOAD_SAMPLES)
    return f"make_classification {n}x{X.shape[1]}", X[:n], y[:n]


def _fit_fn(key, epochs=LOAD_EPOCHS):
    for _, k, fn in _mlp_implementations(LOAD_BATCH, epochs):
        if k == key:
            return fn
    raise KeyError(key)


def _train_forever(key):
    """The second process: fit the model again and again until killed."""
    _, X, y = _data(quick=False)
    fit = _fit_fn(key)
    print("ready", flush=True)
    while True:
        fit(X, y)


def _start_background(key):
    here = Path(__file__).resolve().parent
    paths = [str(here.parent), str(here.parents[1])]
    proc = subprocess.Popen([sys.executable, "-c", _BACKGROUND.format(paths=paths, key=key)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError(f"load: the background process for {key} did not start.")
    time.sleep(0.5)  # let it get into its training loop
    return proc


def _default_threads():
    """Undo compare.py's limits: every pool back at its default for this machine."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threadpoolctl.threadpool_limits(limits=cpus)
    if torch is not None:
        torch.set_num_threads(cpus)
    return cpus


def bench_load(cfg):
    """Table l: training throughput quiet (1 thread, default) and under load."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    label, X, y = _data(cfg.quick)
    n = X.shape[0]
    keys = [k for k in _IMPLEMENTATIONS if torch is not None or not k.startswith("torch")]
    names = {k: name for name, k, _ in _mlp_implementations(LOAD_BATCH, 1)}
    budget, runs = (2.0, 2) if cfg.quick else (8.0, 3)
    table = Table(
        "load",
        f"l. MLP training under load: hidden (256, 128), batch {LOAD_BATCH}, {LOAD_EPOCHS} "
        f"epochs on {label}; a second process trains the same model meanwhile",
        ["implementation", "setting", "fit s", "runs", "samples/s", "over quiet 1-thread"])
    results = {}
    previous = threadpoolctl.threadpool_info()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for key in keys:
                fit = _fit_fn(key)
                fit(X[:2048], y[:2048])  # warm-up
                threadpoolctl.threadpool_limits(limits=1)
                if torch is not None:
                    torch.set_num_threads(1)
                quiet1 = measure_runs({"q": lambda: fit(X, y)}, budget, runs)["q"][0]
                cpus = _default_threads()
                quiet = measure_runs({"q": lambda: fit(X, y)}, budget, runs)["q"][0]
                background = _start_background(key)
                try:
                    loaded = measure_runs({"q": lambda: fit(X, y)}, budget, runs)["q"][0]
                finally:
                    background.kill()
                    background.wait()
                results[key] = (quiet1, quiet, loaded)
                for setting, t in ((f"quiet, 1 thread", quiet1),
                                   (f"quiet, default ({cpus} threads)", quiet),
                                   (f"under load, default ({cpus} threads)", loaded)):
                    table.add_row([names[key], setting, f"{t.median:.3f}", t.repeat,
                                   f"{n * LOAD_EPOCHS / t.median:,.0f}",
                                   f"{quiet1.median / t.median:.2f}"],
                                  impl=key, setting=setting, timing=_timing_record(t))
    finally:
        for pool in previous:  # back to the limits compare.py had set
            threadpoolctl.threadpool_limits(limits=pool["num_threads"],
                                            user_api=pool["user_api"])
        if torch is not None:
            torch.set_num_threads(cfg.threads)
    quiet1, _, loaded = results["ours"]
    table.add_check("ours under load / ours quiet 1-thread", quiet1.median / loaded.median,
                    LOAD_TARGET, ">=")
    for key in keys[1:]:
        q1, _, ld = results[key]
        table.add_check(f"{key} under load / its quiet 1-thread", q1.median / ld.median)
    table.add_note(
        "Each implementation in turn: fits timed quiet at 1 thread, quiet at the default "
        "threads, then at the default threads while a second process (started just before, "
        "same implementation, same data) trains the same model in a loop. 'over quiet "
        "1-thread' = that row's samples/s over the quiet 1-thread samples/s. This table "
        "ignores --threads: a user under load runs at the defaults.")
    return table
