"""The compiled forward pass of a whole dense network, for ``mlp.CompiledMLP``.

``mlp_forward`` runs every layer of a network in one call, with no allocation per layer (two
regions of a scratch buffer hold the hidden activations). Each layer reads its weight matrix in
place, row by row: a block of ``ROWS`` examples times one register tile row of columns (64
float32 with AVX-512, 16 with AVX2: ``intrinsics.TILE_ROW_BYTES``), or of one example times
up to ``ROWS`` tile rows, accumulates in registers while the inputs stream through; bias and
activation are applied to the block as it is stored. Weights may be stored in 16 bits (see
``precision``), widened to float32 as they are loaded.

It is compiled per weight format and per set of activations a network uses (an unused
activation is never compiled). The kernels release the GIL and run on the calling thread.
"""

import numba
from numba import literally, njit, types
from numba.extending import overload

from . import cache_stamp  # noqa: F401 - first: an edited kernel source recompiles all
from .activations import activate
from .intrinsics import runtime_int, stack_tile, tile_columns, tile_width
from .precision import widen

__all__ = ["ROWS", "VECTOR_MIN_COLS", "mlp_forward"]

ROWS = 4   # examples per register block when the batch has at least that many
VECTOR_MIN_COLS = 64   # the narrowest single-row block that compiles to vector code


@njit(cache=True, nogil=True, fastmath={"contract"})
def _block(inp, i0, rows, tiles, weights, w_off, j0, fmt, out):
    """out[i0:i0+rows, j0:j0+tiles*NR] = inp[i0:i0+rows] @ W[:, those columns].

    ``rows`` and ``tiles`` are compile-time constants with rows * tiles <= ROWS (4) tile rows
    of accumulators (16 zmm registers with AVX-512, 8 ymm with AVX2). Each weight row segment
    is loaded once, widened to the arithmetic's dtype if stored in 16 bits, and used by every
    row of the block; the weights are read in place (row-major W, no packing).
    """
    nin, nout = inp.shape[1], out.shape[1]
    cols = tiles * tile_width(out.dtype)
    acc = numba.carray(stack_tile(ROWS, out.dtype), (rows, cols))
    for r in range(rows):
        for j in range(cols):
            acc[r, j] = 0
    # One loop over the block's columns, not tiles of columns: a loop of one tile row (two
    # AVX2 registers) is unrolled before LLVM's vectorizer sees it, and a single row's block
    # then ran as scalar multiply-adds.
    for p in range(nin):
        start = w_off + p * nout + j0
        wrow = weights[start:start + cols]
        for j in range(cols):
            wv = widen(wrow[j], fmt)
            for r in range(rows):
                acc[r, j] += inp[i0 + r, p] * wv
    for r in range(rows):
        orow = out[i0 + r, j0:j0 + cols]
        for j in range(cols):
            orow[j] = acc[r, j]


@njit(cache=True, nogil=True, fastmath={"contract"})
def _row(inp, i, weights, w_off, j0, j1, fmt, out):
    """out[i, j0:j1] = inp[i] @ W[:, j0:j1], accumulated in the output row itself.

    For the columns of one example that no block of at least ``VECTOR_MIN_COLS`` covers (see
    ``_single_row``): this loop's run-time length keeps it a vector loop, where a block that
    narrow would run as scalar multiply-adds. The sums run in ``_block``'s order (from 0, one
    multiply-add per input), so an example gets the bits it would get in any block.
    """
    nout = out.shape[1]
    orow = out[i, j0:j1]
    for j in range(j1 - j0):
        orow[j] = 0
    for p in range(inp.shape[1]):
        xv = inp[i, p]
        start = w_off + p * nout + j0
        wrow = weights[start:start + j1 - j0]
        for j in range(j1 - j0):
            orow[j] += xv * widen(wrow[j], fmt)


def _single_row(inp, i, weights, w_off, full, fmt, out):
    """out[i, :full] = inp[i] @ W[:, :full] for one example: blocks of ROWS, 2 and 1 tile rows
    of accumulators side by side, as many as fit, then ``_row`` for the columns left."""
    raise NotImplementedError("compiled code only")


