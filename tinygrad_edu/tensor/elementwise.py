"""Tensor elementwise functions: exp, log, sqrt, abs, sin, cos, rounding, clip, maximum, ...

A mixin of ``Tensor``. exp, log, sqrt, abs, sin, cos and clip are primitives; floor, round and
sign are one zero-gradient primitive (``primitives.Piecewise``); ceil, log2, exp2, clamp,
maximum and minimum are composed from primitives; isclose and allclose compare without a graph.
"""

import math
import numbers

import numpy as np

from . import primitives
from ..errors import ArgumentError, ArgumentTypeError
from .validation import broadcast_shape

__all__ = ["TensorElementwise"]


class TensorElementwise:
    """Functions applied to every element (or to matching elements of two tensors)."""

    __slots__ = ()

    def exp(self):
        """e^x elementwise."""
        self._require_float("exp")
        return primitives.Exp.apply(self)

    def exp2(self):
        """2^x elementwise."""
        self._require_float("exp2")
        return 2.0 ** self

    def log(self):
        """Natural log elementwise (nan for negative inputs, -inf at 0, like numpy)."""
        self._require_float("log")
        return primitives.Log.apply(self)

    def log2(self):
        """Base-2 log elementwise: log(x) / log(2)."""
        self._require_float("log2")
        return self.log() / math.log(2.0)

    def sqrt(self):
        """Square root elementwise."""
        self._require_float("sqrt")
        return primitives.Sqrt.apply(self)

    def abs(self):
        """|x| elementwise; its gradient at 0 is 0."""
        return primitives.Abs.apply(self)

    def __abs__(self):
        return self.abs()

    def sin(self):
        """Sine elementwise (radians)."""
        self._require_float("sin")
        return primitives.Sin.apply(self)

    def cos(self):
        """Cosine elementwise (radians)."""
        self._require_float("cos")
        return primitives.Cos.apply(self)

    # ---- piecewise constant: zero gradient everywhere, as in PyTorch ----
    def sign(self):
        """-1, 0 or 1 by the sign of each element (nan stays nan); zero gradient."""
        if self.dtype.kind == "b":
            return self
        return primitives.Piecewise.apply(self, name="sign")

    def floor(self):
        """The largest integer <= x, elementwise; zero gradient. Integer tensors are returned
        as they are."""
        if self.dtype.kind != "f":
            return self
        return primitives.Piecewise.apply(self, name="floor")

    def ceil(self):
        """The smallest integer >= x, elementwise (computed exactly as -floor(-x)); zero
        gradient."""
        if self.dtype.kind != "f":
            return self
        return -((-self).floor())

    def round(self, decimals=0):
        """x rounded to ``decimals`` decimal places, halves to even (as numpy and PyTorch: 0.5
        and -0.5 go to 0, 1.5 and 2.5 to 2); zero gradient. With ``decimals``, x is scaled by
        10**decimals, rounded and scaled back, as PyTorch does."""
        if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
            raise ArgumentTypeError(f"round: decimals must be an int, got {decimals!r}")
        if self.dtype.kind != "f":
            return self
        if decimals == 0:
            return primitives.Piecewise.apply(self, name="round")
        scale = 10.0 ** int(decimals)
        return primitives.Piecewise.apply(self * scale, name="round") / scale

    # ---- limits ----
    def clip(self, lo=None, hi=None):
        """Values limited to [lo, hi] (numbers; either may be None); gradient 1 inside (bounds
        included), 0 outside. For tensor bounds use ``maximum`` / ``minimum``."""
        if lo is None and hi is None:
            raise ArgumentError("clip: give at least one of lo and hi")
        for name, bound in (("lo", lo), ("hi", hi)):
            if bound is not None and not isinstance(bound, (numbers.Real, np.generic)):
                raise ArgumentTypeError(f"clip: {name} must be a number or None, got "
                                        f"{type(bound).__name__}; for tensor bounds use "
                                        "x.maximum(lo) / x.minimum(hi)")
        if lo is not None and hi is not None and lo > hi:
            raise ArgumentError(f"clip: lo ({lo}) must not exceed hi ({hi})")
        cast = self.dtype.type
        return primitives.Clip.apply(self, lo=None if lo is None else cast(lo),
                                     hi=None if hi is None else cast(hi))

    def clamp(self, min=None, max=None):
        """PyTorch's name for ``clip``: values limited to [min, max]."""
        return self.clip(min, max)

    def maximum(self, other):
        """The larger of two tensors elementwise (broadcast); where they are equal each gets
        half the gradient, as in PyTorch. nan wins."""
        return self._pairwise("maximum", other)

    def minimum(self, other):
        """The smaller of two tensors elementwise (broadcast); where they are equal each gets
        half the gradient, as in PyTorch. nan wins."""
        return self._pairwise("minimum", other)

    def _pairwise(self, op, other):
        # The max (or min) over a new axis of the two stacked: that reduction already splits
        # the gradient among ties.
        a, b = self._binary(other, op)
        shape = broadcast_shape(op, a.shape, b.shape)
        pair = primitives.Cat.apply(a.expand(shape).unsqueeze(0), b.expand(shape).unsqueeze(0),
                                    axis=0)
        return pair.max(0) if op == "maximum" else pair.min(0)

    # ---- closeness (booleans, no gradient) ----
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Elementwise ``|x - other| <= atol + rtol * |other|`` (PyTorch's and numpy's test),
        a boolean tensor. Infinities are close only to themselves; nan to nan only with
        ``equal_nan``."""
        a, b = self._binary(other, "isclose")
        if rtol < 0 or atol < 0:
            raise ArgumentError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, "
                                f"atol={atol}")
        be, x, y = self._device.backend, a.data, b.data
        if a.dtype.kind == "b":
            return self._op_result(be.compare("equal", x, y), self._device, False)
        tolerance = be.add(be.mul(be.abs(y), rtol), atol)
        close = be.compare("less_equal", be.abs(be.sub(x, y)), tolerance)
        # A finite other with a finite tolerance cannot be matched by an infinite x.
        close = be.compare("logical_and", close, be.isfinite(y))
        close = be.compare("logical_or", close, be.compare("equal", x, y))
        if equal_nan:
            both_nan = be.compare("logical_and", be.compare("not_equal", x, x),
                                  be.compare("not_equal", y, y))
            close = be.compare("logical_or", close, both_nan)
        return self._op_result(close, self._device, False)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True when ``isclose`` holds for every element (a Python bool)."""
        return bool(self.isclose(other, rtol, atol, equal_nan).all().item())
