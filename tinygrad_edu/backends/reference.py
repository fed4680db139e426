"""The numpy reference backend: every primitive, written as plainly as possible.

This file is the specification the fast backends are tested against. A backend receives and
returns arrays of its device (numpy arrays here) and never builds graph nodes; ``ops.py`` owns
the autodiff. Faster backends subclass this one and override only what they accelerate.
"""

import numpy as np

from .. import activations as sm

__all__ = ["NumpyBackend"]


def _sigmoid(x):
    # exp of -|x| never overflows; the two branches are the same function.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _erf(x):
    # numpy has no erf ufunc; math.erf per element is exact and only the reference needs it.
    return np.vectorize(__import__("math").erf, otypes=[x.dtype])(x) if x.size else x.copy()


class NumpyBackend:
    """Reference implementation of the primitives on numpy arrays (device ``"cpu"``)."""

    name = "numpy"
    device = "cpu"

    # ---- data movement ----
    def asarray(self, data, dtype):
        return np.array(data, dtype=dtype)

    def to_numpy(self, x):
        return x

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype)

    # ---- elementwise ----
    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def mul(self, a, b):
        return a * b

    def div(self, a, b):
        return a / b

    def neg(self, a):
        return -a

    def reciprocal(self, a):
        return 1 / a

    def pow(self, a, b):
        return np.power(a, b)

    def exp(self, a):
        return np.exp(a)

    def log(self, a):
        return np.log(a)

    def sqrt(self, a):
        return np.sqrt(a)

    def abs(self, a):
        return np.abs(a)

    def sign(self, a):
        return np.sign(a)

    def clip(self, a, lo, hi):
        return np.clip(a, lo, hi)

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def compare(self, op, a, b):
        return getattr(np, op)(a, b)

    # ---- linear algebra, reductions, movement ----
    def matmul(self, a, b):
        return np.matmul(a, b)

    def sum(self, a, axis, keepdims):
        return np.sum(a, axis=axis, keepdims=keepdims)

    def max(self, a, axis, keepdims):
        return np.max(a, axis=axis, keepdims=keepdims)

    def reshape(self, a, shape):
        return np.reshape(a, shape)

    def transpose(self, a, axes):
        return np.transpose(a, axes)

    def broadcast_to(self, a, shape):
        return np.broadcast_to(a, shape)

    def getitem(self, a, index):
        return a[index]

    def scatter_add(self, shape, index, values, dtype):
        out = np.zeros(shape, dtype=dtype)
        np.add.at(out, index, values)
        return out

    def concatenate(self, arrays, axis):
        return np.concatenate(arrays, axis=axis)

    # ---- activations (array forms of scalar_math's formulas) ----
    def activation(self, code, x, slope):
        if code == sm.RELU:
            return np.maximum(x, 0)
        if code == sm.LEAKY_RELU:
            return np.where(x > 0, x, x * x.dtype.type(slope))
        if code == sm.SIGMOID:
            return _sigmoid(x)
        if code == sm.TANH:
            return np.tanh(x)
        if code == sm.GELU:
            return 0.5 * x * (1 + _erf(x * x.dtype.type(sm.SQRT_HALF)))
        if code == sm.GELU_TANH:
            c = x.dtype.type(sm.SQRT_2_OVER_PI)
            return 0.5 * x * (1 + np.tanh(c * (x + x.dtype.type(sm.GELU_TANH_C) * x ** 3)))
        if code == sm.SILU:
            return x * _sigmoid(x)
        return x

    def activation_backward(self, code, x, y, grad, slope):
        """grad * d activation / dx, given input ``x`` and output ``y``."""
        if code == sm.RELU:
            return np.where(x > 0, grad, 0).astype(grad.dtype, copy=False)
        if code == sm.LEAKY_RELU:
            return np.where(x > 0, grad, grad * grad.dtype.type(slope))
        if code == sm.SIGMOID:
            return grad * y * (1 - y)
        if code == sm.TANH:
            return grad * (1 - y * y)
        if code == sm.GELU:
            t = x.dtype.type
            cdf = 0.5 * (1 + _erf(x * t(sm.SQRT_HALF)))
            return grad * (cdf + x * t(sm.INV_SQRT_2PI) * np.exp(-0.5 * x * x))
        if code == sm.GELU_TANH:
            t = x.dtype.type
            th = np.tanh(t(sm.SQRT_2_OVER_PI) * (x + t(sm.GELU_TANH_C) * x ** 3))
            d_inner = t(sm.SQRT_2_OVER_PI) * (1 + t(3 * sm.GELU_TANH_C) * x * x)
            return grad * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * d_inner)
        if code == sm.SILU:
            s = _sigmoid(x)
            return grad * s * (1 + x * (1 - s))
        return grad

    # ---- the fused layer: activation(x @ W + b) ----
    def linear_act_forward(self, x, w, b, code, slope):
        """Return ``(y, z)``: the output and the pre-activation ``z = x @ w + b``."""
        z = x @ w
        if b is not None:
            z += b
        return self.activation(code, z, slope), z

    def linear_act_backward(self, x, w, z, y, grad, code, slope, needs_b, needs_x=True):
        """Return ``(dx, dw, db)`` for ``y = activation(x @ w + b)``; db is None without b,
        dx is None when not ``needs_x`` (a first layer's input: a third of the work)."""
        dz = self.activation_backward(code, z, y, grad, slope)
        x2 = x.reshape(-1, x.shape[-1])
        dz2 = dz.reshape(-1, dz.shape[-1])
        dx = dz @ w.T if needs_x else None
        dw = x2.T @ dz2
        db = dz2.sum(axis=0) if needs_b else None
        return dx, dw, db
