"""Kernels that read or add at computed positions: numpy's advanced indexing and its adjoint,
``take_along_axis`` and its adjoint, and the coordinates of a boolean mask's true elements.

The adjoints add with ``cuda.atomic.add``: repeated indices must accumulate (``np.add.at``),
and atomics make that correct whatever order the threads run in. Index values have been checked
on the host beforehand (numpy's IndexError, or ``Tensor.gather``'s own check); negative ones
count from the end, as in numpy.
"""

from numba import from_dtype

from .catalog import kernel
from .devicefns import offset_of
from .elementwise import ALL, DIMS, FLOATS, I64, INTS, view_types
from .runtime import cuda

__all__ = []


def _index_args():
    # out shape, ndim, per-dimension input step and index step, the stacked index arrays,
    # their length, each one's input stride and size, how many, n
    return (DIMS, I64, DIMS, DIMS, I64[::1], I64, DIMS, DIMS, I64, I64)


@cuda.jit(device=True, inline="always")
def _advanced_offset(i, base, shape, ndim, steps, index_steps, index, index_size, strides,
                     sizes, count):
    """Input position of output element ``i`` of ``a[index]`` (see ``indexing.Plan``)."""
    offset, position = base, 0
    for d in range(ndim - 1, -1, -1):
        c = i % shape[d]
        i //= shape[d]
        offset += c * steps[d]
        position += c * index_steps[d]
    for t in range(count):
        v = index[t * index_size + position]
        if v < 0:
            v += sizes[t]
        offset += v * strides[t]
    return offset


@kernel("take", ALL)
def _take(dtype):
    def take(out, a, base, shape, ndim, steps, index_steps, index, index_size, strides, sizes,
             count, n):
        i = cuda.grid(1)
        if i < n:
            out[i] = a[_advanced_offset(i, base, shape, ndim, steps, index_steps, index,
                                        index_size, strides, sizes, count)]
    scalar = from_dtype(dtype)
    return take, (scalar[::1], scalar[::1], I64) + _index_args()


@kernel("put_add", INTS + FLOATS)
def _put_add(dtype):
    def put_add(out, values, v_off, v_str, base, shape, ndim, steps, index_steps, index,
                index_size, strides, sizes, count, n):
        i = cuda.grid(1)
        if i < n:
            at = _advanced_offset(i, base, shape, ndim, steps, index_steps, index, index_size,
                                  strides, sizes, count)
            cuda.atomic.add(out, at, values[offset_of(i, shape, ndim, v_str, v_off)])
    return put_add, (from_dtype(dtype)[::1],) + view_types(dtype) + (I64,) + _index_args()


@kernel("gather_along", ALL)
def _gather_along(dtype):
    def gather_along(out, a, a_off, a_str, axis_stride, axis_size, index, i_off, i_str, shape,
                     ndim, n):
        i = cuda.grid(1)
        if i < n:
            v = index[offset_of(i, shape, ndim, i_str, i_off)]
            if v < 0:
                v += axis_size
            out[i] = a[offset_of(i, shape, ndim, a_str, a_off) + v * axis_stride]
    return gather_along, ((from_dtype(dtype)[::1],) + view_types(dtype) + (I64, I64)
                          + view_types("int64") + (DIMS, I64, I64))


@kernel("scatter_along", INTS + FLOATS)
def _scatter_along(dtype):
    def scatter_along(out, o_str, axis_stride, axis_size, values, v_off, v_str, index, i_off,
                      i_str, shape, ndim, n):
        i = cuda.grid(1)
        if i < n:
            v = index[offset_of(i, shape, ndim, i_str, i_off)]
            if v < 0:
                v += axis_size
            at = offset_of(i, shape, ndim, o_str, 0) + v * axis_stride
            cuda.atomic.add(out, at, values[offset_of(i, shape, ndim, v_str, v_off)])
    return scatter_along, ((from_dtype(dtype)[::1], DIMS, I64, I64) + view_types(dtype)
                           + view_types("int64") + (DIMS, I64, I64))


@kernel("nonzero", ("bool",))
def _nonzero(dtype):
    def nonzero(coords, mask, positions, shape, ndim, count, n):
        """Row ``d`` of ``coords`` (ndim x count) gets coordinate ``d`` of each true element
        of the contiguous ``mask``, in C order; ``positions`` is the mask's prefix sum."""
        i = cuda.grid(1)
        if i < n and mask[i]:
            slot = positions[i] - 1
            rem = i
            for d in range(ndim - 1, -1, -1):
                coords[d * count + slot] = rem % shape[d]
                rem //= shape[d]
    return nonzero, (I64[::1], from_dtype(dtype)[::1], I64[::1], DIMS, I64, I64, I64)
