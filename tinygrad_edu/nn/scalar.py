"""Neuron, Layer and MLP over scalar ``Value``s: one graph node per number, micrograd style.

They are twins of the Tensor modules, not a second implementation: each is built *from* a
Tensor module (the constructors make one with the same arguments and copy its weights), so the
init rules, activation names and architecture rules are those of ``nn.Neuron``, ``nn.Layer``
and ``nn.MLP``. After ``manual_seed(s)`` both kinds draw the same weights; ``from_tensor``
converts an existing Tensor module. Same weights give the same outputs and gradients, so a tiny
network can be drawn number by number and checked against its Tensor twin.

Values are labelled like the Tensor parameters they came from (``layers.0.weight[2,1]`` is
input 2 of neuron 1 in layer 0), and inputs as ``x[i]``.

>>> mlp = MLP(2, [3], 1, activation="tanh"); out = mlp([1.0, -0.5])[0]; out.backward()
"""

from ..errors import ShapeError
from ..scalar.value import Value
from . import layers as tensor_layers
from .activations import activate

__all__ = ["Neuron", "Layer", "MLP"]


def _inputs(x, nin, where):
    """``x`` as a list of ``nin`` Values; numbers become labelled input Values, once."""
    x = list(x.tolist() if hasattr(x, "tolist") else x)
    if len(x) != nin:
        raise ShapeError(f"{where}: expected {nin} inputs, got {len(x)}")
    return [xi if isinstance(xi, Value) else Value(xi, label=f"x[{i}]") for i, xi in enumerate(x)]


def _unique(values):
    seen, out = set(), []
    for name, v in values:
        if id(v) not in seen:
            seen.add(id(v))
            out.append((name, v))
    return out


class _ScalarModule:
    def parameters(self):
        """All parameter Values (each once)."""
        return [v for _, v in self.named_parameters()]

    def zero_grad(self):
        """Set the gradient of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(_ScalarModule):
    """``activation(sum_i w[i] * x[i] + b)`` on one example of ``nin`` numbers or Values."""

    def __init__(self, nin, activation="relu", init="auto", negative_slope=0.01):
        self._take(tensor_layers.Neuron(nin, activation, init, negative_slope))

    @classmethod
    def from_tensor(cls, neuron):
        """The scalar twin of a Tensor ``nn.Neuron`` (its current weights, copied)."""
        self = cls.__new__(cls)
        self._take(neuron)
        return self

    def _take(self, neuron):
        slope = neuron.prelu_weight
        self._setup([Value(float(v), label=f"w[{i}]") for i, v in enumerate(neuron.w.numpy())],
                    Value(float(neuron.b.numpy()), label="b"), neuron.activation,
                    neuron.negative_slope,
                    None if slope is None else Value(float(slope.numpy()), label="prelu_weight"))

    def _setup(self, w, b, activation, negative_slope, prelu_weight):
        self.w, self.b = w, b
        self.activation, self.negative_slope = activation, negative_slope
        self.prelu_weight = prelu_weight

    def named_parameters(self):
        extra = [] if self.prelu_weight is None else [(self.prelu_weight.label,
                                                       self.prelu_weight)]
        bias = [] if self.b is None else [(self.b.label, self.b)]
        return _unique([(w.label, w) for w in self.w] + bias + extra)

    def pre_activation(self, x):
        """The weighted sum ``z``, one ``*`` and one ``+`` node per input."""
        x = _inputs(x, len(self.w), "Neuron")
        terms = [wi * xi for wi, xi in zip(self.w, x)]
        if self.b is None:
            return sum(terms[1:], terms[0])
        return sum(terms, self.b)

    def __call__(self, x):
        z = self.pre_activation(x)
        if self.activation == "prelu":
            # The same function as Tensor.prelu: z where z > 0, else slope * z.
            return z if z.data > 0 else z * self.prelu_weight
        return activate(z, self.activation, self.negative_slope)

    def __repr__(self):
        return f"Neuron({len(self.w)} inputs, {self.activation or 'identity'})"


class Layer(_ScalarModule):
    """``nout`` scalar Neurons side by side, reading the same inputs; returns a list."""

    def __init__(self, nin, nout, activation="relu", init="auto", negative_slope=0.01):
        self._take(tensor_layers.Layer(nin, nout, activation, init,
                                       negative_slope=negative_slope), "")

    @classmethod
    def from_tensor(cls, layer, prefix=""):
        """The scalar twin of a Tensor ``nn.Layer``: neuron ``j`` gets column ``j`` of the
        weight. ``prefix`` starts the Values' labels (e.g. ``"layers.0."``)."""
        self = cls.__new__(cls)
        self._take(layer, prefix)
        return self

    def _take(self, layer, prefix):
        weight = layer.weight.numpy()
        bias = None if layer.bias is None else layer.bias.numpy()
        slope = None
        if layer.prelu_weight is not None:
            slope = Value(float(layer.prelu_weight.numpy()), label=f"{prefix}prelu_weight")
        self.neurons = []
        for j in range(layer.nout):
            neuron = Neuron.__new__(Neuron)
            neuron._setup([Value(float(weight[i, j]), label=f"{prefix}weight[{i},{j}]")
                           for i in range(layer.nin)],
                          None if bias is None else Value(float(bias[j]),
                                                          label=f"{prefix}bias[{j}]"),
                          layer.activation, layer.negative_slope, slope)
            self.neurons.append(neuron)

    def named_parameters(self):
        return _unique([item for n in self.neurons for item in n.named_parameters()])

    def __call__(self, x):
        x = _inputs(x, len(self.neurons[0].w), "Layer")
        return [neuron(x) for neuron in self.neurons]

    def __repr__(self):
        first = self.neurons[0]
        act = f", {first.activation}" if first.activation else ""
        return f"Layer({len(first.w)}→{len(self.neurons)}{act})"


class MLP(_ScalarModule):
    """Scalar Layers in sequence; ``MLP(nin, hidden, nout, ...)`` takes ``nn.MLP``'s arguments
    and returns a list of ``nout`` Values per example."""

    def __init__(self, nin, hidden, nout, activation="relu", out_activation=None, init="auto",
                 negative_slope=0.01):
        self._take(tensor_layers.MLP(nin, hidden, nout, activation, out_activation, init,
                                     negative_slope))

    @classmethod
    def from_tensor(cls, mlp):
        """The scalar twin of a Tensor ``nn.MLP`` (its current weights, copied)."""
        self = cls.__new__(cls)
        self._take(mlp)
        return self

    def _take(self, mlp):
        self.layers = [Layer.from_tensor(layer, f"layers.{i}.")
                       for i, layer in enumerate(mlp.layers)]

    def named_parameters(self):
        return _unique([item for layer in self.layers for item in layer.named_parameters()])

    def __call__(self, x):
        x = _inputs(x, len(self.layers[0].neurons[0].w), "MLP")
        for layer in self.layers:
            x = layer(x)
        return x

    def __repr__(self):
        return "MLP(" + ", ".join(map(repr, self.layers)) + ")"
