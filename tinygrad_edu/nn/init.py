"""Weight initializers: each fills a Tensor in place and returns it.

Random draws come from the library generator, so ``manual_seed`` makes them repeatable.
Fans follow *our* weight orientation: a ``Linear`` weight has shape ``(nin, nout)``, so
``fan_in = shape[0]`` and ``fan_out = shape[1]`` (PyTorch stores ``(out, in)`` and reads them
the other way round); a ``Neuron``'s weight of shape ``(nin,)`` has ``fan_in = nin`` and
``fan_out = 1``.

- Xavier / Glorot (for tanh, sigmoid, no activation): variance ``2 / (fan_in + fan_out)``.
- He / Kaiming (for the ReLU family, GELU, SiLU): variance ``2 / ((1 + a^2) fan_in)``, where
  ``a`` is the negative slope of leaky ReLU / PReLU (0 for ReLU).

``init_weight_`` applies a scheme by name; ``"auto"`` picks He or Xavier from the activation.
"""

import math
import numbers

import numpy as np

from ..activations import ACTIVATIONS
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from .activations import canonical_activation
from ..random import get_generator
from ..tensor import Tensor
from ..tensor.autodiff import mark_written

__all__ = ["fans", "zeros_", "constant_", "uniform_", "normal_", "xavier_uniform_",
           "xavier_normal_", "he_uniform_", "he_normal_", "kaiming_uniform_", "kaiming_normal_",
           "INIT_SCHEMES", "init_weight_"]

# Activations for which "auto" chooses He initialization (the registry's default); all others
# get Xavier.
_HE_ACTIVATIONS = tuple(spec.name for spec in ACTIVATIONS.values() if spec.init == "he_normal")
INIT_SCHEMES = ("auto", "zeros", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
                "kaiming_uniform", "kaiming_normal")


