"""The optimizers' updates in one pass over each parameter: every element is read, updated with
its gradient and state, and written back once.

numpy's reference (``NumpyBackend.sgd_update``, ``adam_update``) makes a pass, and a temporary
array, per operation: Adam's rule is ten of them, so an Adam step over the ranking MLP spent
more time in its update than in some of its layers. These loops do the same operations in the
same order, on scalars of the parameter's dtype converted from the Python floats exactly as
numpy converts them (``(1 - beta1) * g`` in float32 is ``float32(1 - beta1) * g``), and without
contracting a multiply and an add into one rounding, so their results are the reference's bit
for bit. ``kernels/cuda/updates.py`` holds the same rules for the GPU.

``error_model="numpy"``: a division by zero gives inf or NaN, as numpy's does, instead of
raising, and without that per-element check LLVM vectorizes Adam's loop (several times faster).

Each loop takes 1-D views of C-contiguous arrays of one float dtype (one compiled version per
dtype: a first training step compiles one small loop); ``handles`` tells which calls qualify,
and the backend gives the others to the reference.
"""

import math

import numpy as np
from numba import njit

from . import cache_stamp  # noqa: F401 - first: an edited kernel source recompiles all

__all__ = ["handles", "sgd_update", "adam_update", "SMALL_PLAIN_SGD"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# Plain SGD (no momentum, no weight decay) is two numpy calls. Below about 16k elements they
# cost less than the call into compiled code, and up to this size they cost hardly more, so a
# model updated per parameter keeps them and its first step does not compile this loop; a flat
# buffer (``flat=True``) gets the one pass. The numbers are the same either way.
SMALL_PLAIN_SGD = 65536


def handles(param, *arrays):
    """Whether the loops take ``param`` and ``arrays`` (None entries skipped): one float dtype,
    one shape, all C-contiguous."""
    if param.dtype not in _FLOATS or not param.flags.c_contiguous:
        return False
    for a in arrays:
        if a is not None and (a.dtype != param.dtype or a.shape != param.shape
                              or not a.flags.c_contiguous):
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _sgd(p, g, buf, lr, weight_decay, momentum, keep, nesterov, first):
    # keep = 1 - dampening; first: the momentum buffer starts as the gradient.
    if momentum == 0 and weight_decay == 0:   # the common case, as its own vectorized loop
        for i in range(p.size):
            p[i] = p[i] - lr * g[i]
        return
    for i in range(p.size):
        value = p[i]
        d = g[i]
        if weight_decay != 0:
            d = d + weight_decay * value
        if momentum != 0:
            b = d if first else buf[i] * momentum + keep * d
            buf[i] = b
            d = d + momentum * b if nesterov else b
        p[i] = value - lr * d


@njit(cache=True, nogil=True, error_model="numpy")
def _adam(p, g, m, v, decoupled, decay, weight_decay, beta1, keep1, beta2, keep2, step_size,
          correction2, eps):
    # decay = 1 - lr * weight_decay (AdamW); keep = 1 - beta; correction2 = sqrt(1 - beta2^t)
    for i in range(p.size):
        value = p[i]
        d = g[i]
        if decoupled:
            value = value * decay
        elif weight_decay != 0:
            d = d + weight_decay * value
        mean = m[i] * beta1 + keep1 * d
        square = v[i] * beta2 + keep2 * d * d
        m[i] = mean
        v[i] = square
        p[i] = value - step_size * mean / (np.sqrt(square) / correction2 + eps)


def sgd_update(param, grad, buf, lr, momentum, dampening, nesterov, weight_decay):
    """``NumpyBackend.sgd_update`` for arrays ``handles`` accepts (``buf`` too, or None)."""
    t = param.dtype.type
    first = bool(momentum) and buf is None
    if first:
        buf = np.empty_like(param)
    flat = param.reshape(-1)
    _sgd(flat, grad.reshape(-1), buf.reshape(-1) if momentum else flat, t(lr),
         t(weight_decay), t(momentum), t(1 - dampening), bool(nesterov), first)
    return buf if momentum else None


def adam_update(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
                decoupled):
    """``NumpyBackend.adam_update`` for arrays ``handles`` accepts."""
    t = param.dtype.type
    step_size = lr / (1 - beta1 ** step)
    correction2 = math.sqrt(1 - beta2 ** step)
    _adam(param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
          bool(decoupled), t(1 - lr * weight_decay), t(weight_decay), t(beta1), t(1 - beta1),
          t(beta2), t(1 - beta2), t(step_size), t(correction2), t(eps))
