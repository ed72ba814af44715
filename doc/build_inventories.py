"""Write ``_inventories/sklearn.inv`` and ``_inventories/numpy.inv``: Sphinx
(intersphinx) inventories of scikit-learn's and NumPy's public classes and
functions, made offline from the installed packages, so cross-links to their
documentation resolve without the network. Run ``python build_inventories.py``
after upgrading either; the files are committed.

Each object points where those sites document it:
``modules/generated/<name>.html`` (scikit-learn) and
``reference/generated/<name>.html`` (NumPy); a few labels and glossary terms that
scikit-learn's inherited docstrings and numpydoc's type links refer to are
added by hand.
"""

import importlib
import inspect
import pkgutil
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
NUMPY_TERMS = {"array_like": "glossary.html#term-array_like"}
NUMPY_LABELS = {"arrays.scalars": "reference/arrays.scalars.html#arrays-scalars"}
SKLEARN_LABELS = {
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
    "r2_score": "modules/model_evaluation.html#r2-score",
    "metadata_routing": "metadata_routing.html#metadata-routing",
}


def _public(package, skip=()):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        parts = info.name.split(".")
        if any(p.startswith("_") or p in ("tests", "externals", "testing") for p in parts[1:]):
            continue
        if info.name.startswith(skip):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - optional dependencies of a submodule
            continue
        yield module


def _entries(package, uri, skip=()):
    seen = {}
    modules = [package, *_public(package, skip)]
    for module in modules:
        seen.setdefault(module.__name__, ("py:module", uri.replace("$", module.__name__)))
        for name in getattr(module, "__all__", None) or dir(module):
            if name.startswith("_"):
                continue
            obj = getattr(module, name, None)
            if inspect.isclass(obj):
                role = "py:class"
            elif inspect.isfunction(obj) or inspect.isbuiltin(obj) or type(obj).__name__ in (
                    "ufunc", "_ArrayFunctionDispatcher"):
                role = "py:function"
            else:
                continue
            full = f"{module.__name__}.{name}"
            seen.setdefault(full, (role, uri.replace("$", full)))
    return seen


def _write(path, project, version, entries, labels=None, terms=None):
    lines = [f"{name} {role} 1 {target} -" for name, (role, target) in sorted(entries.items())]
    lines += [f"{label} std:label -1 {target} -" for label, target in (labels or {}).items()]
    lines += [f"{term} std:term -1 {target} -" for term, target in (terms or {}).items()]
    header = ("# Sphinx inventory version 2\n"
              f"# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    path.write_bytes(header.encode() + zlib.compress("\n".join(lines).encode() + b"\n"))


def main():
    import numpy
    import sklearn

    folder = HERE / "_inventories"
    folder.mkdir(exist_ok=True)
    _write(folder / "sklearn.inv", "scikit-learn", sklearn.__version__,
           _entries(sklearn, "modules/generated/$.html", skip=("sklearn.experimental",)),
           SKLEARN_LABELS)
    _write(folder / "numpy.inv", "NumPy", numpy.__version__,
           _entries(numpy, "reference/generated/$.html",
                    skip=("numpy.f2py", "numpy.distutils", "numpy.ctypeslib", "numpy.typing",
                          "numpy.array_api", "numpy.conftest")), NUMPY_LABELS, NUMPY_TERMS)


if __name__ == "__main__":
    main()
