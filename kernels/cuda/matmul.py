"""The tiled matrix product, with the fused layer's bias and activation applied on the way out,
and the first pass of the fused layer's backward (``dz`` and the bias gradient together).

``matmul_large`` / ``matmul_small``: each block computes a ``BM x BN`` tile of the output with
256 threads, ``TM x TN`` outputs per thread held in registers. Per step of ``BK`` along the
depth, the block stages a ``BM x BK`` panel of A and a ``BK x BN`` panel of B in shared memory;
each thread then reads a column of its rows and a row of its columns into registers and does
``TM * TN`` multiply-adds per pair of loads. Loads are coalesced whichever way an operand is
laid out: neighbouring threads read along the operand's contiguous dimension (a row-major A, or
a transposed view such as ``W.T`` in the backward pass, which is read in place). A thread's
outputs are spaced ``BM / TM`` rows and ``BN / TN`` columns apart, so a warp reads distinct
shared-memory banks and writes neighbouring addresses. Sizes that are not multiples of the tile
are handled by zero-filled loads and guarded stores. Batched products run one batch element per
``z`` block index, batch dimensions broadcast through stride-0 batch strides. A product with
few output tiles and a long depth (a weight gradient ``x.T @ dz``: a small matrix summed over
the whole batch) splits the depth too, one partial product per ``z`` index, summed afterwards,
so that enough blocks run.

The epilogue adds the bias and writes ``z`` and ``activation(z)`` (the registry's scalar
``activate`` compiled for the dtype), so the fused layer's forward is one kernel.
"""

from numba import from_dtype, types

from ... import activations as registry
from . import devicefns as fn
from .catalog import kernel
from .devicefns import offset_of
from .elementwise import DIMS, FLOATS, I64
from .runtime import cuda

__all__ = ["TILES", "DZ_ROWS", "DZ_COLS"]

THREADS = 256
# name -> (BM, BN, BK, TM, TN); "small" keeps more blocks busy on products with few tiles.
TILES = {"matmul_large": (128, 128, 8, 8, 8), "matmul_small": (64, 64, 8, 4, 4)}
IDENTITY = registry.IDENTITY


def _identity(code, x, slope):
    return x


