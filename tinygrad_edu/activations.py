"""The activation registry: every activation's name, code, formulas and default init, once.

``ACTIVATIONS`` maps each canonical name to its ``ActivationSpec`` (code, aliases, the formula
and derivative as text, the weight init ``"auto"`` picks, whether units can die or saturate).
nn, the weight initializers, the backends and the kernels all read it, so an activation is
added here and nowhere else.

The math comes in two forms that tests check against each other:

- ``activate(code, x, slope)`` / ``derivative(code, x, y, slope)`` (and ``gradient``, the
  derivative applied to an incoming gradient): one number at a time. The
  scalar ``Value`` engine calls them directly; the Numba CPU kernels compile them with ``njit``
  and a CUDA backend compiles them with ``cuda.jit(device=True)``. They therefore use only
  ``math`` and plain arithmetic, and select the activation by integer code (compiled code
  cannot look names up in a dict).
- ``activate_array(code, x, slope)`` / ``backward_array(code, x, y, grad, slope)``: whole numpy
  arrays, in the array's dtype; the numpy reference backend runs these.

Derivatives take both the input ``x`` and the output ``y = activate(x)`` because some are
cheapest from the output (sigmoid: y(1-y), tanh: 1-y^2).

>>> ACTIVATIONS["silu"].aliases, ACTIVATIONS["silu"].init
(('swish',), 'he_normal')
>>> activate(activation_code("sigmoid"), 0.0, 0.0)
0.5
"""

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .errors import ArgumentError

__all__ = ["IDENTITY", "RELU", "LEAKY_RELU", "SIGMOID", "TANH", "GELU", "GELU_TANH", "SILU",
           "ActivationSpec", "ACTIVATIONS", "ACTIVATION_CODES", "CODES", "activation_spec",
           "activation_code", "activate", "derivative", "gradient", "sigmoid", "activate_array",
           "backward_array"]

IDENTITY = 0
RELU = 1
LEAKY_RELU = 2   # also PReLU's forward, with the learned slope passed as ``slope``
SIGMOID = 3
TANH = 4
GELU = 5         # exact: x * Phi(x), Phi the standard normal CDF
GELU_TANH = 6    # tanh approximation of GELU
SILU = 7         # x * sigmoid(x), also called swish

SQRT_HALF = 0.7071067811865476       # 1/sqrt(2)
INV_SQRT_2PI = 0.3989422804014327    # 1/sqrt(2*pi)
SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2/pi)
GELU_TANH_C = 0.044715


@dataclass(frozen=True)
class ActivationSpec:
    """One activation of the registry.

    - ``name``: the canonical name; ``aliases``: other names nn accepts for it;
    - ``code``: the integer the formulas switch on (an activation with ``learnable_slope`` runs
      as this code with its learned slope passed as ``slope``: PReLU is leaky ReLU);
    - ``formula`` / ``derivative``: short plain-text forms, for docs and plots;
    - ``init``: the weight init that ``init="auto"`` picks, a name of ``nn.init``
      (``"he_normal"`` or ``"xavier_normal"``);
    - ``can_die``: units can output 0 (or slope * z) for every input, the ReLU family;
    - ``saturates``: flat at both ends, so units can pass almost no gradient;
    - ``learnable_slope``: the negative slope is a parameter of the layer (PReLU);
    - ``in_nn``: accepted as ``activation=`` by nn layers (identity is spelled None there and
      gelu_tanh is ``GELU(approximate="tanh")``).
    """

    name: str
    code: int
    formula: str
    derivative: str
    init: str
    aliases: tuple = ()
    can_die: bool = False
    saturates: bool = False
    learnable_slope: bool = False
    in_nn: bool = True


_HE, _XAVIER = "he_normal", "xavier_normal"

ACTIVATIONS = MappingProxyType({spec.name: spec for spec in (
    ActivationSpec("identity", IDENTITY, formula="x", derivative="1", init=_XAVIER, in_nn=False),
    ActivationSpec("relu", RELU, formula="max(0, x)", derivative="1 if x > 0 else 0",
                   init=_HE, can_die=True),
    ActivationSpec("leaky_relu", LEAKY_RELU, formula="x if x > 0 else slope * x",
                   derivative="1 if x > 0 else slope", init=_HE, can_die=True),
    ActivationSpec("prelu", LEAKY_RELU, formula="x if x > 0 else w * x, w learned",
                   derivative="1 if x > 0 else w", init=_HE, can_die=True,
                   learnable_slope=True),
    ActivationSpec("sigmoid", SIGMOID, formula="1 / (1 + exp(-x))",
                   derivative="sigmoid(x) * (1 - sigmoid(x))", init=_XAVIER, saturates=True),
    ActivationSpec("tanh", TANH, formula="tanh(x)", derivative="1 - tanh(x)^2", init=_XAVIER,
                   saturates=True),
    ActivationSpec("gelu", GELU, formula="x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))",
                   derivative="Phi(x) + x * phi(x), phi the standard normal density",
                   init=_HE),
    ActivationSpec("gelu_tanh", GELU_TANH,
                   formula="0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)",
                   derivative="0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) du/dx", init=_HE,
                   in_nn=False),
    ActivationSpec("silu", SILU, formula="x * sigmoid(x)",
                   derivative="sigmoid(x) * (1 + x * (1 - sigmoid(x)))", init=_HE,
                   aliases=("swish",)),
)})

# The names with a code of their own (PReLU borrows leaky ReLU's), for the fused op's
# ``activation=`` and the kernels.
ACTIVATION_CODES = {spec.name: spec.code for spec in ACTIVATIONS.values()
                    if not spec.learnable_slope}
