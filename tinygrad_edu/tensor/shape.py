"""Tensor shape operations: reshape, transpose, flatten, unsqueeze and indexing.

A mixin of ``Tensor``; each method validates its arguments, then applies one primitive.
"""

import numpy as np

from . import primitives
from ..errors import AxisError, IndexingError, ShapeError
from .validation import normalize_axis, shape_arg

__all__ = ["TensorShapeOps"]


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

    def transpose(self, *axes):
        """Axes permuted: reversed by default, or in the order given."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(range(self.ndim - 1, -1, -1))
        normalized = tuple(int(a) % self.ndim if self.ndim else a for a in axes
                           if isinstance(a, (int, np.integer)) and -self.ndim <= a < self.ndim)
        if len(axes) != self.ndim or sorted(normalized) != list(range(self.ndim)):
            raise AxisError(f"transpose: axes {axes} are not a permutation of the "
                            f"{self.ndim} dimensions of a tensor of shape {self.shape}")
        return primitives.Transpose.apply(self, axes=normalized)

    T = property(lambda self: self.transpose(), doc="The tensor with its axes reversed.")

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

    def unsqueeze(self, axis):
        """A new size-1 axis inserted at ``axis``."""
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise AxisError(f"unsqueeze: axis {axis} is out of range for a tensor with "
                            f"{self.ndim} dimensions (valid: {-self.ndim - 1}..{self.ndim})")
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def gather(self, dim, index):
        """Values picked along ``dim`` by the integer tensor ``index`` (PyTorch's gather:
        ``out[i][j] = self[i][index[i][j]]`` for dim 1). ``index`` has this tensor's number of
        dimensions and its sizes except along ``dim``; its values must lie in
        ``0..shape[dim] - 1``. Repeated indices accumulate their gradients."""
        axis = normalize_axis(dim, self.ndim, "gather")[0]
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
            be = self._device.backend
            lo = be.to_numpy(be.min(index.data, None, False)).item()
            hi = be.to_numpy(be.max(index.data, None, False)).item()
            if lo < 0 or hi >= self.shape[axis]:
                bad = lo if lo < 0 else hi
                raise IndexingError(f"gather: index holds {bad} but dim {dim} has size "
                                    f"{self.shape[axis]} (valid: 0..{self.shape[axis] - 1})")
        return primitives.Gather.apply(self, index=index.data, axis=axis)

    def __getitem__(self, index):
        index = _normalize_index(self, index)
        try:
            return primitives.GetItem.apply(self, index=index)
        except IndexError as exc:
            raise IndexingError(f"getitem: index {index!r} is invalid for a tensor of shape "
                                f"{self.shape}: {exc}") from None


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
        elif isinstance(part, (list, np.ndarray)):
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
