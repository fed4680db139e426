"""Activation kernels compiled from ``tinygrad_edu.activations``, the activation registry.

``activate``, ``derivative`` and ``gradient`` below are the registry's own scalar Python
functions compiled with ``njit``; the loops apply them to every element of an array in one
pass. The registry's helpers ``sigmoid`` and ``derivative`` (which ``gradient`` calls) are plain
Python functions, which compiled code cannot call, so each is registered with Numba as an
overload whose implementation is that same function.
"""

import numpy as np
from numba import literal_unroll, njit
from numba.extending import overload

from ... import activations as sm

__all__ = ["activate", "derivative", "gradient", "activation_forward", "activation_backward",
           "bias_activation"]


@overload(sm.sigmoid, jit_options={"cache": True})
def _sigmoid_overload(x):
    return sm.sigmoid


@overload(sm.derivative, jit_options={"cache": True})   # called by the registry's gradient
def _derivative_overload(code, x, y, slope):
    return sm.derivative


_CODES = sm.CODES
activate = njit(cache=True, nogil=True)(sm.activate)
derivative = njit(cache=True, nogil=True)(sm.derivative)
gradient = njit(cache=True, nogil=True)(sm.gradient)


@njit(cache=True, nogil=True)
def _forward(x, out, code, slope):
    # One loop per activation: with the code a constant, LLVM drops the other branches and
    # can vectorize the loop (ReLU runs 5x faster than with a runtime switch).
    for c in literal_unroll(_CODES):
        if code == c:
            for i in range(x.size):
                out[i] = activate(c, x[i], slope)


@njit(cache=True, nogil=True)
def _backward(x, y, grad, out, code, slope):
    for c in literal_unroll(_CODES):
        if code == c:
            for i in range(x.size):
                out[i] = gradient(c, x[i], y[i], grad[i], slope)


@njit(cache=True, nogil=True)
def bias_activation(z, y, r0, c0, rows, cols, bias, code, slope):
    """On the block z[r0:r0+rows, c0:c0+cols]: add bias[c0:c0+cols] (if ``bias.size``), then
    write y = act(z) over the same block, one row at a time.

    The tiled matmul calls this on each output tile while it is still in L1; the rows are
    sliced from the whole arrays so Numba knows they are contiguous and vectorizes them.
    """
    for c in literal_unroll(_CODES):
        if code == c:   # one loop per activation, as in _forward
            for i in range(r0, r0 + rows):
                zrow = z[i, c0:c0 + cols]
                if bias.size:
                    brow = bias[c0:c0 + cols]
                    for j in range(cols):
                        zrow[j] += brow[j]
                if c != sm.IDENTITY:
                    yrow = y[i, c0:c0 + cols]
                    for j in range(cols):
                        yrow[j] = activate(c, zrow[j], slope)


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def activation_forward(code, x, slope):
    """activation ``code`` applied to every element of ``x`` (a new array of x's dtype)."""
    out = np.empty(x.shape, x.dtype)
    _forward(_flat(x), out.reshape(-1), code, x.dtype.type(slope))
    return out


def activation_backward(code, x, y, grad, slope):
    """grad * activation'(x), given input ``x`` and output ``y`` (all one shape and dtype)."""
    out = np.empty(grad.shape, grad.dtype)
    _backward(_flat(x), _flat(y), _flat(grad), out.reshape(-1), code, x.dtype.type(slope))
    return out
