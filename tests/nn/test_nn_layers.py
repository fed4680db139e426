"""Neuron, Linear, Layer and MLP: forward against numpy, fused op, errors, gradchecks."""


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck, nn
from tinygrad_edu.errors import DTypeError, ShapeError

import activation_reference as ref


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library generator state, so random weights repeat."""
    tg.manual_seed(0)


REFERENCE = {
    None: lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": ref.leaky_relu,
    "prelu": lambda z: ref.leaky_relu(z, 0.25),  # the starting slope
    "sigmoid": ref.sigmoid,
    "tanh": np.tanh,
    "gelu": ref.gelu,
    "silu": ref.silu,
    "swish": ref.silu,
}
NAMES = list(REFERENCE)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("activation", NAMES)
def test_neuron_computes_activation_of_weighted_sum_for_one_input_and_a_batch(activation, rng):
    neuron = nn.Neuron(3, activation=activation).double()
    w, b = neuron.w.numpy(), neuron.b.numpy()
    x = rng.standard_normal((6, 3))
    np.testing.assert_allclose(neuron(Tensor(x)).numpy(), REFERENCE[activation](x @ w + b),
                               rtol=1e-12, atol=1e-12)
    single = neuron(Tensor(x[0]))
    assert single.shape == ()
    np.testing.assert_allclose(single.numpy(), REFERENCE[activation](x[0] @ w + b), rtol=1e-12)
    np.testing.assert_allclose(neuron.pre_activation(x).numpy(), x @ w + b, rtol=1e-12)


def test_neuron_matches_the_textbook_example():
    neuron = nn.Neuron(2, activation=None)
    neuron.w.copy_([2.0, -1.0])
    neuron.b.copy_(-1.0)
    assert neuron([1.0, 1.0]).item() == 0.0   # on the decision boundary
    assert neuron([2.0, 1.0]).item() == 2.0   # positive side
    assert neuron([0.0, 1.0]).item() == -2.0  # negative side
    assert repr(nn.Neuron(2, "tanh")) == "Neuron(2 inputs, tanh)"


def test_linear_stores_weight_as_nin_by_nout_and_computes_x_at_w_plus_b(rng):
    layer = nn.Linear(4, 3).double()
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    layer.bias.copy_(rng.standard_normal(3))
    x = rng.standard_normal((5, 4))
    np.testing.assert_allclose(layer(x).numpy(), x @ layer.weight.numpy() + layer.bias.numpy(),
                               rtol=1e-12)
    assert nn.Linear(4, 3, bias=False).bias is None
    assert nn.Linear(4, 3, bias=False)(Tensor.ones(4)).shape == (3,)


def test_linear_weight_is_the_transpose_of_pytorchs():
    torch = pytest.importorskip("torch")
    ours = nn.Linear(4, 3).double()
    theirs = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy().T))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    x = np.random.default_rng(1).standard_normal((2, 4))
    np.testing.assert_allclose(ours(x).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("activation", NAMES)
def test_layer_matches_numpy_for_every_activation_name(activation, rng, cpu_backend):
    layer = nn.Layer(4, 3, activation=activation).double()
    layer.bias.copy_(rng.standard_normal(3))
    x = rng.standard_normal((5, 4))
    expected = REFERENCE[activation](x @ layer.weight.numpy() + layer.bias.numpy())
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


@given(batch=st.integers(1, 6), nin=st.integers(1, 7), nout=st.integers(1, 7),
       activation=st.sampled_from(NAMES), seed=st.integers(0, 2 ** 16))
def test_layer_matches_numpy_for_any_shape(batch, nin, nout, activation, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Layer(nin, nout, activation=activation).double()
    layer.bias.copy_(rng.standard_normal(nout))
    x = rng.standard_normal((batch, nin))
    expected = REFERENCE[activation](x @ layer.weight.numpy() + layer.bias.numpy())
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer(x[0]).numpy(), expected[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "gelu", "silu", None])
def test_layer_runs_as_one_fused_linear_act_op(activation):
    layer = nn.Layer(4, 3, activation=activation)
    x = Tensor.randn(2, 4)
    out = layer(x)
    assert out.op == "linear_act"
    assert out.inputs == (x, layer.weight, layer.bias)


def test_prelu_layer_is_the_fused_linear_part_then_a_learnable_slope():
    layer = nn.Layer(4, 3, activation="prelu")
    out = layer(Tensor.randn(2, 4))
    assert layer.prelu_weight.requires_grad and layer.prelu_weight.item() == 0.25
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias", "prelu_weight"]
    assert any(p.op == "linear_act" for p in out.inputs)


def test_layer_exposes_what_a_compiler_needs():
    layer = nn.Layer(4, 3, activation="swish", negative_slope=0.2)
    assert (layer.activation, layer.negative_slope) == ("silu", 0.2)
    assert layer.extra_repr() == "4→3, silu"
    assert nn.Layer(4, 3, activation=None).extra_repr() == "4→3"


def test_leaky_relu_layer_uses_its_negative_slope(rng):
    layer = nn.Layer(3, 2, activation="leaky_relu", negative_slope=0.3).double()
    x = rng.standard_normal((4, 3))
    z = x @ layer.weight.numpy()
    np.testing.assert_allclose(layer(x).numpy(), np.where(z > 0, z, 0.3 * z), rtol=1e-12)


def test_mlp_composes_its_layers(rng):
    mlp = nn.MLP(3, [5, 4], 2, activation="tanh", out_activation="sigmoid").double()
    x = rng.standard_normal((6, 3))
    h = x
    for layer, f in zip(mlp.layers, [np.tanh, np.tanh, ref.sigmoid]):
        h = f(h @ layer.weight.numpy() + layer.bias.numpy())
    np.testing.assert_allclose(mlp(x).numpy(), h, rtol=1e-12)
    assert [(layer.nin, layer.nout, layer.activation) for layer in mlp.layers] == [
        (3, 5, "tanh"), (5, 4, "tanh"), (4, 2, "sigmoid")]


def test_mlp_accepts_one_hidden_size_or_none():
    assert [layer.nout for layer in nn.MLP(3, 7, 2).layers] == [7, 2]
    assert [layer.nout for layer in nn.MLP(3, [], 2).layers] == [2]
    assert nn.MLP(128, [256, 128, 64], 1)(Tensor.randn(32, 128)).shape == (32, 1)


@pytest.mark.parametrize("make", [
    lambda a: nn.Neuron(2, activation=a), lambda a: nn.Layer(2, 2, activation=a),
    lambda a: nn.MLP(2, [2], 1, activation=a), lambda a: nn.MLP(2, [2], 1, out_activation=a),
    lambda a: nn.canonical_activation(a)])
@pytest.mark.parametrize("bad", ["rleu", "ReLU", 3, ["relu"]])
def test_unknown_activation_names_are_an_error_listing_the_valid_ones(make, bad):
    with pytest.raises(ValueError, match="unknown activation.*'relu', 'leaky_relu', 'prelu', "
                                         "'sigmoid', 'tanh', 'gelu', 'silu', 'swish', None"):
        make(bad)


def test_wrong_input_shape_names_the_module_and_the_expected_shape():
    with pytest.raises(ShapeError, match=r"Layer\(4→3, relu\): input has shape \(2, 5\), "
                                         r"expected \(4,\) or \(batch, 4\)"):
        nn.Layer(4, 3)(Tensor.randn(2, 5))
    with pytest.raises(ShapeError, match="Neuron"):
        nn.Neuron(3)(Tensor.randn(2, 2, 3))


def test_input_dtype_mismatch_says_how_to_fix_it():
    with pytest.raises(DTypeError, match=r"float64 but the parameters are float32.*\.double\(\)"):
        nn.Linear(2, 2)(Tensor.randn(1, 2, dtype=np.float64))
    # Plain arrays are data, not tensors: they take the module's dtype.
    assert nn.Linear(2, 2)(np.ones((1, 2))).dtype == np.float32


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_sizes_must_be_positive_ints(bad):
    with pytest.raises(ValueError, match="must be a positive int"):
        nn.Layer(bad, 2)
    with pytest.raises(ValueError, match="must be a positive int"):
        nn.MLP(2, [bad], 1)


# ---- gradchecks (float64) ----
@pytest.mark.parametrize("activation", NAMES)
def test_neuron_gradients_match_finite_differences(activation, rng):
    tg.manual_seed(0)
    neuron = nn.Neuron(3, activation=activation).double()
    neuron.b.copy_(0.1)
    x = Tensor(rng.standard_normal((4, 3)))
    assert gradcheck(lambda *params: neuron(x), neuron.parameters())


@pytest.mark.parametrize("activation", NAMES)
def test_layer_gradients_match_finite_differences(activation, rng, cpu_backend):
    tg.manual_seed(0)
    layer = nn.Layer(3, 2, activation=activation).double()
    layer.bias.copy_(rng.standard_normal(2))
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda x, *params: layer(x), [x] + layer.parameters())


@pytest.mark.parametrize("activation", ["relu", "tanh", "prelu", "gelu"])
def test_mlp_gradients_match_finite_differences(activation, rng, cpu_backend):
    tg.manual_seed(0)
    mlp = nn.MLP(3, [4, 3], 2, activation=activation).double()
    # Nonzero biases: with zero biases an example whose ReLUs are all off reaches the next
    # layer's kink exactly (z = 0), where finite differences are meaningless.
    for layer in mlp.layers:
        layer.bias.copy_(rng.uniform(0.1, 0.5, layer.nout))
    x = Tensor(rng.standard_normal((5, 3)))
    assert gradcheck(lambda *params: mlp(x), mlp.parameters())


def test_prelu_slope_gets_a_gradient_and_learns_the_true_slope():
    tg.manual_seed(0)
    layer = nn.Layer(1, 1, activation="prelu")
    layer.weight.copy_(1.0)
    x = Tensor.randn(64, 1)
    target = np.where(x.numpy() > 0, x.numpy(), 0.7 * x.numpy())
    opt = tg.optim.SGD([layer.prelu_weight], lr=0.5)
    for _ in range(100):
        opt.zero_grad()
        loss = nn.functional.mse_loss(layer(x), target)
        loss.backward()
        assert layer.prelu_weight.grad is not None
        opt.step()
    assert abs(layer.prelu_weight.item() - 0.7) < 1e-3
