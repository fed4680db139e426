"""Host side of indexing: numpy's basic and advanced indexing on device arrays, their adjoint
(``np.add.at``), ``take_along_axis`` and its adjoint, and boolean masks.

A basic index (ints, slices, None, ``...``) is a view, made on the host. An advanced index
follows numpy's rules: the integer arrays (and, among them, plain ints) broadcast together to
one shape ``B``; the result has the sliced dimensions in order, with ``B``'s dimensions where the
first advanced index stood if the advanced indices are adjacent, else first. ``plan`` turns
that into numbers per output dimension (its step through the input, its step through the
stacked index arrays) that the ``take`` and ``put_add`` kernels apply. A boolean mask becomes
integer arrays through a prefix sum on the device; only its count of true elements (the
result's size) comes to the host.

Out-of-range indices raise numpy's IndexError: their minimum and maximum are reduced on the
device and read back together, one small download per call that takes index arrays.
"""

import numpy as np

from ...errors import IndexingError
from . import devicefns as fn
from . import gather_kernels  # noqa: F401  (registers the kernels launched here)
from .array import CudaArray
from .catalog import CATALOG
from .dispatch import as_array, copy_into, dense, empty, fill, from_host, to_host
from .layout import (basic_view, broadcast_strides, coalesce, contiguous_strides,
                     expand_ellipsis, is_basic_index, numel, padded)
from .reductions import inclusive_scan, reduce
from .runtime import launch_1d

__all__ = ["getitem", "scatter_add", "gather", "scatter_add_along", "nonzero"]

_INT64 = np.dtype(np.int64)


def _index_array(part):
    """An index entry that is an array, as a device array (lists and numpy arrays uploaded)."""
    if isinstance(part, CudaArray):
        return part
    array = np.asarray(part)
    if array.dtype.kind not in "iub":
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) "
                         "and integer or boolean arrays are valid indices")
    return from_host(array.astype(np.int64) if array.dtype.kind == "u" else array)


def _parts(index):
    parts = []
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, (list, np.ndarray, CudaArray)):
            part = _index_array(part)
            if part.dtype == np.bool_:
                if part.ndim == 0:
                    raise IndexingError("the CUDA backend does not index with a 0-d boolean")
                parts.extend(nonzero(part))
                continue
        elif isinstance(part, (bool, np.bool_)):
            raise IndexingError("the CUDA backend does not index with a boolean scalar")
        parts.append(part)
    return tuple(parts)


def _check_bounds(entries):
    """numpy's IndexError for the first index array holding a value outside its dimension."""
    arrays = [(array, dim, size) for array, dim, size in entries if array.size]
    if not arrays:
        return
    bounds = empty((2 * len(arrays),), _INT64)
    for i, (array, _, _) in enumerate(arrays):
        as64 = as_array(array, _INT64)
        for j, op in enumerate((fn.MIN, fn.MAX)):
            reduce(as64, None, False, op, out=bounds.view((), (), 2 * i + j))
    values = to_host(bounds)
    for i, (_, dim, size) in enumerate(arrays):
        for v in values[2 * i:2 * i + 2]:
            if not -size <= v < size:
                raise IndexError(f"index {v} is out of bounds for axis {dim} with size {size}")


class Plan:
    """How ``a[index]`` reads ``a`` for an advanced index (see the module docstring)."""

    def __init__(self, a, index):
        parts = expand_ellipsis(_parts(index), a.ndim)
        base, dim = a._offset, 0
        basic = []          # (size, input step) of each sliced or new dimension, in order
        advanced = []       # (array or None for an int, input dimension)
        positions, insert_at = [], None
        for position, part in enumerate(parts):
            if part is None:
                basic.append((1, 0))
                continue
            n, stride = a.shape[dim], a._strides[dim]
            if isinstance(part, slice):
                start, stop, step = part.indices(n)
                basic.append((len(range(start, stop, step)), stride * step))
                base += start * stride
            elif isinstance(part, CudaArray):
                if part.dtype.kind not in "iu":
                    raise IndexError("arrays used as indices must be of integer (or boolean) "
                                     "type")
                advanced.append((part, dim))
                positions.append(position)
                insert_at = len(basic) if insert_at is None else insert_at
            else:
                i = int(part)
                if not -n <= i < n:
                    raise IndexError(f"index {i} is out of bounds for axis {dim} with size {n}")
                base += (i % n) * stride
                positions.append(position)
                insert_at = len(basic) if insert_at is None else insert_at
            dim += 1
        arrays = [(array, d) for array, d in advanced]
        _check_bounds([(array, d, a.shape[d]) for array, d in arrays])
        self.index_shape = np.broadcast_shapes(*(array.shape for array, _ in arrays))
        adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
        at = insert_at if adjacent else 0
        index_steps = contiguous_strides(self.index_shape)
        dims = ([(size, step, 0) for size, step in basic[:at]]
                + [(size, 0, istep) for size, istep in zip(self.index_shape, index_steps)]
                + [(size, step, 0) for size, step in basic[at:]])
        self.shape = tuple(size for size, _, _ in dims)
        self.base = base
        self.steps = padded(step for _, step, _ in dims)
        self.index_steps = padded(istep for _, _, istep in dims)
        self.index_size = numel(self.index_shape)
        self.count = len(arrays)
        self.stacked = empty((max(self.count, 1) * self.index_size,), _INT64)
        for t, (array, _) in enumerate(arrays):
            row = self.stacked.view(self.index_shape, index_steps, t * self.index_size)
            copy_into(row, array)
        self.strides = padded(a._strides[d] for _, d in arrays)
        self.sizes = padded(a.shape[d] for _, d in arrays)

    def index_args(self):
        return (self.base, padded(self.shape, 1), len(self.shape), self.steps, self.index_steps,
                self.stacked._storage.data, self.index_size, self.strides, self.sizes,
                self.count)


