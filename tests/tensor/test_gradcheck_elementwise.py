"""Elementwise ops: values against numpy formulas and gradients against central differences,
on hypothesis-generated broadcasting shapes and hand-picked edge cases, on every CPU backend."""


import numpy as np
import pytest
from hypothesis import given

from tinygrad_edu import Tensor, gradcheck

import activation_reference as ref
from shape_strategies import broadcastable_shapes, leaf, make_array, seeds, shapes

# name -> (tinygrad_edu function, numpy formula, input kind)
UNARY = {
    "neg": (lambda t: -t, np.negative, "any"),
    "exp": (Tensor.exp, np.exp, "any"),
    "log": (Tensor.log, np.log, "positive"),
    "sqrt": (Tensor.sqrt, np.sqrt, "positive"),
    "abs": (Tensor.abs, np.abs, "nonzero"),
    "reciprocal": (Tensor.reciprocal, np.reciprocal, "nonzero"),
    "clip": (lambda t: t.clip(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), "off_half"),
    "clip_lo": (lambda t: t.clip(lo=0.5), lambda a: np.maximum(a, 0.5), "off_half"),
    "clip_hi": (lambda t: t.clip(hi=-0.5), lambda a: np.minimum(a, -0.5), "off_half"),
    "relu": (Tensor.relu, lambda a: np.maximum(a, 0), "nonzero"),
    "leaky_relu": (Tensor.leaky_relu, ref.leaky_relu, "nonzero"),
    "leaky_relu_0.3": (lambda t: t.leaky_relu(negative_slope=0.3),
                       lambda a: ref.leaky_relu(a, 0.3), "nonzero"),
    "sigmoid": (Tensor.sigmoid, ref.sigmoid, "any"),
    "tanh": (Tensor.tanh, np.tanh, "any"),
    "gelu": (Tensor.gelu, ref.gelu, "any"),
    "gelu_tanh": (lambda t: t.gelu(approximate="tanh"), ref.gelu_tanh, "any"),
    "silu": (Tensor.silu, ref.silu, "any"),
    "square": (lambda t: t ** 2, np.square, "any"),
    "pow_scalar": (lambda t: t ** 2.5, lambda a: a ** 2.5, "positive"),
    "rpow": (lambda t: 2.5 ** t, lambda a: 2.5 ** a, "any"),
    "add_scalar": (lambda t: t + 1.5, lambda a: a + 1.5, "any"),
    "radd": (lambda t: 1.5 + t, lambda a: 1.5 + a, "any"),
    "sub_scalar": (lambda t: t - 1.5, lambda a: a - 1.5, "any"),
    "rsub": (lambda t: 1.5 - t, lambda a: 1.5 - a, "any"),
    "mul_scalar": (lambda t: t * -1.5, lambda a: a * -1.5, "any"),
    "rmul": (lambda t: -1.5 * t, lambda a: -1.5 * a, "any"),
    "div_scalar": (lambda t: t / 1.5, lambda a: a / 1.5, "any"),
    "rdiv": (lambda t: 1.5 / t, lambda a: 1.5 / a, "nonzero"),
    "mean_composed": (lambda t: (t * t).mean(), lambda a: np.mean(a * a), "any"),
}

# name -> (function, numpy formula, kind of first input, kind of second input)
BINARY = {
    "add": (lambda a, b: a + b, np.add, "any", "any"),
    "sub": (lambda a, b: a - b, np.subtract, "any", "any"),
    "mul": (lambda a, b: a * b, np.multiply, "any", "any"),
    "div": (lambda a, b: a / b, np.divide, "any", "nonzero"),
    "pow": (lambda a, b: a ** b, np.power, "positive", "any"),
    "prelu": (Tensor.prelu, lambda a, w: np.where(a > 0, a, a * w), "nonzero", "any"),
}

EDGE_PAIRS = [((), ()), ((), (2, 3)), ((2, 3), ()), ((2, 1), (1, 3)), ((1,), (3,)),
              ((3,), (2, 3)), ((2, 1, 3), (4, 1)), ((1, 1), (1,)), ((4, 1, 1), (1, 2, 1))]


