"""The autodiff node: a ``Function`` runs one primitive forward and knows its backward.

Each primitive in ``primitives.py`` subclasses ``Function`` with ``forward(*arrays)`` and
``backward(grad)`` side by side; the instance itself is the context that carries what backward
needs. ``Function.apply`` wraps arrays into Tensors and records the graph edge. Forward and
backward compute only through ``self.backend``, the backend of the inputs' device.

Three things keep the numbers honest, each costing the built-in ops (almost) nothing:

- In-place writes. Every write that goes through the library (``copy_``, an optimizer step, an
  init fill, ``load_state_dict``) calls ``mark_written``, which advances a clock and stamps the
  written tensors with it. An op records the clock when it is applied; if a tensor its backward
  reads carries a later stamp, backward would compute with values the forward never saw, and
  raises ``GradError`` instead. Writes straight into ``t.data`` bypass the clock and cannot be
  seen: ``t.copy_(values)`` is the supported in-place write.
- Ops of your own. A ``Function`` subclass defined outside ``primitives.py`` has its forward and
  backward checked (an array out of forward, one gradient per input, of a shape and dtype that
  fit), so a mistake is reported at the op instead of as a wrong number later.
- ``detect_anomaly()`` (``check/anomaly.py``) installs a checker here that looks at every
  forward output and backward gradient while it is on; off, the engine tests one global.
"""

import functools

import numpy as np

from . import context
from ..errors import (ArgumentError, ArgumentTypeError, DeviceError, DTypeError, GradError,
                      ShapeError)
from ..graph import topological_order

__all__ = ["Function", "View", "sum_to_shape", "backpropagate", "mark_written", "write_stamp",
           "share_write_stamp", "set_anomaly_hook"]

# The write clock (see the module docstring); a tensor's ``_version`` is None until its data is
# written or shared with a view, then a one-element list [stamp of its last write] shared by
# every tensor over the same memory.
_clock = 0

# The detect_anomaly checker while that mode is on, else None.
_anomaly = None

# Modules whose Function subclasses are trusted to return what the engine expects.
_TRUSTED_MODULES = frozenset({__name__, __name__.rsplit(".", 1)[0] + ".primitives"})


def mark_written(*tensors):
    """Record that the data of ``tensors`` has just been changed in place.

    Backward then refuses to use any op that read one of them before the write. Every in-place
    write of the library calls this; an extension that writes into ``t.data`` should too.
    """
    global _clock
    _clock += 1
    for t in tensors:
        cell = t._version
        if cell is None:
            t._version = [_clock]
        else:
            cell[0] = _clock


def write_stamp(t):
    """The clock at the last in-place write to ``t``'s memory (0: never written)."""
    cell = t._version
    return 0 if cell is None else cell[0]


def share_write_stamp(source, alias):
    """Make ``alias`` (a tensor over ``source``'s memory: a view, a detached copy) share
    ``source``'s write stamp, so a write through either is seen by ops that read the other."""
    cell = source._version
    if cell is None:
        cell = source._version = [0]
    alias._version = cell


def set_anomaly_hook(hook):
    """Install ``hook`` (an object with ``forward(ctx, tensors, data)``, ``seed(root, seed)``
    and ``backward(node, grad, input_grads)``), or None to remove it; returns the previous one.
    ``tinygrad_edu.detect_anomaly`` is the user's way to this."""
    global _anomaly
    previous, _anomaly = _anomaly, hook
    return previous


