"""Optimizers that update parameters in place from their ``.grad``, following PyTorch's rules.

>>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()

Parameters whose ``grad`` is None are skipped by ``step``. ``state_dict()`` /
``load_state_dict()`` save and restore the hyperparameters and the per-parameter state
(momentum buffers, Adam moments, step counts) to resume training.

Hyperparameters are checked whenever they are set: at construction, on assignment
(``opt.lr = 0.01``) and by ``load_state_dict``, which also checks the whole state before it
changes anything. A step marks the parameters as written in place, so a graph built before it
can no longer backpropagate (see ``Tensor.copy_``).

Each update is one backend method per parameter (``sgd_update``, ``adam_update``) that works in
place on the parameter's, the gradient's and the state's arrays, so it runs where the
parameters live. The optimizer follows its parameters: after ``model.to(device)`` the state
moves with them on the next step.

``flat=True`` lays every parameter's data, gradient and state out as views of one flat buffer
each (``capture/flat.py``), so an update is one backend call for all parameters, with the same
numbers. All parameters must then share one dtype and device, every one of them needs a
gradient at each step, and ``zero_grad()`` zeroes the flat gradient in place (one call) rather
than setting gradients to None.

Inside a captured step (``tinygrad_edu.capture``) ``step()`` is recorded as one host call, so
a replay reads the hyperparameters and step counts afresh: changing ``opt.lr`` or a schedule
needs no new capture, and Adam's bias correction follows the step count.
"""

import math
import numbers

import numpy as np

from .capture import FlatParameters, recording
from .errors import ArgumentError, ArgumentTypeError, DTypeError, GradError, ShapeError
from .nn.utils import clip_grad_norm_  # noqa: F401 - also optim.clip_grad_norm_, as before
from .tensor import Tensor
from .tensor.autodiff import mark_written
from .tensor.validation import check_flag

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm_"]


def _param_list(params, where):
    if isinstance(params, Tensor):
        raise ArgumentTypeError(f"{where}: params must be an iterable of Tensors, got a single "
                                "Tensor; wrap it in a list")
    if hasattr(params, "parameters") and not isinstance(params, (list, tuple)):
        raise ArgumentTypeError(f"{where}: got a {type(params).__name__}; pass model.parameters()")
    params = list(params)
    if not params:
        raise ArgumentError(f"{where}: got an empty parameter list")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise ArgumentTypeError(f"{where}: parameter {i} is a {type(p).__name__}, expected a "
                                    "Tensor")
        if not p.requires_grad or p.dtype.kind != "f":
            raise GradError(f"{where}: parameter {i} (shape {p.shape}, dtype {p.dtype}) does not "
                            "require grad; only floating tensors with requires_grad=True learn")
        if id(p) in seen:
            raise ArgumentError(f"{where}: parameter {i} (shape {p.shape}) appears twice")
        seen.add(id(p))
    return params


