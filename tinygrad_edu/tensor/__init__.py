"""The Tensor engine: ``Tensor``, its differentiable primitives and the graph walk backward.

Reading order, bottom up:

- ``context``: grad mode (``no_grad``) and the module scope, per thread;
- ``validation``: argument checks shared by the ops (dtypes, shapes, axes, broadcasting);
- ``autodiff``: ``Function``, the op node (forward beside backward), and ``backpropagate``;
- ``primitives``: every differentiable primitive, one ``Function`` subclass each;
- ``creation``, ``shape``, ``nonlinear``: mixins of ``Tensor`` (constructors, layout ops,
  activations and softmax), each applying or composing primitives;
- ``tensor``: the ``Tensor`` class (arithmetic, reductions, devices, ``backward()``);
- ``combine``: functions of several tensors (``cat``, ``stack``, ``where``, ``linear_act``).

Every array operation goes through the tensor's backend (``tinygrad_edu.backends``).
"""

from .autodiff import Function
from .combine import cat, linear_act, stack, where
from .context import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor

__all__ = ["Tensor", "Function", "cat", "stack", "where", "linear_act", "no_grad",
           "enable_grad", "is_grad_enabled"]
