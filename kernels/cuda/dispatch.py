"""The host side of a launch: new device arrays, operands broadcast and merged, elementwise
launches, and the dtype rules (numpy's, asked about dtypes only, never about data).

Scalars taking part in an op become 0-d device arrays written by the ``fill`` kernel (the value
travels as a kernel argument: no copy from the host) and are broadcast with stride 0.
"""

import numbers

import numpy as np

from ...errors import DTypeError
from . import elementwise  # noqa: F401  (registers the kernels launched here)
from .array import CudaArray
from .catalog import CATALOG
from .layout import broadcast_strides, coalesce, contiguous_strides, numel, padded
from .runtime import allocate, download, launch_1d, upload

__all__ = ["DEVICE_DTYPES", "check_dtype", "empty", "from_host", "to_host", "launch",
           "elementwise", "fill", "copy_into", "contiguous", "dense", "as_array", "weak",
           "is_scalar", "flat_args"]

DEVICE_DTYPES = tuple(np.dtype(t) for t in (np.bool_, np.int32, np.int64, np.float32,
                                            np.float64))


def check_dtype(dtype, where):
    """``dtype`` as a numpy dtype the device holds, else a DTypeError naming ``where``."""
    dtype = np.dtype(dtype)
    if dtype not in DEVICE_DTYPES:
        held = ", ".join(d.name for d in DEVICE_DTYPES)
        raise DTypeError(f"{where}: the CUDA backend holds {held}, not {dtype}; convert on the "
                         "host first (for example numpy's .astype(np.int64)) or use "
                         "device='cpu'")
    return dtype


def empty(shape, dtype):
    """A new C-contiguous device array, uninitialized."""
    shape = tuple(int(n) for n in shape)
    return CudaArray(allocate(numel(shape), dtype), shape, contiguous_strides(shape), 0, dtype)


def from_host(host):
    """A copy of the numpy array ``host`` on the device (one upload)."""
    check_dtype(host.dtype, "asarray")
    return CudaArray(upload(host), host.shape, contiguous_strides(host.shape), 0, host.dtype)


def to_host(a):
    """``a``'s values as a new numpy array (one download; non-contiguous views are made
    contiguous on the device first)."""
    a = contiguous(a)
    return download(a._storage, a._offset, a.size).reshape(a.shape)


def is_scalar(value):
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, CudaArray)


def weak(value):
    """What numpy's dtype rules see for an operand: a dtype, or (for Python numbers, which
    take the other operand's dtype) the Python type."""
    if isinstance(value, CudaArray):
        return value.dtype
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, np.generic):
        return value.dtype
    return type(value) if isinstance(value, (int, float)) else np.asarray(value).dtype


def launch(name, key, n, args):
    """Run kernel ``name`` for dtype ``key`` with one thread per element of ``n``."""
    if n:
        blocks, threads = launch_1d(n)
        CATALOG[name][key][blocks, threads](*args)


def flat_args(array, strides):
    """The ``(buffer, offset, strides)`` kernel arguments of ``array`` read with ``strides``."""
    return array._storage.data, array._offset, padded(strides)


def _shares_differently(out, operand, strides):
    return (operand._storage is out._storage
            and (operand._offset, strides) != (out._offset, out._strides))


def elementwise(name, key, out, operands, head=(), tail=()):
    """Launch elementwise kernel ``name`` over ``out`` with ``operands`` (CudaArrays)
    broadcast to its shape; ``head`` and ``tail`` are the kernel's other arguments."""
    n = out.size
    if n == 0:
        return out
    operands = list(operands)
    strides = [broadcast_strides(o.shape, o._strides, out.shape) for o in operands]
    # An operand overlapping the output at other positions would be read after being written.
    for i, operand in enumerate(operands):
        if _shares_differently(out, operand, strides[i]):
            operands[i] = contiguous(operand, force=True)
            strides[i] = broadcast_strides(operand.shape, operands[i]._strides, out.shape)
    shape, merged = coalesce(out.shape, out._strides, *strides)
    args = list(head)
    for array, s in zip([out] + operands, merged):
        args += flat_args(array, s)
    args += [padded(shape, 1), len(shape), n, *tail]
    launch(name, key, n, args)
    return out


def fill(out, value):
    """Every element of the view ``out`` set to ``value`` (converted as numpy's full does)."""
    value = np.array(value).astype(out.dtype)[()]
    return elementwise("fill", out.dtype, out, [], tail=(value,))


def copy_into(out, source):
    """``out[...] = source`` for a CudaArray ``source`` (broadcast and converted) or a number."""
    if not isinstance(source, CudaArray):
        return fill(out, source)
    return elementwise("copy", (source.dtype, out.dtype), out, [source])


def contiguous(a, force=False):
    """``a`` itself when it is C-contiguous (and not ``force``), else a contiguous copy."""
    if a.contiguous and not force:
        return a
    return copy_into(empty(a.shape, a.dtype), a)


def dense(a):
    """``a``, or a copy, C-contiguous from the start of its buffer: for kernels that index the
    buffer from 0 as a flat array."""
    return a if a.contiguous and a._offset == 0 else contiguous(a, force=True)


def as_array(value, dtype):
    """An operand as a CudaArray of ``dtype``: arrays converted on the device when needed,
    numbers written into a new 0-d array."""
    if isinstance(value, CudaArray):
        return value if value.dtype == dtype else copy_into(empty(value.shape, dtype), value)
    return fill(empty((), dtype), value)
