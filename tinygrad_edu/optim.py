"""Optimizers that update parameters in place from their ``.grad``, following PyTorch's rules.

>>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()

Parameters whose ``grad`` is None are skipped by ``step``. ``state_dict()`` /
``load_state_dict()`` save and restore the hyperparameters and the per-parameter state
(momentum buffers, Adam moments, step counts) to resume training.
"""

import copy
import math

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

    def zero_grad(self):
        """Forget every parameter's gradient (``grad = None``)."""
        for p in self.params:
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient."""
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p.data, p.grad.numpy(), state)

    def _update(self, param, grad, state):
        raise NotImplementedError

    def state_dict(self):
        """``{"hyperparameters": {...}, "state": [per-parameter dicts of arrays/numbers]}``,
        deep-copied so later steps do not change it."""
        return {"hyperparameters": {k: getattr(self, k) for k in self._hyper},
                "state": copy.deepcopy(self.state)}

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
        self.state = copy.deepcopy(state)


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

    def _update(self, param, grad, state):
        g = grad + self.weight_decay * param if self.weight_decay else grad
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        param -= self.lr * g


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

    def _update(self, param, grad, state):
        b1, b2 = self.betas
        if self._decoupled:
            param *= 1 - self.lr * self.weight_decay
            g = grad
        else:
            g = grad + self.weight_decay * param if self.weight_decay else grad
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        step_size = self.lr / (1 - b1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + self.eps
        param -= (step_size * m / denom).astype(param.dtype, copy=False)


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
    grads = [p.grad.numpy() for p in params if p.grad is not None]
    if max_norm < 0:
        raise ArgumentError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if not norm_type > 0:
        raise ArgumentError(f"clip_grad_norm_: norm_type must be > 0, got {norm_type}")
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)
        total = total ** (1.0 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= g.dtype.type(coef)
    return total

