"""Reductions over any axes: sum, max and min (and |x| or |x|^p taken on the way, for norms).

The input is seen as a matrix: ``M`` outputs (the kept dimensions, C order) by ``K`` reduced
elements (the reduced dimensions), each group a strided view of the array. Two kernels cover
the two memory layouts:

- ``reduce_rows``: one block per output, when each output's elements are contiguous or close
  together (a row sum, a full sum). Each thread folds a strided share of the row, then the
  block combines its partial results in shared memory as a tree.
- ``reduce_cols``: one thread per output, when outputs sit side by side in memory and their
  elements are far apart (a column sum such as a bias gradient): the threads of a warp then
  read neighbouring addresses at every step, which the row kernel could not.

When there are few outputs and long rows, the rows are split into ``S`` segments reduced
separately (more blocks or threads at work), and a second pass reduces the ``M x S`` partial
results. ``plan`` chooses; both passes are the same kernels.

Prefix sums (``cumsum``, and the positions of a boolean mask's true elements) scan lines of a
contiguous array: each block scans a chunk of ``SCAN_BLOCK`` elements of one line in shared
memory (Hillis-Steele), the chunks' totals are scanned the same way, and ``scan_add`` adds them
back.
"""

import numpy as np
from numba import from_dtype

from . import devicefns as fn
from .catalog import kernel
from .devicefns import offset_of
from .elementwise import ALL, DIMS, I64
from .runtime import cuda

__all__ = ["BLOCK", "SCAN_BLOCK", "SCANNED", "plan", "identity"]

BLOCK = 256   # threads of a row block, and the size of its shared array
SCAN_BLOCK = 256
SCANNED = ("int64", "float32", "float64")


def _parts(dtype):
    if dtype.kind == "b":
        return fn.typed_device(fn.combine_bool, dtype), fn.typed_device(fn.transform_bool,
                                                                        dtype)
    transform = fn.transform_float if dtype.kind == "f" else fn.transform_int
    return fn.typed_device(fn.combine, dtype), fn.typed_device(transform, dtype)


def _argtypes(dtype):
    scalar = from_dtype(dtype)
    view = (scalar[::1], I64)
    group = (DIMS, DIMS, I64)   # shape, strides, ndim
    return (I64, I64, scalar, scalar, scalar[::1]) + view + group + group + (I64, I64, I64)


@kernel("reduce_rows", ALL)
def _reduce_rows(dtype):
    combine, transform = _parts(dtype)
    scalar = from_dtype(dtype)

    def reduce_rows(op, t, p, init, out, a, a_off, kept_shape, kept_str, kept_ndim, red_shape,
                    red_str, red_ndim, m_count, k_count, segments):
        partial = cuda.shared.array(BLOCK, scalar)
        b = cuda.blockIdx.x
        tid = cuda.threadIdx.x
        threads = cuda.blockDim.x
        m = b // segments
        chunk = (k_count + segments - 1) // segments
        k = (b % segments) * chunk
        end = min(k_count, k + chunk)
        base = offset_of(m, kept_shape, kept_ndim, kept_str, a_off)
        acc = init
        k += tid
        while k < end:
            x = a[offset_of(k, red_shape, red_ndim, red_str, base)]
            acc = combine(op, acc, transform(t, x, p))
            k += threads
        partial[tid] = acc
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if tid < step:
                partial[tid] = combine(op, partial[tid], partial[tid + step])
            cuda.syncthreads()
            step //= 2
        if tid == 0:
            out[b] = partial[0]
    return reduce_rows, _argtypes(dtype)


@kernel("reduce_cols", ALL)
def _reduce_cols(dtype):
    combine, transform = _parts(dtype)

    def reduce_cols(op, t, p, init, out, a, a_off, kept_shape, kept_str, kept_ndim, red_shape,
                    red_str, red_ndim, m_count, k_count, segments):
        j = cuda.grid(1)
        if j < m_count * segments:
            m = j % m_count   # neighbouring threads take neighbouring outputs
            chunk = (k_count + segments - 1) // segments
            k = (j // m_count) * chunk
            end = min(k_count, k + chunk)
            base = offset_of(m, kept_shape, kept_ndim, kept_str, a_off)
            acc = init
            while k < end:
                x = a[offset_of(k, red_shape, red_ndim, red_str, base)]
                acc = combine(op, acc, transform(t, x, p))
                k += 1
            out[j] = acc
    return reduce_cols, _argtypes(dtype)


@kernel("scan_lines", SCANNED)
def _scan_lines(dtype):
    scalar = from_dtype(dtype)
    zero = dtype.type(0)

    def scan_lines(out, values, sums, length, lines, chunks):
        """Inclusive prefix sums of each chunk of each line (lines x length, contiguous); each
        chunk's total goes to ``sums`` (lines x chunks)."""
        shared = cuda.shared.array(SCAN_BLOCK, scalar)
        tid = cuda.threadIdx.x
        i = cuda.blockIdx.x * cuda.blockDim.x + tid
        for line in range(cuda.blockIdx.y, lines, cuda.gridDim.y):
            shared[tid] = values[line * length + i] if i < length else zero
            cuda.syncthreads()
            step = 1
            while step < cuda.blockDim.x:
                add = shared[tid - step] if tid >= step else zero
                cuda.syncthreads()
                shared[tid] += add
                cuda.syncthreads()
                step *= 2
            if i < length:
                out[line * length + i] = shared[tid]
            if tid == cuda.blockDim.x - 1:
                sums[line * chunks + cuda.blockIdx.x] = shared[tid]
            cuda.syncthreads()
    array = scalar[::1]
    return scan_lines, (array, array, array, I64, I64, I64)


@kernel("scan_add", SCANNED)
def _scan_add(dtype):
    def scan_add(out, prefix, length, lines, chunks):
        """Add to each chunk the prefix sum of the chunks before it on its line."""
        i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        if i < length and cuda.blockIdx.x > 0:
            for line in range(cuda.blockIdx.y, lines, cuda.gridDim.y):
                out[line * length + i] += prefix[line * chunks + cuda.blockIdx.x - 1]
    array = from_dtype(dtype)[::1]
    return scan_add, (array, array, I64, I64, I64)


def identity(op, dtype):
    """The value a reduction starts from: 0 for sums, 1 for products, the lowest (highest)
    value for max (min)."""
    dtype = np.dtype(dtype)
    if op == fn.SUM:
        return dtype.type(0)
    if op == fn.PROD:
        return dtype.type(1)
    if dtype.kind == "b":
        return np.bool_(op == fn.MIN)
    if dtype.kind == "f":
        return dtype.type(-np.inf if op == fn.MAX else np.inf)
    info = np.iinfo(dtype)
    return dtype.type(info.min if op == fn.MAX else info.max)


def plan(m_count, k_count, kept_stride, red_stride):
    """``(kernel name, segments, threads per block)`` for an M x K reduction whose innermost
    kept and reduced dimensions have the given strides."""
    if kept_stride == 1 and red_stride != 1 and m_count > 1:
        # Column layout: enough threads in flight to hide memory latency, >= 64 elements each.
        segments = max(1, min(-(-k_count // 64), -(-16384 // m_count)))
        return "reduce_cols", segments, 256
    segments = 1 if m_count >= 512 else max(1, min(-(-k_count // 2048), -(-1024 // m_count)))
    per_block = -(-k_count // segments)
    threads = 32
    while threads < BLOCK and threads < per_block:
        threads *= 2
    return "reduce_rows", segments, threads
