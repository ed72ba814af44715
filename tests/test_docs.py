"""The documentation: every user-guide code block runs, and the site builds with
warnings as errors, its gallery rendered and every public name in its API reference.

The build runs the gallery with ``SKLEARS_NEURAL_EXAMPLES_QUICK=1`` (each
example on a tiny budget) so that it fits the test run; ``make -C doc html``
builds the full site."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "doc"
PAGES = sorted((DOC / "user_guide").glob("*.rst"))
_BLOCK = re.compile(r"^\.\. code-block:: python\n((?:\n|    .*\n)+)", re.MULTILINE)


def _blocks(page):
    for match in _BLOCK.finditer(page.read_text()):
        lines = [line[4:] for line in match.group(1).splitlines()]
        yield "\n".join(lines).strip("\n") + "\n"


def _needs(code):
    """The ``# needs: ...`` line of a block: what it needs beyond the test extra."""
    first = code.lstrip().splitlines()[0]
    return first[len("# needs:"):].strip() if first.startswith("# needs:") else None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_user_guide_code_blocks_run(page, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="some blocks draw")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"user_guide_{page.stem}"}
    for code in _blocks(page):
        needs = _needs(code)
        if needs and "cupy" in needs:
            try:
                import cupy

                cupy.cuda.runtime.getDeviceCount()
            except Exception:  # noqa: BLE001 - no CuPy, or no GPU
                continue  # the GPU page's blocks run only where a GPU is
        exec(compile(code, f"{page.name}", "exec"), namespace)


def test_every_page_has_code_or_says_why():
    blocks = {page.stem: list(_blocks(page)) for page in PAGES}
    assert sum(len(b) for b in blocks.values()) >= 20
    assert not [stem for stem, b in blocks.items() if not b and stem not in ("index",
                                                                             "threads")]


@pytest.mark.skipif(sys.platform == "win32", reason="make and the gallery's paths")
def test_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx_gallery", reason="the [docs] extra builds the site")
    pytest.importorskip("pydata_sphinx_theme", reason="the [docs] extra builds the site")
    out = tmp_path / "html"
    env = dict(os.environ, SKLEARS_NEURAL_EXAMPLES_QUICK="1", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         "-d", str(tmp_path / "doctrees"), str(DOC), str(out)],
        env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]
    gallery = (out / "auto_examples" / "index.html").read_text()
    examples = sorted(p.stem for p in (DOC.parent / "examples").glob("*.py"))
    for name in examples:  # every example ran and has a thumbnail
        assert f"{name}.html" in gallery, name
        assert (out / "auto_examples" / f"{name}.html").exists(), name
    assert list((out / "_images").glob("sphx_glr_plot_*_001.png"))
    sys.path.insert(0, str(DOC))
    try:
        import api_listing
    finally:
        sys.path.remove(str(DOC))
    api = (out / "api.html").read_text()
    missing = []
    for module_name, names in api_listing.public_modules():
        module = importlib.import_module(module_name)
        for name in names:
            obj = getattr(module, name)
            if isinstance(obj, (str, type(module))):
                continue  # __version__; submodules have their own sections
            # a name several modules export is documented once, where first exported
            if re.search(rf"\.{re.escape(name)}\b", api) is None:
                missing.append(f"{module_name}.{name}")
    assert not missing, missing
