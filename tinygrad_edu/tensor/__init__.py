"""The Tensor engine: ``Tensor``, its differentiable primitives and the graph walk backward.

Reading order, bottom up:

- ``context``: grad mode (``no_grad``) and the module scope, per thread;
- ``validation``: argument checks shared by the ops (dtypes, shapes, axes, broadcasting);
- ``autodiff``: ``Function``, the op node (forward beside backward), and ``backpropagate``;
- ``primitives``: every differentiable primitive, one ``Function`` subclass each;
- ``creation``, ``shape``, ``elementwise``, ``reductions``, ``nonlinear``: mixins of ``Tensor``
  (constructors, layout ops, elementwise functions, reductions, activations and softmax), each
  applying or composing primitives;
- ``tensor``: the ``Tensor`` class (arithmetic, comparisons, devices, ``backward()``);
- ``combine``: functions of several tensors (``cat``, ``stack``, ``where``, ``maximum``,
  ``minimum``, ``isclose``, ``allclose``, ``linear_act``).

Every array operation goes through the tensor's backend (``tinygrad_edu.backends``).

The package itself is callable: ``tinygrad_edu.tensor(data, ...)`` is PyTorch's
``torch.tensor(data, ...)``.
"""

import sys
import types

from .autodiff import Function
from .combine import allclose, cat, isclose, linear_act, maximum, minimum, stack, where
from .context import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor

__all__ = ["Tensor", "Function", "cat", "stack", "where", "maximum", "minimum",
           "isclose", "allclose", "linear_act", "no_grad", "enable_grad", "is_grad_enabled"]


class _CallablePackage(types.ModuleType):
    """This package, made callable. A function named ``tensor`` in ``tinygrad_edu`` would hide
    the package of that name (``import tinygrad_edu.tensor.autodiff`` would fail); a callable
    package gives PyTorch users ``tinygrad_edu.tensor(...)`` and keeps every import working."""

    def __call__(self, data, dtype=None, device="cpu", requires_grad=False):
        """A new Tensor holding a copy of ``data``, as ``torch.tensor(data, dtype=...,
        device=..., requires_grad=...)``: the same as ``Tensor(data, ...)``."""
        return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


sys.modules[__name__].__class__ = _CallablePackage
