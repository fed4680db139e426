"""Optimizers that update parameters in place from their ``.grad``, following PyTorch's rules.

>>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()

Parameters whose ``grad`` is None are skipped by ``step``. ``state_dict()`` /
``load_state_dict()`` save and restore the hyperparameters and the per-parameter state
(momentum buffers, Adam moments, step counts) to resume training.

Each update is one backend method per parameter (``sgd_update``, ``adam_update``) that works in
place on the parameter's, the gradient's and the state's arrays, so it runs where the
parameters live. The optimizer follows its parameters: after ``model.to(device)`` the state
moves with them on the next step.
"""

import math
import numbers

import numpy as np

from .errors import ArgumentError, ArgumentTypeError, GradError, ShapeError
from .tensor import Tensor

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


def _check_range(name, value, lo, hi=math.inf, hi_open=False):
    if not (lo <= value < hi if hi_open else lo <= value <= hi):
        bracket = ")" if hi_open else "]"
        raise ArgumentError(f"invalid {name} {value!r}; expected a value in [{lo}, {hi}{bracket}")


class Optimizer:
    """Base class: holds the parameters, ``defaults`` (hyperparameters, also attributes such as
    ``opt.lr`` that may be changed between steps) and ``state`` (per-parameter arrays)."""

    def __init__(self, params, **defaults):
        self.params = _param_list(params, type(self).__name__)
        self._hyper = tuple(defaults)
        for name, value in defaults.items():
            setattr(self, name, value)
        self.state = [{} for _ in self.params]
        self._state_devices = [p._device for p in self.params]

    def zero_grad(self):
        """Forget every parameter's gradient (``grad = None``)."""
        for p in self.params:
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient."""
        for i, (p, state) in enumerate(zip(self.params, self.state)):
            if p.grad is not None:
                if p._device is not self._state_devices[i]:
                    self._follow(i, p)
                self._update(p._device.backend, p.data, p.grad.data, state)

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
        """Restore what ``state_dict()`` returned (for the same parameters, in the same order)."""
        where = f"{type(self).__name__}.load_state_dict"
        hyper, state = state_dict.get("hyperparameters"), state_dict.get("state")
        if not isinstance(hyper, dict) or not isinstance(state, list):
            raise ArgumentError(f"{where}: expected a dict with 'hyperparameters' and 'state' from "
                                "state_dict()")
        unknown = sorted(set(hyper) - set(self._hyper))
        if unknown:
            raise ArgumentError(f"{where}: unknown hyperparameters {unknown}; this state is from "
                                "another optimizer type")
        if len(state) != len(self.params):
            raise ArgumentError(f"{where}: the state has {len(state)} parameters, this optimizer "
                                f"has {len(self.params)}")
        for i, (p, entry) in enumerate(zip(self.params, state)):
            for key, value in entry.items():
                if isinstance(value, np.ndarray) and value.shape != p.shape:
                    raise ShapeError(f"{where}: state {key!r} of parameter {i} has shape "
                                     f"{value.shape}, the parameter has shape {p.shape}")
        for name, value in hyper.items():
            setattr(self, name, value)
        self.state = [{key: value if isinstance(value, numbers.Number)
                       else p._device.backend.asarray(np.asarray(value), p.dtype)
                       for key, value in entry.items()}
                      for p, entry in zip(self.params, state)]
        self._state_devices = [p._device for p in self.params]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    PyTorch's rule, per step: ``g = grad + weight_decay * p``; with momentum
    ``buf = g`` on the first step, then ``buf = momentum * buf + (1 - dampening) * g``, and
    ``g = g + momentum * buf`` (Nesterov) or ``g = buf``; finally ``p -= lr * g``.
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        _check_range("lr", lr, 0.0)
        _check_range("momentum", momentum, 0.0)
        _check_range("weight_decay", weight_decay, 0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ArgumentError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         nesterov=nesterov, weight_decay=weight_decay)

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

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        _check_range("lr", lr, 0.0)
        _check_range("beta1", betas[0], 0.0, 1.0, hi_open=True)
        _check_range("beta2", betas[1], 0.0, 1.0, hi_open=True)
        _check_range("eps", eps, 0.0)
        _check_range("weight_decay", weight_decay, 0.0)
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

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

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


def clip_grad_norm_(params, max_norm, norm_type=2.0):
    """Scale the gradients of ``params`` in place so their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together as if concatenated (``norm_type`` 2 by
    default, ``inf`` for the largest magnitude). As in PyTorch the gradients are multiplied by
    ``min(1, max_norm / (total + 1e-6))``. Returns the total norm before clipping (a float).
    """
    if isinstance(params, Tensor):
        params = [params]
    grads = [(p.grad._device.backend, p.grad.data) for p in params if p.grad is not None]
    if max_norm < 0:
        raise ArgumentError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if not norm_type > 0:
        raise ArgumentError(f"clip_grad_norm_: norm_type must be > 0, got {norm_type}")
    if not grads:
        return 0.0
    # One number per gradient comes to the host: the total decides the scale factor.
    if norm_type == math.inf:
        total = max(float(be.to_numpy(be.abs_max(g))) for be, g in grads)
    else:
        total = sum(float(be.to_numpy(be.abs_power_sum(g, norm_type))) for be, g in grads)
        total = total ** (1.0 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for be, g in grads:
            be.mul_(g, coef)
    return total

