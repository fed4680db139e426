"""Drawings that zoom: chosen layers of a Tensor graph drawn as their neurons, with the numbers
of the Tensor graph, computed by the layer's scalar twin."""

import re

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value, manual_seed, nn
from tinygrad_edu.graph import topological_order
from tinygrad_edu.viz import VizError, draw_graph
from tinygrad_edu.viz.labels import escape, fmt, summarize
from tinygrad_edu.viz.neurons import shown_units, unit_numbers
from tinygrad_edu.viz.plan import COLORS
from viz_dot import Dot


def _network(activation="relu", batch=7, seed=0):
    """A float64 MLP 5 → 12 → 6 → 1 on a batch, after backward: (model, loss)."""
    manual_seed(seed)
    model = nn.MLP(5, [12, 6], 1, activation=activation).double()
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((batch, 5)), label="x")
    loss = nn.functional.mse_loss(model(x), Tensor(rng.standard_normal((batch, 1))))
    loss.backward()
    return model, loss


def _made_by(loss, layer):
    """The tensors ``layer``'s forward made in the graph of ``loss``, in forward order."""
    return [t for t in topological_order(loss, lambda t: t.inputs)
            if t.scope and t.scope[-1] is layer]


def _output_of(loss, layer):
    return _made_by(loss, layer)[-1]


def _preactivation_of(loss, layer):
    fused = next(t for t in _made_by(loss, layer) if t.op == "linear_act")
    return fused.grad_fn.details()["preactivation"].numpy()


