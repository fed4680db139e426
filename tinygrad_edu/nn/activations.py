"""Activation functions as modules, and the one place where activation names are resolved.

Every module that takes ``activation=`` accepts the names in ``ACTIVATION_NAMES`` and passes
them through ``canonical_activation``; ``"swish"`` is another name for ``"silu"`` and ``None``
means no activation (identity). The names and their properties come from the activation
registry, ``tinygrad_edu.activations.ACTIVATIONS``.
"""

from ..activations import ACTIVATIONS
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["ACTIVATION_NAMES", "RELU_FAMILY", "SATURATING", "canonical_activation", "activate",
           "Activation", "Identity", "ReLU", "LeakyReLU", "PReLU", "Sigmoid", "Tanh", "GELU",
           "SiLU", "Swish"]

_NN_SPECS = tuple(spec for spec in ACTIVATIONS.values() if spec.in_nn)
# The canonical names, then the aliases, then None (no activation).
ACTIVATION_NAMES = (tuple(spec.name for spec in _NN_SPECS)
                    + tuple(alias for spec in _NN_SPECS for alias in spec.aliases) + (None,))
_ALIASES = {alias: spec.name for spec in _NN_SPECS for alias in spec.aliases}
# Units of these output exactly 0 (or slope * z) for negative z: they can die.
RELU_FAMILY = tuple(spec.name for spec in _NN_SPECS if spec.can_die)
# These flatten out at both ends: units can saturate and pass almost no gradient.
SATURATING = tuple(spec.name for spec in _NN_SPECS if spec.saturates)


def canonical_activation(name):
    """``name`` checked against ``ACTIVATION_NAMES``, with an alias (``"swish"``) mapped to its
    canonical name (``"silu"``).

    Raises ValueError listing the valid names for anything else.
    """
    if not (name is None or isinstance(name, str)) or name not in ACTIVATION_NAMES:
        valid = ", ".join(repr(n) for n in ACTIVATION_NAMES)
        raise ArgumentError(f"unknown activation {name!r}; expected one of {valid}")
    return _ALIASES.get(name, name)


def activate(x, name, negative_slope=0.01):
    """Apply the activation ``name`` to ``x``, a Tensor or a scalar ``Value`` (both have the
    same activation methods). PReLU needs its learnable slope: use ``PReLU`` or ``x.prelu(w)``.
    """
    name = canonical_activation(name)
    if name is None:
        return x
    if name == "prelu":
        raise ArgumentError("activate: 'prelu' has a learnable slope; use the PReLU module or "
                            "x.prelu(weight)")
    if name == "leaky_relu":
        return x.leaky_relu(negative_slope)
    return getattr(x, name)()


class Activation(Module):
    """Base of the activation modules: ``activation`` is the name (as Layer uses it)."""

    activation = None

    def forward(self, x):
        return activate(x if isinstance(x, Tensor) else Tensor(x), self.activation)


class Identity(Activation):
    """Returns its input unchanged (the ``activation=None`` case)."""


class ReLU(Activation):
    """max(0, x)."""
    activation = "relu"


class LeakyReLU(Activation):
    """x for x > 0, else ``negative_slope * x``."""
    activation = "leaky_relu"

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return activate(x if isinstance(x, Tensor) else Tensor(x), self.activation,
                        self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope:g}"


class PReLU(Activation):
    """x for x > 0, else ``weight * x`` with a learnable slope (He et al. 2015).

    ``num_parameters=1`` shares one slope; ``num_parameters=C`` learns one per feature (the last
    axis of the input). The slope starts at ``init``.
    """
    activation = "prelu"

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) \
                or num_parameters < 1:
            raise ArgumentError(f"PReLU: num_parameters must be a positive int, got "
                                f"{num_parameters!r}")
        self.weight = Parameter(Tensor.full((num_parameters,), float(init)))

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x, dtype=self.weight.dtype)
        n = self.weight.shape[0]
        if n != 1 and (x.ndim == 0 or x.shape[-1] != n):
            raise ShapeError(f"PReLU: input of shape {x.shape} does not fit {n} slopes; the "
                             f"last axis must have {n} features (or use num_parameters=1)")
        return x.prelu(self.weight)

    def extra_repr(self):
        return f"num_parameters={self.weight.shape[0]}"


class Sigmoid(Activation):
    """1 / (1 + e^-x)."""
    activation = "sigmoid"


class Tanh(Activation):
    """Hyperbolic tangent."""
    activation = "tanh"


class GELU(Activation):
    """x * Phi(x) exactly (``approximate="none"``) or with the tanh approximation."""
    activation = "gelu"

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return (x if isinstance(x, Tensor) else Tensor(x)).gelu(self.approximate)

    def extra_repr(self):
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class SiLU(Activation):
    """x * sigmoid(x), also called swish."""
    activation = "silu"


Swish = SiLU
