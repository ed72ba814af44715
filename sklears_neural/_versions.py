"""The versions a fitted model records (this library's, NumPy's, scikit-learn's) and
the warning given when a model is loaded under others."""

import threading
import warnings
from contextlib import contextmanager

import numpy as np
import sklearn
from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("sklears-neural")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.1.0.dev0"

__all__ = ["InconsistentVersionWarning", "check_versions", "checked_state", "library_versions",
           "versions_checked", "with_versions"]

STATE_KEY = "_sklears_neural_versions"


class InconsistentVersionWarning(_SklearnVersionWarning):
    """A model is loaded under another version of a library than it was saved with.

    A subclass of scikit-learn's ``InconsistentVersionWarning``, so a filter on
    that warning also catches this one.

    Parameters
    ----------
    estimator_name : str
        The loaded object's class.
    library : str
        "sklears-neural", "numpy" or "scikit-learn".
    current_version, original_version : str
        The library's version now, and when the model was saved.
    """

    def __init__(self, *, estimator_name, library, current_version, original_version):
        self.estimator_name = estimator_name
        self.library = library
        self.current_version = current_version
        self.original_version = original_version
        # scikit-learn's attribute names, for code that reads them
        self.current_sklearn_version = current_version
        self.original_sklearn_version = original_version

    def __str__(self):
        return (f"{self.estimator_name} was saved with {self.library} {self.original_version} "
                f"and is loaded with {self.library} {self.current_version}. It may give "
                "different results or fail; refit it, or load it under the versions it was "
                "saved with.")


def library_versions():
    """The versions a saved model records.

    Returns
    -------
    dict
        "sklears-neural", "numpy" and "scikit-learn" -> version string.
    """
    return {"sklears-neural": __version__, "numpy": np.__version__,
            "scikit-learn": sklearn.__version__}


def check_versions(recorded, name):
    """Warn for each library whose recorded version differs from the current one.

    Parameters
    ----------
    recorded : dict or None
        As ``library_versions`` gave when the model was saved (None: an old
        file that recorded none; nothing is checked).
    name : str
        The loaded object's class, for the message.
    """
    if not isinstance(recorded, dict) or getattr(_quiet, "depth", 0):
        return  # none recorded (or not a mapping), or a caller that already warned
    for library, current in library_versions().items():
        original = recorded.get(library)
        if original is not None and original != current:
            warnings.warn(InconsistentVersionWarning(
                estimator_name=name, library=library, current_version=current,
                original_version=original), stacklevel=3)


_quiet = threading.local()


@contextmanager
def versions_checked():
    """Objects restored inside do not warn again: the caller checked the versions once
    (``io.load`` reads them from the file's header)."""
    _quiet.depth = getattr(_quiet, "depth", 0) + 1
    try:
        yield
    finally:
        _quiet.depth -= 1


def with_versions(state):
    """``state`` (a pickled ``__dict__``) with the current versions recorded.

    Parameters
    ----------
    state : dict
        What ``__getstate__`` returns.

    Returns
    -------
    dict
        The same dict, with the versions under ``STATE_KEY``.
    """
    state[STATE_KEY] = library_versions()
    return state


def checked_state(state, name):
    """``state`` without its recorded versions, warning for each that differs now.

    Parameters
    ----------
    state : dict
        What ``__setstate__`` receives (it is not modified).
    name : str
        The object's class, for the message.

    Returns
    -------
    dict
        The state to restore.
    """
    state = dict(state)
    check_versions(state.pop(STATE_KEY, None), name)
    return state
