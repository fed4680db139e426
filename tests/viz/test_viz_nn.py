"""Graphs of real nn modules: clusters named from the modules, parameter names, collapsing,
dead ReLU units, the scalar twins, and the chapter examples the CLI draws."""

import numpy as np

from tinygrad_edu import Tensor, manual_seed, nn
from tinygrad_edu.viz import draw_graph
from tinygrad_edu.viz.examples import EXAMPLES, build_example
from tinygrad_edu.viz.plan import COLORS
from viz_dot import Dot

RANKING_LAYERS = ["layers.0 (Layer 128\u2192256, relu)", "layers.1 (Layer 256\u2192128, relu)",
                  "layers.2 (Layer 128\u219264, relu)", "layers.3 (Layer 64\u21921)"]


def test_ranking_mlp_reads_as_its_layers():
    loss, opts = build_example("mlp")
    dot = Dot(draw_graph(loss, **opts).source)
    outer = dot.cluster_named("MLP 128\u2192256\u2192128\u219264\u21921")
    for i, label in enumerate(RANKING_LAYERS):
        cluster = dot.cluster_named(label)
        members = {n for n, c in dot.cluster_of.items() if c == (outer, cluster)}
        assert members == {dot.one(f"<B>layers.{i}.weight</B>"),
                           dot.one(f"<B>layers.{i}.bias</B>"),
                           *[n for n in members if "linear_act" in dot.nodes[n]]}
        assert len(members) == 3
        assert dot.fill(dot.one(f"<B>layers.{i}.weight</B>")) == COLORS["parameter"]
    assert "(32, 256) float32" in dot.source and "dead " in dot.source
    assert dot.fill(dot.one("<B>features</B>")) == COLORS["input"]
    assert dot.fill(dot.one("<B>loss</B>")) == COLORS["output"]


def test_ranking_mlp_collapses_to_one_node_per_layer():
    loss, opts = build_example("mlp")
    dot = Dot(draw_graph(loss, group_modules="collapse", **opts).source)
    layers = [dot.one(label) for label in RANKING_LAYERS]
    assert {dot.cluster_of[n] for n in layers} == {(dot.cluster_named(
        "MLP 128\u2192256\u2192128\u219264\u21921"),)}
    assert all((a, b, "") in dot.edges for a, b in zip(layers, layers[1:]))
    assert not dot.find("layers.0.weight")


def test_a_layer_called_alone_is_its_own_cluster_with_short_names():
    manual_seed(0)
    layer = nn.Layer(3, 4)
    out = layer(Tensor.randn(5, 3)).sum()
    dot = Dot(draw_graph(out).source)
    cluster = dot.cluster_named("Layer 3\u21924, relu")
    assert dot.cluster_of[dot.one("<B>weight</B>")] == (cluster,)


def test_dead_units_of_a_real_layer_turn_the_node_to_the_warning_colour():
    layer = nn.Layer(3, 4)
    layer.weight.copy_(0)
    layer.bias.copy_([-1.0, -1.0, 0.0, 1.0])
    dot = Dot(draw_graph(layer(Tensor.randn(8, 3))).source)
    node = dot.one("linear_act (relu)")
    assert "dead 75% (3/4 units)" in dot.nodes[node]        # pre-activation 0 counts as dead
    assert dot.fill(node) == COLORS["dead"]


def test_scalar_mlp_parameters_are_named_and_coloured():
    loss, opts = build_example("value-mlp")
    dot = Dot(draw_graph(loss, **opts).source)
    for name in ("layers.0.weight[0,0]", "layers.0.bias[2]", "layers.1.weight[2,0]"):
        assert dot.fill(dot.one(f"<B>{name}</B>")) == COLORS["parameter"]
    assert dot.fill(dot.one("<B>x[0]</B>")) == COLORS["input"]
    assert len(dot.find("label=<tanh>")) == 3


def test_every_example_draws_and_is_repeatable_for_a_seed():
    def source(name, seed):
        root, opts = build_example(name, seed=seed)
        return draw_graph(root, **opts).source

    for name in EXAMPLES:
        first, again, other = source(name, 0), source(name, 0), source(name, 1)
        assert first == again
        assert (first != other) == (name != "neuron")     # the neuron's numbers are fixed
