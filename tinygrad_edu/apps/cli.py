"""The ``tinygrad-edu`` command line.

- ``demo``: the main job: train the chapter's ranking network, show what it learned, write a
  report folder (``apps.demo``);
- ``train``: the same network and data from the console only, by steps, optionally saving it;
- ``graph``: draw the computation graph of one of the chapter's examples;
- ``plot``: the chapter's pictures (activations, init, neuron);
- ``gradcheck``: check every differentiable op of both engines against finite differences;
- ``info``: versions, backends, devices and tools available here.

Each command is one ``_add_<name>_command`` function that registers its arguments and a
``_run_<name>`` function; add a command by writing both and listing it in ``COMMANDS``.
Every mistake in the arguments is one line naming the flag, exit code 2, before any work
starts (``arguments.OneLineParser``); ``--verbose`` adds the traceback to a real failure.

Exit codes: 0 success, 1 the command failed (its message says why), 2 bad arguments,
3 Graphviz's ``dot`` program is missing for ``graph`` (the DOT source is saved).
"""

import argparse
import os
import sys
import textwrap
import traceback

from ..backends import available_backends
from ..errors import TinygradEduError
from .arguments import (OneLineParser, check_output_dir, check_output_file, non_negative_int,
                        npz_path, positive_float, positive_int, selected_backend)

