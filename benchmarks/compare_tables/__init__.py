"""The tables of ``benchmarks/compare.py``, one module per family of tables."""
