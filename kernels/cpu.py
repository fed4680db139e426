"""The Numba CPU backend: the numpy reference backend with its hot primitives compiled.

It subclasses ``NumpyBackend`` and overrides only what it accelerates: ``matmul``, the
activations and the fused layer ``linear_act`` (forward and backward). Everything else, and any
dtype the kernels are not compiled for, falls through to the reference implementation, so the
two backends agree by construction outside the kernels and are tested against each other inside.

Select it with ``tinygrad_edu.set_backend("numba")`` or ``TINYGRAD_EDU_BACKEND=numba``; it is
the default CPU backend whenever Numba is installed. Kernels compile on first use and are cached
on disk (``cache=True``), so later processes load them instead of compiling again.
"""

import numpy as np

from .. import scalar_math as sm
from ..numpy_backend import NumpyBackend
from . import activations, fused
from .matmul import matmul

__all__ = ["NumbaBackend"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# numpy 2 evaluates exp and tanh with SIMD code; Numba without Intel's SVML calls the scalar
# libm, so numpy's separate passes stay faster for these (benchmarks/run.py measures both).
_NUMPY_FORWARD = frozenset({sm.SIGMOID, sm.TANH, sm.SILU})
_NUMPY_BACKWARD = frozenset({sm.SILU})


def _compiled(*arrays):
    """True when the kernels handle these arrays: one float dtype (float32 or float64)."""
    dtype = arrays[0].dtype
    return dtype in _FLOATS and all(a.dtype == dtype for a in arrays)


class NumbaBackend(NumpyBackend):
    """``NumpyBackend`` with matmul, activations and the fused layer compiled by Numba."""

    name = "numba"

    def matmul(self, a, b):
        if not _compiled(a, b):
            return super().matmul(a, b)
        return matmul(a, b)

    def activation(self, code, x, slope):
        if code == sm.IDENTITY or code in _NUMPY_FORWARD or not _compiled(x):
            return super().activation(code, x, slope)
        return activations.activation_forward(code, x, slope)

    def activation_backward(self, code, x, y, grad, slope):
        if code == sm.IDENTITY or code in _NUMPY_BACKWARD or not _compiled(x, y, grad):
            return super().activation_backward(code, x, y, grad, slope)
        return activations.activation_backward(code, x, y, grad, slope)

    def linear_act_forward(self, x, w, b, code, slope):
        if not _compiled(x, w, *([] if b is None else [b])):
            return super().linear_act_forward(x, w, b, code, slope)
        return fused.linear_act_forward(x, w, b, code, slope)

    def linear_act_backward(self, x, w, z, y, grad, code, slope, needs_b):
        if not _compiled(x, w, z, y, grad):
            return super().linear_act_backward(x, w, z, y, grad, code, slope, needs_b)
        return fused.linear_act_backward(x, w, z, y, grad, code, slope, needs_b)
