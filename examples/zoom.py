"""The ranking network drawn one node per layer, with one layer opened into its neurons.

    python examples/zoom.py [--out DIR] [--layer layers.1]

``draw_graph(loss, group_modules="collapse", expand=["layers.1"])`` draws each layer of
MLP(128, [256, 128, 64], 1) as one node, except layers.1, drawn as the neurons the chapter
talks about: per unit a weighted sum z = x·w[:, j] + b[j] and a ReLU. Its 128 units are too
many to read, so the first and last three are drawn and the rest counted. The numbers on the
neurons come from the layer's scalar twin (one Value per number); the table printed below
shows they are the Tensor graph's numbers. Writes DIR/zoom.svg.
"""

import argparse
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.graph import topological_order
from tinygrad_edu.viz import GraphvizNotFoundError, draw_graph
from tinygrad_edu.viz.neurons import shown_units, unit_numbers


def ranking_loss(seed=0):
    """The chapter's ranking MLP on a batch of 32 examples, after backward."""
    tg.manual_seed(seed)
    model = nn.MLP(128, [256, 128, 64], 1)
    rng = np.random.default_rng(seed)
    features = Tensor(rng.standard_normal((32, 128), dtype=np.float32), label="features")
    scores = Tensor(rng.standard_normal((32, 1), dtype=np.float32), label="target scores")
    loss = nn.functional.mse_loss(model(features), scores)
    loss.label = "loss"
    loss.backward()
    return model, features, loss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for the drawing (default: .)")
    parser.add_argument("--layer", default="layers.1", help="the layer to open (default: "
                                                            "layers.1)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, features, loss = ranking_loss()

    graph = draw_graph(loss, group_modules="collapse", expand=[args.layer])
    try:
        written = graph.render(outfile=str(out / "zoom.svg"), format="svg", cleanup=True)
    except GraphvizNotFoundError as exc:
        written = f"{exc.source_path} (Graphviz's dot is not installed)"
    print(f"drew {written}: every layer one node, {args.layer} as its neurons")

    # The same numbers, from the Tensor graph and from the scalar twin the drawing used.
    index = int(args.layer.rpartition(".")[2])
    layer = model.layers[index]
    layer_input = features if index == 0 else _layer_output(loss, model.layers[index - 1])
    output = _layer_output(loss, layer)
    units = shown_units(layer.nout)
    twins = unit_numbers(layer, layer_input.numpy(), output.grad.numpy(), units,
                         f"{args.layer}.")
    print(f"{'unit':>4} {'mean a (Tensor)':>16} {'mean a (neurons)':>17} "
          f"{'bias grad (Tensor)':>19} {'bias grad (neurons)':>20}")
    for unit in twins:
        j = unit.index
        print(f"{j:>4} {output.numpy()[:, j].mean():>16.6f} {unit.a.mean():>17.6f} "
              f"{layer.bias.grad.numpy()[j]:>19.6f} {unit.bias_grad:>20.6f}")


def _layer_output(loss, layer):
    """The tensor ``layer`` returned in the graph of ``loss``."""
    return next(t for t in topological_order(loss, lambda t: t.inputs)
                if t.scope and t.scope[-1] is layer)


if __name__ == "__main__":
    main()
