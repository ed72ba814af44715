"""What every table shares: measuring, the Table, ratios, and torch when installed."""

import gc
import statistics
import textwrap
import time
from dataclasses import asdict, dataclass, field

try:
    import torch
except ImportError:  # the PyTorch columns say "not installed"
    torch = None


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


@dataclass
class Config:
    """How hard to measure: ``quick`` trades precision for a short run."""

    quick: bool = False
    repeat: int = 9
    warmup: int = 5
    min_time: float = 0.05  # seconds per repeat
    threads: int = 1


@dataclass
class Timing:
    """Seconds per call: median and best over the repeats."""

    median: float
    best: float
    q1: float
    q3: float
    number: int  # calls per repeat
    repeat: int
    samples: list = field(default_factory=list)


def measure(fn, cfg):
    """Time ``fn()`` and return a ``Timing`` (seconds per call).

    Runs ``cfg.warmup`` calls, picks a number of calls per repeat so that
    one repeat lasts at least ``cfg.min_time`` seconds, then takes the
    median of ``cfg.repeat`` repeats. The garbage collector is left on (the
    engine's graph is freed by reference counting, as in real training) but
    is run once before timing starts.
    """
    for _ in range(cfg.warmup):
        fn()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= cfg.min_time or number >= 1 << 20:
            break
        grow = cfg.min_time / max(elapsed, 1e-9) * 1.1
        number = max(number + 1, min(int(number * grow), number * 100))
    gc.collect()
    samples = []
    for _ in range(cfg.repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    q = statistics.quantiles(samples, n=4) if len(samples) > 1 else samples * 3
    return Timing(statistics.median(samples), min(samples), q[0], q[2], number,
                  cfg.repeat, samples)


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


class Table:
    """An aligned plain-text table plus the raw numbers for ``--json``."""

    def __init__(self, key, title, columns):
        self.key = key
        self.title = title
        self.columns = list(columns)
        self.rows = []  # lists of cell strings
        self.records = []  # dicts for JSON
        self.notes = []
        self.checks = {}  # name -> {"value", "target", "ok"}
        self.threads = None  # set by compare.py: the thread count the table ran at

    def add_row(self, cells, **record):
        self.rows.append([str(c) for c in cells])
        self.records.append(record)

    def add_scaling(self, baseline):
        """Add a column with each row's speed-up over the same row of ``baseline``.

        ``baseline`` is this table as measured at 1 thread earlier in the run;
        rows pair up by position (both runs build the same rows) and must
        name the same case. A row without a timing gets an empty cell.
        """
        base_threads = baseline.threads
        self.columns.append(f"x over {base_threads} thr")
        for row, record, base_row, base_record in zip(self.rows, self.records, baseline.rows,
                                                      baseline.records):
            mine, base = record.get("timing"), base_record.get("timing")
            if _row_identity(row, record) != _row_identity(base_row, base_record):
                raise RuntimeError(f"{self.key}: rows differ between thread counts "
                                   f"({row[0]!r} vs {base_row[0]!r}); cannot pair them.")
            speedup = None if not mine or not base else base["median"] / mine["median"]
            row.append("" if speedup is None else f"{speedup:.2f}x")
            record["speedup_over_baseline_threads"] = speedup

    def add_note(self, text):
        self.notes.append(text)

    def add_check(self, name, value, target=None, op=">="):
        """Record a ratio, and its verdict against ``target`` when one is set
        (``op`` is ``"<="``, ``">="``, ``"<"`` or ``">"``)."""
        if value is None or target is None:
            ok = None
        else:
            ok = {"<=": value <= target, ">=": value >= target, "<": value < target,
                  ">": value > target}[op]
        self.checks[name] = {"value": value,
                             "target": None if target is None else f"{op} {target}", "ok": ok}

    def render(self):
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row)]

        def line(cells):
            first = cells[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
            return "  ".join([first, *rest]).rstrip()

        out = [self.title, "=" * len(self.title), line(self.columns),
               line(["-" * w for w in widths])]
        out += [line(row) for row in self.rows]
        if self.checks:
            out.append("")
            name_width = max(len(n) for n in self.checks)
            for name, check in self.checks.items():
                value = check["value"]
                value = ("n/a" if value is None else f"{value:.4f}" if 0 < abs(value) < 0.1
                         else f"{value:.2f}")  # small differences (accuracy) keep 4 places
                line_ = f"  {name.ljust(name_width)}  {value:>6}"
                if check["target"] is not None:
                    verdict = {True: "ok", False: "MISSED", None: "-"}[check["ok"]]
                    line_ += f"  (target {check['target']})  {verdict}"
                out.append(line_)
        if self.notes:
            out.append("")
            for note in self.notes:
                out += textwrap.wrap(note, width=100, initial_indent="  ",
                                     subsequent_indent="    ")
        return "\n".join(out)

    def to_json(self):
        return {"key": self.key, "title": self.title, "columns": self.columns,
                "rows": self.rows, "records": self.records, "checks": self.checks,
                "notes": self.notes}


# Record fields that name a row's case (never its measurements).
_IDENTITY_FIELDS = ("name", "impl", "case", "data", "batch", "rows", "optimizer", "op",
                    "block", "mode", "num_layers", "tensors", "setting")


def _row_identity(row, record):
    """What makes two runs' rows the same case: the first cell and the naming fields."""
    return (row[0], *(record.get(k) for k in _IDENTITY_FIELDS))


ENGINE_POOL_NOTE = (
    "Threads: every pool is limited to {threads} and torch follows; the plain 'ours' rows "
    "are the engine as a direct user gets it at those settings: our {what} kernels run each "
    "call on one thread, and their products take the threads (in the OpenMP pool where they "
    "run on our AVX-512 GEMM, else in the BLAS's). The 'engine pool' row runs the same code "
    "inside backend.threads({threads}, pool='engine'): the BLAS held to one thread and our "
    "kernels splitting the batch over {threads} threads, each with one-thread products "
    "inside, as the CNN and RNN estimators fit.")


def engine_pool(fn, cfg):
    """``fn`` run with the engine's pool owning ``cfg.threads`` threads (BLAS at one)."""
    from sklears_neural.backend import threads

    def run():
        with threads(cfg.threads, pool="engine"):
            return fn()

    return run


def ms(seconds):
    return f"{seconds * 1e3:.3f}"


def iqr(t):
    """Interquartile range of the repeats, in percent of the median: a noise gauge."""
    return f"{(t.q3 - t.q1) / t.median * 100:.0f}"


def ratio(a, b):
    return None if a is None or b is None else a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def _timing_record(t):
    return None if t is None else {k: v for k, v in asdict(t).items()}
