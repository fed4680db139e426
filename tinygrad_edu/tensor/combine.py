"""Tensor functions of several inputs: cat, stack, where, maximum, minimum, isclose, allclose
and the fused linear_act."""

import numpy as np

from . import primitives
from .. import activations as sm
from ..errors import ArgumentError, AxisError, DeviceError, DTypeError, ShapeError
from .tensor import Tensor
from .validation import axis_spellings, broadcast_shape, normalize_axis

__all__ = ["cat", "stack", "where", "maximum", "minimum", "isclose", "allclose", "linear_act"]


def _as_tensor_list(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise ArgumentError(f"{op}: expected a non-empty list or tuple of Tensors")
    first = next((t for t in tensors if isinstance(t, Tensor)), None)
    device = "cpu" if first is None else first.device
    tensors = [t if isinstance(t, Tensor) else Tensor(t, device=device) for t in tensors]
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise DeviceError(f"{op}: tensors are on different devices {sorted(devices)}; move them "
                          f"to one device first, e.g. t.to({device!r})")
    return tensors


@axis_spellings
def cat(tensors, axis=0):
    """Join tensors along an existing ``axis``; all other dimensions must match."""
    tensors = _as_tensor_list(tensors, "cat")
    first = tensors[0]
    if first.ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = normalize_axis(axis, first.ndim, "cat")[0]
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(
                i != axis and m != n for i, (m, n) in enumerate(zip(t.shape, first.shape))):
            raise ShapeError(f"cat: shapes {[t.shape for t in tensors]} differ outside axis "
                             f"{axis}; all dimensions except the joined one must match")
    return primitives.Cat.apply(*tensors, axis=axis)


@axis_spellings
def stack(tensors, axis=0):
    """Join same-shaped tensors along a new ``axis``."""
    tensors = _as_tensor_list(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors need the same shape, got "
                         f"{[t.shape for t in tensors]}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise AxisError(f"stack: axis {axis} is out of range for the result's {ndim} dims")
    return cat([t.unsqueeze(axis) for t in tensors], axis % ndim)


def where(condition, a, b):
    """Elementwise ``a`` where ``condition`` is true, else ``b`` (broadcasting all three)."""
    if not isinstance(condition, Tensor):
        like = a if isinstance(a, Tensor) else b
        condition = Tensor(condition, device=like.device if isinstance(like, Tensor) else "cpu")
    if condition.dtype != np.bool_:
        raise DTypeError(f"where: condition must be a boolean tensor, got dtype "
                         f"{condition.dtype}; build it with a comparison such as x > 0")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    a, b = (a._binary(b, "where") if isinstance(a, Tensor)
            else b._binary(a, "where", reflected=True))
    broadcast_shape("where", condition.shape, a.shape, b.shape)
    return primitives.Where.apply(condition, a, b)


def _first_tensor(a, b):
    """``(a, b)`` with a Tensor first (a and b may be swapped: the callers are symmetric)."""
    if isinstance(a, Tensor):
        return a, b
    if isinstance(b, Tensor):
        return b, a
    return Tensor(a), b


def maximum(a, b):
    """The larger of ``a`` and ``b`` elementwise (``Tensor.maximum``)."""
    a, b = _first_tensor(a, b)
    return a.maximum(b)


def minimum(a, b):
    """The smaller of ``a`` and ``b`` elementwise (``Tensor.minimum``)."""
    a, b = _first_tensor(a, b)
    return a.minimum(b)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise closeness of ``a`` to ``b`` (``Tensor.isclose``), a boolean tensor."""
    a = a if isinstance(a, Tensor) else Tensor(a, device=b.device if isinstance(b, Tensor)
                                               else "cpu")
    return a.isclose(b, rtol, atol, equal_nan)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when ``isclose(a, b)`` holds everywhere (a Python bool)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).all().item())


def linear_act(x, weight, bias=None, activation=None, negative_slope=0.01):
    """``activation(x @ weight + bias)`` as one fused op (one kernel on the Numba backend).

    ``x``: (..., nin); ``weight``: (nin, nout); ``bias``: (nout,) or None; ``activation``: a
    name from ``activations.ACTIVATION_CODES`` (``"relu"``, ``"gelu"``, ...) or None.
    """
    name = "identity" if activation is None else activation
    code = sm.activation_code(name)
    if x.ndim not in (1, 2) or weight.ndim != 2 or x.shape[-1] != weight.shape[0]:
        raise ShapeError(f"linear_act: x of shape {x.shape} does not fit weight of shape "
                         f"{weight.shape}; expected x (nin,) or (batch, nin) and weight "
                         "(nin, nout)")
    if bias is not None and bias.shape != (weight.shape[1],):
        raise ShapeError(f"linear_act: bias has shape {bias.shape}, expected "
                         f"({weight.shape[1]},) for weight of shape {weight.shape}")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
        raise DTypeError(f"linear_act: x, weight and bias need one floating dtype, got "
                         f"{sorted(map(str, dtypes))}")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return primitives.LinearAct.apply(*inputs, code=code, slope=float(negative_slope), name=name)
