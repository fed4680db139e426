"""tinygrad_edu: a from-scratch autodiff engine for seeing how neural networks compute.

``Value`` is the scalar engine (one node per number); ``Tensor`` the numpy-backed one.
Importing this package loads numpy only: Numba, numba.cuda and Graphviz load on first use.
"""

from . import nn, optim
from .backends import available_backends, devices, get_backend, set_backend
from .check import GradcheckError, diagnostics, gradcheck
from .errors import (ArgumentError, ArgumentTypeError, AxisError, DeviceError, DTypeError,
                     GradError, IndexingError, ShapeError, TinygradEduError)
from .nn import init
from .random import manual_seed
from .scalar import Value
from .tensor import (Function, Tensor, cat, enable_grad, is_grad_enabled, linear_act, no_grad,
                     stack, where)

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Value", "cat", "stack", "where", "linear_act",
    "no_grad", "enable_grad", "is_grad_enabled", "manual_seed",
    "gradcheck", "GradcheckError",
    "set_backend", "get_backend", "available_backends", "devices",
    "TinygradEduError", "ArgumentError", "ArgumentTypeError", "ShapeError", "DTypeError",
    "GradError", "AxisError", "IndexingError", "DeviceError",
    "nn", "init", "optim", "diagnostics",
]
