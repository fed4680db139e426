"""Host side of the reductions: an array and its axes seen as an M x K matrix of views, the
kernel and the number of segments chosen (``reduce.plan``), and the second pass when the rows
were split; and the prefix sums along lines."""

from . import devicefns as fn
from .catalog import CATALOG
from .dispatch import dense, empty
from .layout import coalesce, numel, padded
from .reduce import SCAN_BLOCK, identity, plan
from .runtime import launch_1d

__all__ = ["reduce", "inclusive_scan", "cumsum"]

_MAX_GRID_Y = 65535


def reduce(a, axes, keepdims, op, transform=fn.NO_TRANSFORM, power=0.0, out=None):
    """``a`` reduced over ``axes`` (None: all) with ``op`` (``devicefns.SUM/MAX/MIN``),
    applying ``transform`` (|x| or |x|^power) to each element first; the result has a's dtype
    (callers cast first where numpy's result dtype differs). ``out``: a contiguous array of
    the result's size to write into, instead of a new one."""
    ndim = a.ndim
    axes = tuple(range(ndim)) if axes is None else tuple(sorted(int(x) % ndim for x in axes))
    kept = [d for d in range(ndim) if d not in axes]
    kept_shape = [a.shape[d] for d in kept]
    red_shape = [a.shape[d] for d in axes]
    out_shape = (tuple(1 if d in axes else a.shape[d] for d in range(ndim)) if keepdims
                 else tuple(kept_shape))
    out = empty(out_shape, a.dtype) if out is None else out
    m_count, k_count = numel(kept_shape), numel(red_shape)
    if m_count == 0:
        return out
    if k_count == 0 and op in (fn.MAX, fn.MIN):
        name = "maximum" if op == fn.MAX else "minimum"
        raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
    kept_group = coalesce(kept_shape, [a._strides[d] for d in kept])
    red_group = coalesce(red_shape, [a._strides[d] for d in axes])
    _reduce_matrix(a, a._offset, kept_group, red_group, m_count, k_count, op, transform, power,
                   out)
    return out


def _reduce_matrix(a, offset, kept_group, red_group, m_count, k_count, op, transform, power, out):
    (kept_shape, (kept_strides,)), (red_shape, (red_strides,)) = kept_group, red_group
    name, segments, threads = plan(m_count, k_count, kept_strides[-1], red_strides[-1])
    dtype = a.dtype
    target = out if segments == 1 else empty((m_count * segments,), dtype)
    written = target._storage.data
    if target._offset:
        written = written[target._offset:]
    args = (op, transform, dtype.type(power), identity(op, dtype), written,
            a._storage.data, offset, padded(kept_shape, 1), padded(kept_strides),
            len(kept_shape), padded(red_shape, 1), padded(red_strides), len(red_shape), m_count,
            k_count, segments)
    blocks = m_count * segments
    if name == "reduce_rows":
        CATALOG[name][dtype][blocks, threads](*args)
    else:
        CATALOG[name][dtype][launch_1d(blocks)](*args)
    if segments > 1:
        # Partial results: (M, S) from the row kernel, (S, M) from the column kernel.
        layout = (segments, 1) if name == "reduce_rows" else (1, m_count)
        _reduce_matrix(target, 0, ((m_count,), [(layout[0],)]), ((segments,), [(layout[1],)]),
                       m_count, segments, op, fn.NO_TRANSFORM, 0.0, out)


def inclusive_scan(values, lines, length):
    """Running sums along each line of ``values`` (a contiguous array from offset 0 holding
    ``lines`` lines of ``length``), as a new flat array."""
    dtype = values.dtype
    out = empty((lines * length,), dtype)
    if lines * length == 0:
        return out
    threads = launch_1d(length, SCAN_BLOCK)[1]
    chunks = -(-length // threads)
    sums = empty((lines * chunks,), dtype)
    grid = (chunks, min(lines, _MAX_GRID_Y))
    CATALOG["scan_lines"][dtype][grid, threads](out._storage.data, values._storage.data,
                                                sums._storage.data, length, lines, chunks)
    if chunks > 1:
        prefix = inclusive_scan(sums, lines, chunks)
        CATALOG["scan_add"][dtype][grid, threads](out._storage.data, prefix._storage.data,
                                                  length, lines, chunks)
    return out


def cumsum(a, axis):
    """Running sums of ``a`` along ``axis`` (a non-negative int), in a's dtype."""
    # Scan contiguous lines: the axis moved last, scanned, and moved back (a view).
    order = [d for d in range(a.ndim) if d != axis] + [axis]
    lines = dense(a.view(tuple(a.shape[d] for d in order), tuple(a._strides[d] for d in order)))
    length = a.shape[axis]
    scanned = inclusive_scan(lines, a.size // length if length else 0, length)
    back = [order.index(d) for d in range(a.ndim)]
    return scanned.view(tuple(lines.shape[d] for d in back),
                        tuple(lines._strides[d] for d in back))
