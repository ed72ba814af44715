"""
Shipping a model: ONNX export and the safe save format
======================================================

A ``StandardScaler`` + ``MLPClassifier`` Pipeline trained on digits goes two
ways to production:

* **ONNX**: ``skl2onnx.to_onnx`` exports the whole Pipeline (our estimator's
  converter is registered when ``sklears_neural.export`` is imported);
  onnxruntime runs it and gives the same probabilities.
* **sklears_neural.io**: ``save`` writes the fitted estimator as JSON and
  arrays in a zip that ``load`` reads without pickle, so loading a file from
  elsewhere runs no code from it.

Needs onnx, onnxruntime and skl2onnx (the ``[onnx]`` extra).
"""

import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklears_neural.export  # noqa: F401  (registers the skl2onnx converters)
from sklears_neural import MLPClassifier, io

QUICK = os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1"  # CI: a few epochs

import onnxruntime  # noqa: E402
import skl2onnx  # noqa: E402

X, y = load_digits(return_X_y=True)
pipeline = make_pipeline(StandardScaler(), MLPClassifier(
    random_state=0, **({"max_iter": 3} if QUICK else {}))).fit(X, y)
onnx_model = skl2onnx.to_onnx(pipeline, X[:1].astype(np.float32),
                              options={id(pipeline[-1]): {"zipmap": False}})  # probabilities
session = onnxruntime.InferenceSession(onnx_model.SerializeToString())
labels, probabilities = session.run(None, {"X": X.astype(np.float32)})
print(f"ONNX: labels equal: {np.array_equal(labels, pipeline.predict(X))}; largest "
      f"probability difference {np.abs(probabilities - pipeline.predict_proba(X)).max():.1e}")

with tempfile.TemporaryDirectory() as folder:
    path = io.save(pipeline[-1], os.path.join(folder, "digits_mlp.skn"))
    loaded = io.load(path)
    size = os.path.getsize(path)
Z = pipeline[0].transform(X)
print(f"io.save: {size / 1024:.0f} KiB; reloaded predictions equal: "
      f"{np.array_equal(loaded.predict_proba(Z), pipeline[-1].predict_proba(Z))}")

# %%
# One request, a thousand requests
# --------------------------------
# The same predictions, timed: our ``predict_proba`` and onnxruntime.


def per_call(fn, repeat=50):
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e3


rows = {"1 row": X[:1], "1,000 rows": np.resize(X, (1000, X.shape[1]))}
ours = [per_call(lambda r=r: pipeline.predict_proba(r)) for r in rows.values()]
theirs = [per_call(lambda r=r: session.run(None, {"X": r.astype(np.float32)}))
          for r in rows.values()]
figure, ax = plt.subplots(figsize=(7, 3.2))
positions = np.arange(len(rows))
ax.bar(positions - 0.2, ours, 0.4, label="Pipeline.predict_proba")
ax.bar(positions + 0.2, theirs, 0.4, label="onnxruntime")
ax.set_xticks(positions, list(rows))
ax.set_ylabel("ms per call")
ax.set_yscale("log")
ax.legend()
figure.tight_layout()
