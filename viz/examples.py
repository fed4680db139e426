"""Ready-made graphs from the textbook chapter, for ``tinygrad-edu graph --example``, and
gradient checks for ``tinygrad-edu gradcheck --example``.

Each graph example builds a small computation, runs ``backward()`` so gradients are there to
see, and returns the root to draw with the ``draw_graph`` options that suit it. Each gradient
check returns ``(fn, inputs)`` for ``gradcheck``: a small network with an op of its own in the
middle, written correctly or with the bug a learner makes (the 3 of d(a³)/da forgotten).
"""

import numpy as np

from .. import nn
from ..random import manual_seed
from ..tensor import Function, Tensor
from ..scalar import Value

__all__ = ["EXAMPLES", "build_example", "GRADCHECKS", "build_gradcheck"]


def neuron(seed):
    """The chapter's two-input neuron: y = relu(w1*x1 + w2*x2 + b), one Value per number."""
    x1, x2 = Value(2.0, label="x1"), Value(-1.0, label="x2")
    w1, w2 = Value(0.6, label="w1"), Value(-0.4, label="w2")
    b = Value(0.1, label="b")
    w1x1, w2x2 = w1 * x1, w2 * x2
    w1x1.label, w2x2.label = "w1\u00b7x1", "w2\u00b7x2"
    weighted = w1x1 + w2x2
    weighted.label = "w1\u00b7x1 + w2\u00b7x2"
    z = weighted + b
    z.label = "z (pre-activation)"
    y = z.relu()
    y.label = "y"
    y.backward()
    return y, {"params": {"w1": w1, "w2": w2, "b": b}}


def value_mlp(seed):
    """A tiny scalar MLP 2→3→1 (tanh) on one example, with its squared error."""
    manual_seed(seed)
    model = nn.scalar.MLP(2, [3], 1, activation="tanh")
    (prediction,) = model([2.0, -1.0])
    prediction.label = "prediction"
    loss = (prediction - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, {"params": model.named_parameters()}


def ranking_mlp(seed):
    """The chapter's ranking network MLP(128, [256, 128, 64], 1) on a batch of 32 examples,
    with its mean squared error."""
    manual_seed(seed)
    model = nn.MLP(128, [256, 128, 64], 1)
    rng = np.random.default_rng(seed)
    features = Tensor(rng.standard_normal((32, 128), dtype=np.float32), label="features")
    scores = Tensor(rng.standard_normal((32, 1), dtype=np.float32), label="target scores")
    loss = nn.functional.mse_loss(model(features), scores)
    loss.label = "loss"
    loss.backward()
    return loss, {}


EXAMPLES = {
    "neuron": neuron,
    "mlp": ranking_mlp,
    "value-mlp": value_mlp,
}


def build_example(name, seed=0):
    """``(root, draw_graph options)`` for the example ``name`` (a key of ``EXAMPLES``)."""
    return EXAMPLES[name](seed)


class Cube(Function):
    """out = a³;  da = 3a² g."""
    op = "cube"

    def forward(self, a):
        self.a = a
        be = self.backend
        return be.mul(be.mul(a, a), a)

    def backward(self, g):
        be = self.backend
        return (be.mul(g, be.mul(3.0, be.mul(self.a, self.a))),)


class CubeWithBug(Cube):
    """out = a³, with the learner's bug: da = a² g."""

    def backward(self, g):
        be = self.backend
        return (be.mul(g, be.mul(self.a, self.a)),)


class _Applying(nn.Module):
    """A module that applies an op (so the op gets a place among the network's layers)."""

    def __init__(self, op):
        super().__init__()
        self.apply_op = op.apply

    def forward(self, x):
        return self.apply_op(x)


def _cube_network(op, seed):
    manual_seed(seed)
    model = nn.Sequential(nn.Layer(3, 4, activation="tanh"), _Applying(op),
                          nn.Layer(4, 1, activation=None)).double()
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((5, 3)), label="x")
    y = Tensor(rng.standard_normal((5, 1)), label="y")
    return (lambda *params: nn.functional.mse_loss(model(x), y)), list(model.parameters())


def cube_mlp(seed):
    """A 3→4 (tanh) → cube → 1 network and its squared error: every backward is right."""
    return _cube_network(Cube, seed)


def cube_mlp_bug(seed):
    """The same network with a cube op whose backward forgets the 3: gradcheck names it."""
    return _cube_network(CubeWithBug, seed)


def value_cube_bug(seed):
    """A scalar neuron tanh(cube(w·x + b)) whose cube (Value.custom) has the same bug."""
    def cube(v):
        return Value.custom(v.data ** 3, (v,), (v.data ** 2,), op="cube")

    rng = np.random.default_rng(seed)
    w, b = Value(float(rng.uniform(-1, 1)), label="w"), Value(float(rng.uniform(-1, 1)),
                                                                label="b")
    return (lambda w, b: cube(w * 1.5 + b).tanh()), [w, b]


GRADCHECKS = {
    "mlp": cube_mlp,
    "mlp-bug": cube_mlp_bug,
    "value-bug": value_cube_bug,
}


def build_gradcheck(name, seed=0):
    """``(fn, inputs)`` of the gradient check ``name`` (a key of ``GRADCHECKS``)."""
    return GRADCHECKS[name](seed)
