"""The L2 penalty's gradient folded into the optimizer step.

scikit-learn's ``alpha`` adds ``alpha / sum(sample_weight) * W`` to the
gradient of every weight matrix W. The optimizers with coupled weight decay
(PyTorch's ``weight_decay`` of SGD, Adam, RMSprop, ...) add
``weight_decay * W`` to the gradient inside their fused update, so setting
the penalised parameters' ``weight_decay`` to ``base + alpha / sum(w)`` for
each batch gives the same step without a separate pass over the weights.

This holds only when nothing reads or changes the gradients between backward
and the step (gradient clipping, a callback's ``on_backward_end``), for
optimizers whose decay is coupled, and when the penalised weights have
parameter groups of their own; ``plan_l2_fold`` checks all three and returns
None otherwise, and the penalty's gradient is then added as before.
"""

from sklears_neural import optim
from sklears_neural.base._callbacks import Callback

__all__ = ["L2Fold", "foldable", "plan_l2_fold", "split_penalized"]

# Optimizers whose ``weight_decay`` is added to the gradient before the update.
_COUPLED = (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad, optim.Adamax, optim.NAdam,
            optim.RAdam, optim.Adadelta)


def foldable(optimizer_class, options):
    """Whether an optimizer of this class, with these options, decays coupled to the gradient."""
    return (isinstance(optimizer_class, type) and issubclass(optimizer_class, _COUPLED)
            and not issubclass(optimizer_class, optim.AdamW)
            and not options.get("decoupled_weight_decay") and not options.get("maximize"))


def split_penalized(parameters, penalized):
    """Parameter groups in which the ``penalized`` parameters never share a group.

    ``parameters`` is what an optimizer is built on: a list of parameters or
    of group dicts. Each group is split in two (penalised first), keeping its
    options; empty groups are dropped.
    """
    penalized = {id(p) for p in penalized}
    groups = parameters if parameters and isinstance(parameters[0], dict) else [
        {"params": list(parameters)}]
    split = []
    for group in groups:
        params = list(group["params"])
        options = {k: v for k, v in group.items() if k != "params"}
        for part in ([p for p in params if id(p) in penalized],
                     [p for p in params if id(p) not in penalized]):
            if part:
                split.append({"params": part, **options})
    return split


class L2Fold:
    """Sets the penalised groups' ``weight_decay`` for each batch; restores it after."""

    def __init__(self, groups, alpha):
        self.groups = [(group, float(group["weight_decay"])) for group in groups]
        self.alpha = alpha

    def set_batch(self, sample_weight_sum):
        extra = self.alpha / sample_weight_sum
        for group, base in self.groups:
            group["weight_decay"] = base + extra

    def restore(self):
        for group, base in self.groups:
            group["weight_decay"] = base


def plan_l2_fold(net, callbacks):
    """An ``L2Fold`` for this fit, or None where folding would change the training."""
    if not net.alpha or not isinstance(net.optimizer_, _COUPLED):
        return None
    if any(type(cb).on_backward_end is not Callback.on_backward_end for cb in callbacks):
        return None  # something reads or clips the gradients before the step
    penalized = {id(p) for p in net._penalized_weights()}
    groups = []
    for group in net.optimizer_.param_groups:
        if group.get("decoupled_weight_decay") or group.get("maximize"):
            return None
        inside = [id(p) in penalized for p in group["params"]]
        if all(inside):
            groups.append(group)
        elif any(inside):
            return None  # a group mixes penalised and other parameters
    covered = sum(len(g["params"]) for g in groups)
    return L2Fold(groups, net.alpha) if covered == len(penalized) else None
