"""The ``tinygrad-edu`` command line.

``tinygrad-edu graph --example neuron --out neuron.svg`` draws one of the chapter's examples.
Each command is one ``_add_<name>_command`` function that registers its arguments and a
``run`` function; add a command by writing another and listing it in ``COMMANDS``.

Exit codes: 0 success, 1 the command failed (its message says why), 2 bad arguments,
3 Graphviz's ``dot`` program is missing (the DOT source is saved so nothing is lost).
"""

import argparse
import os
import sys

from .errors import TinygradEduError

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_GRAPHVIZ = 0, 1, 2, 3
_GRAPH_FORMATS = ("svg", "png", "pdf")
_EXIT_CODES = """exit codes:
  0  the file was written
  1  drawing failed (the message says why)
  2  bad arguments
  3  Graphviz's dot program is missing; the DOT source was saved next to FILE (.gv)"""


def _add_graph_command(commands):
    from .viz.examples import EXAMPLES   # cheap: the examples build nothing until called

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

    from .viz import GraphvizNotFoundError, render_graph
    from .viz.examples import build_example
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


COMMANDS = (_add_graph_command,)


def build_parser():
    """The ``tinygrad-edu`` argument parser with every command registered."""
    from . import __version__

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
