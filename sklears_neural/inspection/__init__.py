"""Explanations of fitted estimators: gradient attributions over the inputs.

Every method takes a fitted estimator of this library, or a Pipeline ending
in one, and X as the estimator predicts on it, and returns an
``Attribution`` shaped like X:

* ``saliency``: the gradient of the explained output;
* ``input_x_gradient``: input times gradient;
* ``integrated_gradients``: the gradient integrated from a baseline, with
  captum's integration rules and each row's completeness error;
* ``smoothgrad``: gradients averaged over noisy inputs (also SmoothGrad²
  and VarGrad);
* ``guided_backprop``, ``deeplift`` (rescale rule) and ``lrp`` (epsilon,
  gamma and alpha1-beta0 rules): rules propagated layer by layer through MLP
  and CNN networks;
* ``kernel_shap``: Shapley values of any model's predictions (exact for up
  to 10 features), model-agnostic;
* ``lime_tabular``: a local linear surrogate of any model (LIME);
* ``tcav``: testing with concept activation vectors;
* layers: ``layer_activations``, ``grad_cam`` for convolutional networks,
  ``layer_integrated_gradients``, ``attention_maps`` of Transformers;
* graphs: ``gnn_explainer`` (GNNExplainer's edge and feature masks) and
  ``node_attributions`` (gradient methods over node features) for the graph
  and node estimators.

``AttributionDisplay`` (bars and beeswarms for tables), ``HeatmapDisplay``
(maps over images and series) and ``AttentionDisplay`` draw them with
matplotlib, in scikit-learn's Display pattern.

While a gradient method runs, the network's parameters are taken out of the
graph (they get no gradient): do not explain a model that another thread is
fitting at the same time.

Model-agnostic tools (shap's KernelExplainer, LIME, scikit-learn's
permutation importance) work on these estimators as on any other.
"""

from sklears_neural.inspection._attention import attention_maps
from sklears_neural.inspection._display import (
    AttentionDisplay,
    AttributionDisplay,
    HeatmapDisplay,
)
from sklears_neural.inspection._graph import GraphExplanation, gnn_explainer, node_attributions
from sklears_neural.inspection._gradients import (
    input_x_gradient,
    integrated_gradients,
    saliency,
    smoothgrad,
)
from sklears_neural.inspection._integration import INTEGRATION_METHODS
from sklears_neural.inspection._kernel_shap import kernel_shap
from sklears_neural.inspection._layers import (
    grad_cam,
    layer_activations,
    layer_integrated_gradients,
)
from sklears_neural.inspection._lime import lime_tabular
from sklears_neural.inspection._propagation import deeplift, guided_backprop, lrp
from sklears_neural.inspection._result import Attribution
from sklears_neural.inspection._tcav import tcav

__all__ = ["INTEGRATION_METHODS", "AttentionDisplay", "Attribution", "AttributionDisplay",
           "GraphExplanation", "HeatmapDisplay", "attention_maps", "deeplift", "gnn_explainer",
           "grad_cam", "guided_backprop", "input_x_gradient", "integrated_gradients",
           "kernel_shap", "layer_activations", "layer_integrated_gradients", "lime_tabular",
           "lrp", "node_attributions", "saliency", "smoothgrad", "tcav"]
