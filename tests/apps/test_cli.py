"""The ``tinygrad-edu`` command line: the graph command, its errors and exit codes."""

import importlib.metadata
import shutil
import subprocess
import sys

import pytest

from tinygrad_edu.apps.cli import main
from viz_dot import svg_text

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")


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
def test_format_option_adds_the_extension_and_backward_reverses_edges(tmp_path):
    assert main(["graph", "--example", "neuron", "--out", str(tmp_path / "n"),
                 "--format", "png", "--backward"]) == 0
    assert (tmp_path / "n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    ([], "required: COMMAND"),
    (["graph", "--out", "x.svg"], "--example"),
    (["graph", "--example", "resnet", "--out", "x.svg"], "invalid choice: 'resnet'"),
    (["graph", "--example", "neuron"], "--out"),
    (["graph", "--example", "neuron", "--out", "x.png", "--format", "svg"], "make them agree"),
    (["graph", "--example", "neuron", "--out", "x.svg", "--seed", "-1"], "--seed"),
])
def test_bad_arguments_exit_with_code_2_and_say_why(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


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


def test_unwritable_output_exits_with_code_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = main(["graph", "--example", "neuron", "--out", str(blocker / "n.svg")])
    assert code == 1
    assert "error" in capsys.readouterr().err


def test_help_lists_the_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    for text in ("neuron", "value-mlp", "MLP(128, [256, 128, 64], 1)", "exit codes", "--backward"):
        assert text in help_text


def test_console_script_is_declared_and_module_runs():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert [e.value for e in scripts if e.name == "tinygrad-edu"] == ["tinygrad_edu.apps.cli:main"]
    out = subprocess.run([sys.executable, "-m", "tinygrad_edu.apps.cli", "--help"],
                         capture_output=True, text=True, check=True)
    assert "graph" in out.stdout
