"""Run the optimizer tests on the compiled kernels, or on ``_xp`` until they are built.

``kernels_for`` returns ``sklears_neural._kernels`` for numpy arrays. While
that extension is not built (or lacks the optimizer kernels) the tests patch
``kernels_for`` in the optimizer modules to return the portable ``_xp``
kernels instead, and say so in the report header, so the Python layer can be
tested on its own. Once the build has the kernels, these tests exercise them;
``SKLEARS_NEURAL_TEST_XP=1`` runs them on ``_xp`` regardless.
"""

import importlib
import os

import pytest

from sklears_neural import _xp

_OPTIM_KERNELS = ("sgd_step", "adam_step", "rmsprop_step", "adagrad_step")
_OPTIM_MODULES = ("_sgd", "_adam", "_rmsprop", "_adagrad")


def _compiled_kernels_available():
    if os.environ.get("SKLEARS_NEURAL_TEST_XP") == "1":
        return False
    try:
        kernels = importlib.import_module("sklears_neural._kernels")
    except ImportError:
        return False
    return all(hasattr(kernels, name) for name in _OPTIM_KERNELS)


COMPILED = _compiled_kernels_available()


def pytest_report_header(config):
    if COMPILED:
        return "optimizer kernels: compiled sklears_neural._kernels"
    return "optimizer kernels: portable sklears_neural._xp (compiled ones missing or not wanted)"


def _fallback_kernels_for(array):
    return _xp


@pytest.fixture(autouse=True)
def _kernels_fallback(monkeypatch):
    if not COMPILED:
        for name in _OPTIM_MODULES:
            module = importlib.import_module(f"sklears_neural.optim.{name}")
            monkeypatch.setattr(module, "kernels_for", _fallback_kernels_for)
    yield
