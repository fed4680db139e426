"""Host side of the matrix products and the fused layer ``activation(x @ W + b)``.

``matmul`` follows numpy's rules (1-D operands promoted and the added dimension removed again,
batch dimensions broadcast) and hands the tiled kernel strided views, so transposed operands
(``W.T`` and ``x.T`` in the backward pass) are read in place. The fused layer's forward is one
launch (the bias and activation in the kernel's epilogue); its backward is the ``dz_db`` pass
(``dz = grad * activation'(z)`` and the column sums that make the bias gradient), then the two
products ``dz @ W.T`` and ``x.T @ dz``.
"""

import numpy as np

from ... import activations as registry
from . import devicefns as fn
from .catalog import CATALOG
from .dispatch import empty, fill
from .layout import broadcast_strides, coalesce, contiguous_strides, numel, padded
from .matmul import DZ_COLS, DZ_ROWS, TILES
from .reductions import reduce

__all__ = ["TILE_CHOICES", "matmul", "linear_act_backward", "as_matrix"]

TILE_CHOICES = ("auto", "large", "small")
# Below this many large tiles the GPU's multiprocessors would sit idle: use the small tiles;
# below this many small ones, split the depth (never into pieces shorter than _MIN_CHUNK).
_LARGE_TILES_FROM = 256
_MIN_CHUNK = 128
_MAX_GRID_Z = 65535


def _tiles(name, m, n, batch):
    bm, bn = TILES[name][:2]
    return -(-m // bm) * -(-n // bn) * batch


def _choose(tile, m, n, batch):
    if tile != "auto":
        return f"matmul_{tile}"
    return ("matmul_large" if _tiles("matmul_large", m, n, batch) >= _LARGE_TILES_FROM
            else "matmul_small")


def _splits(name, m, n, k, batch):
    """How many pieces of the depth to sum separately: enough blocks to fill the GPU."""
    wanted = -(-_LARGE_TILES_FROM // _tiles(name, m, n, batch))
    return max(1, min(wanted, k // _MIN_CHUNK))


def matmul(a, b, bias=None, code=registry.IDENTITY, slope=0.0, tile="auto"):
    """``(z, y)``: ``z = a @ b (+ bias)`` and ``y = activation(z)`` (y is z for identity), for
    CudaArrays of one dtype (float32, float64 or int64)."""
    dtype = a.dtype
    a2 = a.view((1,) + a.shape, (0,) + a._strides) if a.ndim == 1 else a
    b2 = b.view(b.shape + (1,), b._strides + (0,)) if b.ndim == 1 else b
    m, k = a2.shape[-2:]
    n = b2.shape[-1]
    batch_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a_bstr = broadcast_strides(a2.shape[:-2], a2._strides[:-2], batch_shape)
    b_bstr = broadcast_strides(b2.shape[:-2], b2._strides[:-2], batch_shape)
    batch = numel(batch_shape)
    z = empty(batch_shape + (m, n), dtype)
    y = z if code == registry.IDENTITY else empty(z.shape, dtype)
    if batch and m and n:
        merged_shape, (_, a_bstr, b_bstr) = coalesce(batch_shape, contiguous_strides(batch_shape),
                                                     a_bstr, b_bstr)
        name = _choose(tile, m, n, batch)
        bm, bn = TILES[name][:2]
        has_bias = bias is not None
        # The partial sums of a split depth are added afterwards: no epilogue for them.
        splits = 1 if has_bias or code != registry.IDENTITY else _splits(name, m, n, k, batch)
        chunk = -(-k // splits)
        target = z if splits == 1 else empty(batch_shape + (splits, m, n), dtype)
        grid = (-(-n // bn), -(-m // bm), min(batch * splits, _MAX_GRID_Z))
        bias_args = ((bias._storage.data, bias._offset, bias._strides[0]) if has_bias
                     else (z._storage.data, 0, 0))
        CATALOG[name][dtype][grid, 256](
            target._storage.data, target._storage.data if y is z else y._storage.data,
            a2._storage.data, a2._offset, a2._strides[-2], a2._strides[-1], b2._storage.data,
            b2._offset, b2._strides[-2], b2._strides[-1], *bias_args, has_bias, code,
            dtype.type(slope), m, n, k, batch, padded(merged_shape, 1), padded(a_bstr),
            padded(b_bstr), len(merged_shape), splits, chunk)
        if splits > 1:
            reduce(target, (len(batch_shape),), False, fn.SUM, out=z)
    return _squeezed(z, a, b), _squeezed(y, a, b)


def _squeezed(out, a, b):
    """Undo the promotion of 1-D operands, as numpy's matmul does."""
    shape, strides = out.shape, out._strides
    if a.ndim == 1:
        shape, strides = shape[:-2] + shape[-1:], strides[:-2] + strides[-1:]
    if b.ndim == 1:
        shape, strides = shape[:-1], strides[:-1]
    return out.view(shape, strides) if shape != out.shape else out


def as_matrix(a, reshape):
    """``a`` as a 2-D (rows, last dimension) array: a 1-D one as a single row (a view), more
    dimensions merged by ``reshape`` (the backend's, a view when the layout allows)."""
    if a.ndim == 1:
        return a.view((1,) + a.shape, (0,) + a._strides)
    if a.ndim == 2:
        return a
    return reshape(a, (-1, a.shape[-1]))


def linear_act_backward(x, w, z, y, grad, code, slope, needs_b, needs_x, reshape, tile="auto"):
    """``(dx, dw, db)`` of the fused layer (see ``NumpyBackend.linear_act_backward``)."""
    x2, z2, y2, g2 = (as_matrix(t, reshape) for t in (x, z, y, grad))
    rows, cols = g2.shape
    dtype = g2.dtype
    db = None
    if code == registry.IDENTITY:
        dz2 = g2
        if needs_b:
            db = reduce(g2, (0,), False, fn.SUM)
    else:
        dz2 = empty((rows, cols), dtype)
        column_blocks = -(-cols // DZ_COLS)
        chunks = max(1, min(-(-rows // 64), -(-256 // column_blocks)))
        rows_per_chunk = -(-rows // chunks)
        partial = empty((chunks, cols), dtype)
        if not rows:
            fill(partial, 0)
        elif cols:
            CATALOG["dz_db"][dtype][(column_blocks, chunks), (DZ_COLS, DZ_ROWS)](
                dz2._storage.data, partial._storage.data,
                *_matrix_args(z2), *_matrix_args(y2), *_matrix_args(g2),
                rows, cols, rows_per_chunk, code, dtype.type(slope))
        if needs_b:
            db = partial.view((cols,), (1,)) if chunks == 1 else reduce(partial, (0,), False,
                                                                        fn.SUM)
    dx = None
    if needs_x:
        dx, _ = matmul(dz2, w.view(w.shape[::-1], w._strides[::-1]), tile=tile)
        dx = dx.view(x.shape, contiguous_strides(x.shape))
    x2t = x2.view(x2.shape[::-1], x2._strides[::-1])
    dw, _ = matmul(x2t, dz2, tile=tile)
    return dx, dw, db


def _matrix_args(a):
    return a._storage.data, a._offset, a._strides[0], a._strides[1]
