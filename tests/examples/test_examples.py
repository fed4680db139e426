"""The scripts in examples/ run as a reader would run them and print what they promise."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name, *args, cwd):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_neuron_example_finds_both_sides_of_its_hyperplane(tmp_path):
    out = run_example("neuron_hyperplane.py", "--out", "plane.png", cwd=tmp_path)
    assert "z = 0.6·x1 - 0.4·x2 + 0.1;  the boundary z = 0 is the line x2 = 1.5·x1 + 0.25" in out
    assert "z =  1.700  relu(z) = 1.700  positive side" in out
    assert "z = -0.900  relu(z) = 0.000  negative side" in out
    assert "z =  0.000  relu(z) = 0.000  on the line" in out
    assert "raises z by 0.7211 = |w| = 0.7211" in out
    assert (tmp_path / "plane.png").read_bytes()[:4] == b"\x89PNG"


def test_the_value_mlp_example_learns_xor_and_draws_its_graph(tmp_path):
    out = run_example("value_mlp_toy.py", "--steps", "60", "--out", "pictures", cwd=tmp_path)
    assert "MLP(Layer(2→4, tanh), Layer(4→1)): 17 parameters, each a Value" in out
    accuracy = int(out.split("test accuracy on 200 new points: ")[1].split("%")[0])
    assert accuracy >= 90          # no line separates XOR: the hidden layer did the work
    if shutil.which("dot"):
        svg = (tmp_path / "pictures" / "value_mlp.svg").read_text(encoding="utf-8")
        assert "layers.0.weight[0,0]" in svg and "tanh" in svg
    else:
        assert "no picture" in out


def test_the_ranking_example_beats_predicting_the_mean(tmp_path):
    out = run_example("ranking_mlp.py", "--users", "200", "--epochs", "2", cwd=tmp_path)
    lines = out.splitlines()
    assert lines[0].startswith("epoch 1  last batch loss") and lines[1].startswith("epoch 2")
    model_ndcg = float(lines[1].split("test NDCG@10 ")[1])
    mean_ndcg = float(lines[2].split("NDCG@10 ")[1].split(";")[0])
    assert model_ndcg > mean_ndcg + 0.05
    assert "the first test user's top 5 of 50 candidates: [" in out


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_is_run_by_a_test_of_this_folder(script):
    tests = Path(__file__).parent.glob("test_*.py")
    assert any(script in path.read_text(encoding="utf-8") for path in tests)
