"""examples/custom_op.py and examples/zoom.py run and show what they promise."""

import re
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name, argv, capsys):
    pytest.importorskip("graphviz")
    module = runpy.run_path(str(EXAMPLES / name), run_name="example")
    module["main"](argv)
    return capsys.readouterr().out


def test_custom_op_example_points_at_the_bug_then_passes_once_fixed(tmp_path, capsys):
    out = _run("custom_op.py", ["--out", str(tmp_path)], capsys)
    assert "the op to blame is 'cube' (op 2 of 7 in forward order, inputs of shape (5, 4))" \
        in out
    computed, expected = map(float, re.search(r"backward says ([\d.]+), finite differences "
                                              r"([\d.]+)", out).groups())
    assert expected == pytest.approx(3 * computed, rel=1e-3)
    assert "2. The fixed cube: gradcheck passes" in out
    assert "value_cube_with_bug: the op to blame is 'cube'" in out
    assert "value_cube: gradcheck passes" in out
    assert re.search(r"TwoGradients: GradError: cube: .*2 gradient\(s\) for 1 input", out)
    assert re.search(r"WrongShape: ShapeError: cube: .*shape \(\) for input 0.*\(5, 4\)", out)
    assert (tmp_path / "cube_bug.svg").exists() or "dot is not installed" in out


def test_zoom_example_draws_a_layer_as_neurons_with_the_tensor_numbers(tmp_path, capsys):
    out = _run("zoom.py", ["--out", str(tmp_path)], capsys)
    rows = [line.split() for line in out.splitlines() if re.match(r"\s*\d+ ", line)]
    assert [int(r[0]) for r in rows] == [0, 1, 2, 125, 126, 127]
    for _, a_tensor, a_neurons, grad_tensor, grad_neurons in rows:
        assert float(a_neurons) == pytest.approx(float(a_tensor), abs=2e-6)
        assert float(grad_neurons) == pytest.approx(float(grad_tensor), abs=2e-6)
    svg = tmp_path / "zoom.svg"
    assert "layers.1 as its neurons" in out
    if svg.exists():
        text = svg.read_text(encoding="utf-8")
        assert "122 more units" in text and "unit 127: \u03a3" in text
