"""The strict backend: the numpy reference behind arrays that refuse to be computed with.

A device backend's arrays (a GPU's, say) have no numpy operators, no ``.astype``, no
``np.sqrt``: only the backend can compute with them. ``StrictBackend`` gives the CPU the same
rule. Its arrays are ``StrictArray`` boxes that answer ``shape``, ``dtype``, ``ndim`` and
``size`` and allow basic indexing (ints, slices, ``...``, None), and nothing else: arithmetic,
comparisons, truth values, iteration, numpy functions and array methods all raise
``StrictArrayError``, naming the file and line that touched the array. The whole test suite runs
on it (``TINYGRAD_EDU_BACKEND=strict``), which proves that ops, nn, the optimizers, the losses,
gradcheck, diagnostics and the drawings reach tensor data only through the backend.

Every primitive is the reference's, run on the unboxed arrays, with the results boxed again;
``to_numpy`` is the one way out.
"""

import copy
import numbers
import os
import sys

import numpy as np

from ..errors import TinygradEduError
from .reference import NumpyBackend

__all__ = ["StrictBackend", "StrictArray", "StrictArrayError"]


class StrictArrayError(TinygradEduError, TypeError):
    """Code outside the backend computed with a tensor's array (a leak past the backend)."""


# Frames that only pass an array along on its way to the box: this module, numpy's Python
# wrappers and the copy module. The first frame past them is the line that leaked.
_SKIPPED = (os.path.dirname(os.path.abspath(__file__)) + os.sep,
            os.path.dirname(np.__file__) + os.sep, copy.__file__)


def _leak(what):
    """A StrictArrayError naming ``what`` was attempted and the first line outside this module
    and numpy (numpy's Python wrappers call back into the array) that attempted it."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED):
        frame = frame.f_back
    where = (f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
             if frame is not None else "an unknown place")
    return StrictArrayError(f"strict backend: {what} on a tensor's array at {where}; only the "
                            "backend may compute with tensor data (call a backend method, or "
                            "Tensor.numpy() where the numbers are wanted on the host)")


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, numbers.Integral) and not isinstance(p, bool)) for p in parts)


class StrictArray:
    """A backend array with no operations: ``shape``, ``dtype``, ``ndim``, ``size`` and basic
    indexing only (see the module docstring)."""

    __slots__ = ("_array",)

    def __init__(self, array):
        self._array = array

    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)

    def __getitem__(self, index):
        if not _is_basic(index):
            raise _leak(f"advanced indexing [{index!r}]")
        return StrictArray(self._array[index])

    def __setitem__(self, index, value):
        if not _is_basic(index):
            raise _leak(f"advanced index assignment [{index!r}]")
        if isinstance(value, StrictArray):
            value = value._array
        elif not isinstance(value, (numbers.Number, np.generic)):
            raise _leak(f"assigning a {type(value).__name__} into it")
        self._array[index] = value

    def __repr__(self):
        return f"StrictArray(shape={self.shape}, dtype={self.dtype})"

    def __getattr__(self, name):
        # Only reached for names the box does not have: array methods such as astype or sum.
        # Protocol probes (numpy asks for __array_interface__, say) get the usual answer.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise _leak(f".{name}")

    # numpy's protocols: refusing them keeps np.asarray, ufuncs and np.* functions out.
    def __array__(self, *args, **kwargs):
        raise _leak("conversion to a numpy array")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _leak(f"numpy ufunc {ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        raise _leak(f"numpy function {func.__name__}")

    def __bool__(self):
        raise _leak("a truth value")

    def __len__(self):
        raise _leak("len()")

    def __iter__(self):
        raise _leak("iteration")

    def __float__(self):
        raise _leak("float()")

    def __int__(self):
        raise _leak("int()")

    def __index__(self):
        raise _leak("use as an index")

    def __copy__(self):
        raise _leak("copy.copy")

    def __deepcopy__(self, memo):
        raise _leak("copy.deepcopy")

    def __reduce_ex__(self, protocol):
        raise _leak("pickling")

    __hash__ = object.__hash__


def _refuse(symbol):
    def method(self, *args):
        raise _leak(f"operator {symbol}")
    method.__name__ = f"refuse {symbol}"
    return method


for _name, _symbol in [
        ("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"),
        ("mod", "%"), ("pow", "**"), ("matmul", "@"), ("and", "&"), ("or", "|"), ("xor", "^"),
        ("lshift", "<<"), ("rshift", ">>"), ("divmod", "divmod")]:
    for _prefix in ("", "r", "i"):
        if not (_prefix == "i" and _name == "divmod"):
            setattr(StrictArray, f"__{_prefix}{_name}__", _refuse(_symbol))
for _name, _symbol in [("neg", "unary -"), ("pos", "unary +"), ("abs", "abs()"),
                       ("invert", "~"), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="),
                       ("round", "round()")]:
    setattr(StrictArray, f"__{_name}__", _refuse(_symbol))
# == and != would otherwise compare identities silently.
StrictArray.__eq__ = _refuse("==")
StrictArray.__ne__ = _refuse("!=")


def _unbox(value):
    if type(value) is StrictArray:
        return value._array
    if isinstance(value, tuple):
        return tuple(_unbox(v) for v in value)
    if isinstance(value, list):
        return [_unbox(v) for v in value]
    return value


def _box(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_box(v) for v in value)
    return value


class StrictBackend:
    """The reference primitives on ``StrictArray`` boxes (device ``"cpu"``).

    Each method of ``NumpyBackend`` unboxes its arguments (also inside tuples and lists, such
    as an index or the arrays to concatenate), runs the reference and boxes every array it
    returns; ``asarray`` boxes host data and ``to_numpy`` unboxes.
    """

    name = "strict"
    device = "cpu"

    def __init__(self):
        self._reference = NumpyBackend()

    def asarray(self, data, dtype):
        if isinstance(data, StrictArray):
            raise _leak("asarray of an array that is already on the device")
        return StrictArray(self._reference.asarray(data, dtype))

    def to_numpy(self, x):
        # A plain array here belongs to a tensor made before set_backend("strict").
        return x._array if type(x) is StrictArray else x


def _delegate(name):
    def method(self, *args, **kwargs):
        result = getattr(self._reference, name)(*_unbox(args),
                                                **{k: _unbox(v) for k, v in kwargs.items()})
        return _box(result)
    method.__name__ = name
    method.__doc__ = getattr(NumpyBackend, name).__doc__
    return method


for _name in dir(NumpyBackend):
    if not _name.startswith("_") and callable(getattr(NumpyBackend, _name)) \
            and _name not in StrictBackend.__dict__:
        setattr(StrictBackend, _name, _delegate(_name))
