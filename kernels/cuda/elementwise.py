"""Elementwise kernels: one thread per output element, every operand a strided view.

Each kernel receives its output and operands as ``(buffer, offset, strides)`` and a common
``shape`` (operands already broadcast to it, their repeated dimensions with stride 0), merged by
``layout.coalesce`` so contiguous data costs no index arithmetic. Writing through the output's
strides lets the same kernels work in place (``add_``, ``assign_``, a slice of a bigger array).

The op inside (add, exp, a comparison...) is picked by an integer code at run time: one uniform
branch per launch, and one compiled kernel per dtype instead of one per op and dtype.
"""

import numpy as np
from numba import from_dtype, types

from . import devicefns as fn
from .catalog import kernel
from .devicefns import offset_of
from .layout import MAX_DIMS
from .runtime import cuda

__all__ = ["FLOATS", "INTS", "ALL", "view_types"]

FLOATS = ("float32", "float64")
INTS = ("int32", "int64")
ALL = ("bool",) + INTS + FLOATS

I64 = types.int64
DIMS = types.UniTuple(types.int64, MAX_DIMS)


def view_types(dtype):
    """Argument types of one strided operand: ``(buffer, offset, strides)``."""
    return (from_dtype(np.dtype(dtype))[::1], I64, DIMS)


SHAPE = (DIMS, I64, I64)   # shape, ndim, number of elements


@kernel("fill", ALL)
def _fill(dtype):
    def fill(out, o_off, o_str, shape, ndim, n, value):
        i = cuda.grid(1)
        if i < n:
            out[offset_of(i, shape, ndim, o_str, o_off)] = value
    return fill, view_types(dtype) + SHAPE + (from_dtype(dtype),)


@kernel("copy", [(a, b) for a in ALL for b in ALL])
def _copy(key):
    source, target = key
    def copy(out, o_off, o_str, a, a_off, a_str, shape, ndim, n):
        # Assignment converts as numpy's astype does (truncation to ints, nonzero to bool).
        i = cuda.grid(1)
        if i < n:
            out[offset_of(i, shape, ndim, o_str, o_off)] = a[offset_of(i, shape, ndim, a_str,
                                                                       a_off)]
    return copy, view_types(target) + view_types(source) + SHAPE


@kernel("unary", INTS + FLOATS)
def _unary(dtype):
    op_fn = fn.typed_device(fn.unary_float if dtype.kind == "f" else fn.unary_int, dtype)

    def unary(op, out, o_off, o_str, a, a_off, a_str, shape, ndim, n):
        i = cuda.grid(1)
        if i < n:
            x = a[offset_of(i, shape, ndim, a_str, a_off)]
            out[offset_of(i, shape, ndim, o_str, o_off)] = op_fn(op, x)
    return unary, (I64,) + view_types(dtype) * 2 + SHAPE


_BINARY_OPS = {"f": fn.binary_float, "i": fn.binary_int, "b": fn.binary_bool}


@kernel("binary", ALL)
def _binary(dtype):
    op_fn = fn.typed_device(_BINARY_OPS[dtype.kind], dtype)

    def binary(op, out, o_off, o_str, a, a_off, a_str, b, b_off, b_str, shape, ndim, n):
        i = cuda.grid(1)
        if i < n:
            x = a[offset_of(i, shape, ndim, a_str, a_off)]
            y = b[offset_of(i, shape, ndim, b_str, b_off)]
            out[offset_of(i, shape, ndim, o_str, o_off)] = op_fn(op, x, y)
    return binary, (I64,) + view_types(dtype) * 3 + SHAPE


@kernel("compare", ALL)
def _compare(dtype):
    op_fn = fn.typed_device(fn.compare, dtype)

    def compare(op, out, o_off, o_str, a, a_off, a_str, b, b_off, b_str, shape, ndim, n):
        i = cuda.grid(1)
        if i < n:
            x = a[offset_of(i, shape, ndim, a_str, a_off)]
            y = b[offset_of(i, shape, ndim, b_str, b_off)]
            out[offset_of(i, shape, ndim, o_str, o_off)] = op_fn(op, x, y)
    return compare, (I64,) + view_types("bool") + view_types(dtype) * 2 + SHAPE


@kernel("where", ALL)
def _where(dtype):
    def where(out, o_off, o_str, c, c_off, c_str, a, a_off, a_str, b, b_off, b_str, shape, ndim,
              n):
        i = cuda.grid(1)
        if i < n:
            if c[offset_of(i, shape, ndim, c_str, c_off)]:
                value = a[offset_of(i, shape, ndim, a_str, a_off)]
            else:
                value = b[offset_of(i, shape, ndim, b_str, b_off)]
            out[offset_of(i, shape, ndim, o_str, o_off)] = value
    return where, view_types(dtype) + view_types("bool") + view_types(dtype) * 2 + SHAPE


@kernel("clip", INTS + FLOATS)
def _clip(dtype):
    clip_fn = fn.typed_device(fn.clip, dtype)

    def clip(out, o_off, o_str, a, a_off, a_str, shape, ndim, n, lo, hi, has_lo, has_hi):
        i = cuda.grid(1)
        if i < n:
            x = a[offset_of(i, shape, ndim, a_str, a_off)]
            out[offset_of(i, shape, ndim, o_str, o_off)] = clip_fn(x, lo, hi, has_lo, has_hi)
    scalar = from_dtype(dtype)
    return clip, view_types(dtype) * 2 + SHAPE + (scalar, scalar, types.boolean, types.boolean)


@kernel("isfinite", FLOATS)
def _isfinite(dtype):
    finite = fn.typed_device(fn.is_finite, dtype)

    def isfinite(out, o_off, o_str, a, a_off, a_str, shape, ndim, n):
        i = cuda.grid(1)
        if i < n:
            out[offset_of(i, shape, ndim, o_str, o_off)] = finite(
                a[offset_of(i, shape, ndim, a_str, a_off)])
    return isfinite, view_types("bool") + view_types(dtype) + SHAPE


@kernel("activation", FLOATS)
def _activation(dtype):
    activate = fn.activate(dtype)

    def activation(out, o_off, o_str, x, x_off, x_str, shape, ndim, n, code, slope):
        i = cuda.grid(1)
        if i < n:
            out[offset_of(i, shape, ndim, o_str, o_off)] = activate(
                code, x[offset_of(i, shape, ndim, x_str, x_off)], slope)
    return activation, view_types(dtype) * 2 + SHAPE + (I64, from_dtype(dtype))


@kernel("activation_backward", FLOATS)
def _activation_backward(dtype):
    derivative = fn.derivative(dtype)

    def activation_backward(out, o_off, o_str, x, x_off, x_str, y, y_off, y_str, g, g_off,
                            g_str, shape, ndim, n, code, slope):
        i = cuda.grid(1)
        if i < n:
            d = derivative(code, x[offset_of(i, shape, ndim, x_str, x_off)],
                           y[offset_of(i, shape, ndim, y_str, y_off)], slope)
            out[offset_of(i, shape, ndim, o_str, o_off)] = g[offset_of(i, shape, ndim, g_str,
                                                                       g_off)] * d
    return activation_backward, view_types(dtype) * 4 + SHAPE + (I64, from_dtype(dtype))
