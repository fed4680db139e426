"""Tensor constructors: zeros, ones, full, random draws, arange, linspace, eye.

A mixin so ``Tensor.zeros(...)`` reads as PyTorch's does while tensor.py keeps to the ops.
"""

import math
import numbers

import numpy as np

from ..backends import get_device
from ..errors import AllocationError, ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from ..random import get_generator
from .validation import check_dtype, shape_arg

__all__ = ["TensorCreation"]


class TensorCreation:
    """Class methods that build new tensors; every random draw uses ``manual_seed``'s generator."""

    __slots__ = ()

    @classmethod
    def _filled(cls, where, shape, fill, dtype, requires_grad, device):
        shape = shape_arg(shape, where)
        dtype = check_dtype(np.float32 if dtype is None else dtype, where)
        checked_size(shape, dtype, where)
        fill = _fill_value(fill, dtype, where)
        dev = get_device(device)
        with _allocating(shape, dtype, where):
            t = cls._wrap(dev.backend.full(shape, fill, dtype), dev)
        return t.requires_grad_(requires_grad) if requires_grad else t

    @classmethod
    def zeros(cls, *shape, dtype=None, requires_grad=False, device="cpu"):
        """A tensor of zeros: ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``; float32."""
        return cls._filled("zeros", shape, 0, dtype, requires_grad, device)

    @classmethod
    def ones(cls, *shape, dtype=None, requires_grad=False, device="cpu"):
        """A tensor of ones; float32 unless ``dtype`` says otherwise."""
        return cls._filled("ones", shape, 1, dtype, requires_grad, device)

    @classmethod
    def full(cls, shape, fill_value, dtype=None, requires_grad=False, device="cpu"):
        """A tensor of ``shape`` filled with ``fill_value``; float32 unless ``dtype`` is given."""
        shape = shape if isinstance(shape, (tuple, list)) else (shape,)
        return cls._filled("full", (tuple(shape),), fill_value, dtype, requires_grad, device)

    @classmethod
    def zeros_like(cls, other, dtype=None, requires_grad=False, device=None):
        """Zeros with ``other``'s shape, and its dtype and device unless given."""
        _like(other, "zeros_like")
        return cls._filled("zeros_like", (other.shape,), 0, dtype or other.dtype, requires_grad,
                           other._device if device is None else device)

    @classmethod
    def ones_like(cls, other, dtype=None, requires_grad=False, device=None):
        """Ones with ``other``'s shape, and its dtype and device unless given."""
        _like(other, "ones_like")
        return cls._filled("ones_like", (other.shape,), 1, dtype or other.dtype, requires_grad,
                           other._device if device is None else device)

    @classmethod
    def full_like(cls, other, fill_value, dtype=None, requires_grad=False, device=None):
        """``fill_value`` in ``other``'s shape, and its dtype and device unless given."""
        _like(other, "full_like")
        return cls._filled("full_like", (other.shape,), fill_value, dtype or other.dtype,
                           requires_grad, other._device if device is None else device)

    @classmethod
    def _random(cls, where, draw, shape, dtype, requires_grad, device):
        shape = shape_arg(shape, where)
        dtype = check_dtype(np.float32 if dtype is None else dtype, where)
        if dtype.kind != "f":
            raise DTypeError(f"{where}: random tensors are floating, got dtype {dtype}")
        checked_size(shape, dtype, where)
        device = get_device(device)   # before drawing: a refused device leaves the stream as is
        with _allocating(shape, dtype, where):
            return cls(draw(get_generator(), shape, dtype), requires_grad, device=device)

    @classmethod
    def randn(cls, *shape, dtype=None, requires_grad=False, device="cpu"):
        """Standard normal samples from the library's generator (see ``manual_seed``)."""
        return cls._random("randn", lambda g, s, d: g.standard_normal(s, dtype=d), shape, dtype,
                           requires_grad, device)

    @classmethod
    def rand(cls, *shape, dtype=None, requires_grad=False, device="cpu"):
        """Uniform samples in [0, 1) from the library's generator (see ``manual_seed``)."""
        return cls._random("rand", lambda g, s, d: g.random(s, dtype=d), shape, dtype,
                           requires_grad, device)

    @classmethod
    def randint(cls, low, high=None, size=None, dtype=None, device="cpu"):
        """Integers drawn uniformly from [low, high) (int64 unless ``dtype`` says otherwise),
        as PyTorch's ``randint(low, high, size)`` or ``randint(high, size)``."""
        if size is None and isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        if high is None or size is None:
            raise ArgumentError(f"randint: expected randint(low, high, size) or "
                                f"randint(high, size), got low={low!r}, high={high!r}, "
                                f"size={size!r}")
        for name, bound in (("low", low), ("high", high)):
            if isinstance(bound, bool) or not isinstance(bound, (int, np.integer)):
                raise ArgumentError(f"randint: {name} must be an int, got {bound!r}")
        if low >= high:
            raise ArgumentError(f"randint: low ({low}) must be below high ({high})")
        shape = shape_arg((size,), "randint")
        dtype = check_dtype(np.int64 if dtype is None else dtype, "randint")
        checked_size(shape, dtype, "randint")
        checked_size(shape, dtype, "randint")
        device = get_device(device)   # before drawing: a refused device leaves the stream as is
        return cls(get_generator().integers(low, high, shape), dtype=dtype, device=device)

    @classmethod
    def linspace(cls, start, end, steps, dtype=None, requires_grad=False, device="cpu"):
        """``steps`` evenly spaced values from ``start`` to ``end``, both included; float32
        unless ``dtype`` is given."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ArgumentError(f"linspace: steps must be an int >= 0, got {steps!r}")
        dtype = check_dtype(np.float32 if dtype is None else dtype, "linspace")
        checked_size((int(steps),), np.dtype(np.float64), "linspace")
        checked_size((int(steps),), dtype, "linspace")
        return cls(np.linspace(start, end, int(steps)).astype(dtype), requires_grad,
                   device=device)

    @classmethod
    def arange(cls, start, stop=None, step=1, dtype=None, requires_grad=False, device="cpu"):
        """Evenly spaced values in [start, stop); int64 for int arguments, else float32."""
        if stop is None:
            start, stop = 0, start
        for name, value in (("start", start), ("stop", stop), ("step", step)):
            _finite_real(value, name, "arange")
        if step == 0:
            raise ArgumentError("arange: step must not be zero")
        count = max(0, math.ceil((stop - start) / step))
        checked_size((count,), np.dtype(np.float64), "arange")
        values = np.arange(start, stop, step)
        return cls(values if values.dtype.kind != "f" else values.astype(np.float32),
                   requires_grad, dtype, device)

    @classmethod
    def eye(cls, n, m=None, dtype=None, requires_grad=False, device="cpu"):
        """An n x m identity matrix (m defaults to n); float32 unless ``dtype`` is given."""
        dtype = check_dtype(np.float32 if dtype is None else dtype, "eye")
        shape = (n, n if m is None else m)
        for value in shape:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ShapeError(f"eye: n and m must be ints, got n={n!r}, m={m!r}")
        checked_size(shape, dtype, "eye")
        with _allocating(shape, dtype, "eye"):
            return cls(np.eye(n, m, dtype=dtype), requires_grad, device=device)


# The most bytes one array can have: numpy's sizes are signed machine-word integers.
_MAX_BYTES = np.iinfo(np.intp).max


def checked_size(shape, dtype, where):
    """ShapeError unless ``shape`` (ints) has sizes >= 0 and a total size that can exist."""
    if any(n < 0 for n in shape):
        raise ShapeError(f"{where}: sizes must be >= 0, got shape {shape}")
    count = math.prod(shape)
    if count * dtype.itemsize > _MAX_BYTES:
        raise ShapeError(f"{where}: shape {shape} would hold {count:.3g} elements of {dtype} "
                         f"({count * dtype.itemsize:.3g} bytes), more than any memory can "
                         "address")


class _allocating:
    """Turn a failed allocation of a tensor of ``shape`` into our AllocationError."""

    def __init__(self, shape, dtype, where):
        self.shape, self.dtype, self.where = shape, dtype, where

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None and issubclass(kind, MemoryError) \
                and not isinstance(exc, AllocationError):
            gib = math.prod(self.shape) * self.dtype.itemsize / 2 ** 30
            raise AllocationError(f"{self.where}: a tensor of shape {self.shape} and dtype "
                                  f"{self.dtype} needs {gib:.3g} GiB, more memory than is "
                                  "free") from None
        return False


def _finite_real(value, name, where):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{where}: {name} must be a real number, got "
                                f"{type(value).__name__} {value!r}")
    if not isinstance(value, numbers.Integral) and not math.isfinite(value):
        raise ArgumentError(f"{where}: {name} must be finite, got {value!r}")


def _fill_value(value, dtype, where):
    """``value``, checked to be a number that ``dtype`` holds exactly (or, for floats, within
    range): nothing is rounded, wrapped or overflowed to inf on the way in."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if not isinstance(value, numbers.Real):
        raise DTypeError(f"{where}: fill_value must be a real number or a bool, got "
                         f"{type(value).__name__} {value!r}")
    integral = isinstance(value, numbers.Integral) or (
        math.isfinite(value) and float(value).is_integer())
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not integral:
            raise ArgumentError(f"{where}: fill_value {value!r} is not an integer, so a {dtype} "
                                "tensor cannot hold it; pass an int, or a floating dtype")
        if not info.min <= int(value) <= info.max:
            raise ArgumentError(f"{where}: fill_value {value!r} is outside the range of {dtype} "
                                f"[{info.min}, {info.max}]; pass a floating or a wider dtype")
        return int(value)
    if dtype.kind == "b":
        if value not in (0, 1):
            raise ArgumentError(f"{where}: fill_value {value!r} cannot fill a bool tensor; pass "
                                "True or False")
        return bool(value)
    big = float(np.finfo(dtype).max)
    if (isinstance(value, numbers.Integral) or math.isfinite(value)) and abs(value) > big:
        raise ArgumentError(f"{where}: fill_value {value!r} is beyond the largest {dtype} "
                            f"({big:.4g}) and would become inf; use dtype=float64 or pass inf")
    return value


def _like(other, where):
    if not isinstance(other, TensorCreation):
        raise ArgumentTypeError(f"{where}: expected a Tensor to take the shape of, got "
                                f"{type(other).__name__}; use Tensor.zeros(shape) for a shape")
