"""Activation functions and their derivatives, for one number at a time.

This is the single definition of the activations' math. The scalar ``Value`` engine calls it
directly; the Numba CPU kernels compile it with ``njit`` and the CUDA kernels with
``cuda.jit(device=True)``. It therefore uses only ``math`` and plain arithmetic, and selects the
activation with an integer code (compiled code cannot look names up in a dict).

``derivative(code, x, y, slope)`` takes both the input ``x`` and the output ``y = activate(x)``
because some derivatives are cheapest from the output (sigmoid: y(1-y), tanh: 1-y^2).
The numpy backend has array versions of the same formulas; tests check they agree.
"""

import math

from .errors import ArgumentError

__all__ = ["IDENTITY", "RELU", "LEAKY_RELU", "SIGMOID", "TANH", "GELU", "GELU_TANH", "SILU",
           "ACTIVATION_CODES", "activation_code", "activate", "derivative", "sigmoid"]

IDENTITY = 0
RELU = 1
LEAKY_RELU = 2   # also PReLU's forward, with the learned slope passed as ``slope``
SIGMOID = 3
TANH = 4
GELU = 5         # exact: x * Phi(x), Phi the standard normal CDF
GELU_TANH = 6    # tanh approximation of GELU
SILU = 7         # x * sigmoid(x), also called swish

ACTIVATION_CODES = {
    "identity": IDENTITY, "relu": RELU, "leaky_relu": LEAKY_RELU, "sigmoid": SIGMOID,
    "tanh": TANH, "gelu": GELU, "gelu_tanh": GELU_TANH, "silu": SILU,
}

SQRT_HALF = 0.7071067811865476       # 1/sqrt(2)
INV_SQRT_2PI = 0.3989422804014327    # 1/sqrt(2*pi)
SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2/pi)
GELU_TANH_C = 0.044715


def activation_code(name):
    """The integer code of an activation name; a clear error lists the valid names."""
    try:
        return ACTIVATION_CODES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(n) for n in ACTIVATION_CODES)
        raise ArgumentError(f"unknown activation {name!r}; expected one of {valid}") from None


def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def activate(code, x, slope):
    """The activation ``code`` applied to ``x`` (``slope`` is used by leaky ReLU only)."""
    if code == RELU:
        return x if x > 0 else 0.0 * x
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
