"""Activation kernels compiled from ``tinygrad_edu.activations``, the activation registry.

``activate``, ``derivative`` and ``gradient`` below are the registry's own scalar Python
functions compiled with ``njit``; the loops apply them to every element of an array in one
pass.

Each activation's loops compile on first use of that activation, and only its formula. The
scalar functions are inlined into the loops at the level of Numba's IR (``inline="always"``),
where a constant ``code`` lets Numba's dead-branch pruning drop the registry's other formulas
before they are typed; with the code constant LLVM also vectorizes the loop (a run-time
switch inside the loop keeps ReLU several times slower). Python cannot hand Numba a constant,
so ``per_code(code)`` builds, once per code, loops whose code is a closure constant: the first
ReLU layer compiles ReLU's loops, not all eight activations'.

``bias_activation`` serves code that knows its activation only at run time (the fused MLP
reads its codes from an array, the tiled matmul takes it as an argument): one branch per
activation, each with its constant-code loop, so its first call compiles all of them.
"""

import functools
import types as pytypes
from types import SimpleNamespace

import numpy as np
from numba import literal_unroll, njit

from . import cache_stamp  # noqa: F401 - first: an edited kernel source recompiles all
from . import compile_time  # noqa: F401 - starts the compile clock before any kernel compiles
from ... import activations as sm
from .intrinsics import runtime_int

__all__ = ["activate", "derivative", "gradient", "activation_forward", "activation_backward",
           "bias_act", "bias_activation", "per_code"]

_CODES = sm.CODES
_IDENTITY = sm.IDENTITY   # module globals: Numba's branch pruning reads their values


def _with_compiled(fn, **names):
    """The registry function ``fn`` (its own code object, so its own formula) with the helper
    names it calls bound to their compiled versions: the registry's module binds them to plain
    Python functions, which compiled code can only call through an overload, and an overload
    is typed with all its branches rather than inlined into the IR of the caller."""
    scope = dict(fn.__globals__, **names)
    bound = pytypes.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    bound.__qualname__, bound.__module__, bound.__doc__ = fn.__qualname__, fn.__module__, fn.__doc__
    return bound


_inline = njit(cache=True, nogil=True, inline="always")
sigmoid = _inline(sm.sigmoid)
activate = _inline(_with_compiled(sm.activate, sigmoid=sigmoid))
derivative = _inline(_with_compiled(sm.derivative, sigmoid=sigmoid))
gradient = _inline(_with_compiled(sm.gradient, derivative=derivative))


@_inline
def bias_act(z, y, r0, c0, rows, cols, bias, code, slope):
    """On the block z[r0:r0+rows, c0:c0+cols]: add bias[c0:c0+cols] (if ``bias.size``), then
    write y = act(z) over the same block, one row at a time.

    Inlined into its caller, where ``code`` should be a constant (a ``per_code`` closure's).
    The rows are sliced from the whole arrays so Numba knows they are contiguous and
    vectorizes them.
    """
    for i in range(r0, r0 + rows):
        zrow = z[i, c0:c0 + cols]
        if bias.size:
            brow = bias[c0:c0 + cols]
            for j in range(cols):
                zrow[j] += brow[j]
        if code != _IDENTITY:
            yrow = y[i, c0:c0 + cols]
            for j in range(cols):
                yrow[j] = activate(code, zrow[j], slope)


@njit(cache=True, nogil=True)
def bias_activation(z, y, r0, c0, rows, cols, bias, code, slope):
    """``bias_act`` for a ``code`` known only at run time: one branch per activation, each
    with its constant-code loop (so this compiles every activation's loop)."""
    for c in literal_unroll(_CODES):
        if code == c:
            bias_act(z, y, r0, c0, rows, cols, bias, c, slope)


@_inline
def dz_db(z, y, grad, code, slope, dz, db):
    """dz = grad * act'(z, y) (the registry's ``gradient``); db += column sums of dz (db is
    float64: no float32 drift). Inlined: ``code`` should be a constant."""
    for i in range(z.shape[0]):
        zrow, yrow, grow, dzrow = z[i], y[i], grad[i], dz[i]
        for j in range(z.shape[1]):
            d = gradient(code, zrow[j], yrow[j], grow[j], slope)
            dzrow[j] = d
            db[j] += d


@functools.cache
def per_code(code):
    """The compiled loops for one activation ``code``, built (and compiled) on first use.

    Numba caches a closure on disk under the values of its free variables. Here the only one
    is the int ``code``: a closure over another compiled function would get a new cache key in
    every process, so these call module-level kernels by their global names.
    """
    code = int(code)

    @njit(cache=True, nogil=True)
    def forward(x, out, slope):
        for i in range(x.size):
            out[i] = activate(code, x[i], slope)

    @njit(cache=True, nogil=True)
    def backward(x, y, grad, out, slope):
        for i in range(x.size):
            out[i] = gradient(code, x[i], y[i], grad[i], slope)

    @njit(cache=True, nogil=True)
    def epilogue(z, y, bias, slope):
        """z += bias; y = act(z), on whole (m, n) arrays (after a BLAS product)."""
        bias_act(z, y, runtime_int(0), runtime_int(0), z.shape[0], z.shape[1], bias, code,
                 slope)

    @njit(cache=True, nogil=True)
    def gradients(z, y, grad, slope, dz, db):
        """dz = grad * act'(z); db += column sums of dz (see ``dz_db``)."""
        dz_db(z, y, grad, code, slope, dz, db)

    return SimpleNamespace(forward=forward, backward=backward, epilogue=epilogue,
                           gradients=gradients)


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def activation_forward(code, x, slope):
    """activation ``code`` applied to every element of ``x`` (a new array of x's dtype)."""
    out = np.empty(x.shape, x.dtype)
    per_code(code).forward(_flat(x), out.reshape(-1), x.dtype.type(slope))
    return out


def activation_backward(code, x, y, grad, slope):
    """grad * activation'(x), given input ``x`` and output ``y`` (all one shape and dtype)."""
    out = np.empty(grad.shape, grad.dtype)
    per_code(code).backward(_flat(x), _flat(y), _flat(grad), out.reshape(-1),
                            x.dtype.type(slope))
    return out
