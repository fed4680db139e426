"""The numpy reference backend: every primitive, written as plainly as possible.

This file is the specification the fast backends are tested against. A backend receives and
returns arrays of its device (numpy arrays here) and never builds graph nodes;
``tensor/primitives.py`` owns the autodiff. Faster backends subclass this one and override only
what they accelerate.

Everything the library does to tensor data is one of these methods: the ops, gradient
accumulation, casts, the optimizers' updates (``sgd_update``, ``adam_update``, working in place
on parameter, gradient and state arrays), gradient clipping and the losses' gathers. Outside a
backend an array is only passed around and asked its ``shape``, ``dtype``, ``ndim`` and
``size``; ``to_numpy`` is the one way to the host, used where a user asks for numbers.
Methods whose name ends in ``_`` change their first argument in place.
"""

import math

import numpy as np

from .. import activations as sm

__all__ = ["NumpyBackend"]


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

    def cast(self, a, dtype):
        """``a`` converted to ``dtype`` (a new array)."""
        return a.astype(dtype)

    def copy(self, a):
        """A new array with ``a``'s values that shares no memory with it."""
        return np.array(a)

    def assign_(self, dst, src):
        """dst[...] = src, where src is an array of this backend or a number."""
        dst[...] = src
        return dst

    def setitem_(self, a, index, value):
        """a[index] = value, for a basic index (ints, slices)."""
        a[index] = value
        return a

    def add_(self, dst, src):
        """dst += src (gradient accumulation)."""
        dst += src
        return dst

    def mul_(self, dst, factor):
        """dst *= factor, a number or a 0-d array of dst's dtype (gradient clipping)."""
        dst *= dst.dtype.type(factor)
        return dst

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

    def sin(self, a):
        return np.sin(a)

    def cos(self, a):
        return np.cos(a)

    def floor(self, a):
        return np.floor(a)

    def round(self, a):
        """Nearest integer, halves to even (as numpy and PyTorch)."""
        return np.round(a)

    def floor_divide(self, a, b):
        """floor(a / b), exact for integers (Python's //); no zero divisors (checked before)."""
        return np.floor_divide(a, b)

    def mod(self, a, b):
        """a - b * floor(a / b) with the sign of b (Python's %), exact as fmod is."""
        return np.remainder(a, b)

    def clip(self, a, lo, hi):
        return np.clip(a, lo, hi)

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def compare(self, op, a, b):
        return getattr(np, op)(a, b)

    def isfinite(self, a):
        return np.isfinite(a)

    # ---- linear algebra, reductions, movement ----
    def matmul(self, a, b):
        return np.matmul(a, b)

    def sum(self, a, axis, keepdims):
        return np.sum(a, axis=axis, keepdims=keepdims)

    def max(self, a, axis, keepdims):
        return np.max(a, axis=axis, keepdims=keepdims)

    def min(self, a, axis, keepdims):
        return np.min(a, axis=axis, keepdims=keepdims)

    def prod(self, a, axis, keepdims):
        return np.prod(a, axis=axis, keepdims=keepdims)

    def cumsum(self, a, axis):
        """Running sums along ``axis`` (an int); booleans and small ints sum as int64."""
        return np.cumsum(a, axis=axis)

    def abs_power_sum(self, a, p):
        """sum(|a| ** p) over all elements, as a 0-d float64 array (for norms)."""
        return np.sum(np.abs(a.astype(np.float64)) ** p)

    def abs_max(self, a):
        """max(|a|) over all elements as a 0-d array; 0 for an empty array."""
        return np.max(np.abs(a)) if a.size else np.zeros((), a.dtype)

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

    def gather(self, a, index, axis):
        """out[..., i, ...] = a[..., index[..., i, ...], ...] along ``axis`` (index: integers,
        the shape of a except along axis)."""
        return np.take_along_axis(a, index, axis=axis)

    def scatter_add_along(self, shape, index, values, axis):
        """The adjoint of ``gather``: zeros of ``shape`` with ``values`` added at ``index``
        along ``axis`` (repeated indices accumulate)."""
        out = np.zeros(shape, dtype=values.dtype)
        grid = list(np.indices(index.shape, sparse=True))
        grid[axis] = index
        np.add.at(out, tuple(grid), values)
        return out

    # ---- optimizer updates, in place on parameter and state (PyTorch's rules) ----
    def sgd_update(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay):
        """One SGD step on ``param``; returns the momentum buffer (``buf``, updated in place,
        or a new one when ``buf`` is None on the first step; None without momentum)."""
        g = grad + weight_decay * param if weight_decay else grad
        if momentum:
            if buf is None:
                buf = np.array(g)
            else:
                buf *= momentum
                buf += (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        param -= lr * g
        return buf

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps,
                    weight_decay, decoupled):
        """One Adam (``decoupled``: AdamW) step on ``param`` at step count ``step`` (from 1),
        updating the moments ``exp_avg`` and ``exp_avg_sq`` in place."""
        if decoupled:
            param *= 1 - lr * weight_decay
            g = grad
        else:
            g = grad + weight_decay * param if weight_decay else grad
        exp_avg *= beta1
        exp_avg += (1 - beta1) * g
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        step_size = lr / (1 - beta1 ** step)
        # math.sqrt: a Python float keeps float32 moments in float32 (a numpy float64 would not).
        denom = np.sqrt(exp_avg_sq) / math.sqrt(1 - beta2 ** step) + eps
        param -= (step_size * exp_avg / denom).astype(param.dtype, copy=False)

    # ---- activations (the array forms in tinygrad_edu/activations.py, the registry) ----
    def activation(self, code, x, slope):
        return sm.activate_array(code, x, slope)

    def activation_backward(self, code, x, y, grad, slope):
        """grad * d activation / dx, given input ``x`` and output ``y``."""
        return sm.backward_array(code, x, y, grad, slope)

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
