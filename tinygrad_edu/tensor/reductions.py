"""Tensor reductions: sum, mean, max, min, prod, var, std, any, all, argmax, argmin, cumsum.

A mixin of ``Tensor``. sum, max, min, prod and cumsum are primitives; mean, var and std are
composed from them, and any, all, argmax and argmin are computed without a graph (their results
are booleans or indices). Every axis argument is spelled ``axis=``/``keepdims=`` (numpy) or
``dim=``/``keepdim=`` (PyTorch); a 0-d tensor takes axis 0 or -1, as in PyTorch.
"""

import numpy as np

from . import primitives
from .validation import axis_spellings, check_nonempty_reduction, normalize_axis, single_axis

__all__ = ["TensorReductions"]


class TensorReductions:
    """Reductions over one axis, several, or all of them (``axis=None``)."""

    __slots__ = ()

    @axis_spellings
    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all; an int or a tuple of ints); booleans count as int64."""
        return primitives.Sum.apply(self, axis=normalize_axis(axis, self.ndim, "sum"),
                                    keepdims=bool(keepdims))

    @axis_spellings
    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (None: all)."""
        self._require_float("mean")
        axes = normalize_axis(axis, self.ndim, "mean")
        count = self._count(axes)
        return self.sum(axes, keepdims) * (1.0 / count if count else float("nan"))

    @axis_spellings
    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis`` (the values only: PyTorch's ``x.max(dim)`` also returns the
        indices, which ``argmax`` gives here); ties share the gradient evenly."""
        axes = normalize_axis(axis, self.ndim, "max")
        check_nonempty_reduction("max", self.shape, axes)
        return primitives.Max.apply(self, axis=axes, keepdims=bool(keepdims))

    @axis_spellings
    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis`` (values only, like ``max``); ties share the gradient evenly."""
        axes = normalize_axis(axis, self.ndim, "min")
        check_nonempty_reduction("min", self.shape, axes)
        return primitives.Min.apply(self, axis=axes, keepdims=bool(keepdims))

    @axis_spellings
    def prod(self, axis=None, keepdims=False):
        """Product over ``axis`` (None: all); its gradient is exact where elements are 0."""
        return primitives.Prod.apply(self, axis=normalize_axis(axis, self.ndim, "prod"),
                                     keepdims=bool(keepdims))

    @axis_spellings
    def var(self, axis=None, keepdims=False, *, correction=1):
        """Variance over ``axis``: sum((x - mean)^2) / (N - correction). The default
        ``correction=1`` (the unbiased estimate) is PyTorch's; numpy's default is ``ddof=0``.
        N - correction <= 0 gives inf or nan, as in PyTorch."""
        self._require_float("var")
        axes = normalize_axis(axis, self.ndim, "var")
        centered = self - self.mean(axes, keepdims=True)
        return (centered * centered).sum(axes, keepdims) / float(
            max(self._count(axes) - correction, 0))

    @axis_spellings
    def std(self, axis=None, keepdims=False, *, correction=1):
        """Standard deviation over ``axis``: ``var(...).sqrt()`` (same ``correction``)."""
        return self.var(axis, keepdims, correction=correction).sqrt()

    @axis_spellings
    def any(self, axis=None, keepdims=False):
        """True where some element along ``axis`` is nonzero (or True); a boolean tensor."""
        axes = normalize_axis(axis, self.ndim, "any")
        return (self != 0).sum(axes, keepdims) > 0

    @axis_spellings
    def all(self, axis=None, keepdims=False):
        """True where every element along ``axis`` is nonzero (or True); a boolean tensor."""
        axes = normalize_axis(axis, self.ndim, "all")
        return (self == 0).sum(axes, keepdims) == 0

    @axis_spellings
    def argmax(self, axis=None, keepdims=False):
        """Index of the first maximum along ``axis`` (None: of the flattened tensor); int64,
        no gradient. NaN counts as the maximum, as in numpy and PyTorch."""
        return self._arg_extremum("argmax", axis, keepdims)

    @axis_spellings
    def argmin(self, axis=None, keepdims=False):
        """Index of the first minimum along ``axis`` (None: of the flattened tensor); int64,
        no gradient. NaN counts as the minimum, as in numpy and PyTorch."""
        return self._arg_extremum("argmin", axis, keepdims)

    @axis_spellings
    def cumsum(self, axis=None):
        """Running sums along ``axis`` (None: of the flattened tensor, as in numpy)."""
        if axis is None:
            return self.reshape(-1).cumsum(0)
        if self.ndim == 0:
            normalize_axis(axis, 0, "cumsum")
            return self.reshape(1).cumsum(0).reshape(())
        return primitives.Cumsum.apply(self, axis=single_axis(axis, self.ndim, "cumsum"))

    def _count(self, axes):
        """How many elements a reduction over ``axes`` combines."""
        return self.numel() if axes is None else int(np.prod([self.shape[a] for a in axes]))

    def _arg_extremum(self, op, axis, keepdims):
        flat = axis is None or self.ndim == 0
        if self.ndim == 0 and axis is not None:
            normalize_axis(axis, 0, op)
        x = self.reshape(-1) if flat else self
        ax = 0 if flat else single_axis(axis, self.ndim, op)
        check_nonempty_reduction(op, self.shape, None if flat else (ax,))
        be = self._device.backend
        extremum = be.max(x.data, (ax,), True) if op == "argmax" else be.min(x.data, (ax,), True)
        winners = be.compare("equal", x.data, extremum)
        if x.dtype.kind == "f":
            winners = be.compare("logical_or", winners,
                                 be.compare("not_equal", x.data, x.data))
        n = x.shape[ax]
        # The first winner: the smallest position where winners holds (n elsewhere).
        positions = be.asarray(np.arange(n).reshape([n if i == ax else 1 for i in
                                                     range(x.ndim)]), np.int64)
        first = be.min(be.where(winners, positions, np.int64(n)), (ax,), bool(keepdims))
        if flat and keepdims:
            first = be.reshape(first, (1,) * self.ndim)
        return self._op_result(first, self._device, False)
