"""The optimizers' updates, one kernel each: every parameter element is read, updated with its
gradient and state, and written back in a single pass (PyTorch's rules, in the same order of
operations as the numpy reference, so the two agree to rounding).

Hyperparameters arrive as scalars of the parameter's dtype, computed on the host from Python
floats exactly as numpy would convert them (``(1 - beta1) * g`` in float32 is
``float32(1 - beta1) * g``).
"""

import math

from numba import from_dtype, types

from .catalog import kernel
from .devicefns import offset_of
from .elementwise import DIMS, FLOATS, I64, view_types
from .runtime import cuda

__all__ = []


@kernel("sgd_update", FLOATS)
def _sgd(dtype):
    def sgd_update(p, p_off, p_str, g, g_off, g_str, m, m_off, m_str, shape, ndim, n, lr,
                   weight_decay, momentum, keep, nesterov, first):
        # keep = 1 - dampening; first: the momentum buffer starts as the gradient.
        i = cuda.grid(1)
        if i < n:
            at = offset_of(i, shape, ndim, p_str, p_off)
            value = p[at]
            d = g[offset_of(i, shape, ndim, g_str, g_off)]
            if weight_decay != 0:
                d = d + weight_decay * value
            if momentum != 0:
                slot = offset_of(i, shape, ndim, m_str, m_off)
                buf = d if first else m[slot] * momentum + keep * d
                m[slot] = buf
                d = d + momentum * buf if nesterov else buf
            p[at] = value - lr * d
    scalar = from_dtype(dtype)
    return sgd_update, (view_types(dtype) * 3 + (DIMS, I64, I64) + (scalar,) * 4
                        + (types.boolean, types.boolean))


@kernel("adam_update", FLOATS)
def _adam(dtype):
    def adam_update(p, p_off, p_str, g, g_off, g_str, m, m_off, m_str, v, v_off, v_str, shape,
                    ndim, n, decoupled, decay, weight_decay, beta1, keep1, beta2, keep2,
                    step_size, correction2, eps):
        # decay = 1 - lr * weight_decay (AdamW); keep = 1 - beta; correction2 = sqrt(1 - b2^t)
        i = cuda.grid(1)
        if i < n:
            at = offset_of(i, shape, ndim, p_str, p_off)
            value = p[at]
            d = g[offset_of(i, shape, ndim, g_str, g_off)]
            if decoupled:
                value = value * decay
            elif weight_decay != 0:
                d = d + weight_decay * value
            slot_m = offset_of(i, shape, ndim, m_str, m_off)
            slot_v = offset_of(i, shape, ndim, v_str, v_off)
            mean = m[slot_m] * beta1 + keep1 * d
            square = v[slot_v] * beta2 + keep2 * d * d
            m[slot_m] = mean
            v[slot_v] = square
            p[at] = value - step_size * mean / (math.sqrt(square) / correction2 + eps)
    scalar = from_dtype(dtype)
    return adam_update, (view_types(dtype) * 4 + (DIMS, I64, I64, types.boolean)
                         + (scalar,) * 9)
