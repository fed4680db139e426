"""The description of a dense network that the fused inference path runs.

A network is a sequence of ``DenseLayer``: each computes ``activation(x @ weight + bias)`` on
host numpy arrays. The compiled paths (``cpu.mlp.CompiledMLP``) take any object whose
``describe()`` method returns such a sequence, so they never read a model's attributes;
``nn.MLP.describe()`` builds one from its layers, and a hand-written one works the same::

    from tinygrad_edu.activations import activation_code
    from tinygrad_edu.kernels.network import DenseLayer

    class TwoLayers:
        def describe(self):
            return (DenseLayer(w1, b1, activation_code("relu")),
                    DenseLayer(w2, None, activation_code("identity")))

No Numba here: describing a network needs only numpy.
"""

import numbers
from dataclasses import dataclass

import numpy as np

from .. import activations as sm
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError

__all__ = ["DenseLayer", "check_network"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# eq=False: comparing numpy arrays field by field has no single truth value.
@dataclass(frozen=True, eq=False)
class DenseLayer:
    """One layer ``activation(x @ weight + bias)`` of a described network.

    - ``weight``: a numpy array of shape ``(nin, nout)``, float32 or float64;
    - ``bias``: a numpy array of shape ``(nout,)`` and the weight's dtype, or None (no bias);
    - ``code``: the activation's code in the registry, ``tinygrad_edu.activations`` (e.g.
      ``activation_code("relu")``; PReLU is ``LEAKY_RELU`` with its learned slope);
    - ``slope``: the negative slope that leaky ReLU uses (ignored by other activations).

    Raises ArgumentTypeError, DTypeError, ShapeError or ArgumentError when a field does not fit.
    """

    weight: np.ndarray
    bias: np.ndarray | None = None
    code: int = sm.IDENTITY
    slope: float = 0.0

    def __post_init__(self):
        w, b = self.weight, self.bias
        if not isinstance(w, np.ndarray):
            raise ArgumentTypeError(f"DenseLayer: weight must be a numpy array, got "
                                    f"{type(w).__name__} (pass tensor.numpy())")
        if w.dtype not in _FLOATS:
            raise DTypeError(f"DenseLayer: weight has dtype {w.dtype}, expected float32 or "
                             "float64")
        if w.ndim != 2 or 0 in w.shape:
            raise ShapeError(f"DenseLayer: weight has shape {w.shape}, expected (nin, nout) "
                             "with nin, nout >= 1")
        if b is not None:
            if not isinstance(b, np.ndarray):
                raise ArgumentTypeError(f"DenseLayer: bias must be a numpy array or None, got "
                                        f"{type(b).__name__}")
            if b.shape != (w.shape[1],) or b.dtype != w.dtype:
                raise ShapeError(f"DenseLayer: bias has shape {b.shape} and dtype {b.dtype}, "
                                 f"expected ({w.shape[1]},) {w.dtype} to fit weight "
                                 f"{w.shape}")
        if isinstance(self.code, bool) or not isinstance(self.code, numbers.Integral) \
                or self.code not in sm.CODES:
            valid = ", ".join(f"{code} ({name})" for name, code in sm.ACTIVATION_CODES.items())
            raise ArgumentError(f"DenseLayer: code must be an activation code of "
                                f"tinygrad_edu.activations, got {self.code!r}; expected one of "
                                f"{valid}")
        if isinstance(self.slope, bool) or not isinstance(self.slope, numbers.Real):
            raise ArgumentTypeError(f"DenseLayer: slope must be a real number, got "
                                    f"{self.slope!r}")
        # Stored as a plain int and float, whichever integer and real types were given.
        object.__setattr__(self, "code", int(self.code))
        object.__setattr__(self, "slope", float(self.slope))

    @property
    def nin(self):
        """The number of inputs, ``weight.shape[0]``."""
        return self.weight.shape[0]

    @property
    def nout(self):
        """The number of outputs, ``weight.shape[1]``."""
        return self.weight.shape[1]


def check_network(layers, where):
    """``layers`` as a tuple of ``DenseLayer`` that fit end to end and share one dtype.

    ``where`` names the caller in error messages. Raises ArgumentError for an empty network,
    ArgumentTypeError for an entry that is not a DenseLayer, ShapeError when a layer's ``nin``
    is not the previous layer's ``nout`` and DTypeError for mixed dtypes.
    """
    try:
        layers = tuple(layers)
    except TypeError:
        raise ArgumentTypeError(f"{where}: describe() must return a sequence of DenseLayer, "
                                f"got {type(layers).__name__}") from None
    if not layers:
        raise ArgumentError(f"{where}: the network has no layers")
    for i, layer in enumerate(layers):
        if not isinstance(layer, DenseLayer):
            raise ArgumentTypeError(f"{where}: layer {i} is a {type(layer).__name__}, expected "
                                    "a kernels.network.DenseLayer")
        if i and layer.nin != layers[i - 1].nout:
            raise ShapeError(f"{where}: layer {i} takes {layer.nin} inputs but layer {i - 1} "
                             f"gives {layers[i - 1].nout}")
        if layer.weight.dtype != layers[0].weight.dtype:
            raise DTypeError(f"{where}: layer {i} is {layer.weight.dtype} but layer 0 is "
                             f"{layers[0].weight.dtype}; use one dtype for the whole network")
    return layers
