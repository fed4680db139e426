"""``nn.functional`` (imported as ``F``, as in PyTorch): activations and losses as functions.

The losses are defined in ``loss_functions``; the activations and softmax here are the Tensor
methods of the same names, called as PyTorch spells them (``F.relu(x)``,
``F.softmax(x, dim=-1)``). This module is the namespace users import.
"""

from ..errors import ArgumentTypeError
from ..tensor import Tensor
from ..tensor.validation import axis_spellings
from .loss_functions import (REDUCTIONS, binary_cross_entropy, binary_cross_entropy_with_logits,
                             cross_entropy, l1_loss, mse_loss)

__all__ = ["relu", "leaky_relu", "prelu", "sigmoid", "tanh", "gelu", "silu", "softmax",
           "log_softmax", "mse_loss", "l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "REDUCTIONS"]


def _tensor(input, op):
    if not isinstance(input, Tensor):
        raise ArgumentTypeError(f"{op}: input must be a Tensor, got {type(input).__name__}; "
                                f"wrap it with tinygrad_edu.tensor(...)")
    return input


def relu(input):
    """max(0, x) elementwise (``Tensor.relu``)."""
    return _tensor(input, "relu").relu()


def leaky_relu(input, negative_slope=0.01):
    """x for x > 0, else negative_slope * x (``Tensor.leaky_relu``)."""
    return _tensor(input, "leaky_relu").leaky_relu(negative_slope)


def prelu(input, weight):
    """x for x > 0, else weight * x, with ``weight`` broadcast over x (``Tensor.prelu``)."""
    return _tensor(input, "prelu").prelu(weight)


def sigmoid(input):
    """1 / (1 + e^-x) elementwise (``Tensor.sigmoid``)."""
    return _tensor(input, "sigmoid").sigmoid()


def tanh(input):
    """Hyperbolic tangent elementwise (``Tensor.tanh``)."""
    return _tensor(input, "tanh").tanh()


def gelu(input, approximate="none"):
    """GELU, exact (``"none"``) or with the tanh approximation (``Tensor.gelu``)."""
    return _tensor(input, "gelu").gelu(approximate)


def silu(input):
    """x * sigmoid(x) elementwise (``Tensor.silu``)."""
    return _tensor(input, "silu").silu()


@axis_spellings
def softmax(input, dim=-1):
    """exp(x) / sum(exp(x)) along ``dim`` (``Tensor.softmax``)."""
    return _tensor(input, "softmax").softmax(dim)


@axis_spellings
def log_softmax(input, dim=-1):
    """x - logsumexp(x) along ``dim`` (``Tensor.log_softmax``)."""
    return _tensor(input, "log_softmax").log_softmax(dim)