def _register(name, tile):
    bm, bn, bk, tm, tn = tile
    rows_apart, cols_apart = bm // tm, bn // tn     # 16 x 16 threads
    a_loads, b_loads = bm * bk // THREADS, bk * bn // THREADS
    assert rows_apart * cols_apart == THREADS and a_loads * THREADS == bm * bk

    @kernel(name, FLOATS + ("int64",))
    def build(dtype):
        scalar = from_dtype(dtype)
        zero = dtype.type(0)
        activate = fn.activate(dtype) if dtype.kind == "f" else fn.typed_device(_identity, dtype)

        def matmul(z, y, a, a_off, a_rs, a_cs, b, b_off, b_rs, b_cs, bias, bias_off, bias_step,
                   has_bias, code, slope, m, n, k, batch, batch_shape, a_bstr, b_bstr,
                   batch_ndim, splits, chunk):
            a_tile = cuda.shared.array((bk, bm), scalar)
            b_tile = cuda.shared.array((bk, bn), scalar)
            acc = cuda.local.array((tm, tn), scalar)
            a_col = cuda.local.array(tm, scalar)
            b_row = cuda.local.array(tn, scalar)
            tid = cuda.threadIdx.x
            tx = tid % cols_apart
            ty = tid // cols_apart
            row0 = cuda.blockIdx.y * bm
            col0 = cuda.blockIdx.x * bn
            # z indexes (batch element, depth split): each split sums ``chunk`` of the depth.
            for bz in range(cuda.blockIdx.z, batch * splits, cuda.gridDim.z):
                k_lo = (bz % splits) * chunk
                k_hi = min(k, k_lo + chunk)
                a_base = offset_of(bz // splits, batch_shape, batch_ndim, a_bstr, a_off)
                b_base = offset_of(bz // splits, batch_shape, batch_ndim, b_bstr, b_off)
                for i in range(tm):
                    for j in range(tn):
                        acc[i, j] = zero
                for k0 in range(k_lo, k_hi, bk):
                    for load in range(a_loads):
                        e = tid + load * THREADS
                        if a_cs == 1:       # rows of A contiguous: neighbours read along k
                            r, kk = e // bk, e % bk
                        else:               # columns contiguous: neighbours read down a column
                            r, kk = e % bm, e // bm
                        gr, gk = row0 + r, k0 + kk
                        if gr < m and gk < k_hi:
                            a_tile[kk, r] = a[a_base + gr * a_rs + gk * a_cs]
                        else:
                            a_tile[kk, r] = zero
                    for load in range(b_loads):
                        e = tid + load * THREADS
                        if b_cs == 1:
                            kk, c = e // bn, e % bn
                        else:
                            kk, c = e % bk, e // bk
                        gk, gc = k0 + kk, col0 + c
                        if gk < k_hi and gc < n:
                            b_tile[kk, c] = b[b_base + gk * b_rs + gc * b_cs]
                        else:
                            b_tile[kk, c] = zero
                    cuda.syncthreads()
                    for kk in range(bk):
                        for i in range(tm):
                            a_col[i] = a_tile[kk, ty + i * rows_apart]
                        for j in range(tn):
                            b_row[j] = b_tile[kk, tx + j * cols_apart]
                        for i in range(tm):
                            for j in range(tn):
                                acc[i, j] += a_col[i] * b_row[j]
                    cuda.syncthreads()
                out_base = bz * m * n
                for i in range(tm):
                    r = row0 + ty + i * rows_apart
                    if r < m:
                        for j in range(tn):
                            c = col0 + tx + j * cols_apart
                            if c < n:
                                v = acc[i, j]
                                if has_bias:
                                    v += bias[bias_off + c * bias_step]
                                z[out_base + r * n + c] = v
                                if code != IDENTITY:
                                    y[out_base + r * n + c] = activate(code, v, slope)
        array = scalar[::1]
        return matmul, ((array, array, array, I64, I64, I64, array, I64, I64, I64, array, I64,
                         I64, types.boolean, I64, scalar, I64, I64, I64, I64, DIMS, DIMS, DIMS,
                         I64, I64, I64))
    return build


for _name, _tile in TILES.items():
    _register(_name, _tile)

DZ_COLS, DZ_ROWS = 32, 8   # block of the dz/db kernel: 32 columns x 8 row-threads


@kernel("dz_db", FLOATS)
def _dz_db(dtype):
    scalar = from_dtype(dtype)
    zero = dtype.type(0)
    derivative = fn.derivative(dtype)

    def dz_db(dz, db, z, z_off, z_rs, z_cs, y, y_off, y_rs, y_cs, g, g_off, g_rs, g_cs, rows,
              cols, rows_per_chunk, code, slope):
        """dz = g * activation'(z) (a new rows x cols array) and, per chunk of rows, the column
        sums of dz (db is chunks x cols, reduced further when there are several chunks)."""
        partial = cuda.shared.array((DZ_ROWS, DZ_COLS), scalar)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        col = cuda.blockIdx.x * DZ_COLS + tx
        chunk = cuda.blockIdx.y
        r = chunk * rows_per_chunk + ty
        end = min(rows, chunk * rows_per_chunk + rows_per_chunk)
        acc = zero
        if col < cols:
            while r < end:
                d = g[g_off + r * g_rs + col * g_cs] * derivative(
                    code, z[z_off + r * z_rs + col * z_cs], y[y_off + r * y_rs + col * y_cs],
                    slope)
                dz[r * cols + col] = d
                acc += d
                r += DZ_ROWS
        partial[ty, tx] = acc
        cuda.syncthreads()
        if ty == 0 and col < cols:
            total = zero
            for t in range(DZ_ROWS):
                total += partial[t, tx]
            db[chunk * cols + col] = total
    array = scalar[::1]
    view = (array, I64, I64, I64)
    return dz_db, (array, array) + view * 3 + (I64, I64, I64, I64, scalar)
