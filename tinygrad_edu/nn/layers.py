"""The textbook's building blocks: a neuron, a layer of neurons, a network of layers.

Orientation: weights are stored as ``(nin, nout)`` and layers compute ``x @ weight + bias``
for a batch ``x`` of shape ``(batch, nin)``. This is the transpose of PyTorch's ``(out, in)``
storage; a PyTorch ``nn.Linear`` weight ``W`` corresponds to our ``W.T``.
Biases start at zero; weights follow ``init`` (see ``tinygrad_edu.nn.init.init_weight_``).
"""

import math
import numbers

from . import init as _init
from ..activations import activation_spec
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from ..kernels.network import DenseLayer
from ..tensor.combine import linear_act
from ..tensor import Tensor
from .activations import activate, canonical_activation
from .module import Module, Parameter

__all__ = ["Neuron", "Linear", "Layer", "MLP"]

PRELU_INIT = 0.25  # He et al.'s starting slope for PReLU


def _size(n, what, op):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ArgumentError(f"{op}: {what} must be a positive int, got {n!r}")
    return int(n)


def _slope(value, op):
    """The negative slope of leaky ReLU as a float: a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{op}: negative_slope must be a real number, got "
                                f"{type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ArgumentError(f"{op}: negative_slope must be finite, got {value!r}")
    return float(value)


def _hidden_sizes(hidden):
    """MLP's ``hidden`` (one size or a sequence of sizes) as a list, each a positive int."""
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = [hidden]
    elif isinstance(hidden, (list, tuple, range)):
        hidden = list(hidden)
    else:
        raise ArgumentTypeError(f"MLP: hidden must be an int or a list of ints (the sizes of the "
                                f"hidden layers; [] for none), got {type(hidden).__name__} "
                                f"{hidden!r}")
    return [_size(h, f"hidden size {i}", "MLP") for i, h in enumerate(hidden)]


def _prelu_slope(activation):
    """A learnable scalar slope for ``"prelu"``, else None."""
    return Parameter(Tensor.full((), PRELU_INIT)) if activation == "prelu" else None


def _input(module, x, nin):
    """``x`` as a Tensor of the module's dtype, checked to be ``(nin,)`` or ``(batch, nin)``."""
    dtype = module.weight.dtype
    if not isinstance(x, Tensor):
        x = Tensor(x, dtype=dtype, device=module.weight.device)
    if x.ndim not in (1, 2) or x.shape[-1] != nin:
        raise ShapeError(f"{type(module).__name__}({module.extra_repr()}): input has shape "
                         f"{x.shape}, expected ({nin},) or (batch, {nin})")
    if x.dtype != dtype:
        raise DTypeError(f"{type(module).__name__}({module.extra_repr()}): input has dtype "
                         f"{x.dtype} but the parameters are {dtype}; convert the input with "
                         f".astype(np.{dtype}) or the module with .double() / .float()")
    return x


def _affine(module, nin, nout, bias, init, activation, negative_slope):
    """Give ``module`` a ``weight`` (nin, nout), initialized for ``activation``, and a zero
    ``bias`` (nout,) or None."""
    module.weight = Parameter(Tensor.zeros(nin, nout))
    module.bias = Parameter(Tensor.zeros(nout)) if bias else None
    _init.init_weight_(module.weight, init, activation, negative_slope, PRELU_INIT)


def _arrow(activation):
    return f", {activation}" if activation else ""


class Neuron(Module):
    """The textbook neuron: ``z = x·w + b`` then ``activation(z)``.

    ``w`` has shape ``(nin,)`` and ``b`` is a scalar. Takes one input ``(nin,)`` (returns a
    scalar) or a batch ``(n, nin)`` (returns ``(n,)``).

    >>> n = Neuron(2, activation="tanh"); n(Tensor([1.0, -2.0])).shape
    ()
    """

    def __init__(self, nin, activation="relu", init="auto", negative_slope=0.01):
        super().__init__()
        self.nin = _size(nin, "nin", "Neuron")
        self.activation = canonical_activation(activation)
        self.negative_slope = _slope(negative_slope, "Neuron")
        self.w = Parameter(Tensor.zeros(self.nin))
        self.b = Parameter(Tensor.zeros(()))
        self.prelu_weight = _prelu_slope(self.activation)
        _init.init_weight_(self.w, init, self.activation, self.negative_slope, PRELU_INIT)

    @property
    def weight(self):
        """``w``, under the name the other layers use."""
        return self.w

    def pre_activation(self, x):
        """The weighted sum ``z = x·w + b`` (before the activation)."""
        return _input(self, x, self.nin) @ self.w + self.b

    def forward(self, x):
        z = self.pre_activation(x)
        if self.activation == "prelu":
            return z.prelu(self.prelu_weight)
        return activate(z, self.activation, self.negative_slope)

    def extra_repr(self):
        return f"{self.nin} inputs{_arrow(self.activation or 'identity')}"