@overload(_single_row, jit_options={"cache": True, "nogil": True})
def _single_row_overload(inp, i, weights, w_off, full, fmt, out):
    # Only blocks of at least VECTOR_MIN_COLS columns: a narrower block's column loop is
    # unrolled before LLVM's vectorizer sees it, and one row's block then compiles to scalar
    # multiply-adds (inspect_asm: a float64 block of one AVX-512 tile row, 32 columns, and
    # float32 blocks of one or two AVX2 tile rows). Those columns go to _row, a vector loop.
    # The choice is made here, per dtype, so that no unused block is compiled.
    nr = tile_columns(out.dtype.bitwidth // 8)
    wide4, wide2, wide1 = (tiles * nr >= VECTOR_MIN_COLS for tiles in (ROWS, 2, 1))

    def single_row(inp, i, weights, w_off, full, fmt, out):
        j0 = runtime_int(0)
        if wide4:
            while j0 + ROWS * nr <= full:
                _block(inp, i, 1, ROWS, weights, w_off, j0, fmt, out)
                j0 += ROWS * nr
        if wide2:
            while j0 + 2 * nr <= full:
                _block(inp, i, 1, 2, weights, w_off, j0, fmt, out)
                j0 += 2 * nr
        if wide1:
            while j0 + nr <= full:
                _block(inp, i, 1, 1, weights, w_off, j0, fmt, out)
                j0 += nr
        if j0 < full:
            _row(inp, i, weights, w_off, j0, full, fmt, out)
    return single_row


@njit(cache=True, nogil=True)
def _bias_act(out, i0, rows, j0, cols, bias, code, slope):
    """out[i0:i0+rows, j0:j0+cols] = act(that block + bias), one contiguous row at a time.

    ``code`` is a compile-time constant, so the loop holds one activation and vectorizes.
    """
    brow = bias[j0:j0 + cols]
    for i in range(i0, i0 + rows):
        orow = out[i, j0:j0 + cols]
        for j in range(cols):
            orow[j] = activate(code, orow[j] + brow[j], slope)


@njit(cache=True, nogil=True)
def _layer(inp, weights, w_off, bias, fmt, code, slope, out):
    """out = act(inp @ W + bias) for one dense layer, in register blocks."""
    n, nin = inp.shape
    nout = out.shape[1]
    nr = tile_width(out.dtype)
    full = nout - nout % nr
    i0 = runtime_int(0)   # a literal 0 would compile _block once more (see runtime_int)
    while i0 + ROWS <= n:
        for j0 in range(0, full, nr):
            _block(inp, i0, ROWS, 1, weights, w_off, j0, fmt, out)
            _bias_act(out, i0, runtime_int(ROWS), j0, nr, bias, code, slope)
        i0 += ROWS
    for i in range(i0, n):   # single rows: the same ROWS tile rows of accumulators, side by side
        _single_row(inp, i, weights, w_off, full, fmt, out)
        _bias_act(out, i, runtime_int(1), runtime_int(0), full, bias, code, slope)
    # Columns past the last full tile (e.g. a single output score): plain dot products.
    for j in range(full, nout):
        for i in range(n):
            s = bias[j]
            for p in range(nin):
                s += inp[i, p] * widen(weights[w_off + p * nout + j], fmt)
            out[i, j] = activate(code, s, slope)


def _run_layer(acts, code, inp, weights, w_off, bias, fmt, slope, out):
    """``_layer`` with ``code`` as a compile-time constant, chosen among the codes in the
    bit set ``acts`` (a compile-time constant): only those are compiled."""
    raise NotImplementedError("compiled code only")


@overload(_run_layer, jit_options={"cache": True, "nogil": True})
def _run_layer_overload(acts, code, inp, weights, w_off, bias, fmt, slope, out):
    if not isinstance(acts, types.IntegerLiteral):
        return None   # Numba retries with the literal
    first = (acts.literal_value & -acts.literal_value).bit_length() - 1
    rest = acts.literal_value & ~(1 << first)
    if not rest:   # the last candidate: the description's check made sure code is one of them
        def last(acts, code, inp, weights, w_off, bias, fmt, slope, out):
            _layer(inp, weights, w_off, bias, fmt, first, slope, out)
        return last

    def branch(acts, code, inp, weights, w_off, bias, fmt, slope, out):
        if code == first:
            _layer(inp, weights, w_off, bias, fmt, first, slope, out)
        else:
            _run_layer(rest, code, inp, weights, w_off, bias, fmt, slope, out)
    return branch


@njit(cache=True, nogil=True)
def mlp_forward(x, out, scratch, weights, vectors, meta, fmt, acts):
    """Run a whole MLP on ``x``, n examples of nin values one after another (1-D), writing
    ``out`` (n * nout values, 1-D).

    ``meta`` (int64): the number of layers L, the L + 1 layer sizes, then the L activation
    codes. ``weights``: each layer's row-major (nin, nout) matrix, in format ``fmt``;
    ``vectors`` (x's dtype): each layer's bias, then the L activation slopes. ``scratch``: at
    least 2 * n * (widest hidden layer) values of x's dtype, two regions for the hidden
    activations. ``fmt`` (``precision.NATIVE``, ``BFLOAT16`` or ``FLOAT16``) and ``acts`` (the
    bit set of the activation codes used) are compile-time constants. Few arguments, because
    unpacking each costs time on every call (typed arrays rather than views of one byte
    buffer, though: a view inside the kernel costs more than passing an array).
    """
    literally(fmt)
    literally(acts)
    nlayers = meta[0]
    sizes, codes = meta[1:nlayers + 2], meta[nlayers + 2:]
    n = x.size // sizes[0]
    half = scratch.size // 2
    inp = x.reshape((n, sizes[0]))
    w_off, b_off = runtime_int(0), runtime_int(0)
    for layer in range(nlayers):
        nin, nout = sizes[layer], sizes[layer + 1]
        if layer == nlayers - 1:
            dst = out.reshape((n, nout))
        else:
            start = (layer % 2) * half
            dst = scratch[start:start + n * nout].reshape((n, nout))
        _run_layer(acts, codes[layer], inp, weights, w_off, vectors[b_off:b_off + nout], fmt,
                   vectors[vectors.size - nlayers + layer], dst)
        w_off += nin * nout
        b_off += nout
        inp = dst