# Every code the formulas switch on, ascending: the kernels compile one loop per code.
CODES = tuple(sorted(set(ACTIVATION_CODES.values())))

_LOOKUP = {**ACTIVATIONS,
           **{alias: spec for spec in ACTIVATIONS.values() for alias in spec.aliases},
           None: ACTIVATIONS["identity"]}


def activation_spec(name):
    """The registry entry for ``name``: a canonical name, an alias or None (identity).

    >>> activation_spec("swish").name
    'silu'

    Raises ArgumentError listing the valid names for anything else.
    """
    try:
        return _LOOKUP[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(n) for n in _LOOKUP)
        raise ArgumentError(f"activation_spec: unknown activation {name!r}; expected one of "
                            f"{valid}") from None


def activation_code(name):
    """The integer code of an activation name; a clear error lists the valid names."""
    try:
        return ACTIVATION_CODES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(n) for n in ACTIVATION_CODES)
        raise ArgumentError(f"unknown activation {name!r}; expected one of {valid}") from None


# ---- scalar forms: plain math, compiled per target ----

def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def activate(code, x, slope):
    """The activation ``code`` applied to ``x`` (``slope`` is used by leaky ReLU only)."""
    if code == RELU:
        # As numpy's maximum(x, 0): +0.0 for every x <= 0 (-inf and -0.0 included), NaN kept.
        return x if x > 0 or x != x else 0.0
    if code == LEAKY_RELU:
        return x if x > 0 else slope * x
    if code == SIGMOID:
        return sigmoid(x)
    if code == TANH:
        return math.tanh(x)
    if code == GELU:
        return 0.5 * x * (1.0 + math.erf(x * SQRT_HALF))
    if code == GELU_TANH:
        return 0.5 * x * (1.0 + math.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)))
    if code == SILU:
        return x * sigmoid(x)
    return x


def derivative(code, x, y, slope):
    """d activate(x) / dx, given the input ``x`` and the output ``y``.

    ReLU-family kinks at exactly 0 take the left derivative (0, or ``slope``), as PyTorch does.
    """
    if code == RELU:
        return 1.0 if x > 0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if x > 0 else slope
    if code == SIGMOID:
        return y * (1.0 - y)
    if code == TANH:
        return 1.0 - y * y
    if code == GELU:
        return 0.5 * (1.0 + math.erf(x * SQRT_HALF)) + x * INV_SQRT_2PI * math.exp(-0.5 * x * x)
    if code == GELU_TANH:
        inner = SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)
        t = math.tanh(inner)
        d_inner = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_C * x * x)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner
    if code == SILU:
        s = sigmoid(x)
        return s * (1.0 + x * (1.0 - s))
    return 1.0


def gradient(code, x, y, grad, slope):
    """``grad * derivative(code, x, y, slope)``, the gradient reaching the input, except that
    ReLU's zero side gives 0 whatever ``grad`` is (inf and NaN included), as ``backward_array``
    and PyTorch do: it selects, it does not multiply."""
    if code == RELU:
        return grad if x > 0 else 0.0
    return grad * derivative(code, x, y, slope)


# ---- array forms: the same formulas on numpy arrays, in the array's dtype ----

def _sigmoid_array(x):
    # exp of -|x| never overflows; the two branches are the same function.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _erf_array(x):
    # numpy has no erf ufunc; math.erf per element is exact and only the reference needs it.
    return np.vectorize(math.erf, otypes=[x.dtype])(x) if x.size else x.copy()


def activate_array(code, x, slope):
    """``activate`` on every element of the float array ``x``, computed in x's dtype."""
    if code == RELU:
        return np.maximum(x, 0)
    if code == LEAKY_RELU:
        return np.where(x > 0, x, x * x.dtype.type(slope))
    if code == SIGMOID:
        return _sigmoid_array(x)
    if code == TANH:
        return np.tanh(x)
    if code == GELU:
        return 0.5 * x * (1 + _erf_array(x * x.dtype.type(SQRT_HALF)))
    if code == GELU_TANH:
        t = x.dtype.type
        return 0.5 * x * (1 + np.tanh(t(SQRT_2_OVER_PI) * (x + t(GELU_TANH_C) * x ** 3)))
    if code == SILU:
        return x * _sigmoid_array(x)
    return x


def backward_array(code, x, y, grad, slope):
    """``grad * derivative`` on whole arrays: the gradient with respect to the input ``x``,
    given the output ``y = activate_array(code, x, slope)`` and the output's gradient ``grad``
    (all of one shape and float dtype)."""
    if code == RELU:
        return np.where(x > 0, grad, 0).astype(grad.dtype, copy=False)
    if code == LEAKY_RELU:
        return np.where(x > 0, grad, grad * grad.dtype.type(slope))
    if code == SIGMOID:
        return grad * y * (1 - y)
    if code == TANH:
        return grad * (1 - y * y)
    if code == GELU:
        t = x.dtype.type
        cdf = 0.5 * (1 + _erf_array(x * t(SQRT_HALF)))
        return grad * (cdf + x * t(INV_SQRT_2PI) * np.exp(-0.5 * x * x))
    if code == GELU_TANH:
        t = x.dtype.type
        th = np.tanh(t(SQRT_2_OVER_PI) * (x + t(GELU_TANH_C) * x ** 3))
        d_inner = t(SQRT_2_OVER_PI) * (1 + t(3 * GELU_TANH_C) * x * x)
        return grad * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * d_inner)
    if code == SILU:
        s = _sigmoid_array(x)
        return grad * s * (1 + x * (1 - s))
    return grad
