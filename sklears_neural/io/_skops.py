"""skops (``skops.io``) and this library: the names of this library's classes, for
skops's ``trusted`` argument, so a Pipeline holding our estimators loads there."""

import importlib
import inspect
import pkgutil

__all__ = ["skops_trusted_types"]

# Subpackages whose import needs an optional dependency or has side effects.
_SKIPPED = ("sklears_neural.__main__", "sklears_neural._demo")


def skops_trusted_types():
    """Every class defined in this library, by full name, for ``skops.io.load``.

    skops refuses to load types it does not know unless they are listed in
    its ``trusted`` argument; this library's estimators, networks, layers,
    optimizers and callbacks are listed here (what our own ``io.load``
    trusts). Add the names of your own classes, if any.

    Returns
    -------
    list of str
        ``module.QualName`` of each class, sorted.

    Examples
    --------
    >>> import skops.io as sio                                   # doctest: +SKIP
    >>> from sklears_neural.io import skops_trusted_types        # doctest: +SKIP
    >>> sio.dump(pipeline, "model.skops")                        # doctest: +SKIP
    >>> sio.load("model.skops", trusted=skops_trusted_types())   # doctest: +SKIP
    """
    import sklears_neural

    names = set()
    for info in pkgutil.walk_packages(sklears_neural.__path__, "sklears_neural."):
        if info.name in _SKIPPED or "._kernels" in info.name:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency is missing (CuPy, say)
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                names.add(f"{cls.__module__}.{cls.__qualname__}")
    return sorted(names)
