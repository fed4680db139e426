"""Blocked, register-tiled matrix multiplication for float32 and float64, in Numba.

The structure is the one BLAS libraries use (Goto & van de Geijn, "Anatomy of high-performance
matrix multiplication", 2008):

- ``B`` is copied ("packed") a block of ``KC x NC`` at a time into panels ``NR`` columns wide,
  so the innermost loop reads it contiguously whatever ``B``'s strides are (a transposed view
  is packed straight from its strides, never copied twice);
- ``A`` is packed a block of ``MC x KC`` at a time into panels ``MR`` rows tall;
- a micro-kernel multiplies one ``MR x KC`` panel by one ``KC x NR`` panel into an ``MR x NR``
  tile held in vector registers for the whole ``KC`` loop (``intrinsics.stack_tile``), then adds
  the tile to ``C`` once. Per step of the shared dimension it loads one row of the B panel (a
  tile row: four 512-bit registers with AVX-512, two 256-bit ones with AVX2,
  ``intrinsics.TILE_ROW_BYTES``) and ``MR`` numbers of A, and issues ``MR`` fused multiply-adds
  per register of that row, so it runs at the machine's FMA rate rather than its memory rate.

``prange`` spreads the row blocks of ``A`` over the threads when the product is large enough to
pay for starting them (``PARALLEL_MIN_FLOPS``). The same micro-kernel serves the fused layer: on
the last block of the shared dimension it can add a bias and apply an activation while the tile
is still in registers (``fused.py``).
"""

import time

import numba
import numpy as np
from numba import njit, prange

from . import cache_stamp  # noqa: F401 - first: an edited kernel source recompiles all
from .activations import activation_forward, bias_activation, per_code
from .intrinsics import TILE_ROW_BYTES, runtime_int, stack_tile, tile_width
from .skinny import skinny_product
from .threads import CHOOSER, MIN_FLOPS

__all__ = ["matmul", "gemm", "transpose_into", "MR", "KC", "MC", "NC", "PARALLEL_MIN_FLOPS"]

# Rows of the register tile: 6 x 4 zmm accumulators, 4 for B and the broadcasts of A fit
# AVX-512's 32 registers; AVX2 has 16, and LLVM loads all of a step's broadcasts before its
# multiply-adds, so 4 x 2 ymm + 2 + 4 (6 rows spilled three accumulators to the stack).
MR = 6 if TILE_ROW_BYTES == 256 else 4
KC = 256      # depth of a packed block: an A panel (6 KB float32) stays in L1
MC = 96       # rows of A per packed block (and per parallel task)
NC = 512      # columns of B per packed block: KC x NC float32 is 512 KB, half the L2
PARALLEL_MIN_FLOPS = 2 ** 22   # below this, starting threads costs more than it gains
SKINNY_MAX = 2   # up to this many rows, columns or depth, skip packing (skinny.py)

_IDENTITY = 0  # activations.IDENTITY, repeated here so the kernels import no Python module


@njit(cache=True, fastmath={"contract"}, nogil=True)
def _tile(ap, bp, kc, z, y, r0, c0, mr, nr, accumulate, finish, bias, code, slope):
    """z[r0:r0+mr, c0:c0+nr] (+)= ap.T @ bp; on ``finish`` add bias and write y = act(z).

    ``ap``: (kc, MR) packed A panel; ``bp``: (kc, NR) packed B panel. Only ``contract`` is
    allowed (fused multiply-add): reassociation would let LLVM vectorize the wrong loop.
    """
    nr_full = tile_width(ap.dtype)
    acc = numba.carray(stack_tile(MR, ap.dtype), (MR, nr_full))
    for i in range(MR):
        for j in range(nr_full):
            acc[i, j] = 0
    # j before i: LLVM unrolls the short i loop and vectorizes j, with acc in registers.
    for p in range(kc):
        for j in range(nr_full):
            b = bp[p, j]
            for i in range(MR):
                acc[i, j] += ap[p, i] * b
    for i in range(mr):
        zrow = z[r0 + i, c0:c0 + nr]
        if accumulate:
            for j in range(nr):
                zrow[j] += acc[i, j]
        else:
            for j in range(nr):
                zrow[j] = acc[i, j]
    if finish and (bias.size or code != _IDENTITY):
        # While the tile is still in L1. ``code`` is a run-time value here, so the first tiled
        # product compiles every activation's loop (activations.py); the default route does not
        # run this kernel.
        bias_activation(z, y, r0, c0, mr, nr, bias, code, slope)


