"""The CUDA backend: every primitive of the numpy reference, computed on the GPU.

``CudaBackend`` implements each public method of ``NumpyBackend`` (``tests/kernels/cuda``
checks that none is missing) on ``CudaArray`` boxes, with numpy's results within rounding:
numpy's broadcasting and dtype rules (numpy itself is asked which dtypes an op takes and gives,
on dtypes, never on data), its errors for bad shapes, axes and indices. ``asarray`` and
``to_numpy`` are the only copies between host and device (``runtime.TRANSFERS`` counts them);
a few primitives read a number back because numpy would raise on it or the result's size
depends on it (index bounds, the count of a boolean mask).

Select it by putting tensors on the GPU: ``Tensor(..., device="cuda")``, ``t.cuda()``,
``model.to("cuda")``. ``matmul_tile`` chooses the product kernel's tile: ``"auto"`` (large
tiles when there are enough of them to fill the GPU), ``"large"`` or ``"small"``.
"""

import math
import numbers

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ... import activations as registry
from ...errors import ArgumentError, ArgumentTypeError, DTypeError, IndexingError
from . import devicefns as fn
from . import indexing, products, views
from . import updates  # noqa: F401  (registers the optimizers' kernels)
from .array import CudaArray
from .dispatch import (as_array, check_dtype, copy_into, elementwise, empty, fill, from_host,
                       to_host, weak)
from .layout import basic_view, contiguous_strides, is_basic_index
from .reductions import cumsum, reduce
from .runtime import POOL, TRANSFERS

__all__ = ["CudaBackend"]

_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
           "pow": np.power, "floor_divide": np.floor_divide, "mod": np.remainder}
_UNARY = {"neg": np.negative, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.absolute,
          "sign": np.sign, "sin": np.sin, "cos": np.cos, "floor": np.floor}
# Integers are their own floor and rounding; booleans their own |x| too.
_INTEGRAL_IDENTITIES = {"i": frozenset({"floor", "round"}), "u": frozenset({"floor", "round"}),
                        "b": frozenset({"abs", "floor", "round"}), "f": frozenset()}
_FLOAT64 = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)


def _operand(value, where):
    if isinstance(value, np.ndarray):
        raise ArgumentTypeError(f"cuda backend {where}: got a host numpy array; move it to the "
                                "device with asarray first")
    return weak(value)


def _shape(value):
    return value.shape if isinstance(value, CudaArray) else ()


CudaArray._assign = staticmethod(copy_into)


