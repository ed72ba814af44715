"""Layers, by family; the public names are exported by ``sklears_neural.nn``."""
