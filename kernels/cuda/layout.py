"""How a CUDA array's elements sit in its buffer: shape, strides and offset, as in numpy.

A ``CudaArray`` is a view of a flat device buffer: element ``(i0, i1, ...)`` lives at
``offset + i0 * strides[0] + i1 * strides[1] + ...`` (strides count elements, not bytes).
Transposes, broadcasts, basic indexing and most reshapes are therefore new views, made here on
the host without touching the GPU; kernels receive the view's numbers and do the arithmetic.

Kernels take shapes and strides as fixed-length tuples (``MAX_DIMS`` entries, padded), so one
compiled kernel serves every rank. ``coalesce`` first merges the dimensions that every operand
walks through contiguously, so a contiguous array reaches a kernel as one dimension and the
per-element index arithmetic (an integer division per extra dimension) disappears.
"""

import numbers

import numpy as np

from ...errors import ShapeError

__all__ = ["MAX_DIMS", "numel", "contiguous_strides", "is_contiguous", "is_basic_index",
           "expand_ellipsis", "basic_view", "broadcast_strides", "coalesce", "padded"]

MAX_DIMS = 8


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def contiguous_strides(shape):
    """C-order strides (in elements) of a fresh array of ``shape``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def is_contiguous(shape, strides):
    """True when the view walks its elements in C order without gaps (sizes 1 ignored)."""
    step = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 0:
            return True
        if n != 1 and s != step:
            return False
        step *= n
    return True


def is_basic_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, numbers.Integral) and not isinstance(p, (bool, np.bool_)))
               for p in parts)


def expand_ellipsis(parts, ndim):
    """``parts`` with ``...`` replaced by enough full slices (numpy's rule), and full slices
    appended for the dimensions the index does not mention. An entry takes one input dimension,
    except None (none) and a k-dimensional boolean mask (k)."""
    if sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_consumed(p) for p in parts if p is not Ellipsis)
    if used > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but "
                         f"{used} were indexed")
    fill = (slice(None),) * (ndim - used)
    if any(p is Ellipsis for p in parts):
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        return parts[:at] + fill + parts[at + 1:]
    return parts + fill


def _consumed(part):
    if part is None:
        return 0
    if getattr(part, "dtype", None) == np.bool_:
        return part.ndim
    return 1


def basic_view(shape, strides, offset, index):
    """``(shape, strides, offset)`` of ``view[index]`` for a basic index (ints, slices, None,
    ``...``), with numpy's errors for out-of-range ints."""
    parts = expand_ellipsis(index if isinstance(index, tuple) else (index,), len(shape))
    out_shape, out_strides, dim = [], [], 0
    for part in parts:
        if part is None:
            out_shape.append(1)
            out_strides.append(0)
            continue
        n, s = shape[dim], strides[dim]
        if isinstance(part, slice):
            start, stop, step = part.indices(n)
            out_shape.append(len(range(start, stop, step)))
            out_strides.append(s * step)
            offset += start * s
        else:
            i = int(part)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {dim} with size {n}")
            offset += (i % n) * s
        dim += 1
    return tuple(out_shape), tuple(out_strides), offset


def broadcast_strides(shape, strides, target):
    """Strides that read a view of ``shape`` as if broadcast to ``target`` (0 where a size-1
    or missing dimension is repeated); ValueError, as numpy's, when it cannot be."""
    lead = len(target) - len(shape)
    if lead < 0:
        raise ValueError(f"input operand has more dimensions than allowed by the axis remapping "
                         f"(cannot broadcast {shape} to {target})")
    out = [0] * lead
    for n, s, t in zip(shape, strides, target[lead:]):
        if n == t:
            out.append(s if n != 1 else 0)
        elif n == 1:
            out.append(0)
        else:
            raise ValueError(f"operands could not be broadcast together with remapped shapes "
                             f"[original->remapped]: {shape} and requested shape {target}")
    return tuple(out)


def coalesce(shape, *strides_list):
    """``(shape, [strides, ...])`` with size-1 dimensions dropped and neighbouring dimensions
    merged wherever every operand steps through them as one (at least one dimension left)."""
    dims = [(n, [s[d] for s in strides_list]) for d, n in enumerate(shape) if n != 1]
    merged = []
    for n, ss in dims:
        if merged:
            pn, ps = merged[-1]
            if all(p == s * n for p, s in zip(ps, ss)):
                merged[-1] = (pn * n, ss)
                continue
        merged.append((n, ss))
    if not merged:
        merged = [(1, [0] * len(strides_list))]
    if len(merged) > MAX_DIMS:
        raise ShapeError(f"the CUDA backend handles arrays of at most {MAX_DIMS} dimensions "
                         f"(after merging contiguous ones), got shape {tuple(shape)}")
    out_shape = tuple(n for n, _ in merged)
    return out_shape, [tuple(ss[i] for _, ss in merged) for i in range(len(strides_list))]


def padded(values, fill=0):
    """``values`` as a tuple of exactly ``MAX_DIMS`` ints (the kernels' argument type)."""
    values = tuple(int(v) for v in values)
    if len(values) > MAX_DIMS:
        raise ShapeError(f"the CUDA backend handles arrays of at most {MAX_DIMS} dimensions, "
                         f"got {len(values)}")
    return values + (fill,) * (MAX_DIMS - len(values))
