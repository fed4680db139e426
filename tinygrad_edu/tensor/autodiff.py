"""The autodiff node: a ``Function`` runs one primitive forward and knows its backward.

Each primitive in ``primitives.py`` subclasses ``Function`` with ``forward(*arrays)`` and
``backward(grad)`` side by side; the instance itself is the context that carries what backward
needs. ``Function.apply`` wraps arrays into Tensors and records the graph edge. Forward and
backward compute only through ``self.backend``, the backend of the inputs' device.
"""

from . import context
from ..errors import DeviceError
from ..graph import topological_order

__all__ = ["Function", "sum_to_shape", "backpropagate"]


class Function:
    """Base class of the differentiable primitives.

    Subclasses set ``op`` (the name shown in graphs and errors) and implement
    ``forward(self, *arrays, **params) -> array`` and ``backward(self, grad) -> grads``, where
    ``grads`` has one array (or None) per tensor input. ``self.backend`` is the backend of the
    inputs' device and ``self.needs_input_grad`` tells which inputs want a gradient.
    Gradients may have the broadcast shape of the output: the engine sums them back to each
    input's shape in one place (``sum_to_shape``).
    """

    op = ""
    # The public graph protocol: ``op``, ``inputs`` and ``details()``; nothing else of a node
    # is read outside the engine.
    inputs = property(lambda self: self.parents,
                      doc="The input tensors of this op, in order (recorded when the output "
                          "requires grad).")

    def details(self):
        """What this op chooses to show in drawings and diagnostics: a dict of names to
        strings, numbers or Tensors (e.g. an activation's name and its pre-activation). Ops
        add entries by overriding this; the base op shows nothing."""
        return {}

    # True when backward returns arrays it has just allocated and keeps no reference to: the
    # engine may then make them a leaf's ``.grad`` without the defensive copy.
    fresh_grads = False

    @classmethod
    def apply(cls, *tensors, **params):
        # This runs once per op: one loop gathers what it needs. The inputs' class makes the
        # output (``_op_result``), so this module, which tensor.py imports, never imports it.
        device = tensors[0]._device
        needs, arrays = [], []
        for t in tensors:
            if t._device is not device:
                raise DeviceError(f"{cls.op}: inputs are on different devices, "
                                  f"{device.name!r} and {t.device!r}; move them to one device "
                                  f"first, e.g. x.to({device.name!r})")
            needs.append(t.requires_grad)
            arrays.append(t.data)
        ctx = cls()
        ctx.backend = device.backend
        ctx.needs_input_grad = needs = tuple(needs)
        data = ctx.forward(*arrays, **params)
        state = context._state
        requires_grad = state.grad_enabled and True in needs
        out = tensors[0]._op_result(data, device, requires_grad)
        if requires_grad:
            ctx.parents = tensors
            out._ctx = ctx
        out._scope = state.scope
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


def sum_to_shape(backend, grad, shape):
    """Sum ``grad`` over the axes that broadcasting expanded, giving an array of ``shape``.

    This is the adjoint of broadcasting, and the only place it is written.
    """
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    summed = backend.sum(grad, axes, True) if axes else grad
    return backend.reshape(summed, shape)


def backpropagate(root, seed):
    """Chain rule over the graph below ``root``, starting from d root / d root = ``seed``.

    Visits tensors in reverse topological order so each one's gradient is complete (summed
    over all its uses) before it is passed to its inputs, then adds it to the tensor's ``.grad``.
    """
    grads = {id(root): seed}
    owned = set()   # ids whose gradient array nothing else references (see fresh_grads)
    for node in reversed(topological_order(root, _grad_inputs)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        node._accumulate_grad(g, id(node) in owned)
        ctx = node._ctx
        if ctx is None:
            continue
        # The node's backend (its inputs' device) handles what its backward returned: only
        # a device move has an output on another device than its input.
        backend = ctx.backend
        for parent, pg in zip(ctx.parents, ctx.backward(g)):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent.data.shape:
                pg = sum_to_shape(backend, pg, parent.data.shape)
            if pg.dtype != parent.dtype:
                pg = backend.cast(pg, parent.dtype)
            key = id(parent)
            if key in grads:
                grads[key] = backend.add(grads[key], pg)
                owned.add(key)
            else:
                grads[key] = pg
                if ctx.fresh_grads:
                    owned.add(key)


def _grad_inputs(node):
    """The inputs of ``node`` that backward must visit (those requiring grad)."""
    return [p for p in node._ctx.parents if p.requires_grad] if node._ctx is not None else ()