def _real(value, name, where, lo=-math.inf, hi=math.inf, hi_open=False):
    """``value`` as a float, checked to be a real number (not a bool), finite and in
    [lo, hi] (or [lo, hi) with ``hi_open``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{where}: {name} must be a real number, got "
                                f"{type(value).__name__} {value!r}")
    value = float(value)
    inside = lo <= value < hi if hi_open else lo <= value <= hi
    if not (math.isfinite(value) and inside):
        bracket = ")" if hi_open or hi == math.inf else "]"
        raise ArgumentError(f"{where}: invalid {name} {value!r}; expected a finite value in "
                            f"[{lo}, {hi}{bracket}")
    return value


def _nonnegative(value, name, where):
    return _real(value, name, where, lo=0.0)


def _betas(value, name, where):
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ArgumentTypeError(f"{where}: {name} must be a pair (beta1, beta2) such as "
                                f"(0.9, 0.999), got {value!r}")
    return tuple(_real(b, f"beta{i + 1}", where, lo=0.0, hi=1.0, hi_open=True)
                 for i, b in enumerate(value))


class Optimizer:
    """Base class: holds the parameters, ``defaults`` (hyperparameters, also attributes such as
    ``opt.lr`` that may be changed between steps) and ``state`` (per-parameter arrays).

    Subclasses list their hyperparameters' checks in ``_checks`` (name -> ``check(value, name,
    where)`` returning the value to keep), checks of several together in ``_check_together``,
    and the layouts a parameter's state may have in ``_state_layouts`` (key -> "array" or
    "count"; None accepts any state).
    """

    _checks = {}
    _state_layouts = None

    def __init__(self, params, flat=False, **defaults):
        where = type(self).__name__
        self.params = _param_list(params, where)
        flat = check_flag(flat, "flat", where)
        object.__setattr__(self, "_hyper", tuple(defaults))
        for name, value in self._validated(defaults, where).items():
            object.__setattr__(self, name, value)
        self.state = [{} for _ in self.params]
        self._state_devices = [p._device for p in self.params]
        self._flat = FlatParameters(self.params, self.state, where) if flat else None

    def __setattr__(self, name, value):
        hyper = self.__dict__.get("_hyper", ())
        if name in hyper:
            values = {key: getattr(self, key) for key in hyper}
            values[name] = value
            value = self._validated(values, type(self).__name__)[name]
        object.__setattr__(self, name, value)

    def _validated(self, values, where):
        """``values`` (every hyperparameter) checked one by one, then together."""
        checked = {name: self._checks[name](value, name, where) if name in self._checks
                   else value for name, value in values.items()}
        self._check_together(checked, where)
        return checked

    def _check_together(self, values, where):
        """Raise ArgumentError for hyperparameters that do not work together."""

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: forget it (``grad = None``; the default, as in
        PyTorch 2) or, with ``set_to_none=False``, fill it with zeros in place. With
        ``flat=True`` the flat gradient buffer is zeroed in place (one call) either way."""
        if self._flat is not None:
            self._flat.zero_grad()
            return
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def step(self):
        """Update every parameter that has a gradient."""
        grads = [None if p.grad is None else p.grad.data for p in self.params]
        rec = recording()
        if rec is None:
            self._apply(grads)
        else:
            rec.host(self._apply, grads, self.params)

    def _apply(self, grads):
        """The update from ``grads`` (one array or None per parameter): what a captured step
        replays."""
        if self._flat is not None:
            self._flat.step(self._update, grads, self.state, type(self).__name__)
            if self._state_devices[0] is not self._flat.device:   # moved with the parameters
                self._state_devices = [self._flat.device] * len(self.params)
            return
        updated = []
        for i, (p, g, state) in enumerate(zip(self.params, grads, self.state)):
            if g is not None:
                if p._device is not self._state_devices[i]:
                    self._follow(i, p)
                self._update(p._device.backend, p.data, g, state)
                updated.append(p)
        if updated:
            mark_written(*updated)

    def _update(self, backend, param, grad, state):
        raise NotImplementedError

    def _follow(self, i, p):
        """Move parameter ``i``'s state arrays to the device it was moved to."""
        source, target = self._state_devices[i].backend, p._device.backend
        for key, value in self.state[i].items():
            if not isinstance(value, numbers.Number):
                host = source.to_numpy(value)
                self.state[i][key] = target.asarray(host, host.dtype)
        self._state_devices[i] = p._device

    def state_dict(self):
        """``{"hyperparameters": {...}, "state": [per-parameter dicts of numbers and numpy
        arrays]}``: host copies, so later steps do not change it and it can be saved."""
        state = [{key: value if isinstance(value, numbers.Number)
                  else np.array(device.backend.to_numpy(value))
                  for key, value in entry.items()}
                 for entry, device in zip(self.state, self._state_devices)]
        return {"hyperparameters": {k: getattr(self, k) for k in self._hyper}, "state": state}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned (for the same parameters, in the same order).

        Everything is checked before anything changes: the hyperparameters (all of this
        optimizer's, each valid), the number of parameters, and each parameter's state (its
        keys, the shapes and dtypes of its arrays, its step count). Raises ArgumentError,
        ArgumentTypeError, ShapeError or DTypeError naming what does not fit.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise ArgumentTypeError(f"{where}: expected the dict that state_dict() returns, got "
                                    f"{type(state_dict).__name__}")
        hyper, state = state_dict.get("hyperparameters"), state_dict.get("state")
        if not isinstance(hyper, dict) or not isinstance(state, (list, tuple)):
            raise ArgumentError(f"{where}: expected a dict with 'hyperparameters' and 'state' from "
                                f"state_dict(), got keys {sorted(map(str, state_dict))} (a "
                                "model's state_dict goes to model.load_state_dict)")
        unknown = sorted(set(hyper) - set(self._hyper))
        if unknown:
            raise ArgumentError(f"{where}: unknown hyperparameters {unknown}; this state is from "
                                "another optimizer type")
        missing = [name for name in self._hyper if name not in hyper]
        if missing:
            raise ArgumentError(f"{where}: the state lacks the hyperparameters {missing}")
        values = self._validated(hyper, where)
        if len(state) != len(self.params):
            raise ArgumentError(f"{where}: the state has {len(state)} parameters, this optimizer "
                                f"has {len(self.params)}")
        entries = [self._checked_entry(i, p, entry, where)
                   for i, (p, entry) in enumerate(zip(self.params, state))]
        # One flat state for all parameters: the same keys and step counts for each.
        shared = [(sorted(e), [v for _, v in sorted(e.items()) if isinstance(v, int)])
                  for e in entries]
        if self._flat is not None and any(entry != shared[0] for entry in shared):
            raise ArgumentError(f"{where}: a flat optimizer keeps one state for all "
                                "parameters, but this state has different keys or step counts "
                                "for different parameters; load it with flat=False")
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self.state = [{key: value if isinstance(value, int)
                       else p._device.backend.asarray(value, p.dtype)
                       for key, value in entry.items()}
                      for p, entry in zip(self.params, entries)]
        self._state_devices = [p._device for p in self.params]
        if self._flat is not None:
            self._flat.adopt_state(self.state)

    def _checked_entry(self, i, p, entry, where):
        """Parameter ``i``'s state from a state dict as {key: int or numpy array}, checked."""
        if not isinstance(entry, dict):
            raise ArgumentTypeError(f"{where}: the state of parameter {i} must be a dict, got "
                                    f"{type(entry).__name__}")
        layouts = self._state_layouts
        layout = next((lay for lay in layouts if set(lay) == set(entry)), None) \
            if layouts is not None else {}
        if layout is None:
            expected = " or ".join(str(sorted(lay)) for lay in layouts)
            raise ArgumentError(f"{where}: the state of parameter {i} has the keys "
                                f"{sorted(map(str, entry))}; a {type(self).__name__} keeps "
                                f"{expected}")
        checked = {}
        for key, value in entry.items():
            kind = layout.get(key, "count" if isinstance(value, numbers.Number) else "array")
            if kind == "count":
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
                        or value < 0:
                    raise ArgumentError(f"{where}: state {key!r} of parameter {i} must be a "
                                        f"count (an int >= 0), got {value!r}")
                checked[key] = int(value)
                continue
            array = np.asarray(value)
            if array.dtype.kind != "f":
                raise DTypeError(f"{where}: state {key!r} of parameter {i} has dtype "
                                 f"{array.dtype}; expected floating values")
            if array.shape != p.shape:
                raise ShapeError(f"{where}: state {key!r} of parameter {i} has shape "
                                 f"{array.shape}, the parameter has shape {p.shape}")
            checked[key] = array
        return checked


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    PyTorch's rule, per step: ``g = grad + weight_decay * p``; with momentum
    ``buf = g`` on the first step, then ``buf = momentum * buf + (1 - dampening) * g``, and
    ``g = g + momentum * buf`` (Nesterov) or ``g = buf``; finally ``p -= lr * g``.
    """

    _checks = {"lr": _nonnegative, "momentum": _nonnegative, "dampening": _real,
               "nesterov": check_flag, "weight_decay": _nonnegative}
    _state_layouts = ({}, {"momentum_buffer": "array"})

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, flat=False):
        super().__init__(params, flat, lr=lr, momentum=momentum, dampening=dampening,
                         nesterov=nesterov, weight_decay=weight_decay)

    def _check_together(self, values, where):
        if values["nesterov"] and (values["momentum"] <= 0 or values["dampening"] != 0):
            raise ArgumentError(f"{where}: nesterov momentum needs momentum > 0 and dampening = "
                                f"0, got momentum={values['momentum']}, "
                                f"dampening={values['dampening']}")

    def _update(self, backend, param, grad, state):
        buf = backend.sgd_update(param, grad, state.get("momentum_buffer"), self.lr,
                                 self.momentum, self.dampening, self.nesterov, self.weight_decay)
        if buf is not None:
            state["momentum_buffer"] = buf


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's bias-corrected update.

    ``g = grad + weight_decay * p`` (L2); ``m = b1 m + (1 - b1) g``;
    ``v = b2 v + (1 - b2) g^2``; ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    """

    _decoupled = False
    _checks = {"lr": _nonnegative, "betas": _betas, "eps": _nonnegative,
               "weight_decay": _nonnegative}
    _state_layouts = ({}, {"step": "count", "exp_avg": "array", "exp_avg_sq": "array"})

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 flat=False):
        super().__init__(params, flat, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, backend, param, grad, state):
        if not state:
            state.update(step=0, exp_avg=backend.full(param.shape, 0, param.dtype),
                         exp_avg_sq=backend.full(param.shape, 0, param.dtype))
        state["step"] += 1
        backend.adam_update(param, grad, state["exp_avg"], state["exp_avg_sq"], state["step"],
                            self.lr, self.betas[0], self.betas[1], self.eps, self.weight_decay,
                            self._decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay``
    before the Adam step, which itself sees the plain gradient."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 flat=False):
        super().__init__(params, lr, betas, eps, weight_decay, flat)
