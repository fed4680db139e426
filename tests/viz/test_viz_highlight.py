"""draw_graph(..., highlight=...): the op a gradcheck error blames is marked, with backward's
number and the finite difference on it; any node of the graph can be marked."""

import numpy as np
import pytest

from tinygrad_edu import Function, GradcheckError, Tensor, Value, gradcheck, manual_seed, nn
from tinygrad_edu.viz import VizError, draw_graph
from tinygrad_edu.viz.examples import build_gradcheck
from tinygrad_edu.viz.labels import fmt
from tinygrad_edu.viz.plan import COLORS, WARNING_TEXT
from viz_dot import Dot


class HalfGradSquare(Function):
    """out = a²; backward gives g a instead of 2 g a."""
    op = "half_grad_square"

    def forward(self, a):
        self.a = a
        return self.backend.mul(a, a)

    def backward(self, g):
        return (self.backend.mul(g, self.a),)


class Squared(nn.Module):
    def forward(self, x):
        return HalfGradSquare.apply(x)


def _tensor_error():
    manual_seed(0)
    model = nn.Sequential(nn.Layer(3, 4, activation="tanh"), Squared(),
                          nn.Layer(4, 1, activation=None)).double()
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda *p: model(x).sum(), list(model.parameters()))
    return info.value


def _numbers_on(attrs, mismatch):
    return (f"backward: {fmt(mismatch.computed)}" in attrs
            and f"finite differences: {fmt(mismatch.expected)}" in attrs)


def test_the_blamed_op_is_marked_with_both_numbers(cpu_backend):
    err = _tensor_error()
    dot = Dot(draw_graph(err.root, highlight=err).source)
    (marked,) = dot.find("backward is wrong")
    attrs = dot.nodes[marked]
    assert "<B>half_grad_square</B>" in attrs and _numbers_on(attrs, err.op_mismatch)
    assert dot.fill(marked) == COLORS["highlight"]
    assert f'color="{WARNING_TEXT}"' in attrs and "penwidth=2.5" in attrs
    element = ",".join(map(str, err.op_mismatch.element))
    assert f"d out[{element}] / d in0[{element}]" in attrs


def test_in_a_collapsed_drawing_the_layer_holding_the_op_is_marked():
    err = _tensor_error()
    dot = Dot(draw_graph(err.root, highlight=err, group_modules="collapse").source)
    (marked,) = dot.find("backward is wrong")
    assert "<B>1 (Squared)</B>" in dot.nodes[marked]
    assert _numbers_on(dot.nodes[marked], err.op_mismatch)


def test_any_node_can_be_marked_without_numbers():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).exp()
    for target in (y.inputs[0], y.inputs[0].grad_fn, x):
        dot = Dot(draw_graph(y.sum(), highlight=target).source)
        marked = [n for n in dot.nodes if dot.fill(n) == COLORS["highlight"]]
        assert len(marked) == 1 and "is wrong" not in dot.nodes[marked[0]]


def test_a_value_op_with_a_wrong_local_derivative_is_marked_with_its_input_edge():
    def cube_with_bug(v):
        return Value.custom(v.data ** 3, (v,), (v.data ** 2,), op="cube")

    a = Value(0.5, label="a")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: cube_with_bug(a * 0.5).tanh(), [a])
    err = info.value
    dot = Dot(draw_graph(err.root, highlight=err).source)
    (marked,) = dot.find("local derivative is wrong")
    attrs = dot.nodes[marked]
    assert "shape=ellipse" in attrs and attrs.startswith("label=<cube<BR/>")
    assert f"local derivative: {fmt(err.op_mismatch.computed)}" in attrs
    assert f"finite differences: {fmt(err.op_mismatch.expected)}" in attrs
    (edge,) = [a for t, h, a in dot.edges if h == marked]
    assert "penwidth=2.5" in edge and f"\u2202 {fmt(err.node.local_grads[0])}" in edge


def test_highlights_that_cannot_be_drawn_are_refused():
    err = _tensor_error()
    other = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(VizError, match=r"draw err.root"):
        draw_graph(other, highlight=err)
    with pytest.raises(VizError, match="GradcheckError, an op node"):
        draw_graph(other, highlight="cube")
    calls = []

    def drifting(x):
        calls.append(1)
        return x * float(len(calls))

    with pytest.raises(GradcheckError) as info:
        gradcheck(drifting, [Tensor(np.array([1.0]), requires_grad=True)])
    with pytest.raises(VizError, match="blames no single op"):
        draw_graph(info.value.root, highlight=info.value)


@pytest.mark.parametrize("seed", [0, 3])
def test_the_clis_gradient_checks_pass_or_blame_the_cube_and_draw_it_marked(seed):
    assert gradcheck(*build_gradcheck("mlp", seed))
    for name in ("mlp-bug", "value-bug"):
        with pytest.raises(GradcheckError) as info:
            gradcheck(*build_gradcheck(name, seed))
        err = info.value
        assert err.op_mismatch.op == "cube"
        assert err.op_mismatch.expected == pytest.approx(3 * err.op_mismatch.computed, rel=1e-6)
        dot = Dot(draw_graph(err.root, highlight=err).source)
        assert len(dot.find("is wrong")) == 1


def test_a_marked_node_inside_an_expanded_layer_marks_the_layer():
    manual_seed(0)
    model = nn.MLP(3, [4], 1).double()
    out = model(Tensor(np.ones((2, 3)))).sum()
    out.backward()
    hidden_layer_output = out.inputs[0].inputs[0]
    dot = Dot(draw_graph(out, expand=["layers.0"], highlight=hidden_layer_output).source)
    (cluster,) = [c for c, notes in dot.cluster_notes.items() if "is in this layer" in notes]
    assert dot.clusters[cluster] == "layers.0 (Layer 3\u21924, relu)"
