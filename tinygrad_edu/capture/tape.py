"""Recording a training step's backend calls: the tape.

While a step is recorded, every device's backend is replaced by a ``Recorder`` that forwards
each call to the real backend and writes it down in a ``Recording``: the method, and for each
argument what it is. An array argument is one of

- ``("in", k)``: the data of the step's k-th input tensor;
- ``("tmp", n)``: the n-th array made by an earlier recorded call (an intermediate);
- ``("p", id)``: an array that existed before the step (a parameter, a gradient kept between
  steps, optimizer state): the replay uses the very same object;

and anything else is a constant, frozen at its recorded value (``asarray``'s host data is
copied, so a numpy array made in the step is a constant too). Two recordings of consecutive
calls are compared entry by entry (``first_difference``) before one of them is replayed.

An optimizer's update is recorded as one *host* entry (``Recording.host``): a Python function
of the gradients that the replay calls again, so it reads its hyperparameters and step counts
afresh each time; the backend calls it makes are not recorded.

``to_numpy`` is the one way from the backend to Python; a call to it is a *readback*, allowed
only for the arrays the step returns (a value read mid-step could steer Python, and the replay
runs no Python of the step).
"""

import os
import sys
import threading

import numpy as np

from ..errors import TinygradEduError
from ..tensor import validation

__all__ = ["CaptureError", "Recording", "Recorder", "recording", "first_difference"]

# The Recording in progress in this thread (``_local.active``), else None. Optimizers ask for it
# (``recording()``) to record their update as a host entry. Per thread, so that steps recorded
# in two threads at once (ranks of a threaded test, two models trained side by side) each see
# only their own calls.
_local = threading.local()
# The Recorders stand in for the devices' backends while any thread records; _users counts
# the recordings in progress, so the first installs them and the last puts the backends back.
_lock = threading.Lock()
_originals = {}
_users = 0

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# Methods that change arguments in place: name -> positions written. Every other method with
# a name ending in "_" writes its first argument (the reference's convention).
_WRITES = {"sgd_update": (0, 2), "adam_update": (0, 2, 3)}


class CaptureError(TinygradEduError, RuntimeError):
    """A captured step that cannot be replayed faithfully; the message says what changed or
    what the step does that a replay cannot repeat, and the fix."""


def recording():
    """The Recording in progress in this thread (inside a captured step's recorded call),
    else None."""
    return getattr(_local, "active", None)


def writes(method, nargs):
    """Positions of the arguments ``method`` changes in place."""
    if method in _WRITES:
        return _WRITES[method]
    return (0,) if method.endswith("_") and nargs else ()


def is_array(x):
    """True for an array of some backend (anything with a shape and a dtype but a numpy
    scalar or dtype, which are constants)."""
    return (hasattr(x, "shape") and hasattr(x, "dtype")
            and not isinstance(x, (np.generic, np.dtype, type)))


def user_line():
    """``file:line`` of the innermost frame outside tinygrad_edu: the user's line."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return "an unknown place" if frame is None else \
        f"{frame.f_code.co_filename}:{frame.f_lineno}"


class Entry:
    """One recorded call: ``kind`` "call" (``backend.method(*args, **kwargs)``) or "host"
    (``fn(args[0])``); ``outputs`` mirrors the result with value numbers (None where the
    result is not a new array); ``line`` is the user's line that led to it."""

    __slots__ = ("kind", "backend", "method", "fn", "args", "kwargs", "outputs", "line")

    def __init__(self, kind, backend, method, fn, args, kwargs, line):
        self.kind, self.backend, self.method, self.fn = kind, backend, method, fn
        self.args, self.kwargs, self.outputs, self.line = args, kwargs, None, line

    def describe(self):
        name = self.method if self.kind == "call" else getattr(self.fn, "__qualname__", "host")
        return f"{name} (from {self.line})"


class Recording:
    """What one call of the step did to the backends (see the module docstring)."""

    def __init__(self, inputs):
        self.entries = []
        self.where = {}        # id(array) -> its spec
        self.arrays = {}       # id(array) -> array: keeps every seen array alive, ids unique
        self.values = []       # value number -> the array it named in this recording
        self.readbacks = []    # (spec, line)
        self.watch = []        # tensors a host entry reads (an optimizer's parameters)
        self.paused = False
        for k, t in enumerate(inputs):
            self._name(t.data, ("in", k))

    def _name(self, array, spec):
        self.where[id(array)] = spec
        self.arrays[id(array)] = array

    def spec(self, x):
        """How argument ``x`` is written down (see the module docstring)."""
        found = self.where.get(id(x))
        if found is not None:
            return found
        if is_array(x):
            spec = ("p", id(x))
            self._name(x, spec)
            return spec
        if isinstance(x, (tuple, list)):
            return (type(x).__name__, tuple(self.spec(v) for v in x))
        return ("c", x)

    def _outputs(self, result):
        if isinstance(result, tuple):
            return tuple(self._outputs(r) for r in result)
        # A numpy scalar result is a value too: numpy's full reductions return one.
        if not (is_array(result) or isinstance(result, np.generic)) or id(result) in self.where:
            return None   # a number, None, or an array already known (assign_ returns dst)
        n = len(self.values)
        self.values.append(result)
        self._name(result, ("tmp", n))
        return n

    def call(self, backend, method, function, args, kwargs):
        if self.paused or recording() is not self:
            return function(*args, **kwargs)
        if method == "asarray" and args and id(args[0]) not in self.where \
                and not (is_array(args[0]) and not isinstance(args[0], np.ndarray)):
            # Host data: frozen as a copy of what it was (a numpy array made in the step, too).
            spec_args = (("c", np.array(args[0])),) + tuple(self.spec(a) for a in args[1:])
        else:
            spec_args = tuple(self.spec(a) for a in args)
        entry = Entry("call", backend, method, None, spec_args,
                      tuple(sorted((k, self.spec(v)) for k, v in kwargs.items())), user_line())
        result = function(*args, **kwargs)
        entry.outputs = self._outputs(result)
        self.entries.append(entry)
        return result

    def host(self, fn, arrays, watch=()):
        """Run ``fn(arrays)`` now without recording its backend calls, and record it as one
        entry that the replay calls again on that call's arrays. ``watch``: tensors whose
        data ``fn`` reads and writes (checked before every replay)."""
        entry = Entry("host", None, None, fn, (self.spec(list(arrays)),), (), user_line())
        self.entries.append(entry)
        self.watch.extend(watch)
        self.paused = True
        try:
            return fn(arrays)
        finally:
            self.paused = False

    def readback(self, x):
        if not self.paused and recording() is self:
            self.readbacks.append((self.where.get(id(x)), user_line()))