def _input_of(loss, layer):
    fused = next(t for t in _made_by(loss, layer) if t.op == "linear_act")
    return fused.inputs[0]


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu", "prelu"])
def test_the_neurons_numbers_equal_the_tensor_values_and_gradients(cpu_backend, activation):
    model, loss = _network(activation)
    for layer in model.layers:
        out = _output_of(loss, layer)
        units = shown_units(layer.nout)
        numbers = unit_numbers(layer, _input_of(loss, layer).numpy(), out.grad.numpy(), units)
        z = _preactivation_of(loss, layer)
        assert [u.index for u in numbers] == units
        for u in numbers:
            j = u.index
            np.testing.assert_allclose(u.z, z[:, j], rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(u.a, out.numpy()[:, j], rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(u.a_grad, out.grad.numpy()[:, j], rtol=1e-12)
            np.testing.assert_allclose(u.weight_grad, layer.weight.grad.numpy()[:, j],
                                       rtol=1e-10, atol=1e-14)
            assert u.bias == layer.bias.numpy()[j]
            assert u.bias_grad == pytest.approx(layer.bias.grad.numpy()[j], rel=1e-10,
                                                abs=1e-14)
            # The bias gradient is the sum over the batch of the weighted sum's gradient.
            assert u.z_grad.sum() == pytest.approx(u.bias_grad, rel=1e-10, abs=1e-14)


def test_one_example_gives_scalar_numbers():
    manual_seed(0)
    layer = nn.Layer(3, 2, activation="tanh").double()
    x = Tensor(np.array([0.5, -1.0, 2.0]))
    out = layer(x)
    (out * Tensor(np.array([1.0, -2.0]))).sum().backward()
    first, second = unit_numbers(layer, x.numpy(), out.grad.numpy(), [0, 1])
    assert first.z.shape == () and second.a == pytest.approx(out.numpy()[1])
    assert second.a_grad == pytest.approx(-2.0)


def _titles(dot, text):
    return [name for name, attrs in dot.nodes.items() if f"<B>{text}" in attrs]


def test_an_expanded_layer_shows_each_neuron_with_the_tensor_graph_numbers():
    model, loss = _network("relu")
    dot = Dot(draw_graph(loss, group_modules="collapse", expand=["layers.1"]).source)
    layer = model.layers[1]
    out = _output_of(loss, layer)
    z = _preactivation_of(loss, layer)
    for j in range(layer.nout):
        (weighted,) = _titles(dot, f"unit {j}: \u03a3")
        (activation,) = [h for t, h, a in dot.edges if t == weighted and "invis" not in a]
        for line in summarize(z[:, j]) + summarize(out.numpy()[:, j]):
            assert escape(line) in dot.nodes[weighted] + dot.nodes[activation]
        for line in summarize(out.grad.numpy()[:, j]):
            assert escape(line) in dot.nodes[activation]
        bias = f"b[{j}] {fmt(layer.bias.numpy()[j])}  grad {fmt(layer.bias.grad.numpy()[j])}"
        assert escape(bias) in dot.nodes[weighted]
    # The other layers stay one node each, wired to every neuron.
    before = dot.one("<B>layers.0 (Layer 5\u219212, relu)</B>")
    after = dot.one("<B>layers.2 (Layer 6\u21921)</B>")
    sums = [n for n in dot.nodes if "unit " in dot.nodes[n] and "\u03a3" in dot.nodes[n]]
    relus = [h for t, h, _ in dot.edges if t in sums and h not in sums]
    assert len(sums) == len(relus) == 6
    assert {(before, s) for s in sums} | {(r, after) for r in relus} <= {
        (t, h) for t, h, _ in dot.edges}
    assert not dot.find("layers.1.weight")
    cluster = dot.cluster_named("layers.1 (Layer 12\u21926, relu)")
    assert "6 neurons" in dot.cluster_notes[cluster] and "hidden" not in dot.cluster_notes[cluster]
    assert all(dot.cluster_of[n][-1] == cluster for n in sums + relus)


def test_a_wide_layer_shows_its_first_and_last_units_and_counts_the_rest():
    _, loss = _network("relu")
    dot = Dot(draw_graph(loss, group_modules="collapse", expand=["layers.0"]).source)
    drawn = sorted(int(m.group(1)) for a in dot.nodes.values()
                   if (m := re.search(r"<B>unit (\d+): \u03a3</B>", a)))
    assert drawn == [0, 1, 2, 9, 10, 11]
    hidden = dot.one("6 more units")
    cluster = dot.cluster_named("layers.0 (Layer 5\u219212, relu)")
    assert dot.cluster_of[hidden][-1] == cluster
    assert "12 neurons: 6 drawn, 6 hidden" in dot.cluster_notes[cluster]
    # the hidden units keep their place in the layer: dashed edges through them
    assert any(t == hidden and "dashed" in a for t, h, a in dot.edges)


def test_two_expanded_layers_in_a_row_connect_neuron_to_neuron():
    _, loss = _network("tanh")
    dot = Dot(draw_graph(loss, group_modules="collapse",
                         expand=["layers.2", "layers.1"]).source)
    last = dot.cluster_named("layers.2 (Layer 6\u21921)")
    (unit,) = [n for n in dot.find("<B>unit 0: \u03a3</B>") if dot.cluster_of[n][-1] == last]
    tanhs = [n for n, a in dot.nodes.items() if "a = tanh(z), unit" in a]
    assert len(tanhs) == 6 and {t for t, h, _ in dot.edges if h == unit} == set(tanhs)


def test_a_layer_without_activation_that_makes_the_root_is_drawn_as_its_sums():
    manual_seed(0)
    model = nn.MLP(3, [4], 2).double()
    out = model(Tensor(np.ones((2, 3))))
    out.backward(np.ones((2, 2)))
    dot = Dot(draw_graph(out, expand=["layers.1"]).source)
    sums = _titles(dot, "unit ")
    assert len(sums) == 2 and not dot.find("a = ")
    assert {dot.fill(n) for n in sums} == {COLORS["output"]}


def test_expand_works_with_clusters_and_dead_units_are_marked():
    model, loss = _network("relu")
    model.layers[0].bias.copy_(np.full(12, -100.0))   # every unit of layer 0 dies
    x = Tensor(np.random.default_rng(0).standard_normal((4, 5)))
    loss = model(x).sum()
    loss.backward()
    dot = Dot(draw_graph(loss, expand=["layers.0"]).source)
    relus = [n for n, a in dot.nodes.items() if "a = relu(z), unit" in a]
    assert len(relus) == 6 and all(dot.fill(n) == COLORS["dead"] for n in relus)
    assert not dot.find("layers.0.weight") and dot.find("layers.1.weight")


def test_bad_expand_requests_are_refused_with_what_is_possible():
    model, loss = _network()
    with pytest.raises(VizError, match=r"no module named 'layer.1'.*\['layers.0', 'layers.1'"):
        draw_graph(loss, expand=["layer.1"])
    with pytest.raises(VizError, match="only nn.Layer modules"):
        draw_graph(loss, expand=[""])            # the MLP itself
    with pytest.raises(VizError, match="list of layer names"):
        draw_graph(loss, expand=[1])
    with pytest.raises(VizError, match="Tensor graphs"):
        draw_graph(Value(1.0) * 2, expand=["layers.0"])


def test_a_layer_called_twice_cannot_be_drawn_as_neurons():
    manual_seed(0)
    layer = nn.Layer(2, 2)
    x = Tensor.ones(1, 2)
    loss = (layer(x) + layer(x * 2)).sum()
    with pytest.raises(VizError, match="called once"):
        draw_graph(loss, expand=[""])


def test_expanded_layers_count_towards_max_nodes():
    _, loss = _network("relu")
    collapsed = draw_graph(loss, group_modules="collapse")
    n = len(Dot(collapsed.source).nodes)
    zoomed = Dot(draw_graph(loss, group_modules="collapse", expand=["layers.0"]).source)
    assert len(zoomed.nodes) == n - 1 + 2 * 7      # 6 neurons and the hidden ones, 2 nodes each
    with pytest.raises(VizError, match=f"{len(zoomed.nodes):,} nodes"):
        draw_graph(loss, group_modules="collapse", expand=["layers.0"], max_nodes=n)
