"""The ``tinygrad-edu`` command line: every mistake is one line naming the flag, exit 2, before
any work; the graph, plot, gradcheck and info commands; failures, ``--verbose``, exit codes."""

import importlib.metadata
import shutil
import subprocess
import sys

import pytest

from tinygrad_edu import Value, devices, get_backend
from tinygrad_edu.apps import cli, gradchecks
from tinygrad_edu.apps.cli import main
from viz_dot import svg_text

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder holding a plain file named ``afile``, as the current directory."""
    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# Every mistake of the list, and their kin: (argv, the flag and expectation named).
USAGE_ERRORS = [
    ([], "the following arguments are required: COMMAND"),
    (["train", "--save", "/nonexistent/dir/x.npz"],
     "--save /nonexistent/dir/x.npz: the folder /nonexistent/dir does not exist"),
    (["train", "--save", "afile/x"], "--save afile/x.npz: "),
    (["train", "--batch", "100000"], "--batch 100000: larger than the 48,000 training pairs"),
    (["train", "--steps", "0"], "argument --steps: expected a positive integer, got 0"),
    (["train", "--lr", "-0.1"], "argument --lr: expected a finite number > 0, got -0.1"),
    (["train", "--lr", "inf"], "argument --lr: expected a finite number > 0, got inf"),
    (["train", "--seed", "-1"], "argument --seed: expected an integer >= 0, got -1"),
    (["train", "--activation", "rleu"], "argument --activation: invalid choice: 'rleu'"),
    (["demo", "--epochs", "0"], "argument --epochs: expected a positive integer, got 0"),
    (["demo", "--epochs", "two"], "argument --epochs: expected a positive integer, got 'two'"),
    (["demo", "--batch-size", "48001"], "--batch-size 48001: larger than the 48,000"),
    (["demo", "--users", "10", "--batch-size", "321"], "--batch-size 321: larger than the 320"),
    (["demo", "--lr", "0"], "argument --lr: expected a finite number > 0, got 0"),
    (["demo", "--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
    (["demo", "--init", "glorot"], "argument --init: invalid choice: 'glorot'"),
    (["demo", "--out", "afile"], "--out afile: is a file; expected a folder"),
    (["demo", "--out", "afile/run"], "afile is a file, not a folder"),
    (["demo", "--backend", "tpu"], "--backend tpu: unknown; expected a backend (numpy, numba, "),
    (["graph", "--out", "x.svg"], "the following arguments are required: --example"),
    (["graph", "--example", "resnet", "--out", "x.svg"], "invalid choice: 'resnet'"),
    (["graph", "--example", "neuron"], "the following arguments are required: --out"),
    (["graph", "--example", "neuron", "--out", "n.jpg"],
     "--out n.jpg: extension .jpg; expected a file ending in .svg, .png, .pdf"),
    (["graph", "--example", "neuron", "--out", "n"], "--out n: no extension"),
    (["graph", "--example", "neuron", "--out", "afile/x.png"], "afile is a file, not a folder"),
    (["graph", "--example", "neuron", "--out", "missing/x.png"], "missing does not exist"),
    (["graph", "--example", "neuron", "--out", "x.png", "--format", "svg"], "make them agree"),
    (["graph", "--example", "neuron", "--out", "x.svg", "--seed", "-1"], "argument --seed"),
    (["plot", "sunset"], "argument picture: invalid choice: 'sunset'"),
    (["plot", "init", "--out", "init.gif"], "--out init.gif: extension .gif"),
    (["gradcheck", "--engine", "scalar"], "argument --engine: invalid choice: 'scalar'"),
]


@pytest.mark.parametrize("argv, message", USAGE_ERRORS, ids=[" ".join(a) or "no command"
                                                              for a, _ in USAGE_ERRORS])
def test_a_mistake_is_one_line_naming_the_flag_with_exit_code_2(workdir, capsys, argv,
                                                                 message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err
    assert lines[0].startswith("tinygrad-edu") and "(see tinygrad-edu" in lines[0]
    assert sorted(p.name for p in workdir.iterdir()) == ["afile"]   # no work started


def test_a_device_that_cannot_be_used_here_is_a_usage_error_with_the_reason(capsys):
    cuda = [d for d in devices() if d.name == "cuda"][0]
    if cuda.available:
        pytest.skip("a CUDA GPU is usable here")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--backend", "cuda"])
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("tinygrad-edu demo: error: --backend cuda: cuda: unavailable: ")
    assert cuda.reason in line and cuda.fix in line


def test_the_backend_chosen_for_one_command_is_restored_afterwards(capsys):
    before = get_backend().name
    assert main(["gradcheck", "--engine", "value", "--backend", "numpy"]) == 0
    assert get_backend().name == before


@needs_dot
@pytest.mark.parametrize("example, expected", [
    ("neuron", ["w1", "x1", "relu", "z (pre-activation)"]),
    ("value-mlp", ["layers.0.weight[0,0]", "tanh", "loss"]),
    ("mlp", ["layers.0 (Layer 128\u2192256, relu)", "layers.3.bias", "features"]),
])
def test_graph_writes_an_svg_of_each_example(tmp_path, capsys, example, expected):
    out = tmp_path / f"{example}.svg"
    assert main(["graph", "--example", example, "--out", str(out)]) == 0
    texts = svg_text(out)
    for text in expected:
        assert text in texts
    assert f"wrote {out}" in capsys.readouterr().out


@needs_dot
def test_graph_expand_draws_one_layer_as_its_neurons(tmp_path, capsys):
    out = tmp_path / "zoom.svg"
    assert main(["graph", "--example", "mlp", "--expand", "layers.1", "--out", str(out)]) == 0
    texts = svg_text(out)
    assert any("more units" in t for t in texts)   # 128 neurons: the first and last few drawn
    assert "layers.0 (Layer 128\u2192256, relu)" in texts   # the other layers stay one node


@pytest.mark.parametrize("example, layer, words", [("mlp", "layers.9", "no module named"),
                                                   ("neuron", "layers.1", "Tensor graphs")])
def test_graph_expand_of_a_layer_it_cannot_draw_is_a_usage_error(tmp_path, capsys, example,
                                                                  layer, words):
    with pytest.raises(SystemExit) as raised:
        main(["graph", "--example", example, "--expand", layer, "--out", str(tmp_path / "z.svg")])
    assert raised.value.code == 2 and words in capsys.readouterr().err


@needs_dot
def test_format_option_adds_the_extension_and_backward_reverses_edges(tmp_path):
    assert main(["graph", "--example", "neuron", "--out", str(tmp_path / "n"),
                 "--format", "png", "--backward"]) == 0
    assert (tmp_path / "n.png").read_bytes()[:8] == PNG


def test_missing_dot_exits_with_code_3_and_keeps_the_dot_source(tmp_path, monkeypatch,
                                                                 capsys):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert main(["graph", "--example", "neuron", "--out", str(tmp_path / "n.svg")]) == 3
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "brew install graphviz" in err
    assert (tmp_path / "n.gv").read_text(encoding="utf-8").startswith("digraph")
    assert not (tmp_path / "n.svg").exists()


@pytest.mark.parametrize("picture, text", [("activations", "derivatives"),
                                           ("init", "initializations"), ("neuron", "w·x + b")])
def test_plot_writes_each_of_the_chapters_pictures(tmp_path, capsys, picture, text):
    out = tmp_path / f"{picture}.png"
    assert main(["plot", picture, "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 20_000
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and text in printed


def test_plot_writes_svg_too_and_defaults_to_the_pictures_name(workdir):
    assert main(["plot", "neuron", "--out", "plane.svg"]) == 0
    assert (workdir / "plane.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert main(["plot", "init"]) == 0
    assert (workdir / "init.png").read_bytes()[:8] == PNG


def test_gradcheck_prints_every_op_of_an_engine_with_its_worst_error(capsys):
    assert main(["gradcheck", "--engine", "value"]) == 0
    out = capsys.readouterr().out
    value_ops = [c.op for c in gradchecks.CASES if c.engine == "Value"]
    for op in value_ops:
        assert f"Value   {op} " in out
    assert f"{len(value_ops)} of {len(value_ops)} ops agree" in out
    errors = [float(line.split()[-2]) for line in out.splitlines() if line.endswith(" ok")]
    assert len(errors) == len(value_ops) and max(errors) < 1e-6


def test_gradcheck_exits_1_and_prints_the_gradcheck_error_of_a_wrong_op(monkeypatch, capsys):
    def wrong_square(x):
        return Value.custom(x.data ** 2, (x,), (3 * x.data,), op="wrong_square")

    broken = gradchecks.Case("Value", "wrong_square", wrong_square,
                             lambda rng: [Value(0.7)])
    monkeypatch.setattr(gradchecks, "CASES", [gradchecks.CASES[-1], broken])
    assert main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    assert "wrong_square" in out and "FAILED" in out and "1 of 2 ops agree" in out
    failure = [line for line in out.splitlines() if line.startswith("FAILED Value wrong_square")]
    assert failure and "gradcheck:" in failure[0]
    table_row = [line for line in out.splitlines() if line.startswith("Value   wrong_square")][0]
    # |backward - numeric| / (|numeric| + atol/rtol), printed to two digits
    assert float(table_row.split()[-2]) == pytest.approx((2.1 - 1.4) / (1.4 + 1e-2), abs=0.01)


def test_gradcheck_of_an_example_network_passes_or_prints_gradchecks_message(capsys):
    assert main(["gradcheck", "--example", "mlp"]) == 0
    assert capsys.readouterr().out.startswith("mlp: ok, backward agrees")
    assert main(["gradcheck", "--example", "mlp-bug"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("mlp-bug: FAILED\ngradcheck: gradient mismatch") and "cube" in out


def test_the_gradcheck_table_covers_every_tensor_primitive():
    from tinygrad_edu.tensor import primitives

    names = {case.op.split()[0] for case in gradchecks.CASES if case.engine == "Tensor"}
    # Each primitive and the op the table shows it under (ToDevice needs a second device).
    shown_as = {"Add": "add", "Mul": "mul", "Sub": "sub", "Div": "div", "Neg": "neg",
                "Reciprocal": "reciprocal", "Pow": "pow", "Mod": "mod", "Exp": "exp",
                "Log": "log", "Sqrt": "sqrt", "Abs": "abs", "Sin": "sin", "Cos": "cos",
                "Clip": "clip", "Where": "where", "Piecewise": "floor",
                "FloorDivide": "floor_divide", "Cast": "cast", "Matmul": "matmul", "Sum": "sum",
                "Max": "max", "Min": "min", "Prod": "prod", "Cumsum": "cumsum",
                "Reshape": "reshape", "Transpose": "transpose", "Expand": "expand",
                "Contiguous": "contiguous",
                "GetItem": "indexing", "Cat": "cat", "Gather": "gather", "Activation": "relu",
                "LinearAct": "linear_act"}
    primitive_names = set(primitives.__all__) - {"ToDevice"}
    assert primitive_names <= set(shown_as), "add a gradcheck case for the new primitive"
    assert {shown_as[p] for p in primitive_names} <= names


def test_info_reports_versions_backends_devices_and_tools(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for text in ("tinygrad_edu 0.1.0", "Python 3.", "numpy ", "numba ", "matplotlib ",
                 "backends", "  numpy     works here", "devices:", "cpu: available", "cuda: ",
                 "dot ", "CUDA GPU "):
        assert text in out, text


def test_info_says_how_to_get_dot_when_it_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["info"]) == 0
    dot_line = [line for line in capsys.readouterr().out.splitlines()
                if line.startswith("  dot ")][0]
    assert "not found" in dot_line and "sudo apt-get install graphviz" in dot_line


def test_plot_without_matplotlib_is_one_line_with_the_install_command(workdir, monkeypatch,
                                                                      capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["plot", "neuron"]) == 1
    assert capsys.readouterr().err.strip() == (
        "tinygrad-edu plot: error: matplotlib is not installed (needed for the plots): pip "
        "install matplotlib")
    assert not (workdir / "neuron.png").exists()


def test_an_internal_failure_is_one_line_and_verbose_shows_the_traceback(monkeypatch, capsys):
    def broken(args, parser):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_run_info", broken)
    assert main(["info"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == ["tinygrad-edu info: internal error: RuntimeError: boom (run "
                                "again with --verbose for the traceback); please report it"]
    for argv in (["info", "--verbose"], ["--verbose", "info"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("Traceback (most recent call last):") and "boom" in err


def test_help_lists_the_commands_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    top = capsys.readouterr().out
    for command in ("demo", "train", "graph", "plot", "gradcheck", "info"):
        assert f"    {command}" in top
    with pytest.raises(SystemExit):
        main(["graph", "--help"])
    help_text = capsys.readouterr().out
    for text in ("neuron", "value-mlp", "MLP(128, [256, 128, 64], 1)", "exit codes", "--backward"):
        assert text in help_text


def test_console_script_is_declared_and_module_runs():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert [e.value for e in scripts if e.name == "tinygrad-edu"] == ["tinygrad_edu.apps.cli:main"]
    out = subprocess.run([sys.executable, "-m", "tinygrad_edu.apps.cli", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "tinygrad-edu 0.1.0"
