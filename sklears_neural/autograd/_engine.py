"""Reverse-mode backward over the graph of ``Function`` nodes.

Iterative, so a chain of any length works: one pass counts how many
gradients each node will receive, then nodes run as soon as all of theirs
have arrived (Kahn's topological order). Each node is released right after
its backward, so memory falls as the pass proceeds.
"""

from collections import defaultdict

__all__ = ["run_backward"]


class _GradSlot:
    """Accumulates gradients for one node output, in place when it safely can.

    The first gradient is kept by reference (it may be another node's array);
    the first sum allocates a fresh array, later sums add into it in place.
    """

    __slots__ = ("value", "owned")

    def __init__(self):
        self.value = None
        self.owned = False

    def add(self, g):
        if self.value is None:
            self.value = g
        elif self.owned:
            self.value += g
        else:
            self.value = self.value + g
            self.owned = True


def _dependency_counts(root_fn):
    """Number of gradient contributions each reachable node waits for."""
    counts = defaultdict(int)
    seen = {id(root_fn)}
    stack = [root_fn]
    while stack:
        fn = stack.pop()
        if fn.inputs is None:
            raise RuntimeError(
                "backward went through a part of the graph that an earlier backward "
                "already freed. Call backward(retain_graph=True) the first time if you "
                "need to backpropagate through the same graph twice."
            )
        for t in fn.inputs:
            if t is None or not t.requires_grad or t.grad_fn is None:
                continue
            parent = t.grad_fn
            counts[id(parent)] += 1
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return counts


def _accumulate_leaf(tensor, g, handed_out):
    """Add ``g`` into ``tensor.grad``, never letting two leaves share an array."""
    if g.shape != tensor.shape:
        raise RuntimeError(
            f"internal error: gradient of shape {g.shape} for a tensor of shape {tensor.shape}."
        )
    if tensor.grad is None:
        writable = getattr(getattr(g, "flags", None), "writeable", True)
        if id(g) in handed_out or not writable:
            g = g.copy()
        handed_out.add(id(g))
        tensor.grad = g
    else:
        tensor.grad += g


def run_backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` from tensor ``root`` into every leaf's ``.grad``."""
    handed_out = {id(grad)}
    if root.grad_fn is None:
        _accumulate_leaf(root, grad, handed_out)
        return
    counts = _dependency_counts(root.grad_fn)
    slots = {id(root.grad_fn): [_GradSlot() for _ in range(root.grad_fn.n_outputs)]}
    slots[id(root.grad_fn)][root.output_index].add(grad)
    ready = [root.grad_fn]
    while ready:
        fn = ready.pop()
        grad_outputs = tuple(slot.value for slot in slots.pop(id(fn)))
        grad_inputs = fn.backward(*grad_outputs)
        if not isinstance(grad_inputs, tuple):
            grad_inputs = (grad_inputs,)
        inputs = fn.inputs
        if not retain_graph:
            fn.release()
        for t, g in zip(inputs, grad_inputs):
            if t is None or not t.requires_grad:
                continue
            parent = t.grad_fn
            if parent is None:
                if g is not None:
                    _accumulate_leaf(t, g, handed_out)
                continue
            key = id(parent)
            if key not in slots:
                slots[key] = [_GradSlot() for _ in range(parent.n_outputs)]
            if g is not None:
                slots[key][t.output_index].add(g)
            counts[key] -= 1
            if counts[key] == 0:
                if all(slot.value is None for slot in slots[key]):
                    # Nothing flows into this branch; its inputs get no gradient
                    # from it, but their own counts must still go down.
                    _skip_branch(parent, counts, slots, ready, retain_graph)
                else:
                    ready.append(parent)


def _skip_branch(fn, counts, slots, ready, retain_graph):
    """Walk past a node that received no gradient at all."""
    stack = [fn]
    while stack:
        node = stack.pop()
        slots.pop(id(node), None)
        inputs = node.inputs
        if not retain_graph:
            node.release()
        for t in inputs:
            if t is None or not t.requires_grad or t.grad_fn is None:
                continue
            key = id(t.grad_fn)
            slots.setdefault(key, [_GradSlot() for _ in range(t.grad_fn.n_outputs)])
            counts[key] -= 1
            if counts[key] == 0:
                if all(slot.value is None for slot in slots[key]):
                    stack.append(t.grad_fn)
                else:
                    ready.append(t.grad_fn)
