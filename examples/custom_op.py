"""Write an op of your own, get its backward wrong, watch gradcheck point at it, fix it.

    python examples/custom_op.py [--out DIR]

1. ``Cube`` (out = a³) is a ``tinygrad_edu.Function``: forward and backward side by side,
   computing through ``self.backend`` so it runs on every backend. Its first backward forgets
   the 3 of d(a³)/da = 3a².
2. Placed between two layers of a small network, the whole-network gradient check fails, and
   the error names ``cube`` as the op to blame, with backward's number and the finite
   difference of that op alone. The graph is drawn with the op marked (DIR/cube_bug.svg).
3. The fixed op passes. The scalar engine gets the same story with ``Value.custom``.
4. Mistakes the engine catches at the op: backward returning the wrong number of gradients,
   or a gradient of the wrong shape.
"""

import argparse
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Function, GradcheckError, Tensor, TinygradEduError, Value, gradcheck, nn
from tinygrad_edu.viz import GraphvizNotFoundError, draw_graph


class CubeWithBug(Function):
    """out = a³;  da = 3a² g ... but this backward forgets the 3."""
    op = "cube"

    def forward(self, a):
        self.a = a
        be = self.backend
        return be.mul(be.mul(a, a), a)

    def backward(self, g):
        be = self.backend
        return (be.mul(g, be.mul(self.a, self.a)),)


class Cube(CubeWithBug):
    """out = a³;  da = 3a² g."""

    def backward(self, g):
        be = self.backend
        return (be.mul(g, be.mul(3.0, be.mul(self.a, self.a))),)


class Cubed(nn.Module):
    """A module applying one of the ops above, so it can sit inside nn.Sequential."""

    def __init__(self, op):
        super().__init__()
        self.apply_op = op.apply

    def forward(self, x):
        return self.apply_op(x)


def network_with(op):
    """3 → 4 (tanh) → cube → 1, in float64 for the gradient check."""
    tg.manual_seed(0)
    return nn.Sequential(nn.Layer(3, 4, activation="tanh"), Cubed(op),
                         nn.Layer(4, 1, activation=None)).double()


def check_network(op, x, y):
    model = network_with(op)
    return gradcheck(lambda *params: nn.functional.mse_loss(model(x), y),
                     list(model.parameters()))


def value_cube_with_bug(x):
    return Value.custom(x.data ** 3, (x,), (x.data ** 2,), op="cube")      # forgets the 3


def value_cube(x):
    return Value.custom(x.data ** 3, (x,), (3 * x.data ** 2,), op="cube")


def draw(err, out):
    graph = draw_graph(err.root, highlight=err)
    try:
        return graph.render(outfile=str(out / "cube_bug.svg"), format="svg", cleanup=True)
    except GraphvizNotFoundError as exc:
        return f"{exc.source_path} (Graphviz's dot is not installed)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for the drawing (default: .)")
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((5, 3)), dtype=np.float64)
    y = Tensor(rng.standard_normal((5, 1)), dtype=np.float64)

    print("1. The network with the buggy cube:")
    try:
        check_network(CubeWithBug, x, y)
    except GradcheckError as err:
        print(err)
        print(f"   err.node is the {type(err.node).__name__} node of op {err.node.op!r}; "
              f"backward says {err.op_mismatch.computed:.4f}, finite differences "
              f"{err.op_mismatch.expected:.4f}: the 3 is missing")
        print(f"   drew {draw(err, out)}")

    print("2. The fixed cube:", "gradcheck passes" if check_network(Cube, x, y) else "fails")

    print("3. The scalar engine, through a neuron:")
    w, b = Value(0.7, label="w"), Value(-0.2, label="b")
    for cube in (value_cube_with_bug, value_cube):
        try:
            gradcheck(lambda w, b: cube(w * 1.5 + b).tanh(), [w, b])
            print(f"   {cube.__name__}: gradcheck passes")
        except GradcheckError as err:
            print(f"   {cube.__name__}: {err.op_mismatch.describe()}")

    print("4. Mistakes caught at the op:")

    class TwoGradients(CubeWithBug):
        def backward(self, g):
            return g, g                 # one input, two gradients

    class WrongShape(CubeWithBug):
        def backward(self, g):
            return (self.backend.sum(g, None, False),)   # a scalar for a (5, 4) input

    for op in (TwoGradients, WrongShape):
        a = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
        try:
            op.apply(a).sum().backward()
        except TinygradEduError as exc:
            print(f"   {op.__name__}: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
