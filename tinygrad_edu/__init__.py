"""tinygrad_edu: a from-scratch autodiff engine for seeing how neural networks compute.

``Value`` is the scalar engine (one node per number); ``Tensor`` the numpy-backed one.
Importing this package loads numpy only: Numba, numba.cuda and Graphviz load on first use.
"""

# The dtype names PyTorch users write (tinygrad_edu.float32, ...) are numpy's, which every
# dtype= takes. ``bool`` stays out of __all__: a star import must not replace the builtin.
from numpy import bool_ as bool, float32, float64, int64  # noqa: A004 (bool, as torch.bool)

from . import capture, nn, optim   # capture: the package, callable: tinygrad_edu.capture(step)
from .capture import CaptureError, CapturedStep
from .backends import available_backends, devices, get_backend, set_backend
from .check import GradcheckError, diagnostics, gradcheck
from .check.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from . import distributed   # data-parallel on MPI; mpi4py loads only under mpiexec
from .errors import (AllocationError, ArgumentError, ArgumentTypeError, AxisError,
                     CheckpointError, DeviceError, DTypeError, GradError, IndexingError,
                     NonFiniteError, NonFiniteValueWarning, ShapeError, TinygradEduError,
                     TinygradEduWarning)
from .nn import init
from .random import manual_seed
from .scalar import Value
from . import tensor   # the package, callable as torch.tensor is: tinygrad_edu.tensor(data)
from .tensor import (Function, Tensor, allclose, cat, enable_grad, is_grad_enabled, isclose,
                     linear_act, maximum, minimum, no_grad, stack, where)


__version__ = "0.1.0"

__all__ = [
    "Tensor", "Value", "tensor", "cat", "stack", "where", "maximum", "minimum", "isclose",
    "allclose", "linear_act", "float32", "float64", "int64",
    "no_grad", "enable_grad", "is_grad_enabled", "manual_seed",
    "gradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "set_backend", "get_backend", "available_backends", "devices",
    "TinygradEduError", "ArgumentError", "ArgumentTypeError", "ShapeError", "DTypeError",
    "GradError", "AxisError", "IndexingError", "DeviceError", "CheckpointError",
    "NonFiniteError", "AllocationError", "TinygradEduWarning", "NonFiniteValueWarning",
    "nn", "init", "optim", "diagnostics", "capture", "CapturedStep", "CaptureError",
    "distributed",
]
