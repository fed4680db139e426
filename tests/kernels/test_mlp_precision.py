"""16-bit weights for the fused inference path: the conversions round to nearest even and keep
IEEE specials, and a bfloat16 / float16 snapshot computes the float32 network on the rounded
weights, in float32."""

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu import manual_seed, nn  # noqa: E402
from tinygrad_edu import activations as sm  # noqa: E402
from tinygrad_edu.errors import ArgumentError, DTypeError  # noqa: E402
from tinygrad_edu.kernels.cpu import precision as pr  # noqa: E402
from tinygrad_edu.kernels.cpu.mlp import CompiledMLP  # noqa: E402
from tinygrad_edu.kernels.cpu.mlp_kernel import ROWS  # noqa: E402
from tinygrad_edu.kernels.network import DenseLayer  # noqa: E402

FORMATS = {"bfloat16": (pr.to_bfloat16, pr.from_bfloat16),
           "float16": (pr.to_float16, pr.from_float16)}


def _f32(bits):
    return np.array(bits, np.uint32).view(np.float32)


def test_bfloat16_rounds_to_nearest_with_ties_to_even():
    one = 0x3F800000
    cases = {one: 0x3F80, one + 0x7FFF: 0x3F80,      # below half a unit: down
             one + 0x8000: 0x3F80,                     # a tie, 0x3f80 even: stays
             one + 0x8001: 0x3F81,                     # above half: up
             one + 0x18000: 0x3F82,                    # a tie, 0x3f81 odd: up to even
             0x3F81FFFF: 0x3F82,                       # carries into the next pattern
             0x7F7FFFFF: 0x7F80,                       # float32's largest: rounds to inf
             0x80000001: 0x8000}                       # the smallest negative subnormal: -0
    got = pr.to_bfloat16(_f32(list(cases)))
    np.testing.assert_array_equal(got, np.array(list(cases.values()), np.uint16))


def test_bfloat16_is_the_nearest_representable_value():
    x = np.random.default_rng(0).standard_normal(2000).astype(np.float32) * 1e3
    rounded = pr.from_bfloat16(pr.to_bfloat16(x)).astype(np.float64)
    # The neighbours one bfloat16 step either side are never closer.
    bits = pr.to_bfloat16(x).astype(np.int64)
    for step in (-1, 1):
        other = pr.from_bfloat16((bits + step).astype(np.uint16)).astype(np.float64)
        assert (np.abs(rounded - x) <= np.abs(other - x)).all()


@pytest.mark.parametrize("name", FORMATS)
def test_infinities_nans_and_signed_zeros_are_kept(name):
    encode, decode = FORMATS[name]
    nan_payloads = _f32([0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001])   # incl. signalling
    specials = np.concatenate([np.array([np.inf, -np.inf, 0.0, -0.0], np.float32),
                               nan_payloads])
    back = decode(encode(specials))
    np.testing.assert_array_equal(back[:4], specials[:4])
    np.testing.assert_array_equal(np.signbit(back), np.signbit(specials))
    assert np.isnan(back[4:]).all()


def test_float16_matches_numpys_cast_and_its_range():
    x = np.array([1.0, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, -65504, 6e-8, 1e-9],
                 np.float32)
    np.testing.assert_array_equal(pr.from_float16(pr.to_float16(x)),
                                  x.astype(np.float16).astype(np.float32))
    assert pr.from_float16(pr.to_float16(x))[1] == 1.0   # a tie, to even


def _model(seed=0, activation="relu", sizes=(9, [70, 33], 3)):
    manual_seed(seed)
    nin, hidden, nout = sizes
    return nn.MLP(nin, hidden, nout, activation=activation)


