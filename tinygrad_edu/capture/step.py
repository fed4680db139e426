"""``capture``: a training step recorded once and replayed as straight backend calls.

The life of a captured step, call by call: the first ``warmup`` calls run eagerly (optimizers
make their state on their first step); the next two are recorded (run eagerly through a
``Recorder``) and compared; if they did the same thing, the second recording becomes the
replay program (``program.build``) and every later call runs it. Before each replay the
inputs' shapes, dtypes and devices and the identity of every parameter the step touches are
checked, so a replay never silently computes something the eager step would not.
"""

import functools

from ..backends import get_device, registry
from ..errors import ArgumentError, ArgumentTypeError
from ..graph import topological_order
from ..tensor import Tensor, autodiff
from ..tensor.autodiff import mark_written, write_stamp
from . import tape
from .program import build
from .tape import CaptureError, Recording, first_difference

__all__ = ["capture", "CapturedStep"]


def capture(fn=None, *, warmup=1):
    """Capture a training step: ``step = capture(train_step)`` or ``@capture``.

    ``train_step(*tensors)`` does one whole step (zero_grad, forward, loss, backward,
    ``opt.step()``) on its input tensors and returns the loss (a Tensor, or a tuple of
    Tensors). The returned ``CapturedStep`` is called like it and gives bit-identical results;
    after ``warmup`` eager calls and two recorded ones it replays the recorded backend calls.
    Replayed outputs are detached tensors (no ``grad_fn``).

    Raises CaptureError when a replay would be wrong; see ``CapturedStep``.

    >>> @capture
    ... def step(x, y):
    ...     opt.zero_grad()
    ...     loss = F.mse_loss(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    """
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ArgumentError(f"capture: warmup must be an int >= 0, got {warmup!r}")
    if fn is None:
        return lambda f: CapturedStep(f, warmup)
    if not callable(fn):
        raise ArgumentTypeError(f"capture: expected a function doing one training step, got "
                                f"{type(fn).__name__}")
    return CapturedStep(fn, warmup)


class CapturedStep:
    """A step function that replays its recorded backend calls (made by ``capture``).

    ``code``: the replay program's Python source (None until captured); ``captured``: whether
    calls now replay; ``captures``: how many programs were built; ``reset()``: forget the
    program (the next calls warm up and record again).

    What is refused, with a CaptureError saying why and what to do: a call whose inputs differ
    in number, shape, dtype, device or requires_grad from the captured ones; two recorded
    calls that made different backend calls (data-dependent control flow, Python state that
    changes per call, a host array made in the step); a value read back to Python in the step
    other than the returned tensors (``.item()``, ``float()``, an ``if`` on a tensor); a
    parameter the step uses that was replaced (a new Parameter assigned to a module, or its
    data replaced by ``.to()``/``astype``) or a gradient reset outside the step.

    Optimizer hyperparameters are read at every replay (an optimizer's update is replayed as
    one Python call), so ``opt.lr = ...`` and schedules take effect without a new capture;
    ``load_state_dict`` of a model or an optimizer writes in place and needs none either.
    Python numbers and host arrays inside the step are constants of the capture.
    """

    def __init__(self, fn, warmup=1):
        functools.update_wrapper(self, fn)
        if not hasattr(self, "__name__"):   # a functools.partial or a callable object
            self.__name__ = getattr(getattr(fn, "func", type(fn)), "__name__", "captured step")
        self.fn, self.warmup = fn, warmup
        self.captures = 0
        self.reset()

    @property
    def captured(self):
        return self._program is not None

    def reset(self):
        """Forget the captured program: the next calls run eagerly, then record again."""
        self._program, self._previous, self._calls, self.code = None, None, 0, None

    def __call__(self, *inputs, **kwargs):
        program = self._program
        if program is not None and autodiff._anomaly is None:
            return program(inputs)
        if kwargs:
            raise ArgumentTypeError(f"{self.__name__}: a captured step takes its input tensors "
                                    f"as positional arguments, got keywords {sorted(kwargs)}")
        for k, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise ArgumentTypeError(f"{self.__name__}: input {k} is a {type(t).__name__}; "
                                        "a captured step takes Tensors (other values would be "
                                        "frozen at the first call: bind them in the function)")
        if program is not None or self._calls < self.warmup:   # anomaly mode checks each op
            self._calls += 1
            return self.fn(*inputs)
        recorded, result = _record(self.fn, inputs, self.__name__)
        self._calls += 1
        previous, self._previous = self._previous, recorded
        if previous is not None:
            problem = _difference(previous, recorded)
            if problem is not None:
                self.reset()
                raise CaptureError(f"{self.__name__}: cannot capture this step: {problem}. "
                                   "Fix the step (or leave it uncaptured)")
            replay, self.code = build(recorded.rec, len(inputs), recorded.single,
                                      recorded.outputs,
                                      recorded.bindings, recorded.marks, Tensor._wrap,
                                      mark_written)
            self._program = _Program(self.__name__, replay, recorded)
            self._previous = None
            self.captures += 1
        return result