class CudaBackend:
    """The reference primitives on the GPU (device ``"cuda"``); see the module docstring."""

    name = "cuda"
    device = "cuda"

    def __init__(self, matmul_tile="auto"):
        self.matmul_tile = matmul_tile

    @property
    def matmul_tile(self):
        """The product kernel's tile: ``"auto"``, ``"large"`` (128 x 128) or ``"small"``."""
        return self._tile

    @matmul_tile.setter
    def matmul_tile(self, tile):
        if tile not in products.TILE_CHOICES:
            raise ArgumentError(f"CudaBackend.matmul_tile must be one of "
                                f"{', '.join(map(repr, products.TILE_CHOICES))}, got {tile!r}")
        self._tile = tile

    transfers = TRANSFERS   # copies between host and device: .uploads, .downloads, .reset()

    @staticmethod
    def empty_cache():
        """Give the cached free device buffers back to the driver."""
        POOL.empty()

    # ---- data movement ----
    def asarray(self, data, dtype):
        if isinstance(data, CudaArray):
            dtype = data.dtype if dtype is None else dtype
            return copy_into(empty(data.shape, check_dtype(dtype, "asarray")), data)
        host = np.array(data, dtype=dtype)
        if host.size == 1:
            # A single number travels as the fill kernel's argument: no copy, no wait.
            return fill(empty(host.shape, check_dtype(host.dtype, "asarray")), host.item())
        return from_host(host)

    def to_numpy(self, x):
        return to_host(x)

    def full(self, shape, value, dtype):
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        return fill(empty(shape, check_dtype(dtype, "full")), value)

    def cast(self, a, dtype):
        """``a`` converted to ``dtype`` (a new array)."""
        return copy_into(empty(a.shape, check_dtype(dtype, "cast")), a)

    def copy(self, a):
        """A new array with ``a``'s values that shares no memory with it."""
        return copy_into(empty(a.shape, a.dtype), a)

    def assign_(self, dst, src):
        """dst[...] = src, where src is an array of this backend or a number."""
        return copy_into(dst, src)

    def setitem_(self, a, index, value):
        """a[index] = value, for a basic index (ints, slices)."""
        if not is_basic_index(index):
            raise IndexingError(f"setitem_: the index must be basic (ints, slices, None, ...), "
                                f"got {index!r}")
        copy_into(a.view(*basic_view(a.shape, a._strides, a._offset, index)), value)
        return a

    def add_(self, dst, src):
        """dst += src (gradient accumulation)."""
        return self._in_place("add", dst, src)

    def mul_(self, dst, factor):
        """dst *= factor, a number or a 0-d array of dst's dtype (gradient clipping)."""
        if not isinstance(factor, CudaArray):
            factor = dst.dtype.type(factor)
        return self._in_place("mul", dst, factor)

    def _in_place(self, name, dst, src):
        loop = _BINARY[name].resolve_dtypes((dst.dtype, _operand(src, name), None))[2]
        if not np.can_cast(loop, dst.dtype, "same_kind"):
            raise DTypeError(f"Cannot cast ufunc {_BINARY[name].__name__!r} output from {loop!r} "
                             f"to {dst.dtype!r} with casting rule 'same_kind'")
        if loop != dst.dtype:
            return copy_into(dst, self._binary(name, dst, src))
        elementwise("binary", loop, dst, [dst, as_array(src, loop)], head=(fn.BINARY[name],))
        return dst

    # ---- elementwise ----
    def _binary(self, name, a, b):
        loop_a, loop_b, out = _BINARY[name].resolve_dtypes(
            (_operand(a, name), _operand(b, name), None))
        check_dtype(out, name)
        if name == "pow" and loop_a.kind in "iu" and not isinstance(b, CudaArray) and b < 0:
            raise ValueError("Integers to negative integer powers are not allowed.")
        result = empty(np.broadcast_shapes(_shape(a), _shape(b)), out)
        return elementwise("binary", loop_a, result, [as_array(a, loop_a), as_array(b, loop_b)],
                           head=(fn.BINARY[name],))

    def add(self, a, b):
        return self._binary("add", a, b)

    def sub(self, a, b):
        return self._binary("sub", a, b)

    def mul(self, a, b):
        return self._binary("mul", a, b)

    def div(self, a, b):
        return self._binary("div", a, b)

    def pow(self, a, b):
        return self._binary("pow", a, b)

    def floor_divide(self, a, b):
        """floor(a / b), exact for integers (Python's //); no zero divisors (checked before)."""
        return self._binary("floor_divide", a, b)

    def mod(self, a, b):
        """a - b * floor(a / b) with the sign of b (Python's %), exact as fmod is."""
        return self._binary("mod", a, b)

    def _unary(self, name, a, loop=None):
        if loop is None:
            loop, out = _UNARY[name].resolve_dtypes((_operand(a, name), None))
        else:
            out = loop
        check_dtype(out, name)
        if name in _INTEGRAL_IDENTITIES[loop.kind]:
            return self.copy(a)
        return elementwise("unary", loop, empty(a.shape, out), [as_array(a, loop)],
                           head=(fn.UNARY[name],))

    def neg(self, a):
        return self._unary("neg", a)

    def reciprocal(self, a):
        loop = np.true_divide.resolve_dtypes((int, _operand(a, "reciprocal"), None))[2]
        return self._unary("reciprocal", a, loop)

    def exp(self, a):
        return self._unary("exp", a)

    def log(self, a):
        return self._unary("log", a)

    def sqrt(self, a):
        return self._unary("sqrt", a)

    def abs(self, a):
        return self._unary("abs", a)

    def sign(self, a):
        return self._unary("sign", a)

    def sin(self, a):
        return self._unary("sin", a)

    def cos(self, a):
        return self._unary("cos", a)

    def floor(self, a):
        return self._unary("floor", a)

    def round(self, a):
        """Nearest integer, halves to even (as numpy and PyTorch)."""
        # np.round keeps the dtype (it is not a ufunc), except that booleans become float16.
        return self._unary("round", a, np.dtype(np.float16) if a.dtype == _BOOL else a.dtype)

    def clip(self, a, lo, hi):
        dtype = np.clip(np.zeros((), a.dtype), lo, hi).dtype   # numpy's dtype rule
        if dtype == _BOOL:
            raise DTypeError("clip: the CUDA backend does not clip booleans")
        a = as_array(a, check_dtype(dtype, "clip"))
        bounds = [dtype.type(0 if v is None else v) for v in (lo, hi)]
        return elementwise("clip", dtype, empty(a.shape, dtype), [a],
                           tail=(*bounds, lo is not None, hi is not None))

    def where(self, cond, a, b):
        dtype = check_dtype(np.result_type(*(v.dtype if isinstance(v, CudaArray) else v
                                             for v in (a, b))), "where")
        shape = np.broadcast_shapes(_shape(cond), _shape(a), _shape(b))
        return elementwise("where", dtype, empty(shape, dtype),
                           [as_array(cond, _BOOL), as_array(a, dtype), as_array(b, dtype)])

    def compare(self, op, a, b):
        if op not in fn.COMPARE:
            raise ArgumentError(f"compare: the CUDA backend compares with "
                                f"{', '.join(fn.COMPARE)}, not {op!r}")
        loop_a, loop_b, _ = getattr(np, op).resolve_dtypes((_operand(a, op), _operand(b, op),
                                                            None))
        check_dtype(loop_a, op)
        result = empty(np.broadcast_shapes(_shape(a), _shape(b)), _BOOL)
        return elementwise("compare", loop_a, result, [as_array(a, loop_a), as_array(b, loop_b)],
                           head=(fn.COMPARE[op],))

    def isfinite(self, a):
        out = empty(a.shape, _BOOL)
        if a.dtype.kind != "f":
            return fill(out, True)
        return elementwise("isfinite", a.dtype, out, [a])

    # ---- linear algebra, reductions, movement ----
    def matmul(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: Input operand {0 if a.ndim == 0 else 1} does not have "
                             "enough dimensions (has 0, gufunc core with signature "
                             "(n?,k),(k,m?)->(n?,m?) requires 1)")
        k_a, k_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                             f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {k_b} is "
                             f"different from {k_a})")
        out = check_dtype(np.matmul.resolve_dtypes((a.dtype, b.dtype, None))[2], "matmul")
        loop = out if out.kind == "f" else np.dtype(np.int64)
        z, _ = products.matmul(as_array(a, loop), as_array(b, loop), tile=self._tile)
        return z if loop == out else self.cast(z, out)

    def _reduce(self, a, axis, keepdims, op, dtype=None):
        axes = None if axis is None else normalize_axis_tuple(axis, a.ndim)
        a = a if dtype is None else as_array(a, dtype)
        return reduce(a, axes, keepdims, op)

    def sum(self, a, axis, keepdims):
        return self._reduce(a, axis, keepdims, fn.SUM, _accumulated(a.dtype))

    def prod(self, a, axis, keepdims):
        return self._reduce(a, axis, keepdims, fn.PROD, _accumulated(a.dtype))

    def cumsum(self, a, axis):
        """Running sums along ``axis`` (an int); booleans and small ints sum as int64."""
        if axis is None:
            a, axis = views.reshape(a, (-1,)), 0
        return cumsum(as_array(a, _accumulated(a.dtype)), normalize_axis_tuple(axis, a.ndim)[0])

    def max(self, a, axis, keepdims):
        return self._reduce(a, axis, keepdims, fn.MAX)

    def min(self, a, axis, keepdims):
        return self._reduce(a, axis, keepdims, fn.MIN)

    def abs_power_sum(self, a, p):
        """sum(|a| ** p) over all elements, as a 0-d float64 array (for norms)."""
        return reduce(as_array(a, _FLOAT64), None, False, fn.SUM, fn.ABS_POW, float(p))

    def abs_max(self, a):
        """max(|a|) over all elements as a 0-d array; 0 for an empty array."""
        if a.size == 0:
            return fill(empty((), a.dtype), 0)
        return reduce(a, None, False, fn.MAX, fn.ABS)

    def reshape(self, a, shape):
        return views.reshape(a, shape)

    def transpose(self, a, axes):
        return views.transpose(a, axes)

    def broadcast_to(self, a, shape):
        return views.broadcast_to(a, shape)

    def getitem(self, a, index):
        return indexing.getitem(a, index)

    def scatter_add(self, shape, index, values, dtype):
        return indexing.scatter_add(tuple(shape), index, values, check_dtype(dtype,
                                                                             "scatter_add"))

    def concatenate(self, arrays, axis):
        return views.concatenate(arrays, axis)

    def gather(self, a, index, axis):
        """out[..., i, ...] = a[..., index[..., i, ...], ...] along ``axis`` (index: integers,
        the shape of a except along axis)."""
        return indexing.gather(a, index, axis)

    def scatter_add_along(self, shape, index, values, axis):
        """The adjoint of ``gather``: zeros of ``shape`` with ``values`` added at ``index``
        along ``axis`` (repeated indices accumulate)."""
        return indexing.scatter_add_along(tuple(shape), index, values, axis)

    # ---- optimizer updates, in place on parameter and state (PyTorch's rules) ----
    def sgd_update(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay):
        """One SGD step on ``param``; returns the momentum buffer (``buf``, updated in place,
        or a new one when ``buf`` is None on the first step; None without momentum)."""
        t = param.dtype.type
        first = bool(momentum) and buf is None
        if first:
            buf = empty(param.shape, param.dtype)
        elementwise("sgd_update", param.dtype, param,
                    [as_array(grad, param.dtype), buf if momentum else param],
                    tail=(t(lr), t(weight_decay), t(momentum), t(1 - dampening), bool(nesterov),
                          first))
        return buf if momentum else None

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps,
                    weight_decay, decoupled):
        """One Adam (``decoupled``: AdamW) step on ``param`` at step count ``step`` (from 1),
        updating the moments ``exp_avg`` and ``exp_avg_sq`` in place."""
        t = param.dtype.type
        step_size = lr / (1 - beta1 ** step)
        correction2 = math.sqrt(1 - beta2 ** step)
        elementwise("adam_update", param.dtype, param,
                    [as_array(grad, param.dtype), exp_avg, exp_avg_sq],
                    tail=(bool(decoupled), t(1 - lr * weight_decay), t(weight_decay), t(beta1),
                          t(1 - beta1), t(beta2), t(1 - beta2), t(step_size), t(correction2),
                          t(eps)))

    # ---- activations (the registry's scalar forms, compiled as device functions) ----
    def activation(self, code, x, slope):
        if code == registry.IDENTITY:
            return x
        _check_float("activation", x)
        return elementwise("activation", x.dtype, empty(x.shape, x.dtype), [x],
                           tail=(code, x.dtype.type(slope)))

    def activation_backward(self, code, x, y, grad, slope):
        """grad * d activation / dx, given input ``x`` and output ``y``."""
        if code == registry.IDENTITY:
            return grad
        _check_float("activation_backward", x, y, grad)
        return elementwise("activation_backward", x.dtype, empty(grad.shape, x.dtype),
                           [x, y, grad], tail=(code, x.dtype.type(slope)))

    # ---- the fused layer: activation(x @ W + b) ----
    def linear_act_forward(self, x, w, b, code, slope):
        """Return ``(y, z)``: the output and the pre-activation ``z = x @ w + b``."""
        _check_float("linear_act_forward", x, w, b)
        x2 = products.as_matrix(x, views.reshape)
        z, y = products.matmul(x2, w, b, code, slope, self._tile)
        shape = x.shape[:-1] + (w.shape[1],)
        z, y = (t.view(shape, contiguous_strides(shape)) for t in (z, y))
        return y, z

    def linear_act_backward(self, x, w, z, y, grad, code, slope, needs_b, needs_x=True):
        """Return ``(dx, dw, db)`` for ``y = activation(x @ w + b)``; db is None without b,
        dx is None when not ``needs_x`` (a first layer's input: a third of the work)."""
        _check_float("linear_act_backward", x, w, z, y, grad)
        return products.linear_act_backward(x, w, z, y, grad, code, slope, needs_b, needs_x,
                                            views.reshape, self._tile)


def _accumulated(dtype):
    """numpy's dtype for sums and products: booleans and small integers as int64."""
    return dtype if dtype.kind == "f" or dtype == np.int64 else np.dtype(np.int64)


def _check_float(where, first, *others):
    dtype = first.dtype
    if dtype.kind != "f" or any(o is not None and o.dtype != dtype for o in others):
        raise DTypeError(f"{where}: the CUDA kernels take arrays of one float dtype, got "
                         f"{[str(o.dtype) for o in (first, *others) if o is not None]}")
