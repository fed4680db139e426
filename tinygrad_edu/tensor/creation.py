"""Tensor constructors: zeros, ones, full, random draws, arange, eye.

A mixin so ``Tensor.zeros(...)`` reads as PyTorch's does while tensor.py keeps to the ops.
"""

import numpy as np

from ..backends import get_device
from ..errors import ArgumentError, DTypeError
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
        dev = get_device(device)
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
        return cls._filled("zeros_like", (other.shape,), 0, dtype or other.dtype, requires_grad,
                           other._device if device is None else device)

    @classmethod
    def ones_like(cls, other, dtype=None, requires_grad=False, device=None):
        """Ones with ``other``'s shape, and its dtype and device unless given."""
        return cls._filled("ones_like", (other.shape,), 1, dtype or other.dtype, requires_grad,
                           other._device if device is None else device)

    @classmethod
    def _random(cls, where, draw, shape, dtype, requires_grad, device):
        shape = shape_arg(shape, where)
        dtype = check_dtype(np.float32 if dtype is None else dtype, where)
        if dtype.kind != "f":
            raise DTypeError(f"{where}: random tensors are floating, got dtype {dtype}")
        device = get_device(device)   # before drawing: a refused device leaves the stream as is
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
    def arange(cls, start, stop=None, step=1, dtype=None, requires_grad=False, device="cpu"):
        """Evenly spaced values in [start, stop); int64 for int arguments, else float32."""
        if stop is None:
            start, stop = 0, start
        if step == 0:
            raise ArgumentError("arange: step must not be zero")
        values = np.arange(start, stop, step)
        return cls(values if values.dtype.kind != "f" else values.astype(np.float32),
                   requires_grad, dtype, device)

    @classmethod
    def eye(cls, n, m=None, dtype=None, requires_grad=False, device="cpu"):
        """An n x m identity matrix (m defaults to n); float32 unless ``dtype`` is given."""
        dtype = check_dtype(np.float32 if dtype is None else dtype, "eye")
        return cls(np.eye(n, m, dtype=dtype), requires_grad, device=device)
