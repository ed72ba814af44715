"""Every public name has a numpydoc docstring: numpydoc's validation over the public API.

Modelled on scikit-learn's ``sklearn/tests/test_docstrings.py``. The public API is

- every name in ``__all__`` of every public module: ``sklears_neural`` and the modules
  and packages below it, found with ``pkgutil``, skipping any whose name starts with
  ``_`` (and skipping names in ``__all__`` that start with ``_``, such as
  ``__version__``);
- the public methods and properties of those classes: those defined on the class or
  on a base class of this package (``fit``, ``predict``, ``forward``, ``step``, ...),
  not those inherited from scikit-learn or ``object``.

Each object is one test case, named by a public import path. To check one object::

    python tests/test_docstrings.py sklears_neural.nn.Linear.forward
"""

import importlib
import inspect
import pkgutil

import pytest

import sklears_neural

numpydoc_validation = pytest.importorskip(
    "numpydoc.validate", reason="numpydoc (in the test and docs extras) validates docstrings"
)

# numpydoc's codes not checked, each with its reason (the codes:
# https://numpydoc.readthedocs.io/en/latest/validation.html#built-in-validation-checks).
# scikit-learn ignores the same ones, except that it asks its estimator classes (not
# their methods) for ES01, SA01 and EX01.
IGNORED_CODES = {
    "GL01": "the summary starts on the line of the opening quotes (PEP 257), the house style",
    "GL02": "a one-line docstring closes its quotes on the same line",
    "RT02": "a Returns entry may name what it returns (``loss : float``), not only its type",
    "ES01": "an extended summary is optional: a short object is clear from its summary",
    "SA01": "a See Also section is optional: not every object has a natural neighbour",
    "EX01": "an Examples section is optional: the package docstrings and examples/ hold them",
}

# A property has no call signature to document, as in scikit-learn: PR02 ("unknown
# parameters") does not apply to it. Unlike scikit-learn, GL08 ("no docstring") does:
# every public property has a docstring.
PROPERTY_CODES = {"PR02"}

DEPRECATED = ("deprecated alias: it warns (FutureWarning) on use and is removed in the next "
              "release, so it only points at its replacement")


def _public_modules():
    """Return ``sklears_neural`` and every public module below it, depth first."""
    modules = []

    def walk(module):
        modules.append(module)
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            if not info.name.startswith("_"):
                walk(importlib.import_module(f"{module.__name__}.{info.name}"))

    walk(sklears_neural)
    return modules


def _is_deprecated(obj):
    """Whether ``obj`` is a deprecated alias or shim: its summary says so."""
    return (inspect.getdoc(obj) or "").lower().startswith("deprecated")


def _members(klass, own):
    """Yield ``(name, attribute)`` for the public methods and properties of ``klass``.

    With ``own``, those ``klass`` defines itself; otherwise also those it inherits from
    a base class of this package (never scikit-learn's or ``object``'s).
    """
    bases = [klass] if own else [b for b in klass.__mro__
                                 if b.__module__.startswith("sklears_neural")]
    seen = set()
    for base in bases:
        for name, attr in vars(base).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(attr, property) or callable(getattr(klass, name, None)):
                yield name, attr


def _public_objects():
    """Return ``{import_path: (skip_reason or None, is_property)}`` over the public API.

    An object exported under several names is checked once, under the first public
    name found (modules are walked depth first, so the package that re-exports it comes
    first). A method is checked under the public class that defines it, or, when a
    private base defines it, under the first public class that inherits it.
    """
    objects = {}
    found = set()
    classes = []
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue  # a module is walked itself; a constant has no docstring of its own
            if id(obj) in found:
                continue
            found.add(id(obj))
            path = f"{module.__name__}.{name}"
            objects[path] = (DEPRECATED if _is_deprecated(obj) else None, False)
            if inspect.isclass(obj):
                classes.append((path, obj))
    for own in (True, False):
        for path, klass in classes:
            for name, attr in _members(klass, own):
                if id(attr) in found:
                    continue
                found.add(id(attr))
                deprecated = objects[path][0] is not None or _is_deprecated(attr)
                objects[f"{path}.{name}"] = (DEPRECATED if deprecated else None,
                                             isinstance(attr, property))
    return objects


PUBLIC_OBJECTS = _public_objects()


def filter_errors(errors, is_property):
    """Drop the errors of the codes this project does not check.

    Parameters
    ----------
    errors : list of tuple of (str, str)
        The ``(code, message)`` pairs that ``numpydoc.validate.validate`` found.
    is_property : bool
        Whether the object is a property.

    Yields
    ------
    code : str
        The numpydoc code of an error kept.
    message : str
        Its message.
    """
    for code, message in errors:
        if code in IGNORED_CODES or (is_property and code in PROPERTY_CODES):
            continue
        yield code, message


def repr_errors(res, import_path):
    """Return the docstring and its errors, for the failure message.

    Parameters
    ----------
    res : dict
        The result of ``numpydoc.validate.validate``, its errors filtered.
    import_path : str
        The object validated.

    Returns
    -------
    str
        The file and line, the object, its docstring and the errors.
    """
    return "\n\n" + "\n\n".join([
        f"{res['file']}:{res['file_line']}",
        import_path,
        res["docstring"],
        "# Errors",
        "\n".join(f" - {code}: {message}" for code, message in res["errors"]),
    ])


def test_public_api_is_found():
    """The walk finds the public API: a check on the enumeration itself."""
    for path in ("sklears_neural.MLPClassifier", "sklears_neural.base.BaseNeuralNet.fit",
                 "sklears_neural.MLPClassifier.partial_fit", "sklears_neural.nn.Linear.forward",
                 "sklears_neural.nn.functional.relu",
                 "sklears_neural.optim.lr_scheduler.LRScheduler.step",
                 "sklears_neural.backend.to_numpy"):
        assert path in PUBLIC_OBJECTS, path
    # Methods a private base defines are checked under a public class that has them.
    for method in ("predict", "predict_proba", "predict_log_proba", "get_params"):
        assert any(path.endswith("." + method) for path in PUBLIC_OBJECTS), method
    assert len(PUBLIC_OBJECTS) > 200


@pytest.mark.parametrize("import_path", sorted(PUBLIC_OBJECTS))
def test_docstring(import_path):
    """Validate the docstring of one public object with numpydoc."""
    reason, is_property = PUBLIC_OBJECTS[import_path]
    if reason is not None:
        pytest.skip(reason)
    res = numpydoc_validation.validate(import_path)
    res["errors"] = list(filter_errors(res["errors"], is_property))
    if res["errors"]:
        raise ValueError(repr_errors(res, import_path))


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python tests/test_docstrings.py IMPORT_PATH")
    path = sys.argv[1]
    result = numpydoc_validation.validate(path)
    _, is_property = PUBLIC_OBJECTS.get(path, (None, False))
    result["errors"] = list(filter_errors(result["errors"], is_property))
    if result["errors"]:
        print(repr_errors(result, path))
        sys.exit(1)
    print(f"All docstring checks passed for {path}.")