class Linear(Module):
    """``x @ weight + bias`` with ``weight`` of shape ``(nin, nout)`` and ``bias`` ``(nout,)``.

    Note the orientation: PyTorch stores the transpose, ``(nout, nin)``. ``init="auto"`` is
    Xavier (there is no activation here).
    """

    def __init__(self, nin, nout, bias=True, init="auto"):
        super().__init__()
        self.nin, self.nout = _size(nin, "nin", "Linear"), _size(nout, "nout", "Linear")
        _affine(self, self.nin, self.nout, bias, init, None, 0.01)

    def forward(self, x):
        return linear_act(_input(self, x, self.nin), self.weight, self.bias)

    def extra_repr(self):
        return f"{self.nin}→{self.nout}" + ("" if self.bias is not None else ", bias=False")


class Layer(Module):
    """A layer: ``nout`` neurons side by side, ``activation(x @ weight + bias)``.

    Runs as ONE fused op (``tinygrad_edu.linear_act``: matmul, bias and activation in one
    kernel on the Numba backend). For ``"prelu"`` the slope ``prelu_weight`` (a learnable
    scalar shared by the layer, starting at 0.25) is applied after the fused linear part.
    Attributes: ``weight`` (nin, nout), ``bias`` (nout,) or None, ``activation`` (the canonical
    name, ``"silu"`` for ``"swish"``, or None), ``negative_slope``, ``prelu_weight``.
    """

    def __init__(self, nin, nout, activation="relu", init="auto", bias=True,
                 negative_slope=0.01):
        super().__init__()
        self.nin, self.nout = _size(nin, "nin", "Layer"), _size(nout, "nout", "Layer")
        self.activation = canonical_activation(activation)
        self.negative_slope = _slope(negative_slope, "Layer")
        _affine(self, self.nin, self.nout, bias, init, self.activation, self.negative_slope)
        self.prelu_weight = _prelu_slope(self.activation)

    def pre_activation(self, x):
        """``z = x @ weight + bias`` (before the activation)."""
        return linear_act(_input(self, x, self.nin), self.weight, self.bias)

    def forward(self, x):
        x = _input(self, x, self.nin)
        if self.activation == "prelu":
            return linear_act(x, self.weight, self.bias).prelu(self.prelu_weight)
        return linear_act(x, self.weight, self.bias, activation=self.activation,
                          negative_slope=self.negative_slope)

    def extra_repr(self):
        return f"{self.nin}→{self.nout}{_arrow(self.activation)}"


class MLP(Module):
    """A multilayer perceptron: Layers of sizes ``nin → hidden... → nout``.

    Hidden layers use ``activation``; the last one ``out_activation`` (None: raw scores).
    ``MLP(128, [256, 128, 64], 1)`` is the textbook's recommendation-ranking network. The
    Layers are in ``self.layers`` (parameters ``layers.0.weight``, ``layers.0.bias``, ...).
    """

    def __init__(self, nin, hidden, nout, activation="relu", out_activation=None, init="auto",
                 negative_slope=0.01):
        super().__init__()
        hidden = _hidden_sizes(hidden)
        sizes = [_size(nin, "nin", "MLP")] + hidden + [_size(nout, "nout", "MLP")]
        activations = [activation] * len(hidden) + [out_activation]
        self.layers = [Layer(a, b, act, init, negative_slope=negative_slope)
                       for a, b, act in zip(sizes[:-1], sizes[1:], activations)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def describe(self):
        """The network as the fused inference path runs it: a tuple of
        ``kernels.network.DenseLayer``, one per layer, with host copies of the weight and bias,
        the activation's code in the registry and its slope (PReLU is leaky ReLU with the
        learned slope). Later training does not change it.
        """
        layers = []
        for layer in self.layers:
            spec = activation_spec(layer.activation)
            slope = layer.prelu_weight.item() if spec.learnable_slope else layer.negative_slope
            bias = None if layer.bias is None else layer.bias.numpy().copy()
            layers.append(DenseLayer(layer.weight.numpy().copy(), bias, spec.code, slope))
        return tuple(layers)

    def compile(self, weights=None):
        """The fused inference path: a ``CompiledMLP`` running every layer in one Numba call.

        It holds a snapshot of the weights from ``describe()`` (call its ``refresh()`` after
        more training) and returns numpy arrays; no graph is recorded; called as
        ``compiled(x, out=array)`` it writes into an array of yours. ``weights="bfloat16"`` or ``"float16"`` stores the
        weights of a float32 model in 16 bits (float32 arithmetic; the scores move by the
        weights' rounding). Needs Numba.
        """
        from ..kernels.cpu.mlp import CompiledMLP

        return CompiledMLP(self, weights=weights)

    def extra_repr(self):
        sizes = [self.layers[0].nin] + [layer.nout for layer in self.layers]
        return "→".join(map(str, sizes))
