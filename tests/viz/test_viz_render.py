"""Rendering with Graphviz's dot program (SVG text checked), and the error when dot is missing."""

import re
import shutil

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value
from tinygrad_edu.viz import GraphvizNotFoundError, VizError, draw_graph, render_graph
from viz_dot import HOSTILE, svg_text, textbook_neuron

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")


@needs_dot
def test_neuron_renders_to_svg_with_its_labels(tmp_path):
    o, _ = textbook_neuron()
    written = render_graph(o, tmp_path / "neuron.svg")
    assert written == str(tmp_path / "neuron.svg")
    texts = svg_text(tmp_path / "neuron.svg")
    for expected in ("x1", "w1", "b", "n", "o", "tanh", "*", "+", "data 2", "grad -1.5"):
        assert expected in texts
    assert not (tmp_path / "neuron.gv").exists()    # the DOT source is cleaned up


@needs_dot
def test_tensor_graph_renders_to_svg(tmp_path):
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), label="x")
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True, label="w")
    out = (x @ w).relu().sum()
    out.backward()
    texts = svg_text(tmp_path / render_graph(out, tmp_path / "t.svg", direction="backward"))
    assert {"x", "w", "relu", "matmul", "sum"} <= set(texts)
    assert "(2, 3) float32" in texts


@needs_dot
@pytest.mark.parametrize("label", [h for h in HOSTILE if not re.search(r"[\x00-\x1f\ud800]", h)])
def test_hostile_labels_render_literally(tmp_path, label):
    y = Value(1.0, label=label) * 2.0
    texts = svg_text(tmp_path / render_graph(y, tmp_path / "h.svg"))
    assert label in texts


@needs_dot
def test_png_and_pdf_files_are_written(tmp_path):
    o, _ = textbook_neuron()
    png = render_graph(o, tmp_path / "n.png")
    pdf = render_graph(o, tmp_path / "n.pdf", format="pdf")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert open(pdf, "rb").read(5) == b"%PDF-"


def test_format_must_match_the_file_name_and_be_known(tmp_path):
    o, _ = textbook_neuron()
    with pytest.raises(VizError, match="ends in .png"):
        render_graph(o, tmp_path / "n.png", format="svg")
    with pytest.raises(VizError, match="unknown format"):
        render_graph(o, tmp_path / "n.out", format="bogus")


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    """A PATH on which no Graphviz program can be found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_missing_dot_explains_how_to_install_and_keeps_the_source(tmp_path, no_dot):
    o, _ = textbook_neuron()
    with pytest.raises(GraphvizNotFoundError) as err:
        render_graph(o, tmp_path / "neuron.svg")
    message = str(err.value)
    for hint in ("apt-get install graphviz", "brew install graphviz",
                 "conda install -c conda-forge graphviz"):
        assert hint in message
    saved = tmp_path / "neuron.gv"
    assert saved.read_text(encoding="utf-8") == draw_graph(o).source == err.value.source
    assert err.value.source_path == str(saved) and str(saved) in message
    assert isinstance(err.value, RuntimeError)


def test_missing_dot_in_pipe_still_gives_the_source(no_dot):
    graph = draw_graph(Value(1.0, label="x") * 2.0)
    with pytest.raises(GraphvizNotFoundError, match="brew install graphviz") as err:
        graph.pipe(format="svg")
    assert err.value.source == graph.source and err.value.source_path is None
