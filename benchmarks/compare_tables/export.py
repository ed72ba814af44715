"""Table v: prediction latency of our estimators against onnxruntime running the same
fitted model exported with ``sklears_neural.export.to_onnx``: one row (a request)
and 10,000 rows (a batch), on digits."""

import warnings

import numpy as np

from ._common import Table, _timing_record, fmt_ratio, iqr, measure, ms, ratio

BATCH_ROWS = 10_000


def _models():
    """Default MLPClassifier, CNNClassifier (8x8 images) and RNNClassifier (8 steps of
    8 features) fitted on standardised digits."""
    from sklearn.datasets import load_digits

    from sklears_neural import CNNClassifier, MLPClassifier, RNNClassifier

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return X, [("MLPClassifier()", MLPClassifier(random_state=0).fit(X, y)),
                   ("CNNClassifier(input_shape=(1, 8, 8))",
                    CNNClassifier(input_shape=(1, 8, 8), random_state=0).fit(X, y)),
                   ("RNNClassifier(input_shape=(8, 8))",
                    RNNClassifier(input_shape=(8, 8), random_state=0).fit(X, y))]


def bench_export(cfg):
    """Table v: predict_proba against onnxruntime on the exported model."""
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    from sklears_neural.export import to_onnx

    X, models = _models()
    batch = np.resize(X, (BATCH_ROWS, X.shape[1])).astype(np.float32)
    table = Table("export", f"v. Prediction latency on digits, ours vs onnxruntime on the "
                  f"exported model: 1 row and {BATCH_ROWS:,} rows (threads={cfg.threads})",
                  ["model", "rows", "implementation", "ms/call", "best ms", "iqr %",
                   "time / ours", "max |diff|"])
    for label, model in models:
        session = None
        if ort is not None:
            options = ort.SessionOptions()
            options.intra_op_num_threads = cfg.threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(to_onnx(model, X[:2]).SerializeToString(), options)
        for rows in (batch[:1], batch):
            def ours(rows=rows):
                return model.predict_proba(rows)

            ours_t = measure(ours, cfg)
            table.add_row([label, f"{len(rows):,}", "ours: predict_proba", ms(ours_t.median),
                           ms(ours_t.best), iqr(ours_t), "1.00x", ""], name=label,
                          rows=len(rows), impl="ours", timing=_timing_record(ours_t))
            if session is None:
                table.add_row([label, f"{len(rows):,}", "onnxruntime", "not installed", "", "",
                               "", ""], name=label, rows=len(rows), impl="onnxruntime",
                              timing=None)
                continue

            def theirs(rows=rows):
                return session.run(["probabilities"], {"X": rows})[0]

            theirs_t = measure(theirs, cfg)
            diff = float(np.abs(theirs() - ours()).max())
            table.add_row([label, f"{len(rows):,}", "onnxruntime (to_onnx)",
                           ms(theirs_t.median), ms(theirs_t.best), iqr(theirs_t),
                           fmt_ratio(ratio(theirs_t.median, ours_t.median)), f"{diff:.1e}"],
                          name=label, rows=len(rows), impl="onnxruntime",
                          timing=_timing_record(theirs_t))
            table.add_check(f"onnxruntime / ours, {label.split('(')[0]}, {len(rows):,} rows",
                            ratio(theirs_t.median, ours_t.median))
    table.add_note("Both return the class probabilities of float32 rows; onnxruntime's "
                   "session uses the same number of threads (intra-op) and its default "
                   "graph optimisations. time / ours above 1 means onnxruntime is slower.")
    return table
