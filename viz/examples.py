"""Ready-made graphs from the textbook chapter, for ``tinygrad-edu graph --example``.

Each example builds a small computation, runs ``backward()`` so gradients are there to see, and
returns the root to draw with the ``draw_graph`` options that suit it.
"""

import numpy as np

from .. import nn
from ..random import manual_seed
from ..tensor import Tensor
from ..scalar import Value

__all__ = ["EXAMPLES", "build_example"]


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
