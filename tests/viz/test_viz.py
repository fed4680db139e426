"""Graph drawings of scalar Value graphs, option checks, escaping and the size limit, all read
from the DOT source (no Graphviz program needed)."""

import math
import re
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_edu import DTypeError, Value
from tinygrad_edu.viz import GraphTooLargeError, VizError, draw_graph
from tinygrad_edu.viz.labels import escape, fmt, summarize
from tinygrad_edu.viz.plan import COLORS
from viz_dot import HOSTILE, Dot, textbook_neuron

NODE_ATTRS = re.compile(r'label=<([^\n]*?)>((?: \w+=(?:"[^"]*"|[\w.]+))*)')
OWN_TAGS = re.compile(r"</?(?:TABLE|TR|TD|B|FONT|BR)\b[^<>]*>")
RENDERER_ATTRS = {"shape", "fillcolor", "color", "style", "margin", "width", "height"}


def test_import_of_viz_loads_neither_graphviz_nor_top_level_copies():
    code = ("import sys, tinygrad_edu.viz; "
            "print(sorted(m for m in ('graphviz', 'viz', 'kernels') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_textbook_neuron_draws_one_node_per_value_and_per_op():
    o, v = textbook_neuron()
    dot = Dot(draw_graph(o).source)
    values = [n for n in dot.nodes if n.startswith("v")]
    ops = [n for n in dot.nodes if n.startswith("o")]
    # leaves x1 x2 w1 w2 b, products, their sum, n, o; ops: *, *, +, +, tanh
    assert (len(values), len(ops)) == (10, 5)
    assert len(dot.edges) == 5 + 9    # op -> result, and each input -> op
    assert sorted(dot.nodes[n].split(">", 1)[0] for n in ops) == [
        "label=<*", "label=<*", "label=<+", "label=<+", "label=<tanh"]
    assert not dot.clusters


def test_textbook_neuron_shows_data_grads_and_local_derivatives():
    o, v = textbook_neuron()
    dot = Dot(draw_graph(o).source)
    dtanh = 1 - math.tanh(v["n"].data) ** 2
    x1 = dot.one("<B>x1</B>")
    assert f"data {fmt(2.0)}" in dot.nodes[x1]
    assert f"grad {fmt(-3.0 * dtanh)}" in dot.nodes[x1]       # d o / d x1 = w1 * tanh'
    assert f"data {fmt(math.tanh(v['n'].data))}" in dot.nodes[dot.one("<B>o</B>")]
    # The edge from x1 into "*" carries d(x1*w1)/d(x1) = w1 = -3.
    mul = next(head for tail, head, _ in dot.edges if tail == x1)
    assert f"\u2202 {fmt(-3.0)}" in next(a for t, h, a in dot.edges if (t, h) == (x1, mul))


def test_value_roles_are_coloured_by_the_legend():
    o, v = textbook_neuron()
    dot = Dot(draw_graph(o, params={"w1": v["w1"], "w2": v["w2"], "b": v["b"]}).source)
    assert dot.fill(dot.one("<B>x1</B>")) == COLORS["input"]
    assert dot.fill(dot.one("<B>w1</B>")) == COLORS["parameter"]
    assert dot.fill(dot.one("<B>n</B>")) == COLORS["intermediate"]
    assert dot.fill(dot.one("<B>o</B>")) == COLORS["output"]


def test_params_name_unlabelled_values():
    w, x = Value(0.5), Value(3.0)
    y = w * x
    dot = Dot(draw_graph(y, params=[("layer.w", w)]).source)
    assert dot.fill(dot.one("<B>layer.w</B>")) == COLORS["parameter"]


def test_backward_direction_reverses_every_edge_and_keeps_the_picture_geometry():
    o, _ = textbook_neuron()
    forward = Dot(draw_graph(o).source)
    backward = Dot(draw_graph(o, direction="backward").source)
    assert sorted((h, t) for t, h, _ in backward.edges) == sorted(
        (t, h) for t, h, _ in forward.edges)
    assert "rankdir=RL" in backward.source and "rankdir=LR" in forward.source
    assert any("\u00d7 " in attrs for _, _, attrs in backward.edges)


def test_show_flags_remove_data_grad_and_edge_labels():
    o, _ = textbook_neuron()
    dot = Dot(draw_graph(o, show_data=False, show_grad=False).source)
    assert "data " not in dot.source and "grad " not in dot.source
    assert all(attrs == "" for _, _, attrs in dot.edges)
    assert "x1" in dot.source


def test_relu_of_a_negative_input_is_marked_dead():
    dead = Value(-1.5).relu()
    alive = Value(2.0).relu()
    for out, is_dead in ((dead, True), (alive, False)):
        dot = Dot(draw_graph(out).source)
        op = dot.one("relu")
        assert ("dead" in dot.nodes[op]) == is_dead
        assert (dot.fill(op) == COLORS["dead"]) == is_dead


def test_deep_graph_is_walked_without_recursion():
    x = Value(0.5, label="x")
    y = x
    for _ in range(3000):       # far beyond Python's default recursion limit of 1000
        y = y * 1.0001
    dot = Dot(draw_graph(y, max_nodes=10_000).source)
    assert len(dot.nodes) == 3001 + 3000 + 3000   # values, constants, ops


def test_graph_above_max_nodes_is_refused_with_its_size_and_a_hint():
    y = Value(1.0)
    for _ in range(300):
        y = y + 1.0
    with pytest.raises(GraphTooLargeError) as err:
        draw_graph(y)      # 601 values + 300 ops > the default 500
    assert err.value.node_count == 901
    assert "901 nodes" in str(err.value) and "max_nodes=901" in str(err.value)
    assert len(Dot(draw_graph(y, max_nodes=901).source).nodes) == 901


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_cannot_add_nodes_or_attributes(label):
    x = Value(1.0, label=label)
    y = x * 2.0
    y.label = label
    dot = Dot(draw_graph(y, params={label + "!": x}).source)
    assert len(dot.nodes) == 4 and len(dot.edges) == 3
    for attrs in dot.nodes.values():
        # One HTML label, then only the attributes the renderer itself writes.
        match = NODE_ATTRS.fullmatch(attrs)
        assert match, attrs
        assert set(re.findall(r"(\w+)=", match.group(2))) <= RENDERER_ATTRS
        # Without the renderer's own tags, the text has no markup, quotes or lone backslashes.
        text = OWN_TAGS.sub("", match.group(1))
        assert not set('<>"') & set(text), text
        assert "\\" not in text.replace("\\\\", ""), text
    assert escape(label) in dot.source and escape(label + "!") in dot.source


def test_escape_renders_markup_literally():
    assert escape('<b> & "q"') == "&lt;b&gt; &amp; &quot;q&quot;"
    assert escape("a\\N") == "a\\\\N"          # Graphviz would otherwise print the node id
    assert escape("one\ntwo") == "one<BR/>two"
    assert escape("bell\x07") == "bell\\\\x07"
    assert escape("x" * 100).endswith("\u2026") and len(escape("x" * 100)) == 60


def test_numbers_are_shown_with_four_significant_digits():
    assert fmt(2 / 3) == "0.6667"
    assert fmt(123456.0) == "1.235e+05"
    assert fmt(-0.0) == "0" and fmt(3) == "3" and fmt(float("nan")) == "nan"


def test_small_arrays_are_listed_and_large_ones_summarised():
    assert summarize(np.array([0.5, -1.0])) == ["[0.5, -1]"]
    assert summarize(np.array(2.5)) == ["2.5"]
    assert summarize(np.array([[1.0, 2.0], [3.0, 4.0]])) == ["[[1, 2],", "[3, 4]]"]
    big = np.arange(100, dtype=np.float32)
    assert summarize(big) == [f"mean {fmt(49.5)}  std {fmt(big.std())}", "min 0  max 99"]
    assert summarize(np.zeros(256, np.float32)) == ["all 0"]
    assert summarize(np.array([True, False, True, True] * 3)) == ["true 9/12 (75%)"]
    with_nan = np.array([1.0, np.nan, np.inf] * 4)
    assert summarize(with_nan)[-1] == "4 nan, 4 inf"


@pytest.mark.parametrize("opts, message", [
    ({"rankdir": "XY"}, "rankdir"),
    ({"direction": "sideways"}, "direction"),
    ({"group_modules": "yes"}, "group_modules"),
    ({"max_nodes": 0}, "max_nodes"),
    ({"max_nodes": True}, "max_nodes"),
    ({"params": 42}, "params"),
    ({"params": {"w": 1.0}}, "params"),
])
def test_bad_options_raise_viz_errors_naming_the_option(opts, message):
    with pytest.raises(VizError, match=message):
        draw_graph(Value(1.0) * 2.0, **opts)


def test_only_values_and_tensors_can_be_drawn():
    with pytest.raises(DTypeError, match="Value or a Tensor"):
        draw_graph(3.0)