class Function:
    """Base class of the differentiable primitives, and of ops of your own.

    Subclasses set ``op`` (the name shown in graphs and errors) and implement
    ``forward(self, *arrays, **params) -> array`` and ``backward(self, grad) -> grads``, where
    ``grads`` has one array (or None) per tensor input. ``self.backend`` is the backend of the
    inputs' device and ``self.needs_input_grad`` tells which inputs want a gradient.
    Gradients may have the broadcast shape of the output: the engine sums them back to each
    input's shape in one place (``sum_to_shape``).

    ``reads_inputs`` (indices, None for all) and ``reads_output`` say which data backward uses;
    an in-place write to one of them between forward and backward is then an error. The
    defaults (everything) are always safe.

    >>> class Cube(Function):
    ...     op = "cube"
    ...     def forward(self, a):
    ...         self.a = a
    ...         return self.backend.mul(a, self.backend.mul(a, a))
    ...     def backward(self, g):
    ...         be = self.backend
    ...         return (be.mul(g, be.mul(3.0, be.mul(self.a, self.a))),)
    """

    op = ""
    reads_inputs = None
    reads_output = True
    # The public graph protocol: ``op``, ``inputs`` and ``details()``; nothing else of a node
    # is read outside the engine.
    inputs = property(lambda self: self.parents,
                      doc="The input tensors of this op, in order (recorded when the output "
                          "requires grad).")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__ not in _TRUSTED_MODULES:
            _guard(cls)

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
        if _anomaly is not None:
            _anomaly.forward(ctx, tensors, data)
        state = context._state
        requires_grad = state.grad_enabled and True in needs
        out = tensors[0]._op_result(data, device, requires_grad)
        if requires_grad:
            ctx.parents, ctx._params, ctx._stamp = tensors, params, _clock
            out._ctx = ctx
        out._scope = state.scope
        return out

    def recompute(self, *tensors):
        """This op's forward run again, with the parameters it was applied with, on
        ``tensors`` in place of ``inputs`` (same shapes, same device): a new Tensor outside
        any graph, the node left as it was. gradcheck checks each op's backward with it."""
        parents = self.parents
        if len(tensors) != len(parents) or any(
                t.shape != p.shape or t._device is not p._device for t, p in zip(tensors, parents)):
            raise ArgumentError(f"{_op_name(self)}.recompute: expected {len(parents)} tensor(s) "
                                f"of shapes {[p.shape for p in parents]} on the inputs' device, "
                                f"got shapes {[getattr(t, 'shape', t) for t in tensors]}")
        ctx = type(self)()
        ctx.backend, ctx.needs_input_grad = self.backend, (False,) * len(tensors)
        data = ctx.forward(*(t.data for t in tensors), **self._params)
        return parents[0]._op_result(data, parents[0]._device, False)

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  "forward(self, *arrays, **params)")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must implement backward(self, grad)")


class View(Function):
    """A Function whose output may share memory with its input (reshape, transpose, basic
    indexing): the two share one write stamp, so writing either is seen by ops that read the
    other. ``shares_memory(params)`` says whether an application does."""

    reads_inputs = ()
    reads_output = False

    @staticmethod
    def shares_memory(params):
        return True

    @classmethod
    def apply(cls, tensor, **params):
        out = super().apply(tensor, **params)
        if cls.shares_memory(params):
            share_write_stamp(tensor, out)
        return out


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
    An op whose saved tensors were written in place since it ran raises GradError while the
    graph is collected, before any gradient is computed or stored.
    """
    grads = {id(root): seed}
    owned = set()   # ids whose gradient array nothing else references (see fresh_grads)
    anomaly = _anomaly
    if anomaly is not None:
        anomaly.seed(root, seed)
    for node in reversed(topological_order(root, _grad_inputs)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = node._ctx
        if ctx is None:
            node._accumulate_grad(g, id(node) in owned)
            continue
        # The node's backend (its inputs' device) handles what its backward returned: only
        # a device move has an output on another device than its input.
        backend = ctx.backend
        input_grads = ctx.backward(g)
        if anomaly is not None:
            anomaly.backward(node, g, input_grads)
        node._accumulate_grad(g, id(node) in owned)
        for parent, pg in zip(ctx.parents, input_grads):
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
    """The inputs of ``node`` that backward must visit (those requiring grad), after checking
    that nothing the op's backward reads was written since it ran."""
    ctx = node._ctx
    if ctx is None:
        return ()
    if ctx._stamp != _clock:   # a write happened since the op ran: did it touch its data?
        _check_unwritten(node, ctx)
    return [p for p in ctx.parents if p.requires_grad]


def _check_unwritten(node, ctx):
    """GradError if a tensor that ``ctx``'s backward reads was written after the op ran."""
    stamp, parents = ctx._stamp, ctx.parents
    reads = range(len(parents)) if ctx.reads_inputs is None else ctx.reads_inputs
    for i in reads:
        if write_stamp(parents[i]) > stamp:
            raise GradError(_written_message(ctx, f"input {i}", parents[i]))
    if ctx.reads_output and write_stamp(node) > stamp:
        raise GradError(_written_message(ctx, "the output", node))


