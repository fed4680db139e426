"""``CudaArray``: a tensor's data on the GPU, in a box with no operations.

A real device array cannot be added, compared or handed to numpy; numba's simulator arrays
can (they forward to numpy), which would let host code compute on "device" data in CI without
anyone noticing. So the CUDA backend keeps its arrays in this box, as the strict backend does
on the CPU: it answers ``shape``, ``dtype``, ``ndim`` and ``size`` and allows basic indexing
(ints, slices, ``...``, None, reading a view or assigning a number or another CudaArray), and
refuses everything else with ``DeviceArrayError`` naming the line that tried. Only the backend
computes with it; ``Tensor.numpy()`` brings the numbers to the host.

A CudaArray is a view (``layout``) of a flat buffer (``runtime.Storage``): transposes,
broadcasts and slices share the buffer.
"""

import os
import sys

import numpy as np

from ...errors import TinygradEduError
from .layout import basic_view, is_basic_index, is_contiguous

__all__ = ["CudaArray", "DeviceArrayError"]


class DeviceArrayError(TinygradEduError, TypeError):
    """Code outside the CUDA backend tried to compute with a tensor's device array."""


# Frames that only pass an array along: this package and numpy's Python wrappers.
_SKIPPED = (os.path.dirname(os.path.abspath(__file__)) + os.sep,
            os.path.dirname(np.__file__) + os.sep)


def _refusal(what):
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED):
        frame = frame.f_back
    where = (f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
             if frame is not None else "an unknown place")
    return DeviceArrayError(f"cuda backend: {what} on a tensor's device array at {where}; only "
                            "the backend computes with GPU data (call a backend method, or "
                            "Tensor.numpy() for the numbers on the host)")


class CudaArray:
    """A view of a device buffer: ``shape``, ``dtype``, ``ndim``, ``size`` and basic indexing
    only (see the module docstring)."""

    __slots__ = ("_storage", "_shape", "_strides", "_offset", "_dtype")

    # The backend installs the kernel that writes into a view (``__setitem__``): it is built
    # from the kernel modules, which themselves make CudaArrays.
    _assign = None

    def __init__(self, storage, shape, strides, offset, dtype):
        self._storage = storage
        self._shape = tuple(shape)
        self._strides = tuple(strides)
        self._offset = offset
        self._dtype = np.dtype(dtype)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ndim = property(lambda self: len(self._shape))

    @property
    def size(self):
        n = 1
        for s in self._shape:
            n *= s
        return n

    @property
    def contiguous(self):
        """True when the view is the elements ``offset .. offset + size`` in C order."""
        return is_contiguous(self._shape, self._strides)

    def view(self, shape, strides, offset=None):
        """Another view of the same buffer."""
        return CudaArray(self._storage, shape, strides,
                         self._offset if offset is None else offset, self._dtype)

    def __getitem__(self, index):
        if not is_basic_index(index):
            raise _refusal(f"advanced indexing [{index!r}]")
        return self.view(*basic_view(self._shape, self._strides, self._offset, index))

    def __setitem__(self, index, value):
        if not is_basic_index(index):
            raise _refusal(f"advanced index assignment [{index!r}]")
        if not isinstance(value, (CudaArray, int, float, bool, np.generic)):
            raise _refusal(f"assigning a {type(value).__name__} into it (move it to the device "
                           "first, or assign a number)")
        CudaArray._assign(self[index], value)

    def __repr__(self):
        return f"CudaArray(shape={self._shape}, dtype={self._dtype})"

    def __getattr__(self, name):
        # Reached only for names the box lacks: array methods such as astype or sum.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise _refusal(f".{name}")

    def __array__(self, *args, **kwargs):
        raise _refusal("conversion to a numpy array")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _refusal(f"numpy ufunc {ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        raise _refusal(f"numpy function {func.__name__}")

    def __bool__(self):
        raise _refusal("a truth value")

    def __len__(self):
        raise _refusal("len()")

    def __iter__(self):
        raise _refusal("iteration")

    def __float__(self):
        raise _refusal("float()")

    def __int__(self):
        raise _refusal("int()")

    def __index__(self):
        raise _refusal("use as an index")

    def __copy__(self):
        raise _refusal("copy.copy")

    def __deepcopy__(self, memo):
        raise _refusal("copy.deepcopy")

    def __reduce_ex__(self, protocol):
        raise _refusal("pickling")

    __hash__ = object.__hash__


def _refuse(symbol):
    def method(self, *args):
        raise _refusal(f"operator {symbol}")
    method.__name__ = f"refuse {symbol}"
    return method


for _name, _symbol in [
        ("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"),
        ("mod", "%"), ("pow", "**"), ("matmul", "@"), ("and", "&"), ("or", "|"), ("xor", "^"),
        ("lshift", "<<"), ("rshift", ">>"), ("divmod", "divmod")]:
    for _prefix in ("", "r", "i"):
        if not (_prefix == "i" and _name == "divmod"):
            setattr(CudaArray, f"__{_prefix}{_name}__", _refuse(_symbol))
for _name, _symbol in [("neg", "unary -"), ("pos", "unary +"), ("abs", "abs()"),
                       ("invert", "~"), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="),
                       ("round", "round()")]:
    setattr(CudaArray, f"__{_name}__", _refuse(_symbol))
# == and != would otherwise compare identities silently.
CudaArray.__eq__ = _refuse("==")
CudaArray.__ne__ = _refuse("!=")
