"""Host side of the shape operations: reshape, transpose and broadcast_to are new views of the
same buffer (a reshape copies only a non-contiguous array); concatenate copies each input into
its slice of the result. numpy's errors for shapes and axes that do not fit."""

import numbers

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .dispatch import check_dtype, contiguous, copy_into, empty
from .layout import basic_view, broadcast_strides, contiguous_strides, numel

__all__ = ["reshape", "transpose", "broadcast_to", "concatenate"]


def _shape(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(n) for n in shape)


def reshape(a, shape):
    """``a`` with ``shape`` (one entry may be -1): a view when ``a`` is contiguous."""
    shape = _shape(shape)
    if shape.count(-1) == 1:
        known = numel(n for n in shape if n != -1)
        if known and a.size % known == 0:
            shape = tuple(a.size // known if n == -1 else n for n in shape)
    if numel(shape) != a.size or any(n < 0 for n in shape):
        raise ValueError(f"cannot reshape array of size {a.size} into shape {shape}")
    return contiguous(a).view(shape, contiguous_strides(shape))


def transpose(a, axes):
    """``a`` with its axes permuted (reversed for None): a view."""
    axes = tuple(range(a.ndim))[::-1] if axes is None else tuple(axes)
    if len(axes) != a.ndim:
        raise ValueError("axes don't match array")
    axes = normalize_axis_tuple(axes, a.ndim)
    return a.view(tuple(a.shape[i] for i in axes), tuple(a._strides[i] for i in axes))


def broadcast_to(a, shape):
    """``a`` read as ``shape``: a view with stride 0 along the repeated dimensions."""
    shape = _shape(shape)
    return a.view(shape, broadcast_strides(a.shape, a._strides, shape))


def _check_joinable(arrays, axis):
    first = arrays[0]
    for i, x in enumerate(arrays[1:], 1):
        if x.ndim != first.ndim:
            raise ValueError(f"all the input array dimensions except for the concatenation "
                             f"axis must match exactly, but the array at index 0 has "
                             f"{first.ndim} dimension(s) and the array at index {i} has "
                             f"{x.ndim} dimension(s)")
        for d in range(first.ndim):
            if d != axis and x.shape[d] != first.shape[d]:
                raise ValueError(f"all the input array dimensions except for the concatenation "
                                 f"axis must match exactly, but along dimension {d}, the array "
                                 f"at index 0 has size {first.shape[d]} and the array at index "
                                 f"{i} has size {x.shape[d]}")


def concatenate(arrays, axis):
    """The arrays joined along ``axis`` (None: flattened first), in numpy's result dtype."""
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [reshape(x, (-1,)) for x in arrays], 0
    if arrays[0].ndim == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis_tuple(axis, arrays[0].ndim)[0]
    _check_joinable(arrays, axis)
    dtype = check_dtype(np.result_type(*(x.dtype for x in arrays)), "concatenate")
    shape = list(arrays[0].shape)
    shape[axis] = sum(x.shape[axis] for x in arrays)
    out = empty(tuple(shape), dtype)
    start = 0
    for x in arrays:
        part = (slice(None),) * axis + (slice(start, start + x.shape[axis]),)
        copy_into(out.view(*basic_view(out.shape, out._strides, 0, part)), x)
        start += x.shape[axis]
    return out