def _check_unary(name, shape, seed):
    fn, formula, kind = UNARY[name]
    x = make_array(np.random.default_rng(seed), shape, kind)
    out = fn(leaf(x))
    np.testing.assert_allclose(out.numpy(), formula(x), rtol=1e-12, atol=1e-15)
    assert out.dtype == np.float64
    assert gradcheck(fn, [leaf(x)])


def _check_binary(name, shape_a, shape_b, seed):
    fn, formula, kind_a, kind_b = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = make_array(rng, shape_a, kind_a), make_array(rng, shape_b, kind_b)
    out = fn(leaf(a), leaf(b))
    assert out.shape == np.broadcast_shapes(shape_a, shape_b)
    np.testing.assert_allclose(out.numpy(), formula(a, b), rtol=1e-12, atol=1e-15)
    assert gradcheck(fn, [leaf(a), leaf(b)])


@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=seeds)
def test_unary_op_on_random_shapes(cpu_backend, name, shape, seed):
    _check_unary(name, shape, seed)


@pytest.mark.parametrize("name", UNARY)
def test_unary_op_on_0d_and_size_one_tensors(cpu_backend, name):
    for shape in [(), (1,), (1, 1)]:
        _check_unary(name, shape, seed=7)


@pytest.mark.parametrize("name", BINARY)
@given(pair=broadcastable_shapes(), seed=seeds)
def test_binary_op_on_random_broadcasting_shapes(cpu_backend, name, pair, seed):
    _check_binary(name, *pair, seed)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape_a, shape_b", EDGE_PAIRS)
def test_binary_op_on_edge_case_shapes(cpu_backend, name, shape_a, shape_b):
    _check_binary(name, shape_a, shape_b, seed=11)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
def test_binary_op_with_only_one_side_requiring_grad(cpu_backend, name):
    fn, _, kind_a, kind_b = BINARY[name]
    rng = np.random.default_rng(3)
    a, b = make_array(rng, (2, 3), kind_a), make_array(rng, (3,), kind_b)
    constant_b = Tensor(b)
    assert gradcheck(lambda t: fn(t, constant_b), [leaf(a)])
    constant_a = Tensor(a)
    assert gradcheck(lambda t: fn(constant_a, t), [leaf(b)])


def test_pow_with_integer_exponent_of_negative_base(cpu_backend):
    x = leaf([-1.5, -0.5, 0.7])
    assert gradcheck(lambda t: t ** 3, [x])
    np.testing.assert_allclose((x ** 3).numpy(), [-3.375, -0.125, 0.343], rtol=1e-14)


@given(seed=seeds, shape=shapes)
def test_where_routes_values_and_gradients_by_the_condition(cpu_backend, seed, shape):
    from tinygrad_edu import where

    rng = np.random.default_rng(seed)
    a, b = make_array(rng, shape), make_array(rng, shape[-1:])
    condition = Tensor(rng.random(shape) < 0.5)
    out = where(condition, leaf(a), leaf(b))
    np.testing.assert_array_equal(out.numpy(), np.where(condition.numpy(), a, b))
    assert gradcheck(lambda s, t: where(condition, s, t), [leaf(a), leaf(b)])
    assert gradcheck(lambda s: where(condition, s, 0.5), [leaf(a)])
    assert gradcheck(lambda t: where(condition, -1.0, t), [leaf(b)])


def test_prelu_with_one_slope_per_channel(cpu_backend):
    rng = np.random.default_rng(5)
    x, slope = make_array(rng, (4, 3), "nonzero"), rng.uniform(0.1, 0.5, 3)
    out = leaf(x).prelu(leaf(slope))
    np.testing.assert_allclose(out.numpy(), np.where(x > 0, x, x * slope), rtol=1e-15)
    assert gradcheck(lambda t, w: t.prelu(w), [leaf(x), leaf(slope)])
