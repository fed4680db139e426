"""The public graph protocol, and the one graph walk over it.

Both engines record the computation behind every result. The attributes below are the
documented way to read that graph: the drawings (``tinygrad_edu.viz``), the training
diagnostics and any third-party tool use them and nothing else, so the engine may rename its
internals (every name starting with ``_``) without breaking them.

``Tensor``:
    ``grad_fn``: the op node that made the tensor (a ``Function``), or None for a leaf
    (input, parameter) or a result computed under ``no_grad``.
    ``op``: the op's name (``"matmul"``, ``"relu"``, ``"linear_act"``); ``""`` when
    ``grad_fn`` is None.
    ``inputs``: the tensors the op read, in order; ``()`` for a leaf.
    ``scope``: the nn modules whose forward was running when the tensor was made,
    outermost first; ``()`` outside any module.
    The rest is the ordinary API: ``label``, ``shape``, ``dtype``, ``ndim``, ``numel()``,
    ``requires_grad``, ``is_leaf``, ``grad`` (a Tensor or None) and ``numpy()``, the only
    way to the numbers (a host copy, or a view on the CPU).

The op node, ``tensor.grad_fn`` (a ``tinygrad_edu.Function``, built in or your own):
    ``op`` and ``inputs`` as above, and ``details()``: a dict of what the op chooses to show.
    The activations and the fused layer ``linear_act`` give ``{"activation": name,
    "preactivation": Tensor}`` (the fused layer's name may be ``"identity"``); most ops give
    ``{}``.
    ``recompute(*tensors)``: the op's forward run again, with the parameters it was applied
    with, on other tensors in place of ``inputs`` (same shapes and device); it returns a new
    Tensor outside any graph and leaves the node as it was.
    ``backward(grad)`` may be called again with an array of the output's shape (on the
    output's device, e.g. ``Tensor(g, dtype=t.dtype, device=t.device).data``): it returns one
    array or None per input, computed with ``backend``, the backend of the inputs' device
    (gradients of broadcast inputs may have the output's shape; ``sum_to_shape`` in
    ``tensor/autodiff.py`` sums them back). ``gradcheck`` uses these two to check each op on
    its own.

``Value`` (the scalar engine):
    ``op`` (``""`` for a leaf), ``inputs`` (the input Values), ``local_grads`` (d self / d
    each input, in ``inputs`` order), ``data``, ``grad`` and ``label``. ``Value.custom(data,
    inputs, local_grads, op)`` makes the node of an op of your own.

For example, the ops behind a loss and the activation of each fused layer::

    for t in topological_order(loss, lambda t: t.inputs):
        if t.op == "linear_act":
            print(t.shape, t.grad_fn.details()["activation"])

``topological_order`` is written once, without recursion, because backward (for Values and
Tensors) and the drawings all need "every node reachable from the root, each after all of its
inputs", for graphs of any depth (a recursive walk dies near Python's recursion limit of
~1,000 nodes).
"""

__all__ = ["topological_order"]


def topological_order(root, parents_of):
    """Nodes reachable from ``root`` (by ``parents_of(node)``), inputs first, ``root`` last.

    Inputs of a node are visited in the order ``parents_of`` gives them. The stack holds each
    open node with an iterator over its remaining inputs, so every node is pushed once.
    """
    order, visited = [], {id(root)}
    stack = [(root, iter(parents_of(root)))]
    while stack:
        node, inputs = stack[-1]
        for parent in inputs:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parents_of(parent))))
                break
        else:
            stack.pop()
            order.append(node)
    return order
