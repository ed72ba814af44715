"""ONNX export: ``to_onnx`` for a fitted estimator or an ``nn.Module``, and
converters registered with skl2onnx (on import of this module, when skl2onnx is
installed; or by ``register_skl2onnx``) so ``skl2onnx.to_onnx`` exports a
Pipeline holding our estimators."""

from sklears_neural.export._export import to_onnx
from sklears_neural.export._graph import OnnxExportError
from sklears_neural.export._skl2onnx import register_skl2onnx

__all__ = ["OnnxExportError", "register_skl2onnx", "to_onnx"]

try:
    import skl2onnx  # noqa: F401
except ImportError:  # optional: to_onnx needs only onnx
    pass
else:
    register_skl2onnx()