def _is_advanced(index):
    return not is_basic_index(index)


def getitem(a, index):
    """``a[index]``: a view for a basic index, a new array for an advanced one."""
    if not _is_advanced(index):
        return a.view(*basic_view(a.shape, a._strides, a._offset, index))
    plan = Plan(a, index)
    out = empty(plan.shape, a.dtype)
    n = out.size
    if n:
        CATALOG["take"][a.dtype][launch_1d(n)](out._storage.data, a._storage.data,
                                               *plan.index_args(), n)
    return out


def scatter_add(shape, index, values, dtype):
    """Zeros of ``shape`` and ``dtype`` with ``values`` added at ``index`` (np.add.at)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        # Adding booleans is "or": count in int32, then compare with zero.
        counts = scatter_add(shape, index, values, np.int32)
        return copy_into(empty(shape, dtype), counts)
    out = fill(empty(shape, dtype), 0)
    values = as_array(values, dtype)
    if not _is_advanced(index):
        copy_into(out.view(*basic_view(out.shape, out._strides, 0, index)), values)
        return out
    plan = Plan(out, index)
    n = numel(plan.shape)
    if n:
        v_str = broadcast_strides(values.shape, values._strides, plan.shape)
        CATALOG["put_add"][dtype][launch_1d(n)](out._storage.data, values._storage.data,
                                                values._offset, padded(v_str),
                                                *plan.index_args(), n)
    return out


def _along_axis_shape(a_shape, index, axis, where):
    if index.dtype.kind not in "iu":
        raise IndexError(f"{where}: `indices` must be an integer array")
    if index.ndim != len(a_shape):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    return np.broadcast_shapes(index.shape, a_shape[:axis] + (1,) + a_shape[axis + 1:])


def gather(a, index, axis):
    """``np.take_along_axis(a, index, axis)``."""
    axis = int(axis) % a.ndim
    shape = _along_axis_shape(a.shape, index, axis, "gather")
    _check_bounds([(index, axis, a.shape[axis])])
    out = empty(shape, a.dtype)
    if out.size:
        index = as_array(index, _INT64)
        a_str = list(broadcast_strides(a.shape, a._strides, shape[:axis] + (a.shape[axis],)
                                       + shape[axis + 1:]))
        a_str[axis] = 0
        i_str = broadcast_strides(index.shape, index._strides, shape)
        merged, (_, a_str, i_str) = coalesce(shape, out._strides, tuple(a_str), i_str)
        CATALOG["gather_along"][a.dtype][launch_1d(out.size)](
            out._storage.data, a._storage.data, a._offset, padded(a_str), a._strides[axis],
            a.shape[axis], index._storage.data, index._offset, padded(i_str),
            padded(merged, 1), len(merged), out.size)
    return out


def scatter_add_along(shape, index, values, axis):
    """The adjoint of ``gather``: zeros of ``shape`` with ``values`` added at ``index``."""
    axis = int(axis) % len(shape)
    if values.dtype == np.bool_:
        counts = scatter_add_along(shape, index, as_array(values, np.dtype(np.int32)), axis)
        return copy_into(empty(shape, values.dtype), counts)
    _check_bounds([(index, axis, shape[axis])])
    out = fill(empty(shape, values.dtype), 0)
    n = index.size
    if n:
        index = as_array(index, _INT64)
        o_str = list(out._strides)
        axis_stride, o_str[axis] = o_str[axis], 0
        o_str = broadcast_strides(index.shape, tuple(o_str), index.shape)
        v_str = broadcast_strides(values.shape, values._strides, index.shape)
        i_str = broadcast_strides(index.shape, index._strides, index.shape)
        merged, (o_str, v_str, i_str) = coalesce(index.shape, o_str, v_str, i_str)
        CATALOG["scatter_along"][values.dtype][launch_1d(n)](
            out._storage.data, padded(o_str), axis_stride, shape[axis], values._storage.data,
            values._offset, padded(v_str), index._storage.data, index._offset, padded(i_str),
            padded(merged, 1), len(merged), n)
    return out


def nonzero(mask):
    """``np.nonzero(mask)`` for a boolean device array: one int64 array per dimension."""
    mask = dense(mask)
    n = mask.size
    if n == 0:
        return [empty((0,), _INT64) for _ in range(mask.ndim)]
    positions = inclusive_scan(as_array(mask, _INT64), 1, n)
    count = int(to_host(positions.view((), (), n - 1)))
    coords = empty((mask.ndim * count,), _INT64)
    if count:
        CATALOG["nonzero"][mask.dtype][launch_1d(n)](coords._storage.data, mask._storage.data,
                                                     positions._storage.data,
                                                     padded(mask.shape, 1), mask.ndim, count, n)
    return [coords.view((count,), (1,), d * count) for d in range(mask.ndim)]
