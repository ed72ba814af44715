"""Sphinx configuration: ``make -C doc html`` after ``pip install -e .[docs]``.

The gallery (sphinx-gallery) runs every script in ``examples/`` and renders
its figures; with ``SKLEARS_NEURAL_EXAMPLES_QUICK=1`` in the environment the
scripts run with tiny budgets (the docs test does this). The API reference
lists every public name, read from the ``__all__`` of the public modules
(``api_listing.py`` writes ``api.rst``). Cross-links to scikit-learn and NumPy
go through intersphinx inventories shipped in ``doc/_inventories`` (built
offline from the installed packages by ``build_inventories.py``), so the
build needs no network.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import api_listing  # noqa: E402

project = "sklears-neural"
author = "sklears-neural developers"
copyright = "2026, sklears-neural developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.intersphinx",
              "numpydoc", "sphinx_gallery.gen_gallery"]
autosummary_generate = True
autosummary_imported_members = False
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = True  # types link to scikit-learn's and NumPy's pages
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray", "numpy.random.Generator": "numpy.random.Generator",
    "Generator": "numpy.random.Generator", "Pipeline": "sklearn.pipeline.Pipeline",
    "BaseEstimator": "sklearn.base.BaseEstimator", "dtype": "numpy.dtype",
}
# numpydoc's defaults send Python's own types to Python's docs, an inventory this
# offline build does not ship: those names stay plain text
from numpydoc.xref import DEFAULT_LINKS  # noqa: E402

numpydoc_xref_aliases.update({name: name for name, link in DEFAULT_LINKS.items()
                              if "python:" in link})
html_theme = "pydata_sphinx_theme"
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False}
html_title = "sklears-neural"
exclude_patterns = ["_build", "_inventories", "**/README.txt"]
templates_path = ["_templates"]
suppress_warnings = ["config.cache"]

# intersphinx: local inventories only (the build never reaches the network)
_inventories = HERE / "_inventories"
intersphinx_mapping = {
    name: (url, str(_inventories / f"{name}.inv"))
    for name, url in (("sklearn", "https://scikit-learn.org/stable/"),
                      ("numpy", "https://numpy.org/doc/stable/"))
    if (_inventories / f"{name}.inv").exists()
}
intersphinx_timeout = 1

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every example is a plot_ script: all run
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_memory": False,
    "reset_argv": lambda gallery_conf, script_vars: [],
    "abort_on_example_error": True,
    "plot_gallery": "True",
}
os.environ.setdefault("MPLBACKEND", "Agg")

api_listing.write(HERE / "api.rst")
