"""Graph drawings of Tensor graphs: node contents, colours, module clusters (with a small
Module-like stand-in that uses ``module_scope``), collapsing, dead ReLUs and the backward view.
"""

import numpy as np
import pytest

from tinygrad_edu import Tensor, linear_act
from tinygrad_edu.tensor.context import module_scope
from tinygrad_edu.viz import GraphTooLargeError, draw_graph
from tinygrad_edu.viz.labels import fmt
from tinygrad_edu.viz.plan import COLORS
from viz_dot import Dot


class Dense:
    """Just enough of nn.Module's contract: forward in module_scope, names, extra_repr."""

    def __init__(self, weight, bias, activation):
        self.weight = Tensor(np.asarray(weight, np.float32), requires_grad=True)
        self.bias = Tensor(np.asarray(bias, np.float32), requires_grad=True)
        self.activation = activation

    def __call__(self, x):
        with module_scope(self):
            return linear_act(x, self.weight, self.bias, self.activation)

    def named_modules(self, prefix=""):
        return [(prefix, self)]

    def named_parameters(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def extra_repr(self):
        nin, nout = self.weight.shape
        return f"{nin}\u2192{nout}" + (f", {self.activation}" if self.activation else "")


class Stack:
    def __init__(self, *layers):
        self.layers = layers

    def __call__(self, x):
        with module_scope(self):
            for layer in self.layers:
                x = layer(x)
            return x

    def named_modules(self):
        return [("", self)] + [(f"layers.{i}", m) for i, m in enumerate(self.layers)]

    def named_parameters(self):
        return [(f"layers.{i}.{n}", p) for i, m in enumerate(self.layers)
                for n, p in m.named_parameters()]

    def extra_repr(self):
        return f"{len(self.layers)} layers"


def two_layer_model():
    rng = np.random.default_rng(0)
    return Stack(Dense(rng.normal(size=(3, 4)), np.zeros(4), "relu"),
                 Dense(rng.normal(size=(4, 1)), np.zeros(1), None))


def model_loss(model=None, batch=5):
    model = model or two_layer_model()
    x = Tensor(np.random.default_rng(1).normal(size=(batch, 3)).astype(np.float32),
               label="x")
    loss = (model(x) ** 2).mean()
    loss.label = "loss"
    loss.backward()
    return model, x, loss


def test_nodes_show_op_shape_dtype_and_summaries():
    _, x, loss = model_loss()
    dot = Dot(draw_graph(loss).source)
    hidden = dot.nodes[dot.one("linear_act (relu)")]
    assert "(5, 4) float32" in hidden and "mean " in hidden and "grad mean " in hidden
    bias = dot.nodes[dot.one("<B>layers.1.bias</B>")]       # one element: shown in full
    assert "(1,) float32" in bias and "[0]" in bias
    assert "scalar float32" in dot.nodes[dot.one("<B>loss</B>")]
    xs = x.numpy()
    assert f"min {fmt(xs.min())}  max {fmt(xs.max())}" in dot.nodes[dot.one("<B>x</B>")]


def test_gradients_appear_only_after_backward():
    model = two_layer_model()
    x = Tensor(np.ones((2, 3), np.float32))
    out = model(x).sum()
    assert "grad" not in draw_graph(out).source
    out.backward()
    assert "grad" in draw_graph(out).source


def test_roles_are_coloured_by_the_legend():
    _, _, loss = model_loss()
    dot = Dot(draw_graph(loss).source)
    assert dot.fill(dot.one("<B>x</B>")) == COLORS["input"]
    assert dot.fill(dot.one("<B>layers.0.weight</B>")) == COLORS["parameter"]
    assert dot.fill(dot.one("<B>pow</B>")) == COLORS["intermediate"]
    assert dot.fill(dot.one("<B>loss</B>")) == COLORS["output"]


def test_modules_become_nested_labelled_clusters_holding_their_parameters():
    _, _, loss = model_loss()
    dot = Dot(draw_graph(loss).source)
    outer = dot.cluster_named("Stack 2 layers")
    first = dot.cluster_named("layers.0 (Dense 3\u21924, relu)")
    second = dot.cluster_named("layers.1 (Dense 4\u21921)")
    for name in ("layers.0.weight", "layers.0.bias", "linear_act (relu)"):
        assert dot.cluster_of[dot.one(name)] == (outer, first)
    assert dot.cluster_of[dot.one("<B>layers.1.weight</B>")] == (outer, second)
    assert dot.cluster_of[dot.one("<B>loss</B>")] == ()
    # Weight and bias are laid out beside the op that uses them.
    assert sorted(map(sorted, dot.same_ranks)) == sorted([
        sorted(dot.find("layers.0.") + dot.find("linear_act (relu)")),
        sorted(dot.find("layers.1.") + dot.find("linear_act (identity)"))])


def test_group_modules_false_draws_no_clusters_but_keeps_names():
    _, _, loss = model_loss()
    dot = Dot(draw_graph(loss, group_modules=False).source)
    assert not dot.clusters
    assert dot.one("<B>layers.0.weight</B>")


def test_collapse_draws_each_layer_as_one_node():
    _, _, loss = model_loss()
    full = Dot(draw_graph(loss).source)
    dot = Dot(draw_graph(loss, group_modules="collapse").source)
    layer0 = dot.one("layers.0 (Dense 3\u21924, relu)")
    layer1 = dot.one("layers.1 (Dense 4\u21921)")
    assert "1 op, 2 parameters" in dot.nodes[layer0]
    assert "dead " in dot.nodes[layer0]
    assert len(dot.nodes) == len(full.nodes) - 4      # 2 x (weight, bias, op) -> 2 nodes
    assert (dot.one("<B>x</B>"), layer0, "") in dot.edges and (layer0, layer1, "") in dot.edges
    assert list(dot.clusters.values()) == ["Stack 2 layers"]


def test_explicit_params_override_automatic_names():
    model, _, loss = model_loss()
    dot = Dot(draw_graph(loss, params={"W_in": model.layers[0].weight}).source)
    assert dot.one("<B>W_in</B>") and not dot.find("layers.0.weight")


@pytest.mark.parametrize("bias, dead, warned", [
    ([-1.0, -1.0, 1.0, 1.0], 2, True),      # 50% dead: warning colour
    ([-1.0, 1.0, 1.0, 1.0], 1, False),      # 25%: shown, not warned
])
def test_relu_shows_the_share_of_units_dead_for_the_whole_batch(bias, dead, warned):
    # Zero weights make every pre-activation equal its bias, whatever the input.
    layer = Dense(np.zeros((3, 4)), bias, "relu")
    out = layer(Tensor(np.ones((6, 3), np.float32)))
    dot = Dot(draw_graph(out).source)
    node = dot.one("linear_act (relu)")
    assert f"dead {100 * dead // 4}% ({dead}/4 units)" in dot.nodes[node]
    assert (dot.fill(node) == COLORS["dead"]) == warned


def test_unit_alive_for_one_example_is_not_dead():
    pre = Tensor(np.array([[-1.0, -2.0], [-1.0, 3.0]], np.float32), requires_grad=True)
    dot = Dot(draw_graph(pre.relu()).source)
    assert "dead 50% (1/2 units)" in dot.nodes[dot.one("<B>relu</B>")]


def test_leaky_relu_reports_negative_units_without_warning():
    x = Tensor(-np.ones((2, 4), np.float32), requires_grad=True)
    dot = Dot(draw_graph(x.leaky_relu()).source)
    node = dot.one("<B>leaky_relu</B>")
    assert "all-negative 100% (4/4 units)" in dot.nodes[node]
    assert dot.fill(node) == COLORS["output"]


def test_backward_direction_reverses_edges_and_leads_with_gradients():
    _, _, loss = model_loss()
    forward = Dot(draw_graph(loss).source)
    backward = Dot(draw_graph(loss, direction="backward").source)
    assert sorted((h, t) for t, h, _ in backward.edges) == sorted(
        (t, h) for t, h, _ in forward.edges)
    hidden = backward.nodes[backward.one("linear_act (relu)")]
    assert hidden.index("mean ") == hidden.index("grad mean") + len("grad ")
    hidden = forward.nodes[forward.one("linear_act (relu)")]
    assert hidden.index("mean ") < hidden.index("grad mean")
    assert "no grad" in backward.nodes[backward.one("<B>x</B>")]


def test_labels_and_constants_are_named():
    a = Tensor([1.0, 2.0], requires_grad=True, label="a")
    b = a * 3.0
    b.label = "scaled"
    dot = Dot(draw_graph(b).source)
    assert dot.one("<B>a</B>") and dot.one("constant")
    assert "<B>scaled</B>" in dot.nodes[dot.one("mul")]
    assert "[3, 6]" in dot.nodes[dot.one("scaled")]


def test_max_nodes_error_suggests_collapsing_modules():
    _, _, loss = model_loss()
    count = len(Dot(draw_graph(loss).source).nodes)
    with pytest.raises(GraphTooLargeError, match="group_modules='collapse'") as err:
        draw_graph(loss, max_nodes=count - 1)
    assert err.value.node_count == count
    assert draw_graph(loss, max_nodes=count - 1, group_modules="collapse")
