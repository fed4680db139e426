"""The scalar-Value twins of Neuron, Layer and MLP agree with the Tensor modules."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, gradcheck, nn
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.nn import scalar


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library generator state, so random weights repeat."""
    tg.manual_seed(0)


ACTIVATIONS = ["relu", "leaky_relu", "prelu", "sigmoid", "tanh", "gelu", "silu", "swish", None]


def _tensor_grads(module, x, seed):
    module.zero_grad()
    out = module(Tensor(x))
    out.backward(seed)
    return out.numpy(), {name: p.grad.numpy() for name, p in module.named_parameters()}


def _scalar_grad(grads, label):
    """The Tensor gradient entry a Value labelled like ``layers.0.weight[2,1]`` came from."""
    name, _, index = label.partition("[")
    if not index:
        return grads[name]
    return grads[name][tuple(int(i) for i in index.rstrip("]").split(","))]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_scalar_mlp_has_the_same_outputs_and_gradients_as_its_tensor_twin(activation):
    tg.manual_seed(0)
    mlp = nn.MLP(3, [4, 3], 2, activation=activation).double()
    for layer in mlp.layers:
        layer.bias.copy_(np.random.default_rng(1).standard_normal(layer.nout))
    twin = scalar.MLP.from_tensor(mlp)
    x = np.array([0.5, -1.2, 0.8])
    seed = np.array([1.0, -2.0])
    out, grads = _tensor_grads(mlp, x, seed)

    values = twin(x)
    np.testing.assert_allclose([v.data for v in values], out, rtol=1e-12, atol=1e-14)
    (values[0] * seed[0] + values[1] * seed[1]).backward()
    params = twin.named_parameters()
    assert len(params) == sum(p.numel() for p in mlp.parameters())
    for label, value in params:
        np.testing.assert_allclose(value.grad, _scalar_grad(grads, label), rtol=1e-10,
                                   atol=1e-12, err_msg=label)


@pytest.mark.parametrize("activation", ["tanh", "prelu", "relu"])
def test_scalar_neuron_matches_the_tensor_neuron(activation):
    neuron = nn.Neuron(3, activation=activation).double()
    neuron.b.copy_(0.3)
    twin = scalar.Neuron.from_tensor(neuron)
    x = np.array([1.0, -0.5, 2.0])
    out, grads = _tensor_grads(neuron, x, np.array(1.0))
    value = twin(x)
    assert value.data == pytest.approx(float(out), rel=1e-12)
    value.backward()
    for label, v in twin.named_parameters():
        key = {"b": "b", "prelu_weight": "prelu_weight"}.get(label, label)
        assert v.grad == pytest.approx(float(_scalar_grad(grads, key)), rel=1e-10, abs=1e-12)


def test_constructors_draw_the_same_weights_as_the_tensor_modules_after_manual_seed():
    tg.manual_seed(7)
    tensor_mlp = nn.MLP(2, [3], 1, activation="tanh")
    tg.manual_seed(7)
    scalar_mlp = scalar.MLP(2, [3], 1, activation="tanh")
    weight = tensor_mlp.layers[0].weight.numpy()
    assert [n.w[0].data for n in scalar_mlp.layers[0].neurons] == pytest.approx(weight[0])
    tg.manual_seed(7)
    scalar_weights = [v.data for v in scalar.Neuron(4).w]
    tg.manual_seed(7)
    assert scalar_weights == pytest.approx(nn.Neuron(4).w.numpy())
    tg.manual_seed(7)
    layer = scalar.Layer(2, 3, activation="sigmoid")
    tg.manual_seed(7)
    assert layer([1.0, 2.0])[2].data == pytest.approx(
        nn.Layer(2, 3, activation="sigmoid")(Tensor([1.0, 2.0])).numpy()[2], rel=1e-6)


def test_scalar_modules_build_one_node_per_number_with_readable_labels():
    mlp = scalar.MLP(2, [3], 1)
    labels = [label for label, _ in mlp.named_parameters()]
    assert labels[:3] == ["layers.0.weight[0,0]", "layers.0.weight[1,0]", "layers.0.bias[0]"]
    assert len(labels) == 2 * 3 + 3 + 3 * 1 + 1
    z = scalar.Neuron(2, activation=None)([1.0, 2.0])
    nodes, stack = set(), [z]
    while stack:
        node = stack.pop()
        if node not in nodes:
            nodes.add(node)
            stack.extend(node.inputs)
    leaves = {n.label for n in nodes if not n.inputs}
    assert leaves == {"w[0]", "w[1]", "b", "x[0]", "x[1]"}
    assert sorted(n.op for n in nodes if n.inputs) == ["*", "*", "+", "+"]
    assert repr(mlp) == "MLP(Layer(2→3, relu), Layer(3→1))"


def test_a_shared_prelu_slope_is_one_parameter_of_the_scalar_layer():
    layer = scalar.Layer(2, 3, activation="prelu")
    slopes = {id(n.prelu_weight) for n in layer.neurons}
    assert len(slopes) == 1
    assert len(layer.parameters()) == 2 * 3 + 3 + 1


def test_scalar_mlp_gradients_match_finite_differences():
    mlp = scalar.MLP(2, [3], 1, activation="tanh")
    x = [0.3, -0.9]
    assert gradcheck(lambda *params: mlp(x)[0], mlp.parameters())


def test_zero_grad_resets_every_parameter():
    mlp = scalar.MLP(2, [2], 1, activation="tanh")
    mlp([1.0, 1.0])[0].backward()
    assert any(p.grad != 0 for p in mlp.parameters())
    mlp.zero_grad()
    assert all(p.grad == 0 for p in mlp.parameters())


def test_wrong_number_of_inputs_is_a_shape_error():
    with pytest.raises(ShapeError, match="expected 2 inputs, got 3"):
        scalar.MLP(2, [2], 1)([1.0, 2.0, 3.0])


def test_inputs_may_be_values_which_then_get_gradients():
    neuron = scalar.Neuron(2, activation="tanh")
    x = [Value(0.5), Value(-1.0)]
    neuron(x).backward()
    assert x[0].grad != 0 and x[1].grad != 0
