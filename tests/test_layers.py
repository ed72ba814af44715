"""The architecture's layers only import downwards, checked by import-linter (``.importlinter``).

import-linter reads Python files; the Cython kernels (``.pyx``) are checked
here by reading their imports directly.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "sklears_neural"


def test_layer_contract_is_kept():
    cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the [test] extra")
    assert cli.lint_imports(config_filename=str(REPO / ".importlinter"), no_cache=True) == 0, (
        "a module imports a layer above it, or reaches a kernel twin without _dispatch")


# No Cython kernel imports its _xp twin (the test oracle is never a run-time dependency):
# shape rules and argument checks come from the neutral sklears_neural._specs, and every
# kernel handles empty sizes itself.


def _imported_modules(source):
    return set(re.findall(r"^\s*(?:from|import)\s+(sklears_neural[\w.]*)", source, re.M))


def _xp_import_lines(source):
    return {line.strip() for line in source.splitlines()
            if re.match(r"\s*(?:from|import)\s+sklears_neural\._xp", line)}


def test_cython_kernels_import_nothing_above_them_and_no_new_xp_code():
    allowed_prefixes = ("sklears_neural._kernels", "sklears_neural._specs",
                        "sklears_neural._threads", "sklears_neural.backend")
    for pyx in sorted((PACKAGE / "_kernels").glob("*.pyx")):
        source = pyx.read_text()
        assert not _xp_import_lines(source), pyx.name
        others = {m for m in _imported_modules(source) if not m.startswith(allowed_prefixes)}
        assert not others, f"{pyx.name} imports {sorted(others)}, above the kernel layer"


def test_the_portable_twin_never_imports_the_compiled_one():
    for py in sorted((PACKAGE / "_xp").glob("*.py")):
        modules = _imported_modules(py.read_text())
        assert not {m for m in modules if m.startswith("sklears_neural._kernels")}, py.name
