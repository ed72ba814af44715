"""Optionally run the optimizer tests on the portable ``_xp`` kernels.

By default the optimizers call the compiled kernels (``kernels_for`` of a
numpy array). ``SKLEARS_NEURAL_TEST_XP=1`` patches the optimizers' step loop
(in ``sklears_neural.optim._optimizer``) to use ``sklears_neural._xp``
instead: the code path CuPy arrays take, run on numpy. The report header says
which kernels ran.
"""

import os

import pytest

from sklears_neural import _xp
from sklears_neural.optim import _optimizer

USE_XP = os.environ.get("SKLEARS_NEURAL_TEST_XP") == "1"


def pytest_report_header(config):
    if USE_XP:
        return "optimizer kernels: portable sklears_neural._xp (SKLEARS_NEURAL_TEST_XP=1)"
    return "optimizer kernels: compiled sklears_neural._kernels"


@pytest.fixture(autouse=True)
def _portable_kernels(monkeypatch):
    if USE_XP:
        monkeypatch.setattr(_optimizer, "kernels_for", lambda array: _xp)
    yield
