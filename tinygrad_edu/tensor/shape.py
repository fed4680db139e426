"""Tensor shape operations: reshape, permute, transpose, squeeze, expand, flip, repeat, indexing.

A mixin of ``Tensor``; each method validates its arguments, then applies one primitive (or, for
flatten, squeeze, unsqueeze, flip and repeat, composes them).

``transpose(dim0, dim1)`` swaps two axes, as in PyTorch; numpy's ``transpose(axes)`` (a full
permutation) is ``permute`` here, and a call that reads as numpy's raises with that fix.
Indexing follows PyTorch where it differs from numpy: integers are applied first, like slices,
so ``x[0, :, idx]`` on shape (2, 3, 4) is ``x[0][:, idx]``, of shape (3, len(idx)).
"""

import numbers

import numpy as np

from . import primitives
from ..errors import ArgumentError, AxisError, IndexingError, ShapeError
from .validation import (axis_spellings, check_values, extremes, normalize_axis, shape_arg,
                         single_axis)

__all__ = ["TensorShapeOps", "gather_unchecked"]


class TensorShapeOps:
    """Methods that change how a tensor's values are laid out, or pick some of them."""

    __slots__ = ()

    def reshape(self, *shape):
        """The same values with a new shape; one entry may be -1."""
        shape = shape_arg(shape, "reshape")
        if shape.count(-1) > 1 or any(n < -1 for n in shape):
            raise ShapeError(f"reshape: invalid target shape {shape}; only one -1 is allowed "
                             "and sizes must be non-negative")
        known = int(np.prod([n for n in shape if n != -1]))
        if -1 in shape:
            if known == 0 or self.numel() % known:
                raise ShapeError(f"reshape: cannot reshape tensor of shape {self.shape} "
                                 f"({self.numel()} elements) into {shape}")
            shape = tuple(self.numel() // known if n == -1 else n for n in shape)
        elif known != self.numel():
            raise ShapeError(f"reshape: cannot reshape tensor of shape {self.shape} "
                             f"({self.numel()} elements) into {shape} ({known} elements)")
        if shape == self.shape:
            return self
        return primitives.Reshape.apply(self, shape=shape)

    def view(self, *shape):
        """PyTorch's name for ``reshape`` (allowed here whatever the tensor's memory layout)."""
        return self.reshape(*shape)

    def contiguous(self):
        """A copy in memory of its own, differentiable. Every op here accepts any layout; what
        this gives is a tensor that can be written in place (``copy_``) even when this one is
        a view that cannot, such as an ``expand`` result. PyTorch copies only when the layout
        needs it; the backends do not expose layouts, so this always copies."""
        return primitives.Contiguous.apply(self)

    def permute(self, *dims):
        """Axes reordered so that axis i of the result is axis ``dims[i]`` of this tensor:
        ``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))`` (numpy's ``transpose(axes)``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        normalized = tuple(int(a) % self.ndim for a in dims
                           if isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                           and -self.ndim <= a < self.ndim)
        if len(dims) != self.ndim or sorted(normalized) != list(range(self.ndim)):
            raise AxisError(f"permute: dims {dims} are not a permutation of the "
                            f"{self.ndim} dimensions of a tensor of shape {self.shape}")
        if normalized == tuple(range(self.ndim)):
            return self
        return primitives.Transpose.apply(self, axes=normalized)

    def transpose(self, *dims):
        """Axes ``dim0`` and ``dim1`` swapped, as in PyTorch: ``x.transpose(0, 1)``.

        With no arguments, the matrix transpose of a tensor of at most 2 dimensions (``t()``).
        numpy's meaning, a full permutation (``transpose((2, 0, 1))``, ``transpose(2, 0, 1)``,
        or no arguments on more than 2 dimensions), is ``permute`` (or ``.T``) here: those
        calls raise ``ArgumentError`` saying so.
        """
        reverse = tuple(range(self.ndim - 1, -1, -1))
        if not dims:
            if self.ndim <= 2:
                return self.t()
            raise ArgumentError(f"transpose: with no arguments numpy reverses all {self.ndim} "
                                f"axes, while PyTorch swaps two that you name; write "
                                f"x.permute{reverse} (or x.T) to reverse them all, or "
                                f"x.transpose(dim0, dim1) to swap two")
        if len(dims) != 2 or not all(isinstance(d, numbers.Integral) for d in dims):
            numpy_axes = tuple(dims[0]) if len(dims) == 1 and isinstance(
                dims[0], (tuple, list)) else dims
            raise ArgumentError(f"transpose: takes two axes to swap (dim0, dim1), as in "
                                f"PyTorch, got {dims!r}; for numpy's full permutation write "
                                f"x.permute{tuple(numpy_axes)!r}")
        dim0, dim1 = normalize_axis(dims[0], self.ndim, "transpose"), normalize_axis(
            dims[1], self.ndim, "transpose")
        if dim0 == dim1:   # the same axis twice, or a 0-d tensor
            return self
        order = list(range(self.ndim))
        order[dim0[0]], order[dim1[0]] = order[dim1[0]], order[dim0[0]]
        return primitives.Transpose.apply(self, axes=tuple(order))

    def t(self):
        """The matrix transpose of a 2-D tensor; a 0-d or 1-D tensor is returned as it is
        (PyTorch's ``t()``)."""
        if self.ndim > 2:
            raise ShapeError(f"t: expects a tensor of at most 2 dimensions, got shape "
                             f"{self.shape}; use x.transpose(dim0, dim1) or x.permute(...)")
        return self.permute(1, 0) if self.ndim == 2 else self

    T = property(lambda self: self.permute(tuple(range(self.ndim - 1, -1, -1))),
                 doc="The tensor with all its axes reversed (numpy's ``.T``; PyTorch "
                     "deprecates ``.T`` beyond 2 dimensions, where ``permute`` says what "
                     "is meant).")

    @axis_spellings
    def flatten(self, start_axis=0, end_axis=-1):
        """Axes ``start_axis..end_axis`` merged into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = normalize_axis((start_axis,), self.ndim, "flatten")[0], \
            normalize_axis((end_axis,), self.ndim, "flatten")[0]
        if start > end:
            raise AxisError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
        merged = int(np.prod(self.shape[start:end + 1]))
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    @axis_spellings
    def unsqueeze(self, axis):
        """A new size-1 axis inserted at ``axis`` (or several: a tuple of their positions in
        the result, as numpy's ``expand_dims``)."""
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        ndim = self.ndim + len(axes)
        for a in axes:
            if isinstance(a, (int, np.integer)) and not isinstance(a, bool) and not (
                    -ndim <= a < ndim):
                raise AxisError(f"unsqueeze: axis {a} is out of range for a tensor with "
                                f"{self.ndim} dimensions (valid: {-ndim}..{ndim - 1})")
        new = normalize_axis(axes, ndim, "unsqueeze")
        sizes = iter(self.shape)
        return self.reshape(tuple(1 if i in new else next(sizes) for i in range(ndim)))

    @axis_spellings
    def squeeze(self, axis=None):
        """Size-1 axes removed: all of them, or those of ``axis`` (an int or a tuple); an
        axis of another size is left as it is, as in PyTorch."""
        axes = normalize_axis(axis, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if n != 1 or (axes is not None and i not in axes)))

    def expand(self, *sizes):
        """This tensor broadcast to ``sizes`` without copying (PyTorch's ``expand``): size-1
        dimensions stretch, -1 keeps a dimension, and new dimensions may be added in front.
        The gradient sums over the stretched dimensions."""
        sizes = shape_arg(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ShapeError(f"expand: sizes {sizes} have fewer dimensions than the tensor's "
                             f"shape {self.shape}")
        shape = []
        for i, n in enumerate(sizes):
            own = self.shape[i - lead] if i >= lead else None
            if n == -1 and own is not None:
                n = own
            elif n < 0 or (own is not None and own not in (1, n)):
                raise ShapeError(f"expand: cannot expand shape {self.shape} to {sizes}: "
                                 f"dimension {i} " + ("is new and needs a size >= 0"
                                                      if own is None else
                                                      f"has size {own}, and only size-1 "
                                                      "dimensions stretch"))
            shape.append(n)
        shape = tuple(shape)
        if shape == self.shape:
            return self
        return primitives.Expand.apply(self, shape=shape)

    def repeat(self, *sizes):
        """This tensor tiled ``sizes[i]`` times along dimension i (PyTorch's ``repeat``,
        numpy's ``tile``; numpy's ``repeat``, which repeats each element, is not this). Extra
        leading ``sizes`` add dimensions."""
        sizes = shape_arg(sizes, "repeat")
        if len(sizes) < self.ndim or any(n < 0 for n in sizes):
            raise ShapeError(f"repeat: needs a count >= 0 for each of the {self.ndim} "
                             f"dimensions of shape {self.shape} (and any new leading ones), "
                             f"got {sizes}")
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        spread = self.reshape(tuple(v for n in shape for v in (1, n)))
        tiled = spread.expand(tuple(v for r, n in zip(sizes, shape) for v in (r, n)))
        return tiled.reshape(tuple(r * n for r, n in zip(sizes, shape)))

    @axis_spellings
    def flip(self, dims=None):
        """The elements in reverse order along ``dims`` (an int or a tuple; None: along every
        axis, as numpy's ``flip``)."""
        axes = normalize_axis(dims, self.ndim, "flip")
        axes = range(self.ndim) if axes is None else axes
        if not axes:
            return self
        return primitives.GetItem.apply(self, index=tuple(
            slice(None, None, -1) if i in axes else slice(None) for i in range(self.ndim)))

    @axis_spellings
    def gather(self, dim, index):
        """Values picked along ``dim`` by the integer tensor ``index`` (PyTorch's gather:
        ``out[i][j] = self[i][index[i][j]]`` for dim 1). ``index`` has this tensor's number of
        dimensions and its sizes except along ``dim``; its values must lie in
        ``0..shape[dim] - 1``. Repeated indices accumulate their gradients."""
        axis = single_axis(dim, self.ndim, "gather")
        if not isinstance(index, TensorShapeOps):
            raise IndexingError(f"gather: index must be an integer Tensor, got "
                                f"{type(index).__name__}")
        if index.dtype.kind not in "iu":
            raise IndexingError(f"gather: index must hold integers, got dtype {index.dtype}")
        if index.ndim != self.ndim or any(
                i != axis and m != n for i, (m, n) in enumerate(zip(index.shape, self.shape))):
            raise ShapeError(f"gather: index of shape {index.shape} does not fit a tensor of "
                             f"shape {self.shape} along dim {dim}; it needs {self.ndim} "
                             f"dimensions and the same sizes except along dim {dim}")
        if index._device is not self._device:
            index = index.to(self._device)
        if index.numel():
            check_values(_check_gather_index, index, dim, self.shape[axis])
        return gather_unchecked(self, axis, index)

    def __getitem__(self, index):
        parts = tuple(_as_int(p) for p in (index if isinstance(index, tuple) else (index,)))
        if not any(_is_advanced(p) for p in parts):
            return _index(self, parts if isinstance(index, tuple) else parts[0], index,
                          self.shape)
        parts = _expand_ellipsis(parts, self.ndim)
        if not any(_is_int(p) for p in parts):
            return _index(self, parts, index, self.shape)
        # PyTorch's rule: integers first, like slices; then the arrays on what is left.
        # (numpy counts integers among the arrays, which moves the arrays' dimensions first
        # when a slice separates them: x[0, :, idx] would be (len(idx), 3), not (3, len(idx)).)
        basic, rest = [], []
        for p in parts:
            if _is_advanced(p):
                basic.extend([slice(None)] * _dims_consumed(p))
                rest.append(p)
            elif _is_int(p):
                basic.append(p)
            else:   # a slice or None: its dimension stays for the second step
                basic.append(p)
                rest.append(slice(None))
        return _index(_index(self, tuple(basic), index, self.shape), tuple(rest), index,
                      self.shape)


def _is_int(part):
    return isinstance(part, (numbers.Integral, np.integer)) and not isinstance(
        part, (bool, np.bool_))


def _is_advanced(part):
    """True for the index parts numpy and PyTorch call advanced: arrays, sequences, booleans."""
    return isinstance(part, (TensorShapeOps, np.ndarray, list, tuple, bool, np.bool_))


def _as_int(part):
    """``part``, or the int it holds when it is a 0-d integer Tensor or array (PyTorch treats
    those as ints)."""
    if isinstance(part, (TensorShapeOps, np.ndarray)) and part.ndim == 0 and \
            part.dtype.kind in "iu":
        return int(part.item())
    return part


def _expand_ellipsis(parts, ndim):
    """``parts`` with an Ellipsis written out as the slices it stands for. PyTorch does this
    before it places the arrays' dimensions, so an Ellipsis standing for no dimension does not
    separate two arrays (numpy says it does)."""
    at = next((i for i, p in enumerate(parts) if p is Ellipsis), None)
    if at is None:
        return parts
    consumed = sum(0 if p is None or p is Ellipsis else
                   _dims_consumed(p) if _is_advanced(p) else 1 for p in parts)
    fill = (slice(None),) * max(ndim - consumed, 0)
    return parts[:at] + fill + parts[at + 1:]


def _dims_consumed(part):
    """How many dimensions an advanced index part indexes: a boolean mask its own, an
    integer array one, a boolean scalar none."""
    if isinstance(part, (bool, np.bool_)):
        return 0
    array = np.array(part) if isinstance(part, (list, tuple)) else part
    return array.ndim if array.dtype == np.bool_ else 1


def _index(tensor, index, shown, shape):
    """``tensor[index]`` as one GetItem; an error names the user's index ``shown`` and the
    shape it was applied to."""
    index = _normalize_index(tensor, index)
    try:
        return primitives.GetItem.apply(tensor, index=index)
    except IndexError as exc:
        raise IndexingError(f"getitem: index {shown!r} is invalid for a tensor of shape "
                            f"{shape}: {exc}") from None


def _normalize_index(tensor, index):
    """``index`` with its integer or boolean arrays (Tensors, numpy arrays, lists) moved to
    ``tensor``'s device, where the backend gathers with them."""
    parts = index if isinstance(index, tuple) else (index,)
    backend = tensor._device.backend
    out = []
    for part in parts:
        if isinstance(part, TensorShapeOps):   # a Tensor
            if part._device is tensor._device:
                array = part.data
            else:
                host = part.numpy()
                array = backend.asarray(host, host.dtype)
        elif isinstance(part, (list, tuple, np.ndarray)):
            host = np.array(part)
            array = backend.asarray(host, host.dtype)
        elif isinstance(part, (float, np.floating, str)):
            raise IndexingError(f"getitem: index {part!r} must be an int, slice, None, "
                                "Ellipsis or an integer array")
        else:
            out.append(part)
            continue
        if array.dtype.kind not in "iub":
            raise IndexingError(f"getitem: index arrays must hold integers or booleans, got "
                                f"dtype {array.dtype}")
        out.append(array)
    return tuple(out) if isinstance(index, tuple) else out[0]


def gather_unchecked(tensor, axis, index):
    """``tensor.gather(axis, index)`` without its checks, for an ``index`` the caller has
    already checked (shape, device and range), as cross_entropy checks its class indices under
    its own name: checking them again would read them back from the device a second time on
    every call."""
    return primitives.Gather.apply(tensor, index=index.data, axis=axis)


def _check_gather_index(be, index, dim, size):
    lo, hi = extremes(be, index)
    if lo < 0 or hi >= size:
        raise IndexingError(f"gather: index holds {lo if lo < 0 else hi} but dim {dim} has "
                            f"size {size} (valid: 0..{size - 1})")
