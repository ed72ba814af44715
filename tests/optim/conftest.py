"""Optionally run the optimizer tests on the portable ``_xp`` kernels.

By default the optimizers call the compiled kernels (``kernels_for`` of a
numpy array). ``SKLEARS_NEURAL_TEST_XP=1`` patches the optimizer modules to
use ``sklears_neural._xp`` instead: the code path CuPy arrays take, run on
numpy. The report header says which kernels ran.
"""

import importlib
import os

import pytest

from sklears_neural import _xp

_OPTIM_MODULES = ("_sgd", "_adam", "_rmsprop", "_adagrad", "_nadam", "_adamax", "_radam",
                  "_adadelta", "_lamb", "_lars")
USE_XP = os.environ.get("SKLEARS_NEURAL_TEST_XP") == "1"


def pytest_report_header(config):
    if USE_XP:
        return "optimizer kernels: portable sklears_neural._xp (SKLEARS_NEURAL_TEST_XP=1)"
    return "optimizer kernels: compiled sklears_neural._kernels"


@pytest.fixture(autouse=True)
def _portable_kernels(monkeypatch):
    if USE_XP:
        for name in _OPTIM_MODULES:
            module = importlib.import_module(f"sklears_neural.optim.{name}")
            monkeypatch.setattr(module, "kernels_for", lambda array: _xp)
    yield
