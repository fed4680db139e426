"""The Numba CPU backend: the numpy reference backend with its hot primitives compiled.

It subclasses ``NumpyBackend`` and overrides only what it accelerates: ``matmul``, the
activations, the fused layer ``linear_act`` (forward and backward) and the optimizers' updates
(one pass per parameter, ``updates.py``). Everything else, and any dtype the kernels are not
compiled for, falls through to the reference implementation, so the two backends agree by
construction outside the kernels and are tested against each other inside.

Select it with ``tinygrad_edu.set_backend("numba")`` or ``TINYGRAD_EDU_BACKEND=numba``; it is
the default CPU backend whenever Numba is installed. Kernels compile on first use and are cached
on disk (``cache=True``), so later processes load them instead of compiling again.

``matmul_route`` chooses the matrix products' kernel (see ``matmul.gemm``): ``"auto"`` (the
default: Numba's loops for one or two rows, columns or depth, numpy's BLAS otherwise, as the
benchmarks measured), ``"numba"`` (the tiled Numba kernel everywhere) or ``"blas"``::

    tinygrad_edu.get_backend().matmul_route = "numba"

``threads`` sets how many threads the products use (process-wide, like the BLAS's pool):
``"auto"`` (the default; ``TINYGRAD_EDU_THREADS`` sets it too) times the products on one
thread and on all and keeps the faster, which keeps a step close to its quiet speed next to a
busy process; for BLAS only while the BLAS gives the same bits on both (it is probed once per
product shape, on random numbers), else BLAS keeps its own count and runs stay bitwise
reproducible. ``"adaptive"`` times BLAS without that check (robust, but where OpenBLAS
rounds differently on one thread and on two, runs then differ in the last bits); a number
fixes the count (see ``threads.py``)::

    tinygrad_edu.get_backend().threads = "adaptive"

The tiled kernel runs on Numba's threads for large products. Do not mix it with
numpy's BLAS in one program: after each BLAS call an OpenBLAS thread busy-waits for ~0.1 s,
and Numba's threads then fight it for the cores, several times slower (README's "Numba
backend" section has the figures). The default route runs only single-threaded Numba code
next to BLAS, so it is not affected.
"""

import numpy as np

from ... import activations as sm
from ...errors import ArgumentError
from ...backends.reference import NumpyBackend
from . import activations, fused, updates
from .matmul import ROUTES, matmul
from .threads import CHOOSER, parse_threads

__all__ = ["NumbaBackend"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# numpy 2 evaluates exp and tanh with SIMD code; Numba without Intel's SVML calls the scalar
# libm, so numpy's separate passes stay faster for these (benchmarks/run.py measures both).
_NUMPY_FORWARD = frozenset({sm.SIGMOID, sm.TANH, sm.SILU})
_NUMPY_BACKWARD = frozenset({sm.SILU})


def _compiled(dtype, *arrays):
    """True when the kernels handle these arrays: all of ``dtype``, float32 or float64."""
    if dtype not in _FLOATS:
        return False
    for a in arrays:
        if a is not None and a.dtype != dtype:
            return False
    return True


class NumbaBackend(NumpyBackend):
    """``NumpyBackend`` with matmul, activations and the fused layer compiled by Numba."""

    name = "numba"

    def __init__(self, matmul_route="auto"):
        self.matmul_route = matmul_route

    @property
    def matmul_route(self):
        """Which kernel runs matrix products: ``"auto"``, ``"numba"`` or ``"blas"``."""
        return self._route

    @matmul_route.setter
    def matmul_route(self, route):
        if route not in ROUTES:
            raise ArgumentError(f"NumbaBackend.matmul_route must be one of "
                                f"{', '.join(map(repr, ROUTES))}, got {route!r}")
        self._route = route

    @property
    def threads(self):
        """Threads per matrix product (process-wide): ``"auto"`` (chosen by timing where that
        keeps results bitwise the same), ``"adaptive"`` (chosen by timing) or a fixed count."""
        return CHOOSER.limit

    @threads.setter
    def threads(self, value):
        CHOOSER.limit = parse_threads(value, "NumbaBackend.threads")

    def matmul(self, a, b):
        if not _compiled(a.dtype, b):
            return super().matmul(a, b)
        return matmul(a, b, self._route)

    def activation(self, code, x, slope):
        if code == sm.IDENTITY or code in _NUMPY_FORWARD or not _compiled(x.dtype):
            return super().activation(code, x, slope)
        return activations.activation_forward(code, x, slope)

    def activation_backward(self, code, x, y, grad, slope):
        if code == sm.IDENTITY or code in _NUMPY_BACKWARD or not _compiled(x.dtype, y, grad):
            return super().activation_backward(code, x, y, grad, slope)
        return activations.activation_backward(code, x, y, grad, slope)

    def sgd_update(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay):
        if (momentum or weight_decay or param.size >= updates.SMALL_PLAIN_SGD) \
                and updates.handles(param, grad, buf):
            return updates.sgd_update(param, grad, buf, lr, momentum, dampening, nesterov,
                                      weight_decay)
        # Named, not super(): plain SGD on a small parameter is this call, every step.
        return NumpyBackend.sgd_update(self, param, grad, buf, lr, momentum, dampening,
                                       nesterov, weight_decay)

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps,
                    weight_decay, decoupled):
        update = updates.adam_update if updates.handles(param, grad, exp_avg, exp_avg_sq) \
            else super().adam_update
        update(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
               decoupled)

    def linear_act_forward(self, x, w, b, code, slope):
        if not _compiled(x.dtype, w, b):
            return super().linear_act_forward(x, w, b, code, slope)
        return fused.linear_act_forward(x, w, b, code, slope, self._route)

    def linear_act_backward(self, x, w, z, y, grad, code, slope, needs_b, needs_x=True):
        if not _compiled(x.dtype, w, z, y, grad):
            return super().linear_act_backward(x, w, z, y, grad, code, slope, needs_b, needs_x)
        return fused.linear_act_backward(x, w, z, y, grad, code, slope, needs_b, needs_x,
                                         self._route)
