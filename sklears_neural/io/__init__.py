"""Persistence: ``save`` and ``load`` a fitted estimator or network in a zip of JSON
and ``.npy`` arrays that loading reads without running code from it;
``load_checkpoint`` for what a ``Checkpoint`` callback wrote; and the names
skops needs to trust our estimators (``skops_trusted_types``).

Pickles (``joblib.dump``) of this library's estimators work too, and record
the versions they were made with; loading either under other versions warns
with ``InconsistentVersionWarning``.
"""

from sklears_neural._versions import InconsistentVersionWarning
from sklears_neural.base._callbacks import load_checkpoint
from sklears_neural.base._codec import UntrustedTypeError
from sklears_neural.base._safe_format import get_untrusted_types, load, load_metadata, save
from sklears_neural.io._skops import skops_trusted_types

__all__ = ["InconsistentVersionWarning", "UntrustedTypeError", "get_untrusted_types", "load",
           "load_checkpoint", "load_metadata", "save", "skops_trusted_types"]