def _rounded_forward(model, name, x):
    """The float32 network run in float64 with the weights rounded to ``name``: what the
    16-bit snapshot computes, up to float32 accumulation."""
    encode, decode = FORMATS[name]
    for layer in model.describe():
        w = decode(encode(layer.weight)).astype(np.float64)
        z = x.astype(np.float64) @ w + layer.bias
        x = sm.activate_array(layer.code, z, layer.slope)
    return x


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu"])
def test_a_16_bit_snapshot_is_the_network_on_rounded_weights(name, activation):
    model = _model(activation=activation)
    x = np.random.default_rng(1).standard_normal((ROWS + 3, 9)).astype(np.float32)
    fast = CompiledMLP(model, weights=name)
    assert (fast.weights, fast.dtype) == (name, np.float32)
    got = fast(x)
    assert got.dtype == np.float32 and got.shape == (ROWS + 3, 3)
    np.testing.assert_allclose(got, _rounded_forward(model, name, x), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(fast(x[2]), got[2], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name, bound", [("bfloat16", 2 ** -8), ("float16", 2 ** -11)])
def test_the_16_bit_scores_stay_within_the_rounding_of_the_weights(name, bound):
    # Each weight moves by at most half a unit in its last place (relative 2^-8 for
    # bfloat16, 2^-11 for float16), so a layer's outputs move by at most that times
    # sum |x| |w|; through ReLU layers the bound compounds but stays of that order.
    model = _model(seed=3, sizes=(128, [256, 128, 64], 1))
    x = np.random.default_rng(2).standard_normal((33, 128)).astype(np.float32)
    exact = model.compile()(x).astype(np.float64)
    got = CompiledMLP(model, weights=name)(x).astype(np.float64)
    scale = np.abs(x) @ np.ones((128, 1))   # |x| summed: the magnitude the errors scale with
    assert (np.abs(got - exact) <= 4 * bound * np.maximum(np.abs(exact), 1) + 1e-6 * scale).all()
    assert np.abs(got - exact).max() > 0   # really rounded: not the float32 path


def test_inf_and_nan_weights_are_kept_in_16_bits():
    w = np.ones((2, 64), np.float32)
    w[0, 3], w[1, 5] = np.inf, np.nan

    class Net:
        def describe(self):
            return [DenseLayer(w, None, sm.IDENTITY)]

    for name in FORMATS:
        got = CompiledMLP(Net(), weights=name)(np.array([1.0, 0.5], np.float32))
        assert got[3] == np.inf and np.isnan(got[5])
        assert np.isfinite(np.delete(got, [3, 5])).all() and got[0] == 1.5


def test_a_weight_float16_cannot_hold_is_refused_and_refresh_keeps_the_old_snapshot():
    model = _model(seed=4)
    fast = CompiledMLP(model, weights="float16")
    x = np.ones(9, np.float32)
    before = fast(x)
    weight = model.layers[1].weight.numpy().copy()
    weight[0, 0] = 7e4
    model.layers[1].weight.copy_(weight)
    with pytest.raises(ArgumentError, match=r"weights='float16' cannot hold layer 1's weight "
                                            r"of magnitude 70000.*bfloat16"):
        fast.refresh()
    np.testing.assert_array_equal(fast(x), before)
    with pytest.raises(ArgumentError, match="cannot hold layer 1"):
        CompiledMLP(model, weights="float16")
    assert np.isfinite(CompiledMLP(model, weights="bfloat16")(x)).all()


def test_unknown_formats_and_16_bit_float64_models_are_clear_errors():
    model = _model(seed=5)
    with pytest.raises(ArgumentError, match=r"weights must be None .*'bfloat16' or 'float16', "
                                            r"got 'int8'"):
        CompiledMLP(model, weights="int8")
    assert CompiledMLP(model, weights="float32").weights == "float32"
    with pytest.raises(DTypeError, match=r"this model is float64; convert it with \.float\(\)"):
        CompiledMLP(model.double(), weights="bfloat16")


def test_compile_takes_the_weights_option():
    model = _model(seed=6)
    fast = model.compile(weights="bfloat16")
    assert isinstance(fast, CompiledMLP) and fast.weights == "bfloat16"
    assert "weights=bfloat16" in repr(fast)
