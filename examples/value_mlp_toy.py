"""A scalar-engine MLP learns a 2-D toy set (XOR: four blobs), one Value per number.

Every weight, product and sum is its own graph node, so the trained network's graph can be
drawn whole: each node shows its value and its gradient after backward().

    python examples/value_mlp_toy.py                   # trains, prints accuracy
    python examples/value_mlp_toy.py --out pictures/   # and draws the graph of one example
"""

import argparse
import os

import numpy as np

from tinygrad_edu import manual_seed, nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=100, help="gradient steps (default: 100)")
parser.add_argument("--out", help="folder to draw the graph into (value_mlp.svg)")
args = parser.parse_args()


def xor_blobs(n, rng, noise=0.35):
    """Points around (±1, ±1), labelled +1 where x1 and x2 have the same sign, else -1: no
    line separates the classes, so a single neuron cannot, but one hidden layer can."""
    corners = rng.choice([-1.0, 1.0], (n, 2))
    return corners + noise * rng.standard_normal((n, 2)), corners[:, 0] * corners[:, 1]


rng = np.random.default_rng(0)
x_train, y_train = xor_blobs(40, rng)
x_test, y_test = xor_blobs(200, rng)
manual_seed(0)
model = nn.scalar.MLP(2, [4], 1, activation="tanh")
print(f"{model}: {len(model.parameters())} parameters, each a Value")


def loss_of(points, labels):
    """Mean squared error of the raw scores against the ±1 labels."""
    errors = [(model(list(p))[0] - label) ** 2 for p, label in zip(points, labels)]
    return sum(errors) * (1.0 / len(errors))


def accuracy(points, labels):
    return np.mean([np.sign(model(list(p))[0].data) == label for p, label in zip(points, labels)])


for step in range(args.steps):
    loss = loss_of(x_train, y_train)
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= 0.2 * p.grad
    if step % 20 == 0 or step == args.steps - 1:
        print(f"step {step:3d}  loss {loss.data:.4f}  train accuracy "
              f"{accuracy(x_train, y_train):.0%}")
print(f"test accuracy on 200 new points: {accuracy(x_test, y_test):.0%}")

if args.out:
    from tinygrad_edu.viz import GraphvizNotFoundError, render_graph

    example = loss_of(x_test[:1], y_test[:1])
    model.zero_grad()
    example.backward()
    example.label = "loss"
    os.makedirs(args.out, exist_ok=True)
    try:
        path = render_graph(example, os.path.join(args.out, "value_mlp.svg"),
                            params=model.named_parameters())
        print(f"wrote {path}: the graph of one example's loss, values and gradients")
    except GraphvizNotFoundError as exc:
        print(f"no picture: {str(exc).splitlines()[0]}")
