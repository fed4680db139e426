"""The ``tinygrad-edu`` command line.

``tinygrad-edu train`` trains the chapter's ranking network and reports what it learned;
``tinygrad-edu graph --example neuron --out neuron.svg`` draws one of the chapter's examples.
Each command is one ``_add_<name>_command`` function that registers its arguments and a
``run`` function; add a command by writing another and listing it in ``COMMANDS``.

Exit codes: 0 success, 1 the command failed (its message says why), 2 bad arguments,
3 Graphviz's ``dot`` program is missing (the DOT source is saved so nothing is lost).
"""

import argparse
import os
import sys

from ..errors import TinygradEduError

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_GRAPHVIZ = 0, 1, 2, 3
_GRAPH_FORMATS = ("svg", "png", "pdf")
_EXIT_CODES = """exit codes:
  0  the file was written
  1  drawing failed (the message says why)
  2  bad arguments
  3  Graphviz's dot program is missing; the DOT source was saved next to FILE (.gv)"""


def _add_graph_command(commands):
    from ..viz.examples import EXAMPLES   # cheap: the examples build nothing until called

    listing = "\n".join(f"  {name:<10} {' '.join(build.__doc__.split())}"
                        for name, build in EXAMPLES.items())
    parser = commands.add_parser(
        "graph", help="draw the computation graph of one of the chapter's examples",
        description="Draw the computation graph of an example, after backward(), with "
                    "Graphviz. Needs the dot program (apt-get / brew / conda install graphviz).",
        epilog=f"examples:\n{listing}\n\n{_EXIT_CODES}\n\n"
               "e.g.  tinygrad-edu graph --example mlp --out mlp.svg --backward",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--example", required=True, choices=list(EXAMPLES),
                        help="which graph to draw (listed below)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="file to write; the format's extension is added if it has none")
    parser.add_argument("--format", choices=_GRAPH_FORMATS,
                        help="file format (default: FILE's extension, else svg)")
    parser.add_argument("--backward", action="store_true",
                        help="draw the gradient flow: edges from the output back to the inputs")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed for the example's weights and data (default: 0)")
    parser.set_defaults(run=_run_graph, command_parser=parser)
    return parser


def _run_graph(args, parser):
    stem, ext = os.path.splitext(args.out)
    suffix = ext[1:].lower()
    if args.format and suffix in _GRAPH_FORMATS and suffix != args.format:
        parser.error(f"--out {args.out} ends in .{suffix} but --format is {args.format}; "
                     "make them agree")
    fmt = args.format or (suffix if suffix in _GRAPH_FORMATS else "svg")
    path = args.out if suffix == fmt else f"{args.out}.{fmt}"
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")

    from ..viz import GraphvizNotFoundError, render_graph
    from ..viz.examples import build_example
    root, options = build_example(args.example, seed=args.seed)
    direction = "backward" if args.backward else "forward"
    try:
        written = render_graph(root, path, format=fmt, direction=direction, **options)
    except GraphvizNotFoundError as exc:
        print(f"tinygrad-edu graph: {exc}", file=sys.stderr)
        return EXIT_NO_GRAPHVIZ
    except (TinygradEduError, OSError) as exc:
        print(f"tinygrad-edu graph: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {written} ({args.example}, {direction})")
    return EXIT_OK


def _add_train_command(commands):
    parser = commands.add_parser(
        "train", help="train the chapter's ranking network (128→256→128→64→1) end to end",
        description="Train the textbook's recommendation-ranking MLP on a synthetic ranking "
                    "task, then report the test error against a predict-the-mean baseline and "
                    "the activation monitor's view of every layer.",
        epilog="e.g.  tinygrad-edu train --steps 800 --optimizer adam --save ranker.npz")
    parser.add_argument("--steps", type=int, default=800, help="training steps (default: 800)")
    parser.add_argument("--batch", type=int, default=256, help="batch size (default: 256)")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: 1e-3)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                        help="adam, or sgd with momentum 0.9 (default: adam)")
    parser.add_argument("--activation", default="relu",
                        help="hidden activation: relu, leaky_relu, prelu, gelu, silu, tanh, ...")
    parser.add_argument("--init", default="auto",
                        help="weight init: auto, he_normal, xavier_normal, zeros, ...")
    parser.add_argument("--backend", choices=("numba", "numpy"),
                        help="CPU backend (default: numba when installed)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--save", metavar="FILE", help="save the trained weights to FILE (.npz)")
    parser.set_defaults(run=_run_train, command_parser=parser)
    return parser


def _run_train(args, parser):
    if args.steps < 1 or args.batch < 1 or args.lr <= 0 or args.seed < 0:
        parser.error("--steps and --batch must be positive, --lr > 0 and --seed >= 0")
    from .. import get_backend, set_backend
    from ..nn.activations import canonical_activation
    from .ranking import train_ranking_model

    try:
        canonical_activation(args.activation)
        if args.backend:
            set_backend(args.backend)
        print(f"ranking MLP 128→256→128→64→1, {args.activation}, init={args.init}, "
              f"{args.optimizer} lr={args.lr:g}, batch {args.batch}, backend "
              f"{get_backend().name}")
        result = train_ranking_model(steps=args.steps, batch=args.batch, lr=args.lr,
                                     optimizer=args.optimizer, activation=args.activation,
                                     init=args.init, seed=args.seed, log=print)
        if args.save:
            result.model.save(args.save)
    except (TinygradEduError, OSError, ImportError) as exc:
        print(f"tinygrad-edu train: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"\ntest MSE {result.test_mse:.4f} (predicting the mean: {result.baseline_mse:.4f}, "
          f"{result.baseline_mse / result.test_mse:.1f}x better); "
          f"{1000 * result.seconds_per_step:.2f} ms per training step\n")
    print(result.monitor_report)
    if args.save:
        print(f"\nsaved the weights to {args.save}")
    return EXIT_OK


COMMANDS = (_add_graph_command, _add_train_command)


def build_parser():
    """The ``tinygrad-edu`` argument parser with every command registered."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: see, check and run small neural networks.",
        epilog="Run `tinygrad-edu COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Bad arguments exit with code 2 through argparse (``SystemExit``), as usual for CLIs.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args, args.command_parser)


if __name__ == "__main__":
    sys.exit(main())
