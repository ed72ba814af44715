#!/usr/bin/env python
"""This project against plain numpy, its own BLAS and PyTorch, in one run.

Run from the repository root (after ``pip install -e .`` has built the
Cython kernels)::

    python benchmarks/compare.py              # every table, ~3.5 minutes on 2 cores
    python benchmarks/compare.py --quick      # smoke run, under a minute
    python benchmarks/compare.py --only mlp,predict   # the estimator tables only
    python benchmarks/compare.py --only conv  # conv2d, pooling/BatchNorm2d, LeNet epoch
    python benchmarks/compare.py --only sequence  # LSTM/GRU, TransformerEncoderLayer
    python benchmarks/compare.py --threads 1,2 --json results.json

PyTorch columns appear when ``import torch`` works (``pip install
torch==2.13.0`` takes the CPU wheel); torch is never a dependency.

Each table is one ``bench_*`` function (in ``compare_tables/``, one module per
family of tables) registered in ``TABLES``: it builds
its data with fixed seeds, checks that the implementations it compares
compute the same thing, times them with ``measure`` and returns a ``Table``.
Tables: ``dense`` (forward+backward of one MLP step), ``adam`` (one
optimizer step), ``mlp`` (MLPClassifier training throughput against
scikit-learn and a PyTorch loop), ``predict`` (predict latency), ``optim``
(one step of every optimizer against numpy and torch.optim), ``conv2d``
(forward+backward of three convolutions), ``pool`` (max-pool, avg-pool and
BatchNorm2d forward+backward), ``lenet`` (one LeNet training epoch against
a PyTorch loop); ``--only conv`` names these three. ``rnn`` (LSTM and GRU,
1 and 2 layers, forward+backward over a sequence) and ``encoder`` (a
TransformerEncoderLayer and its self-attention block, forward+backward)
compare sequence models with PyTorch's using the same weights; ``--only
sequence`` names these two. ``explain`` times integrated gradients against
captum on the same network copied into PyTorch; ``graph`` the message-passing
product against scipy.sparse and torch, and GCN/GAT epochs against PyTorch
Geometric; ``rl`` DQN and PPO on CartPole-v1 against Stable-Baselines3;
``search`` the architecture-search strategies against scikit-learn's searches;
``export`` prediction latency against onnxruntime on the exported model. A new
comparison is one more function and one more ``TABLES`` entry.

Timing: ``time.perf_counter``; warm-up calls first; each repeat runs the
call enough times to last ``min_time`` seconds; the reported time is the
median over repeats of the time per call (the best repeat is shown too).
Whole ``fit`` calls and epochs (tables ``mlp``, ``lenet``) are too long for that: they are warmed
up with a short fit and then timed a few times each, round-robin across
implementations (``measure_runs``).
Thread counts are set explicitly for every pool in the process (both
OpenBLAS copies, OpenMP, PyTorch) with threadpoolctl and printed.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

if importlib.util.find_spec("sklears_neural") is None:  # run from a checkout, not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import scipy
import threadpoolctl

# The tables live beside this file; asv imports it as benchmarks.compare, a script run
# has this folder on the path already.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_tables._common import Config, torch  # noqa: E402
from compare_tables.adam import bench_adam  # noqa: E402
from compare_tables.conv import bench_conv2d, bench_lenet, bench_pool  # noqa: E402
from compare_tables.dense import bench_dense  # noqa: E402
from compare_tables.explain import bench_explain  # noqa: E402
from compare_tables.export import bench_export  # noqa: E402
from compare_tables.graph import bench_graph  # noqa: E402
from compare_tables.load import bench_load  # noqa: E402
from compare_tables.mlp import bench_mlp, bench_overhead, bench_predict  # noqa: E402
from compare_tables.optim import bench_optim  # noqa: E402
from compare_tables.rl import bench_rl  # noqa: E402
from compare_tables.search import bench_search  # noqa: E402
from compare_tables.sequence import bench_encoder, bench_rnn  # noqa: E402


TABLES = {
    "dense": bench_dense,
    "adam": bench_adam,
    "mlp": bench_mlp,
    "predict": bench_predict,
    "optim": bench_optim,
    "conv2d": bench_conv2d,
    "pool": bench_pool,
    "lenet": bench_lenet,
    "rnn": bench_rnn,
    "encoder": bench_encoder,
    "overhead": bench_overhead,
    "load": bench_load,
    "explain": bench_explain,
    "graph": bench_graph,
    "rl": bench_rl,
    "search": bench_search,
    "export": bench_export,
}

# Tables that set their own threads (the machine's defaults) and so run once,
# at the first thread count of --threads.
RUN_ONCE = {"load"}

# Names for several tables at once (``--only conv``, ``--only sequence``).
GROUPS = {"conv": ["conv2d", "pool", "lenet"], "sequence": ["rnn", "encoder"]}


def _version(distribution):
    """Installed version of a distribution, without importing it (None if absent)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _usable_cpus():
    """The CPUs this process may run on (its affinity mask), else os.cpu_count()."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_revision():
    head = Path(__file__).resolve().parents[1] / ".git"
    try:
        import subprocess

        return subprocess.run(["git", "-C", str(head.parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5).stdout.strip() or None
    except Exception:
        return None


def environment(threads, load_average=None):
    """Versions, CPU and thread pools, for the header and the JSON file."""
    from sklears_neural._kernels import _cpu, _openmp_helpers

    pools = [{"api": p["user_api"], "library": p["internal_api"],
              "file": os.path.basename(p["filepath"]), "version": p.get("version"),
              "num_threads": p["num_threads"]}
             for p in threadpoolctl.threadpool_info()]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": None if torch is None else torch.__version__,
        "scikit-learn": _version("scikit-learn"),
        "torch_geometric": _version("torch_geometric"),
        "stable-baselines3": _version("stable-baselines3"),
        "gymnasium": _version("gymnasium"),
        "threadpoolctl": threadpoolctl.__version__,
        "sklears_neural_git": _git_revision(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": load_average,
        "threads": threads,
        "torch_threads": None if torch is None else torch.get_num_threads(),
        "kernels_openmp": _openmp_helpers.openmp_enabled(),
        "kernels_omp_max_threads": _openmp_helpers.openmp_max_threads(),
        "kernels_loops": _cpu.loops_in_use(),
        "kernels_float32_gemm": _cpu.gemm_in_use(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "thread_pools": pools,
    }


def print_header(env):
    print("sklears-neural benchmarks (benchmarks/compare.py)")
    print(f"  python {env['python']}, numpy {env['numpy']}, scipy {env['scipy']}, "
          f"torch {env['torch'] or 'not installed'}, scikit-learn {env['scikit-learn']}, "
          f"threadpoolctl {env['threadpoolctl']}, sklears_neural git {env['sklears_neural_git']}")
    print(f"  cpu: {env['cpu']}, os.cpu_count()={env['cpu_count']}, usable={env['cpus_usable']}")
    load = env["load_average"]
    if load is not None:
        busy = "  (other processes are busy: expect noisy timings)" if load[0] > 0.7 else ""
        print(f"  load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}{busy}")
    torch_threads = "n/a" if env["torch_threads"] is None else env["torch_threads"]
    print(f"  threads set to {env['threads']}: torch.get_num_threads()={torch_threads}, "
          f"kernels OpenMP={'on' if env['kernels_openmp'] else 'OFF'} "
          f"(omp max threads {env['kernels_omp_max_threads']})")
    gemm = {"avx512": "ours (AVX-512)", "blas": "the BLAS"}[env["kernels_float32_gemm"]]
    coretype = env["openblas_coretype"]
    print(f"  kernels: {env['kernels_loops']} loops, float32 products on {gemm}"
          + (f"; OPENBLAS_CORETYPE={coretype}" if coretype else ""))
    print("  thread pools (threadpoolctl):")
    for p in env["thread_pools"]:
        print(f"    {p['api']:<6} {p['library']:<9} {p['file']:<40} v{p['version']}  "
              f"num_threads={p['num_threads']}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fast smoke run: fewer repeats, shorter repeats, fewer cases")
    parser.add_argument("--repeat", type=int, default=None,
                        help="repeats per measurement (median taken); default 9, quick 3")
    parser.add_argument("--threads", default="1,all",
                        help="comma-separated thread counts for every pool, e.g. 1,2 "
                             "(default 1,all; 'all' = the CPUs this process may use). Tables "
                             "run at each count in turn; from the second count on, every row "
                             "gets its speed-up over the first count's run of it")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated tables to run among: {', '.join(TABLES)}; "
                             f"or groups: " + ", ".join(f"{g} (= {'+'.join(t)})"
                                                         for g, t in GROUPS.items()))
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write all results as JSON to PATH")
    args = parser.parse_args(argv)
    threads = []
    for item in args.threads.split(","):
        item = item.strip()
        threads.append(_usable_cpus() if item == "all" else int(item))
    if any(t < 1 for t in threads):
        parser.error("--threads takes positive integers or 'all'")
    args.threads = threads
    only = list(TABLES) if args.only is None else [s.strip() for s in args.only.split(",")]
    unknown = [name for name in only if name not in TABLES and name not in GROUPS]
    if unknown:
        parser.error(f"unknown table(s) {', '.join(unknown)}; choose among "
                     f"{', '.join([*TABLES, *GROUPS])}")
    expanded = []
    for name in only:
        for table in GROUPS.get(name, [name]):
            if table not in expanded:
                expanded.append(table)
    only = expanded
    args.only = only
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def set_threads(n):
    """Limit every thread pool loaded in the process to ``n`` threads.

    threadpoolctl reaches the pools already loaded (numpy's and scipy's
    OpenBLAS, the OpenMP runtime), so this runs after the kernels and torch
    are imported; the limits stay in force until changed.
    """
    threadpoolctl.threadpool_limits(limits=n)
    if torch is not None:
        torch.set_num_threads(n)


def main(argv=None):
    args = parse_args(argv)
    load_average = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        # Load the kernels (and with them the OpenMP runtime) before the
        # thread pools are limited, so that the limit reaches them too.
        from sklears_neural._dispatch import kernels_for

        kernels_for(np.zeros(1, np.float32)).dense_forward
    except (ImportError, AttributeError) as exc:
        sys.exit(f"compare.py: the Cython kernels are not built ({exc}); run "
                 "`pip install -e .` in the repository root first.")
    start = time.perf_counter()
    output = {"environment": None, "runs": []}
    first_run = {}  # table key -> the table measured at the first thread count
    for i, threads in enumerate(args.threads):
        set_threads(threads)
        cfg = Config(quick=args.quick, threads=threads)
        if args.quick:
            cfg.repeat, cfg.warmup, cfg.min_time = 3, 2, 0.01
        if args.repeat is not None:
            cfg.repeat = args.repeat
        env = environment(threads, load_average)
        if i == 0:
            print_header(env)
            output["environment"] = env
        else:
            print(f"\n--- threads set to {threads} (torch {env['torch_threads']}, "
                  f"pools {sorted({p['num_threads'] for p in env['thread_pools']})}) ---")
        run = {"threads": threads, "config": asdict(cfg), "thread_pools": env["thread_pools"],
               "tables": []}
        for name in args.only:
            if i > 0 and name in RUN_ONCE:
                continue
            table = TABLES[name](cfg)
            table.threads = threads
            if i == 0:
                first_run[name] = table
            elif threads != args.threads[0]:
                table.add_scaling(first_run[name])
            print()
            print(table.render())
            run["tables"].append(table.to_json())
        output["runs"].append(run)
    elapsed = time.perf_counter() - start
    print(f"\ntotal {elapsed:.1f} s")
    output["elapsed_s"] = elapsed
    if args.json:
        Path(args.json).write_text(json.dumps(output, indent=2, default=str))
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
