"""Activation modules and the activation-name resolution."""


import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, gradcheck, nn
from tinygrad_edu.activations import activation_spec
from tinygrad_edu.errors import ShapeError

import activation_reference as ref


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library generator state, so random weights repeat."""
    tg.manual_seed(0)


MODULES = [
    (nn.ReLU, {}, lambda z: np.maximum(z, 0)),
    (nn.LeakyReLU, {"negative_slope": 0.2}, lambda z: ref.leaky_relu(z, 0.2)),
    (nn.PReLU, {}, lambda z: ref.leaky_relu(z, 0.25)),
    (nn.Sigmoid, {}, ref.sigmoid),
    (nn.Tanh, {}, np.tanh),
    (nn.GELU, {}, ref.gelu),
    (nn.GELU, {"approximate": "tanh"}, ref.gelu_tanh),
    (nn.SiLU, {}, ref.silu),
    (nn.Identity, {}, lambda z: z),
]


@pytest.mark.parametrize("cls, kwargs, reference", MODULES)
def test_activation_modules_match_their_formulas(cls, kwargs, reference):
    z = np.random.default_rng(0).standard_normal((4, 5)) * 3
    module = cls(**kwargs).double() if cls is nn.PReLU else cls(**kwargs)
    np.testing.assert_allclose(module(Tensor(z)).numpy(), reference(z), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls, kwargs, reference", MODULES)
def test_activation_modules_match_pytorch(cls, kwargs, reference):
    torch = pytest.importorskip("torch")
    theirs = {nn.ReLU: torch.nn.ReLU, nn.LeakyReLU: torch.nn.LeakyReLU, nn.PReLU: torch.nn.PReLU,
              nn.Sigmoid: torch.nn.Sigmoid, nn.Tanh: torch.nn.Tanh, nn.GELU: torch.nn.GELU,
              nn.SiLU: torch.nn.SiLU, nn.Identity: torch.nn.Identity}[cls](**kwargs).double()
    z = np.random.default_rng(1).standard_normal((3, 4)) * 3
    ours = cls(**kwargs).double() if cls is nn.PReLU else cls(**kwargs)
    np.testing.assert_allclose(ours(Tensor(z)).numpy(), theirs(torch.tensor(z)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_swish_is_silu_and_names_resolve_in_one_place():
    assert nn.Swish is nn.SiLU
    assert nn.canonical_activation("swish") == "silu"
    assert nn.canonical_activation(None) is None
    assert [nn.canonical_activation(n) for n in nn.ACTIVATION_NAMES] == [
        "relu", "leaky_relu", "prelu", "sigmoid", "tanh", "gelu", "silu", "silu", None]


def test_every_activation_module_is_named_in_the_registry():
    modules = [nn.Identity, nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.SiLU]
    for cls in modules:
        assert cls.activation in nn.ACTIVATION_NAMES, cls.__name__
        assert activation_spec(cls.activation).in_nn or cls.activation is None


def test_activate_works_on_tensors_and_values_alike():
    for name in ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "swish", None]:
        t = nn.activate(Tensor([-0.7, 1.3], dtype=np.float64), name, 0.1).numpy()
        v = [nn.activate(Value(x), name, 0.1).data for x in (-0.7, 1.3)]
        np.testing.assert_allclose(t, v, rtol=1e-12, err_msg=str(name))
    with pytest.raises(ValueError, match="learnable slope"):
        nn.activate(Tensor([1.0]), "prelu")


def test_prelu_with_one_slope_per_feature_checks_the_feature_count():
    prelu = nn.PReLU(num_parameters=3, init=0.1)
    assert prelu.weight.shape == (3,)
    out = prelu(Tensor([[-1.0, -2.0, 3.0]]))
    np.testing.assert_allclose(out.numpy(), [[-0.1, -0.2, 3.0]], rtol=1e-6)
    with pytest.raises(ShapeError, match="3 slopes"):
        prelu(Tensor.ones(2, 4))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(num_parameters=0)


def test_prelu_slope_gradient_matches_finite_differences():
    prelu = nn.PReLU(num_parameters=2).double()
    x = Tensor(np.random.default_rng(2).standard_normal((5, 2)), requires_grad=True)
    assert gradcheck(lambda x, w: prelu(x), [x, prelu.weight])


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="fast")
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