@njit(cache=True, nogil=True)
def _pack_a(a, a_t, i0, mc, k0, kc, out):
    """out[ib, p, i] = A[i0 + ib*MR + i, k0 + p], zero past the last row (A = a.T if a_t)."""
    for ib in range((mc + MR - 1) // MR):
        r0 = i0 + ib * MR
        rows = min(MR, mc - ib * MR)
        if a_t:
            for p in range(kc):
                src = a[k0 + p, r0:r0 + rows]
                for i in range(rows):
                    out[ib, p, i] = src[i]
        else:
            for i in range(rows):
                src = a[r0 + i, k0:k0 + kc]
                for p in range(kc):
                    out[ib, p, i] = src[p]
        for p in range(kc):
            for i in range(rows, MR):
                out[ib, p, i] = 0


@njit(cache=True, nogil=True)
def transpose_into(b, k0, kc, c0, cols, dst):
    """dst[p, j] = b[c0 + j, k0 + p] for p < kc, j < cols, in 8 x 8 blocks.

    A plain double loop writes a new cache line per element; full 8 x 8 blocks have constant
    trip counts, so LLVM unrolls them and the lines written stay in L1.
    """
    for p0 in range(0, kc, 8):
        for j0 in range(0, cols, 8):
            if p0 + 8 <= kc and j0 + 8 <= cols:
                for j in range(8):
                    src = b[c0 + j0 + j, k0 + p0:k0 + p0 + 8]
                    for p in range(8):
                        dst[p0 + p, j0 + j] = src[p]
            else:
                for j in range(j0, min(cols, j0 + 8)):
                    for p in range(p0, min(kc, p0 + 8)):
                        dst[p, j] = b[c0 + j, k0 + p]


@njit(cache=True, nogil=True)
def _pack_b(b, b_t, k0, kc, j0, nc, out):
    """out[jb, p, j] = B[k0 + p, j0 + jb*NR + j], zero past the last column (B = b.T if b_t)."""
    nr_full = out.shape[2]
    for jb in range((nc + nr_full - 1) // nr_full):
        c0 = j0 + jb * nr_full
        cols = min(nr_full, nc - jb * nr_full)
        if b_t:
            transpose_into(b, k0, kc, c0, cols, out[jb])
        else:
            for p in range(kc):
                src = b[k0 + p, c0:c0 + cols]
                for j in range(cols):
                    out[jb, p, j] = src[j]
        for p in range(kc):
            for j in range(cols, nr_full):
                out[jb, p, j] = 0


@njit(cache=True, nogil=True)
def _row_block(a, a_t, bp, z, y, i0, mc, j0, nc, k0, kc, ap, finish, bias, code, slope):
    """Pack rows i0:i0+mc of A's current depth block and multiply them by the packed B."""
    nr_full = bp.shape[2]
    _pack_a(a, a_t, i0, mc, k0, kc, ap)
    for ib in range((mc + MR - 1) // MR):
        for jb in range((nc + nr_full - 1) // nr_full):
            _tile(ap[ib], bp[jb], kc, z, y, i0 + ib * MR, j0 + jb * nr_full,
                  min(MR, mc - ib * MR), min(nr_full, nc - jb * nr_full), k0 > 0, finish,
                  bias, code, slope)


@njit(cache=True, nogil=True)
def _gemm_serial(a, a_t, b, b_t, z, y, bias, code, slope):
    m, n = z.shape
    k = a.shape[0] if a_t else a.shape[1]
    nr_full = tile_width(a.dtype)
    bp = np.empty(((min(NC, n) + nr_full - 1) // nr_full, min(KC, k), nr_full), a.dtype)
    ap = np.empty(((min(MC, m) + MR - 1) // MR, min(KC, k), MR), a.dtype)
    for j0 in range(0, n, NC):
        nc = min(NC, n - j0)
        for k0 in range(0, k, KC):
            kc = min(KC, k - k0)
            _pack_b(b, b_t, k0, kc, j0, nc, bp)
            for i0 in range(0, m, MC):
                _row_block(a, a_t, bp, z, y, i0, min(MC, m - i0), j0, nc, k0, kc, ap,
                           k0 + kc == k, bias, code, slope)


@njit(cache=True, nogil=True, parallel=True)
def _gemm_parallel(a, a_t, b, b_t, z, y, bias, code, slope, nthreads):
    m, n = z.shape
    k = a.shape[0] if a_t else a.shape[1]
    nr_full = tile_width(a.dtype)
    # Each thread takes an equal share of the MR-row panels (within one panel), and works
    # through its share MC rows at a time: a 128-row weight gradient splits 66 + 62, not
    # 96 + 32 as fixed MC blocks would.
    npanels_a = (m + MR - 1) // MR
    bp = np.empty(((min(NC, n) + nr_full - 1) // nr_full, min(KC, k), nr_full), a.dtype)
    ap = np.empty((nthreads, (min(MC, m) + MR - 1) // MR, min(KC, k), MR), a.dtype)
    for j0 in range(0, n, NC):
        nc = min(NC, n - j0)
        for k0 in range(0, k, KC):
            kc = min(KC, k - k0)
            npanels = (nc + nr_full - 1) // nr_full
            for jb in prange(npanels):
                _pack_b(b, b_t, k0, kc, j0 + jb * nr_full, min(nr_full, nc - jb * nr_full),
                        bp[jb:jb + 1])
            for t in prange(nthreads):
                first = t * npanels_a // nthreads * MR
                last = min(m, (t + 1) * npanels_a // nthreads * MR)
                for i0 in range(first, last, MC):
                    _row_block(a, a_t, bp, z, y, i0, min(MC, last - i0), j0, nc, k0, kc,
                               ap[t], k0 + kc == k, bias, code, slope)


ROUTES = ("auto", "numba", "blas")


def gemm(a, b, z, y=None, bias=None, code=_IDENTITY, slope=0.0, route="auto"):
    """z = a @ b (+ bias), and y = activation(z) when ``code`` is not identity.

    ``a``: (m, k), ``b``: (k, n), ``z`` and ``y``: (m, n) C-contiguous outputs, all one float
    dtype; ``a`` and ``b`` may have any strides. ``bias``: (n,) or None. Shapes are checked by
    the caller. ``route`` picks the product's kernel:

    - ``"numba"``: the skinny loops when a dimension is at most ``SKINNY_MAX``, else the tiled
      kernel (threaded from ``PARALLEL_MIN_FLOPS``), bias and activation applied per tile;
    - ``"blas"``: numpy's BLAS matmul, then bias and activation in one compiled pass;
    - ``"auto"`` (the backend's default): the skinny loops for one or two rows or depth (one
      example's layer and weight gradient), BLAS otherwise.
      ``benchmarks/run.py`` measures why: the tiled kernel is close to BLAS on square
      products but behind it on the ranking MLP's shapes, where packing the weights costs as
      much as the product; the skinny loops beat BLAS on one example's weight gradient
      (k = 1) and tie on its forward (README's benchmark section has the figures).
    """
    m, k = a.shape
    n = b.shape[1]
    if k == 0:   # an empty sum: z is the bias (or 0); numpy's matmul agrees
        z[...] = 0 if bias is None else bias
        if code != _IDENTITY:
            y[...] = activation_forward(code, z, slope)
        return
    if y is None:
        y = z
    slope = z.dtype.type(slope)   # one compiled version per dtype, not one more for a float
    # A score layer (n <= 2) with many rows is a matrix-vector product BLAS does better.
    if route == "blas" or (route == "auto" and min(m, k) > SKINNY_MAX):
        _blas(a, b, z)
        _epilogue(z, y, bias, code, slope)
        return
    if bias is None:
        bias = np.empty(0, a.dtype)
    skinny = min(m, n, k) <= SKINNY_MAX
    a, a_t = _as_rows(a)
    b, b_t = _as_rows(b)
    if skinny:
        if n <= SKINNY_MAX and not b_t:   # few columns (a score layer): dot products of rows
            b, b_t = np.ascontiguousarray(b.T), True
        skinny_product(a, a_t, b, b_t, z, np.empty(k, z.dtype))
        _epilogue(z, y, bias, code, slope)
    elif 2 * m * n * k >= PARALLEL_MIN_FLOPS and numba.get_num_threads() > 1:
        key = (m, k, n, a_t, b_t)
        threads, timed = CHOOSER.pick("numba", key, 2 * m * n * k)
        threads = min(threads, numba.get_num_threads())
        start = time.perf_counter_ns() if timed else 0
        if threads > 1:
            _gemm_parallel(a, a_t, b, b_t, z, y, bias, code, slope, threads)
        else:
            _gemm_serial(a, a_t, b, b_t, z, y, bias, code, slope)
        if timed:
            CHOOSER.record("numba", key, threads, time.perf_counter_ns() - start)
    else:
        _gemm_serial(a, a_t, b, b_t, z, y, bias, code, slope)


def _blas(a, b, z):
    """z = a @ b by numpy's BLAS, on the thread count ``threads.CHOOSER`` picks for it."""
    m, k = a.shape
    flops = 2 * m * k * b.shape[1]
    if flops < MIN_FLOPS and not CHOOSER.probes_small:
        np.matmul(a, b, out=z)
        return
    key = (m, k, b.shape[1], a.strides, b.strides, a.dtype.char)
    threads, timed = CHOOSER.pick("blas", key, flops, (a, b))
    if not timed:   # nothing to learn, or a settled shape's untimed call
        np.matmul(a, b, out=z)
        return
    start = time.perf_counter_ns()
    np.matmul(a, b, out=z)
    CHOOSER.record("blas", key, threads, time.perf_counter_ns() - start)


def _epilogue(z, y, bias, code, slope):
    """z += bias (None: no bias); y = act(z), in one pass, after a product that did not apply
    them."""
    if code != _IDENTITY:
        per_code(code).epilogue(z, y, np.empty(0, z.dtype) if bias is None else bias, slope)
    elif bias is not None and bias.size:   # numpy's add is as fast, and leaves no kernel to
        np.add(z, bias, out=z)             # compile for identity


def _as_rows(x):
    """``(x, False)`` for a C-contiguous x, ``(x.T, True)`` for a transposed one.

    Packing reads rows of the array it gets, so a transposed view is packed straight from its
    own memory with the loops swapped. Any other layout (a strided slice, a reversed view) is
    copied once here: the packing would read it element by element anyway, and compiling
    every kernel for general strides too would double the first-use compile time.
    """
    if x.flags.c_contiguous:
        return x, False
    if x.T.flags.c_contiguous:
        return x.T, True
    return np.ascontiguousarray(x), False


@njit(cache=True, nogil=True, parallel=True)
def _gemm_batched(a, a_t, b, b_t, z, bias):
    """z[i] = A[i] @ B[i] for each matrix of the 3-D stacks, one thread per matrix."""
    for i in prange(z.shape[0]):
        _gemm_serial(a[i], a_t, b[i], b_t, z[i], z[i], bias, runtime_int(_IDENTITY), 0.0)


def matmul(a, b, route="auto"):
    """``a @ b`` with numpy's rules (1-D, 2-D, batched with broadcast batch dimensions).

    ``a`` and ``b``: float arrays of one dtype (float32 or float64), any strides. ``route`` as
    in ``gemm``; stacks of matrices go to numpy's matmul unless ``route="numba"``, which runs
    one matrix per thread through the serial tiled kernel.
    """
    if a.ndim == 1 and b.ndim == 1:
        out = np.empty((1, 1), a.dtype)
        gemm(a.reshape(1, -1), b.reshape(-1, 1), out, route=route)
        return out.reshape(())
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.ndim == 2 and b2.ndim == 2:
        out = np.empty((a2.shape[0], b2.shape[1]), a.dtype)
        gemm(a2, b2, out, route=route)
    elif route == "numba":
        out = _batched(a2, b2)
    else:
        out = np.matmul(a2, b2)
    if a.ndim == 1:
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = out.reshape(out.shape[:-1])
    return out


def _batched(a, b):
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    # Broadcast batch dimensions have stride 0; reshape copies only when it must.
    count = int(np.prod(batch))
    a3 = _broadcast_stack(a, batch, count)
    b3 = _broadcast_stack(b, batch, count)
    out = np.empty((a3.shape[0], m, n), a.dtype)
    if k == 0 or out.size == 0:
        out[...] = 0
    else:
        a3, a_t = _stack_as_rows(a3)
        b3, b_t = _stack_as_rows(b3)
        _gemm_batched(a3, a_t, b3, b_t, out, np.empty(0, a.dtype))
    return out.reshape(batch + (m, n))


def _broadcast_stack(x, batch, count):
    """x broadcast to ``batch`` leading dimensions, as a (count, rows, cols) stack.

    np.broadcast_to marks its result read-only, and Numba compiles a separate version of
    every kernel for read-only arrays; the same zero-stride view is made here from x itself,
    which is writable. The kernels only read it. (reshape copies when the view cannot be
    flattened to one batch dimension.)
    """
    view = np.broadcast_to(x, batch + x.shape[-2:])
    if x.flags.writeable:
        view = np.lib.stride_tricks.as_strided(x, view.shape, view.strides, writeable=True)
    return view.reshape((count,) + x.shape[-2:])


def _stack_as_rows(x):
    """Like ``_as_rows`` for a stack of matrices (the last two axes)."""
    if x.flags.c_contiguous:
        return x, False
    swapped = x.swapaxes(1, 2)
    if swapped.flags.c_contiguous:
        return swapped, True
    return np.ascontiguousarray(x), False