class Recorder:
    """Stands in for a device's backend while steps are recorded: every public method is the
    backend's, recorded in the calling thread's recording (``recording()``) if it has one and
    passed straight through otherwise; other attributes are the backend's own."""

    def __init__(self, backend):
        self._backend = backend

    def __getattr__(self, name):
        attr = getattr(self._backend, name)
        if name.startswith("_") or not callable(attr):
            return attr
        backend = self._backend
        if name == "to_numpy":
            def method(x):
                rec = recording()
                if rec is not None:
                    rec.readback(x)
                return attr(x)
        else:
            def method(*args, **kwargs):
                rec = recording()
                if rec is None:
                    return attr(*args, **kwargs)
                return rec.call(backend, name, attr, args, kwargs)
        self.__dict__[name] = method   # found directly from now on
        return method


def start(recording_, devices):
    """Record this thread's backend calls on ``devices`` into ``recording_`` until ``stop()``."""
    global _users
    if recording() is not None:
        raise CaptureError("capture: a captured step was called while another one was being "
                           "recorded; call captured steps one after another, not inside each "
                           "other")
    with _lock:
        if _users == 0:
            for device in devices:
                _originals[device] = device.backend   # loaded now if it was not yet
                device._backend = Recorder(_originals[device])
        _users += 1
    _local.active = recording_


def stop():
    """End this thread's recording; the last one in progress puts the backends back."""
    global _users
    _local.active = None
    with _lock:
        _users -= 1
        if _users == 0:
            for device, backend in _originals.items():
                device._backend = backend
            _originals.clear()


# ---- comparing two recordings ----

def _same_constant(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float) and a != a:
        return b != b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _same_spec(a, b):
    if a is None or b is None or a[0] != b[0]:
        return a is b
    if a[0] == "c":
        return _same_constant(a[1], b[1])
    if a[0] in ("tuple", "list"):
        return len(a[1]) == len(b[1]) and all(map(_same_spec, a[1], b[1]))
    return a[1] == b[1]


def _spec_text(spec):
    kind = spec[0]
    if kind == "in":
        return f"input {spec[1]}"
    if kind == "tmp":
        return f"the array made by the recorded call that made value {spec[1]}"
    if kind == "p":
        return "an array made before the step (a parameter, a kept gradient, optimizer state)"
    if kind == "c":
        value = spec[1]
        shown = f"a host array of shape {value.shape}" if isinstance(value, np.ndarray) \
            else repr(value)
        return f"the constant {shown:.80}"
    return f"a {kind} of {len(spec[1])}"


validation.RECORDING[0] = recording   # the value checks record themselves (check_values)


def first_difference(a, b):
    """None when recordings ``a`` and ``b`` did the same thing, else a sentence saying where
    and how they differ."""
    for i, (ea, eb) in enumerate(zip(a.entries, b.entries)):
        if (ea.kind, ea.backend, ea.method, ea.fn) != (eb.kind, eb.backend, eb.method, eb.fn):
            return (f"call {i} was {ea.describe()} the first time and {eb.describe()} the "
                    "second: the step took another path (an `if` or a loop that depends on "
                    "values or on Python state)")
        pairs = list(zip(ea.args, eb.args)) + [(x[1], y[1]) for x, y in
                                              zip(ea.kwargs, eb.kwargs)]
        if len(ea.args) != len(eb.args) or [k for k, _ in ea.kwargs] != [k for k, _ in
                                                                          eb.kwargs]:
            return f"call {i}, {eb.describe()}, got other arguments the second time"
        if ea.outputs != eb.outputs:
            return f"call {i}, {eb.describe()}, returned other kinds of results the second time"
        for j, (x, y) in enumerate(pairs):
            if not _same_spec(x, y):
                hint = ("; the step took another path, or a Python number or a host array "
                        "made in the step (np.random..., values computed in Python) changes "
                        "every call and would be frozen at one value: pass such values as "
                        "input tensors of the step"
                        if "c" in (x[0], y[0]) else
                        "; an array kept from an earlier call of the step (an attribute set "
                        "in it) or replaced between calls cannot be replayed")
                return (f"argument {j} of call {i}, {eb.describe()}, was {_spec_text(x)} the "
                        f"first time and {_spec_text(y)} the second{hint}")
    if len(a.entries) != len(b.entries):
        longer = a if len(a.entries) > len(b.entries) else b
        extra = longer.entries[min(len(a.entries), len(b.entries))]
        return (f"one call made {len(a.entries)} backend calls and the next {len(b.entries)} "
                f"(the first extra one: {extra.describe()}): the step took another path")
    return None