__all__ = ["main", "build_parser", "COMMANDS"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_GRAPHVIZ, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
GRAPH_FORMATS = ("svg", "png", "pdf")
DEFAULT_LR = 1e-3


def _command(commands, common, name, help, description, epilog=""):
    """A subcommand parser: the description wrapped to the terminal, the epilog as written."""
    return commands.add_parser(
        name, parents=[common], help=help, epilog=epilog,
        description=textwrap.fill(" ".join(description.split()), 90),
        formatter_class=argparse.RawDescriptionHelpFormatter)


def _backend_help():
    return (f"a backend ({', '.join(available_backends())}) or a device such as cuda "
            "(default: numba when installed); `tinygrad-edu info` shows what works here")


def _add_training_options(parser):
    """The options ``demo`` and ``train`` share."""
    from ..nn.activations import ACTIVATION_NAMES
    from ..nn.init import INIT_SCHEMES
    from .ranking import ITEMS_PER_USER
    from .training import OPTIMIZERS

    parser.add_argument("--lr", type=positive_float, default=DEFAULT_LR,
                        help=f"learning rate (default: {DEFAULT_LR:g})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                        help="adam, adamw, or sgd with momentum 0.9 (default: adam)")
    parser.add_argument("--activation", default="relu",
                        choices=[name for name in ACTIVATION_NAMES if name is not None],
                        help="hidden layers' activation (default: relu)")
    parser.add_argument("--init", default="auto", choices=INIT_SCHEMES,
                        help="weight initialization; auto is He for the ReLU family, Xavier "
                             "for tanh and sigmoid (default: auto)")
    parser.add_argument("--backend", metavar="NAME", help=_backend_help())
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed: the same seed gives the same run (default: 0)")
    parser.add_argument("--users", type=positive_int, default=1500, metavar="N",
                        help=f"training users, {ITEMS_PER_USER} (user, item) pairs each "
                             "(default: 1500)")


def _check_batch(parser, flag, batch, users):
    from ..distributed import get_world
    from .ranking import train_pairs

    if batch > train_pairs(users):
        parser.error(f"{flag} {batch}: larger than the {train_pairs(users):,} training pairs "
                     f"of {users:,} users; use at most {train_pairs(users)} (or more --users)")
    processes = get_world().size   # under mpiexec the batch is global, split over processes
    if batch % processes:
        parser.error(f"{flag} {batch}: does not split evenly over the {processes} processes "
                     f"mpiexec started; use a multiple of {processes}")


def _quiet_overflow():
    """numpy's overflow warnings off: a diverging run is stopped and explained by the trainer
    (``TrainingDiverged``), so the warning would only repeat it from inside the backend."""
    import numpy as np

    return np.errstate(over="ignore", invalid="ignore")


def _diverged_message(exc, args):
    advice = f"lower --lr (it is {exc.lr:g}; the default is {DEFAULT_LR:g})"
    if args.optimizer == "sgd":
        advice += " or use --optimizer adam"
    return f"{exc}; {advice}"


# ---- demo ----
def _add_demo_command(commands, common):
    parser = _command(
        commands, common, "demo",
        help="the main job: train the ranking MLP, show what it learned, write a report",
        description="Train the chapter's recommendation-ranking network (128 = 64 user + 64 "
                    "item features → 256 → 128 → 64 → 1, ReLU, He init) on synthetic users x "
                    "items with a known nonlinear ground truth. Shows a progress bar, "
                    "validates every epoch, reports NDCG@10 and AUC on held-out users against "
                    "predicting the mean, the dead-ReLU fraction per layer and inference "
                    "latency, and writes graph.svg, loss_curves.png, activation_statistics.png, "
                    "metrics.json, weights.npz and report.html into --out.",
        epilog="exit codes: 0 done, 1 failed (e.g. the loss diverged), 2 bad arguments\n\n"
               "e.g.  tinygrad-edu demo --epochs 20 --out run1 && xdg-open run1/report.html")
    parser.add_argument("--epochs", type=positive_int, default=10, metavar="N",
                        help="passes over the training pairs (default: 10)")
    parser.add_argument("--batch-size", type=positive_int, default=256, metavar="N",
                        help="examples per training step (default: 256)")
    _add_training_options(parser)
    parser.add_argument("--out", metavar="DIR", default="tinygrad-edu-out",
                        help="folder for the report and its files, created if missing "
                             "(default: ./tinygrad-edu-out)")
    parser.set_defaults(run=_run_demo, command_parser=parser)


def _run_demo(args, parser):
    check_output_dir(parser, "--out", args.out)
    _check_batch(parser, "--batch-size", args.batch_size, args.users)
    from .demo import DemoSettings, run_demo
    from .training import TrainingDiverged

    settings = DemoSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                            optimizer=args.optimizer, activation=args.activation,
                            init=args.init, seed=args.seed, users=args.users, out=args.out)
    with selected_backend(parser, "--backend", args.backend) as device, _quiet_overflow():
        try:
            run_demo(settings, device=device, command=" ".join(["tinygrad-edu", *args.argv]))
        except TrainingDiverged as exc:
            print(f"{parser.prog}: {_diverged_message(exc, args)}", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK


# ---- train ----
def _add_train_command(commands, common):
    parser = _command(
        commands, common, "train", help="train the ranking MLP from the console, by steps",
        description="Train the chapter's ranking MLP on the demo's users x items task for "
                    "--steps steps, print the loss as it goes, then the test error against "
                    "predicting the mean and the activation monitor's view of every layer. "
                    "`tinygrad-edu demo` does the same with plots and a report.",
        epilog="e.g.  tinygrad-edu train --steps 800 --optimizer adam --save ranker.npz")
    parser.add_argument("--steps", type=positive_int, default=800, metavar="N",
                        help="training steps (default: 800)")
    parser.add_argument("--batch", type=positive_int, default=256, metavar="N",
                        help="batch size (default: 256)")
    _add_training_options(parser)
    parser.add_argument("--save", metavar="FILE",
                        help="save the trained weights to FILE (.npz is added if missing)")
    parser.set_defaults(run=_run_train, command_parser=parser)


def _run_train(args, parser):
    save = npz_path(args.save) if args.save else None
    if save:
        check_output_file(parser, "--save", save)
    _check_batch(parser, "--batch", args.batch, args.users)
    from .training import TrainingDiverged
    from .train_command import train_from_console

    with selected_backend(parser, "--backend", args.backend) as device, _quiet_overflow():
        try:
            train_from_console(args, device, save)
        except TrainingDiverged as exc:
            print(f"{parser.prog}: {_diverged_message(exc, args)}", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK


# ---- graph ----
def _add_graph_command(commands, common):
    from ..viz.examples import EXAMPLES   # cheap: the examples build nothing until called

    listing = "\n".join(f"  {name:<10} {' '.join(build.__doc__.split())}"
                        for name, build in EXAMPLES.items())
    parser = _command(
        commands, common, "graph",
        help="draw the computation graph of one of the chapter's examples",
        description="Draw the computation graph of an example, after backward(), with "
                    "Graphviz. Needs the dot program (apt-get / brew / conda install graphviz).",
        epilog=f"examples:\n{listing}\n\nexit codes:\n  0  the file was written\n"
               "  1  drawing failed (the message says why)\n  2  bad arguments\n"
               "  3  Graphviz's dot program is missing; the DOT source was saved next to FILE "
               "(.gv)\n\ne.g.  tinygrad-edu graph --example mlp --out mlp.svg --backward")
    parser.add_argument("--example", required=True, choices=list(EXAMPLES),
                        help="which graph to draw (listed below)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="file to write, ending in .svg, .png or .pdf (or give --format "
                             "and no extension)")
    parser.add_argument("--format", choices=GRAPH_FORMATS,
                        help="file format (default: FILE's extension)")
    parser.add_argument("--backward", action="store_true",
                        help="draw the gradient flow: edges from the output back to the inputs")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed for the example's weights and data (default: 0)")
    parser.add_argument("--expand", action="append", default=[], metavar="LAYER",
                        help="draw this layer (a module name such as layers.1) as its neurons "
                             "and every other layer as one node; Tensor examples only; "
                             "repeatable")
    parser.set_defaults(run=_run_graph, command_parser=parser)


def _graph_path(parser, args):
    """The file to write: ``--out``, with ``--format``'s extension added when it has none."""
    suffix = os.path.splitext(args.out)[1][1:].lower()
    path = args.out
    if args.format and not suffix:
        path = f"{args.out}.{args.format}"
    elif args.format and suffix != args.format:
        parser.error(f"--out {args.out} ends in .{suffix} but --format is {args.format}; make "
                     "them agree")
    return check_output_file(parser, "--out", path, GRAPH_FORMATS)


def _run_graph(args, parser):
    path = _graph_path(parser, args)
    fmt = os.path.splitext(path)[1][1:].lower()
    from ..viz import GraphvizNotFoundError, VizError, render_graph
    from ..viz.examples import build_example

    root, options = build_example(args.example, seed=args.seed)
    if args.expand:
        options = {**options, "group_modules": "collapse", "expand": args.expand}
    direction = "backward" if args.backward else "forward"
    try:
        written = render_graph(root, path, format=fmt, direction=direction, **options)
    except GraphvizNotFoundError as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return EXIT_NO_GRAPHVIZ
    except VizError as exc:   # an unknown layer, or --expand on a Value example
        parser.error(str(exc))
    print(f"wrote {written} ({args.example}, {direction})")
    return EXIT_OK


# ---- plot ----
def _add_plot_command(commands, common):
    from .chapter_plots import PLOTS

    listing = "\n".join(f"  {name:<12} {about}" for name, (_, about) in PLOTS.items())
    parser = _command(
        commands, common, "plot", help="draw one of the chapter's pictures",
        description="Draw one of the chapter's pictures with matplotlib, computed by the "
                    "engine.",
        epilog=f"pictures:\n{listing}\n\ne.g.  tinygrad-edu plot neuron --out neuron.png")
    parser.add_argument("picture", choices=list(PLOTS), help="which picture (listed below)")
    parser.add_argument("--out", metavar="FILE",
                        help="file to write, .png, .svg or .pdf (default: PICTURE.png)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed of the init picture's batch (default: 0)")
    parser.set_defaults(run=_run_plot, command_parser=parser)


def _run_plot(args, parser):
    path = check_output_file(parser, "--out", args.out or f"{args.picture}.png",
                             ("png", "svg", "pdf"))
    from .chapter_plots import PLOTS
    from .dependencies import require

    require("matplotlib", "the plots")

    PLOTS[args.picture][0](path, args.seed)
    print(f"wrote {path} ({PLOTS[args.picture][1]})")
    return EXIT_OK


# ---- gradcheck ----
def _add_gradcheck_command(commands, common):
    from ..viz.examples import GRADCHECKS

    listing = "\n".join(f"  {name:<10} {' '.join(build.__doc__.split())}"
                        for name, build in GRADCHECKS.items())
    parser = _command(
        commands, common, "gradcheck",
        help="check every differentiable op's gradient against finite differences",
        description="Check the backward pass of every differentiable op of the Tensor and "
                    "the Value engine against central finite differences in float64, and "
                    "print a table with each op's worst relative error.",
        epilog=f"examples:\n{listing}\n\nexit codes: 0 every gradient agrees, 1 one is wrong "
               "(the message names the op), 2 bad arguments")
    parser.add_argument("--engine", choices=("all", "tensor", "value"), default="all",
                        help="which engine's ops to check (default: all)")
    parser.add_argument("--example", choices=list(GRADCHECKS),
                        help="instead, check one whole example network (listed below)")
    parser.add_argument("--backend", metavar="NAME", help=_backend_help())
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed of the inputs (default: 0)")
    parser.set_defaults(run=_run_gradcheck, command_parser=parser)


def _run_gradcheck(args, parser):
    from .gradchecks import CASES, check_cases, format_table

    if args.example:
        return _run_gradcheck_example(args, parser)
    cases = [c for c in CASES if args.engine in ("all", c.engine.lower())]
    with selected_backend(parser, "--backend", args.backend):
        results = check_cases(cases, seed=args.seed)
    print(format_table(results))
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED


def _run_gradcheck_example(args, parser):
    from ..check import GradcheckError, gradcheck
    from ..viz.examples import build_gradcheck

    with selected_backend(parser, "--backend", args.backend):
        fn, inputs = build_gradcheck(args.example, seed=args.seed)
        try:
            gradcheck(fn, inputs)
        except GradcheckError as exc:
            print(f"{args.example}: FAILED\n{exc}")
            return EXIT_FAILED
    print(f"{args.example}: ok, backward agrees with central differences for all "
          f"{len(inputs)} inputs")
    return EXIT_OK


# ---- info ----
def _add_info_command(commands, common):
    parser = _command(
        commands, common, "info", help="versions, backends, devices and tools available here",
        description="Print the versions of tinygrad_edu, Python and the libraries it uses, "
                    "every backend and device with whether it works here (and if not, why), "
                    "and whether Graphviz's dot and a CUDA GPU are available.")
    parser.set_defaults(run=_run_info, command_parser=parser)


def _run_info(args, parser):
    from .environment import environment_lines

    print("\n".join(environment_lines()))
    return EXIT_OK


COMMANDS = (_add_demo_command, _add_train_command, _add_graph_command, _add_plot_command,
            _add_gradcheck_command, _add_info_command)


def build_parser():
    """The ``tinygrad-edu`` argument parser with every command registered."""
    from .. import __version__

    parser = OneLineParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: see, check and run small neural networks.",
        epilog="Start with `tinygrad-edu demo`; `tinygrad-edu COMMAND --help` lists a "
               "command's options.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--verbose", action="store_true", default=False,
                        help="show the traceback when a command fails")
    # Also accepted after the command; SUPPRESS keeps it from resetting the value given
    # before the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback when the command fails")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(commands, common)
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Bad arguments exit with code 2 through ``SystemExit``, as usual for command lines.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    prog = args.command_parser.prog
    try:
        return args.run(args, args.command_parser)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TinygradEduError, OSError) as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:   # noqa: BLE001 - a bug: one line, the traceback on request
        if args.verbose:
            traceback.print_exc()
        hint = "" if args.verbose else " (run again with --verbose for the traceback)"
        print(f"{prog}: internal error: {type(exc).__name__}: {exc}{hint}; please report it",
              file=sys.stderr)
        from ..distributed import abort_if_parallel

        abort_if_parallel(EXIT_FAILED)   # under mpiexec the others may wait for this process
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
