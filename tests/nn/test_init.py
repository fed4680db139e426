"""Initializers: variances match their formulas in our (nin, nout) orientation; seeding;
the "auto" rule; the zeros/symmetry demonstration."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, init, nn
from tinygrad_edu.errors import DTypeError, ShapeError


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library generator state, so random weights repeat."""
    tg.manual_seed(0)


NIN, NOUT = 400, 100  # unequal, so a swapped fan_in/fan_out changes the variance 4x
TOL = 0.04            # 40,000 samples: the variance estimate's relative error is ~0.7%


def _weight(shape=(NIN, NOUT), dtype=np.float32):
    return Tensor.zeros(*shape, dtype=dtype)


def _assert_variance(values, expected):
    assert abs(np.var(values) / expected - 1) < TOL, (np.var(values), expected)
    assert abs(np.mean(values)) < 4 * np.sqrt(expected / values.size)


@pytest.mark.parametrize("fill, variance", [
    (init.xavier_normal_, 2 / (NIN + NOUT)),
    (init.xavier_uniform_, 2 / (NIN + NOUT)),
    (init.he_normal_, 2 / NIN),
    (init.he_uniform_, 2 / NIN),
    (lambda w: init.he_normal_(w, a=0.5), 2 / (1.25 * NIN)),
    (lambda w: init.he_uniform_(w, a=0.5), 2 / (1.25 * NIN)),
    (lambda w: init.he_normal_(w, mode="fan_out"), 2 / NOUT),
    (lambda w: init.xavier_normal_(w, gain=2.0), 4 * 2 / (NIN + NOUT)),
    (lambda w: init.normal_(w, std=0.3), 0.09),
    (lambda w: init.uniform_(w, -0.3, 0.3), 0.03),
])
def test_initializer_variance_matches_its_formula(fill, variance):
    w = _weight()
    assert fill(w) is w
    _assert_variance(w.numpy(), variance)


def test_fans_follow_our_weight_orientation():
    assert init.fans(_weight((NIN, NOUT))) == (NIN, NOUT)
    assert init.fans(Tensor.zeros(7)) == (7, 1)
    with pytest.raises(ShapeError, match=r"\(nin,\) or \(nin, nout\)"):
        init.fans(Tensor.zeros(2, 3, 4))


def test_uniform_initializers_stay_within_their_bounds():
    w = init.xavier_uniform_(_weight())
    assert np.abs(w.numpy()).max() <= np.sqrt(6 / (NIN + NOUT))
    w = init.uniform_(_weight(), 1.0, 2.0)
    assert w.numpy().min() >= 1.0 and w.numpy().max() < 2.0


def test_constant_and_zeros_fill_every_element_and_keep_the_dtype():
    w = init.constant_(_weight(dtype=np.float64), 0.5)
    assert w.dtype == np.float64 and np.all(w.numpy() == 0.5)
    assert np.all(init.zeros_(w).numpy() == 0)


def test_kaiming_names_are_aliases_of_he():
    assert init.kaiming_normal_ is init.he_normal_
    assert init.kaiming_uniform_ is init.he_uniform_


def test_manual_seed_makes_initialization_repeatable():
    tg.manual_seed(3)
    a = nn.MLP(5, [4], 2).state_dict()
    tg.manual_seed(3)
    b = nn.MLP(5, [4], 2).state_dict()
    tg.manual_seed(4)
    c = nn.MLP(5, [4], 2).state_dict()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["layers.0.weight"], c["layers.0.weight"])


@pytest.mark.parametrize("activation, variance", [
    ("relu", 2 / NIN), ("gelu", 2 / NIN), ("silu", 2 / NIN), ("swish", 2 / NIN),
    ("leaky_relu", 2 / ((1 + 0.01 ** 2) * NIN)), ("prelu", 2 / ((1 + 0.25 ** 2) * NIN)),
    ("tanh", 2 / (NIN + NOUT)), ("sigmoid", 2 / (NIN + NOUT)), (None, 2 / (NIN + NOUT)),
])
def test_auto_init_picks_he_for_the_relu_family_and_xavier_otherwise(activation, variance):
    layer = nn.Layer(NIN, NOUT, activation=activation)
    _assert_variance(layer.weight.numpy(), variance)
    assert np.all(layer.bias.numpy() == 0)


def test_auto_init_uses_the_leaky_slope_in_the_he_gain():
    layer = nn.Layer(NIN, NOUT, activation="leaky_relu", negative_slope=1.0)
    _assert_variance(layer.weight.numpy(), 1 / NIN)


def test_a_neuron_has_fan_in_nin_and_fan_out_one():
    tg.manual_seed(0)
    weights = np.concatenate([nn.Neuron(NIN, activation="tanh").w.numpy() for _ in range(100)])
    _assert_variance(weights, 2 / (NIN + 1))


def test_named_and_callable_schemes_are_accepted():
    layer = nn.Layer(NIN, NOUT, init="kaiming_uniform")
    _assert_variance(layer.weight.numpy(), 2 / NIN)
    layer = nn.Layer(3, 2, init=lambda w: init.constant_(w, 0.5))
    assert np.all(layer.weight.numpy() == 0.5)
    assert np.all(nn.MLP(3, [2], 1, init="zeros").layers[0].weight.numpy() == 0)


@pytest.mark.parametrize("bad", ["he", "xavier", "glorot", 3])
def test_unknown_init_is_an_error_listing_the_schemes(bad):
    with pytest.raises(ValueError, match="unknown init.*'auto', 'zeros', 'xavier_uniform'"):
        nn.Layer(3, 2, init=bad)


def test_initializers_refuse_non_float_tensors_and_bad_arguments():
    with pytest.raises(DTypeError, match="floating"):
        init.normal_(Tensor.zeros(3, dtype=np.int64))
    with pytest.raises(DTypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        init.he_normal_(_weight(), mode="fan_avg")
    with pytest.raises(ValueError, match="std"):
        init.normal_(_weight(), std=-1)


def test_zero_init_keeps_every_neuron_of_a_layer_identical_while_training():
    # The textbook's symmetry problem: identical starting weights get identical updates.
    tg.manual_seed(0)
    mlp = nn.MLP(4, [6], 1, activation="sigmoid", init="zeros")
    first, second = mlp.layers
    x = Tensor.randn(32, 4)
    y = np.sin(x.numpy().sum(axis=1, keepdims=True))
    opt = tg.optim.SGD(mlp.parameters(), lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        nn.functional.mse_loss(mlp(x), y).backward()
        opt.step()
    w1 = first.weight.numpy()
    assert np.abs(w1).max() > 1e-3  # the hidden weights did move...
    np.testing.assert_allclose(w1, np.repeat(w1[:, :1], 6, axis=1), rtol=1e-5)  # ...together
    np.testing.assert_allclose(first.bias.numpy(), first.bias.numpy()[0], rtol=1e-5)
    w2 = second.weight.numpy()
    np.testing.assert_allclose(w2, np.broadcast_to(w2[:1], w2.shape), rtol=1e-5)
