"""Sphinx configuration: ``sphinx-build doc doc/_build`` after ``pip install .[docs]``."""

project = "sklears-neural"
author = "sklears-neural developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]
autosummary_generate = True
numpydoc_show_class_members = False
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build"]