def _written_message(ctx, which, tensor):
    name = _op_name(ctx)
    label = f", label {tensor.label!r}" if tensor.label else ""
    origin = getattr(ctx, "origin", None)
    where = f" (the op was made at {origin})" if origin else ""
    return (f"backward: {which} of {name!r}{where} (a tensor of shape {tensor.shape}{label}) "
            f"was changed in place after {name!r} used it (by copy_, an optimizer step, an "
            f"init function or load_state_dict), and its gradient needs the values the forward "
            f"pass saw. Call backward() before changing it (e.g. opt.step() after "
            f"loss.backward()), run the forward pass again after the change, or change a copy "
            f"(Tensor(t)) instead")


def _op_name(ctx):
    return ctx.op or type(ctx).__name__


# ---- ops of your own: their forward and backward checked ----

def _guard(cls):
    """Wrap ``cls``'s forward and backward with the checks of ``_checked_*`` (once)."""
    for name, wrap in (("forward", _checked_forward), ("backward", _checked_backward)):
        method = getattr(cls, name)
        if not getattr(method, "_checked", False):
            setattr(cls, name, wrap(method))


def _not_an_array(x):
    """None when ``x`` can be a tensor's data (an array of the backend), else what it is."""
    if hasattr(type(x), "grad_fn"):   # the class: a strict array refuses unknown attributes
        return ("a Tensor; forward and backward work on the arrays inside tensors: compute "
                "with self.backend's methods (or return t.data)")
    dtype = getattr(x, "dtype", None)
    if not isinstance(dtype, np.dtype) or not isinstance(getattr(x, "shape", None), tuple):
        return f"a {type(x).__name__} ({x!r:.60})"
    if dtype.kind not in "fiub":
        return f"an array of dtype {dtype}"
    return None


def _checked_forward(forward):
    @functools.wraps(forward)
    def checked(self, *arrays, **params):
        data = forward(self, *arrays, **params)
        problem = _not_an_array(data)
        if problem is not None:
            raise ArgumentTypeError(f"{_op_name(self)}: forward returned {problem}; it must "
                                    "return one array of the backend, such as "
                                    "self.backend.mul(a, b)")
        return data
    checked._checked = True
    return checked


def _checked_backward(backward):
    @functools.wraps(backward)
    def checked(self, grad):
        grads = backward(self, grad)
        name, parents = _op_name(self), self.parents
        if not isinstance(grads, (tuple, list)):
            if len(parents) == 1 and (grads is None or _not_an_array(grads) is None):
                return (grads,)
            raise GradError(f"{name}: backward returned {_described(grads)}; it must return a "
                            f"tuple of {len(parents)} gradients, one array (or None) per input")
        if len(grads) != len(parents):
            raise GradError(f"{name}: backward returned {len(grads)} gradient(s) for "
                            f"{len(parents)} input(s); return one array (or None) per input, "
                            "in the order of forward's arguments")
        for i, (parent, pg) in enumerate(zip(parents, grads)):
            if pg is None:
                continue
            problem = _not_an_array(pg)
            if problem is not None:
                raise ArgumentTypeError(f"{name}: backward returned {problem} as the gradient "
                                        f"of input {i}; return an array of the backend")
            if pg.dtype.kind != "f":
                raise DTypeError(f"{name}: backward returned a gradient of dtype {pg.dtype} "
                                 f"for input {i}, which has dtype {parent.dtype}; gradients "
                                 "must be floating")
            if tuple(pg.shape) != parent.shape and not _broadcasts_to(parent.shape, pg.shape):
                raise ShapeError(f"{name}: backward returned a gradient of shape "
                                 f"{tuple(pg.shape)} for input {i}, which has shape "
                                 f"{parent.shape}; return the input's shape (or, for an input "
                                 "that was broadcast, the output's: the engine sums it back)")
        return tuple(grads)
    checked._checked = True
    return checked


def _described(x):
    problem = _not_an_array(x)
    return "a single array" if problem is None else problem


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, tuple(target)) == tuple(target)
    except ValueError:
        return False