class _Recorded:
    """One recorded call and what the replay must check and restore after it."""

    def __init__(self, rec, signature, single, outputs, bindings, marks, guards):
        self.rec, self.signature, self.single, self.outputs = rec, signature, single, outputs
        self.bindings, self.marks, self.guards = bindings, marks, guards


def _live_devices():
    get_device("cpu")
    return list(registry._devices.values())


def _record(fn, inputs, name):
    if len({id(t.data) for t in inputs}) < len(inputs):
        raise CaptureError(f"{name}: two inputs share one array; pass distinct tensors (a "
                           "replay would read one array for both)")
    for k, t in enumerate(inputs):
        if t.requires_grad:
            raise CaptureError(f"{name}: input {k} requires grad; a captured step's inputs are "
                               "data (gradients go to parameters): pass t.detach(), or leave "
                               "this step uncaptured")
    rec = Recording(inputs)
    clock = autodiff._clock
    tape.start(rec, _live_devices())
    try:
        result = fn(*inputs)
    finally:
        tape.stop()
    single = isinstance(result, Tensor)
    returned = [result] if single else result
    if not isinstance(returned, (tuple, list)) or not all(isinstance(t, Tensor)
                                                           for t in returned):
        raise CaptureError(f"{name}: a captured step must return its loss as a Tensor (or a "
                           f"tuple of Tensors), got {type(result).__name__}; call .item() on "
                           "the result outside the step")
    outputs = [(rec.spec(t.data), t._device) for t in returned]
    allowed = [spec for spec, _ in outputs]
    for spec, line in rec.readbacks:
        if spec not in allowed:
            raise CaptureError(f"{name}: the step reads a value back to Python at {line} (an "
                               ".item(), .numpy(), float() or an `if` on a tensor, other than "
                               "of a returned tensor). A replay runs no Python of the step, so "
                               "that value, and whatever was decided from it, would be frozen. "
                               "Compute it with tensor ops, or return the tensor and read it "
                               "after the step")
    return _Recorded(rec, _signature(inputs), single, outputs,
                     *_effects(rec, inputs, returned, clock, name)), result


def _signature(inputs):
    return tuple((t.data.shape, t.data.dtype, t._device, t.requires_grad) for t in inputs)


def _effects(rec, inputs, returned, clock, name):
    """What the replay must do besides the calls (bindings, marks) and check first (guards)."""
    graph, modules = {}, {}
    for out in returned:
        for t in topological_order(out, lambda t: t.inputs):
            graph[id(t)] = t
            for m in t.scope:
                modules[id(m)] = m
    watched = {id(t): t for t in rec.watch}
    # Leaves that existed before the step (parameters, frozen or not); those made in it
    # (constants, tensors created there) and the inputs are each call's own.
    watched.update((k, t) for k, t in graph.items() if t.grad_fn is None
                   and rec.where.get(id(t.data), ("p",))[0] == "p")
    labels = {id(p): f"{type(m).__name__}.{key}" for m in modules.values()
              for key, p in m._parameters.items()}
    bindings, marks, guards = [], [], []
    for t in watched.values():
        label = labels.get(id(t), f"a tensor of shape {t.shape}")
        if rec.where.get(id(t.data), ("p",))[0] == "tmp":
            raise CaptureError(f"{name}: the step replaces the data of {label} (t.data = ...); "
                               "change values in place with t.copy_(...)")
        guards.append((t, "data", t.data, label))
        if write_stamp(t) > clock:
            marks.append(t)
        if t.grad is None:
            continue
        if rec.where.get(id(t.grad.data), ("p",))[0] == "tmp":
            bindings.append((t, rec.where[id(t.grad.data)][1], t.grad._device))
        else:
            guards.append((t, "grad", t.grad, label))
            if write_stamp(t.grad) > clock:
                marks.append(t.grad)
    for m in modules.values():
        for table in (m._parameters, m._modules):
            guards.extend((table, key, value, f"{type(m).__name__}.{key}")
                          for key, value in table.items())
    return bindings, marks, guards