def _check(tensor, op):
    if not isinstance(tensor, Tensor):
        raise DTypeError(f"init.{op}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise DTypeError(f"init.{op}: needs a floating tensor, got dtype {tensor.dtype}")


def _number(value, name, op, finite=True):
    """``value`` as a float, checked to be a real number (finite unless ``finite`` is False)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"init.{op}: {name} must be a real number, got "
                                f"{type(value).__name__} {value!r}")
    if finite and not math.isfinite(value):
        raise ArgumentError(f"init.{op}: {name} must be finite, got {value!r}")
    return float(value)


def _positive_fans(tensor, op):
    fan_in, fan_out = fans(tensor)
    if not fan_in or not fan_out:
        raise ShapeError(f"init.{op}: a weight of shape {tensor.shape} has fan_in {fan_in} and "
                         f"fan_out {fan_out}; the scale needs both > 0")
    return fan_in, fan_out


def _fill(tensor, values):
    """Write ``values`` (drawn on the host by the library generator) into ``tensor``, wherever
    it lives."""
    be = tensor._device.backend
    be.assign_(tensor.data, be.asarray(np.broadcast_to(values, tensor.shape), tensor.dtype))
    mark_written(tensor)
    return tensor


def fans(tensor):
    """``(fan_in, fan_out)`` of a weight of shape ``(nin,)`` or ``(nin, nout)``."""
    if tensor.ndim == 1:
        return tensor.shape[0], 1
    if tensor.ndim == 2:
        return tensor.shape
    raise ShapeError(f"init: fan_in/fan_out need a weight of shape (nin,) or (nin, nout), got "
                     f"shape {tensor.shape}")


def zeros_(tensor):
    """Fill with 0."""
    _check(tensor, "zeros_")
    return _fill(tensor, 0)


def constant_(tensor, value):
    """Fill with ``value`` (a real number; inf and NaN are allowed)."""
    _check(tensor, "constant_")
    return _fill(tensor, _number(value, "value", "constant_", finite=False))


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples from U(a, b)."""
    _check(tensor, "uniform_")
    a, b = _number(a, "a", "uniform_"), _number(b, "b", "uniform_")
    if not a <= b:
        raise ArgumentError(f"init.uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, get_generator().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std^2)."""
    _check(tensor, "normal_")
    mean, std = _number(mean, "mean", "normal_"), _number(std, "std", "normal_")
    if std < 0:
        raise ArgumentError(f"init.normal_: std must be >= 0, got {std}")
    return _fill(tensor, mean + std * get_generator().standard_normal(tensor.shape))


def xavier_uniform_(tensor, gain=1.0):
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _positive_fans(tensor, "xavier_uniform_")
    bound = _number(gain, "gain", "xavier_uniform_") * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, get_generator().uniform(-bound, bound, tensor.shape))


def xavier_normal_(tensor, gain=1.0):
    """Glorot normal: N(0, gain^2 * 2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _positive_fans(tensor, "xavier_normal_")
    std = _number(gain, "gain", "xavier_normal_") * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, std * get_generator().standard_normal(tensor.shape))


def _he_variance(tensor, a, mode, op):
    _check(tensor, op)
    a = _number(a, "a", op)
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"init.{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _positive_fans(tensor, op)
    return 2.0 / ((1.0 + a * a) * (fan_in if mode == "fan_in" else fan_out))


def he_uniform_(tensor, a=0.0, mode="fan_in"):
    """He uniform: U(-b, b) with b = sqrt(3 * 2 / ((1 + a^2) * fan)); ``a`` is the negative
    slope of leaky ReLU / PReLU (0 for ReLU)."""
    bound = math.sqrt(3.0 * _he_variance(tensor, a, mode, "he_uniform_"))
    return _fill(tensor, get_generator().uniform(-bound, bound, tensor.shape))


def he_normal_(tensor, a=0.0, mode="fan_in"):
    """He normal: N(0, 2 / ((1 + a^2) * fan)); ``a`` is the negative slope (0 for ReLU)."""
    std = math.sqrt(_he_variance(tensor, a, mode, "he_normal_"))
    return _fill(tensor, std * get_generator().standard_normal(tensor.shape))


kaiming_uniform_ = he_uniform_
kaiming_normal_ = he_normal_

_SCHEMES = {
    "zeros": lambda w, a: zeros_(w),
    "xavier_uniform": lambda w, a: xavier_uniform_(w),
    "xavier_normal": lambda w, a: xavier_normal_(w),
    "he_uniform": he_uniform_,
    "he_normal": he_normal_,
    "kaiming_uniform": he_uniform_,
    "kaiming_normal": he_normal_,
}


def init_weight_(weight, scheme="auto", activation=None, negative_slope=0.01, prelu_init=0.25):
    """Initialize a layer's ``weight`` for the ``activation`` that follows it.

    ``scheme``: a name from ``INIT_SCHEMES`` or a function ``fn(weight)`` that fills it.
    ``"auto"`` is the textbook's rule: He normal for the ReLU family, GELU and SiLU, Xavier
    normal for tanh, sigmoid and no activation. He uses the negative slope ``a`` of leaky ReLU
    (``negative_slope``) or PReLU (its starting slope ``prelu_init``). ``"zeros"`` is allowed so
    the symmetry problem can be shown.
    """
    activation = canonical_activation(activation)
    if callable(scheme):
        scheme(weight)
        return weight
    if scheme == "auto":
        scheme = "he_normal" if activation in _HE_ACTIVATIONS else "xavier_normal"
    if not isinstance(scheme, str) or scheme not in _SCHEMES:
        valid = ", ".join(repr(s) for s in INIT_SCHEMES)
        raise ArgumentError(f"unknown init {scheme!r}; expected one of {valid} or a function "
                            "that fills the weight")
    a = {"leaky_relu": negative_slope, "prelu": prelu_init}.get(activation, 0.0)
    return _SCHEMES[scheme](weight, a)