def _difference(a, b):
    """Why recorded calls ``a`` and ``b`` cannot share one program, or None."""
    if a.signature != b.signature:
        return (f"the inputs changed between the two recorded calls (shapes, dtypes, devices: "
                f"{[s[:2] for s in a.signature]} then {[s[:2] for s in b.signature]})")
    problem = first_difference(a.rec, b.rec)
    if problem is not None:
        return problem
    if a.single != b.single or [s for s, _ in a.outputs] != [s for s, _ in b.outputs] or \
            [(id(t), n) for t, n, _ in a.bindings] != [(id(t), n) for t, n, _ in b.bindings]:
        return "the step returned, or left as gradients, other arrays the second time"
    return None


class _Program:
    """The replay function behind its checks (see ``CapturedStep``)."""

    def __init__(self, name, replay, recorded):
        self.name, self.replay = name, replay
        self.signature = [s[:3] for s in recorded.signature]
        self.grads = tuple(s[3] for s in recorded.signature)
        self.data_guards = [(t, arr, label) for t, kind, arr, label in recorded.guards
                            if kind == "data"]
        self.grad_guards = [(t, g, label) for t, kind, g, label in recorded.guards
                            if kind == "grad"]
        self.table_guards = [(table, key, value, label) for table, key, value, label
                             in recorded.guards if isinstance(table, dict)]

    def __call__(self, inputs):
        signature = self.signature
        if len(inputs) != len(signature):
            raise CaptureError(f"{self.name}: captured with {len(signature)} input tensor(s), "
                               f"called with {len(inputs)}")
        arrays = []
        for k, (t, expected) in enumerate(zip(inputs, signature)):
            data = getattr(t, "data", None)
            if data is None or (data.shape, data.dtype, t._device) != expected or \
                    t.requires_grad != self.grads[k]:
                raise self._input_error(k, t, expected)
            arrays.append(data)
        for t, arr, label in self.data_guards:
            if t.data is not arr:
                raise CaptureError(f"{self.name}: the data of {label} was replaced since the "
                                   "step was captured (.to(), astype(), t.data = ...), so the "
                                   "replay would use the old array. Call step.reset() after "
                                   "changing the model; change values in place with copy_ or "
                                   "load_state_dict, which need no reset")
        for t, g, label in self.grad_guards:
            if t.grad is not g:
                raise CaptureError(f"{self.name}: the gradient of {label} was replaced or reset "
                                   "outside the step since it was captured; reset gradients "
                                   "inside the step (opt.zero_grad()), or call step.reset()")
        for table, key, value, label in self.table_guards:
            if table.get(key) is not value:
                raise CaptureError(f"{self.name}: {label} was replaced by another object since "
                                   "the step was captured (a new Parameter or module), which "
                                   "the replay would not use. Give the optimizer the new "
                                   "parameters and call step.reset(), or change values in "
                                   "place (copy_, load_state_dict)")
        return self.replay(*arrays)

    def _input_error(self, k, t, expected):
        if not isinstance(t, Tensor):
            return ArgumentTypeError(f"{self.name}: input {k} is a {type(t).__name__}; the step "
                                     "was captured with Tensors")
        shape, dtype, device = expected
        return CaptureError(
            f"{self.name}: input {k} has shape {t.shape}, dtype {t.dtype}, device {t.device!r}"
            f" and requires_grad={t.requires_grad}; the step was captured with shape "
            f"{tuple(shape)}, dtype {dtype}, device {device.name!r}, requires_grad="
            f"{self.grads[k]}. A replay is only valid for what was recorded: capture one step "
            "per input shape (e.g. a second capture(...) for the last, smaller batch, or drop "
            "it), or call step.reset() to record again")
