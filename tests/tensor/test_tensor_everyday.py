"""The everyday methods a PyTorch or numpy user reaches for (sin, prod, var, cumsum, maximum,
expand, repeat, flip, ...): values against numpy and gradients against central differences in
float64, on every CPU backend."""

import numpy as np
import pytest
from hypothesis import given

from tinygrad_edu import Tensor, gradcheck, maximum, minimum

from shape_strategies import leaf, make_array, seeds, shapes


def _check(fn, reference, *arrays, rtol=1e-12):
    out = fn(*[leaf(a) for a in arrays])
    expected = reference(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=1e-14)
    assert gradcheck(fn, [leaf(a) for a in arrays])


def _offset(a):
    """Values at least 0.1 away from every integer and half-integer (floor, round, ceil and
    // jump there, so finite differences stay away)."""
    return np.floor(a * 2) / 2 + 0.1 + 0.3 * (a * 2 - np.floor(a * 2))


# name -> (ours, numpy's, input kind)
UNARY = {
    "sin": (lambda t: t.sin(), np.sin, "any"),
    "cos": (lambda t: t.cos(), np.cos, "any"),
    "log2": (lambda t: t.log2(), np.log2, "positive"),
    "exp2": (lambda t: t.exp2(), np.exp2, "any"),
    "clamp": (lambda t: t.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), "off_half"),
    "clamp_min": (lambda t: t.clamp(min=0.5), lambda a: np.maximum(a, 0.5), "off_half"),
    "floor": (lambda t: t.floor(), np.floor, "offset"),
    "ceil": (lambda t: t.ceil(), np.ceil, "offset"),
    "round": (lambda t: t.round(), np.round, "offset"),
    "round_decimals": (lambda t: t.round(decimals=1), lambda a: np.round(a * 10) / 10, "any"),
    "sign": (lambda t: t.sign(), np.sign, "nonzero"),
    "floor_divide_scalar": (lambda t: t // 0.5, lambda a: np.floor_divide(a, 0.5), "offset"),
    "mod_scalar": (lambda t: t % 0.5, lambda a: np.remainder(a, 0.5), "offset"),
    "rmod": (lambda t: 1.75 % t, lambda a: np.remainder(1.75, a), "positive"),
}


def _input(rng, shape, kind):
    if kind == "offset":
        return _offset(make_array(rng, shape))
    return make_array(rng, shape, kind)


@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=seeds)
def test_elementwise_method_on_random_shapes(cpu_backend, name, shape, seed):
    ours, reference, kind = UNARY[name]
    _check(ours, reference, _input(np.random.default_rng(seed), shape, kind))


BINARY = {
    "maximum": (lambda s, t: s.maximum(t), np.maximum),
    "minimum": (lambda s, t: s.minimum(t), np.minimum),
    "maximum_function": (lambda s, t: maximum(s, t), np.maximum),
    "minimum_function": (lambda s, t: minimum(s, t), np.minimum),
    "mod": (lambda s, t: s % t, np.remainder),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (2, 3)), ((2, 1, 3), (4, 1)), ((), (3,))])
def test_binary_method_with_broadcasting(cpu_backend, name, shape_a, shape_b):
    rng = np.random.default_rng(4)
    a, b = make_array(rng, shape_a), make_array(rng, shape_b, "nonzero")
    _check(*BINARY[name], a, b)


def test_maximum_and_minimum_split_the_gradient_at_ties_as_pytorch(cpu_backend):
    a, b = leaf([1.0, 2.0, 3.0]), leaf([3.0, 2.0, 1.0])
    (a.maximum(b) + 2 * a.minimum(b)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 1.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.5, 2.0])


AXES = [None, 0, -1, (0, 2), ()]


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_var_and_std_over_each_axis_form(cpu_backend, axis, keepdims):
    x = make_array(np.random.default_rng(5), (2, 3, 4), "nonzero")
    _check(lambda t: t.prod(axis, keepdims), lambda a: np.prod(a, axis, keepdims=keepdims), x)
    if axis != ():
        for correction in (0, 1):
            _check(lambda t: t.var(axis, keepdims, correction=correction),
                   lambda a: np.var(a, axis, ddof=correction, keepdims=keepdims), x)
            _check(lambda t: t.std(axis, keepdims, ddof=correction),
                   lambda a: np.std(a, axis, ddof=correction, keepdims=keepdims), x)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # 0 / 0 for one element
def test_var_defaults_to_pytorchs_unbiased_estimate(cpu_backend):
    x = leaf([1.0, 2.0, 4.0])
    np.testing.assert_allclose(x.var().item(), np.var([1.0, 2.0, 4.0], ddof=1), rtol=1e-15)
    assert np.isnan(leaf([3.0]).var().item())


def test_prod_gradient_is_exact_where_elements_are_zero(cpu_backend):
    x = leaf([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]])
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 6, 0], [0, 0, 0], [6, 3, 2]])
    assert gradcheck(lambda t: t.prod(0), [leaf([[2.0, 0.0], [0.5, 3.0]])])


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_cumsum_along_each_axis(cpu_backend, axis):
    _check(lambda t: t.cumsum(axis), lambda a: np.cumsum(a, axis),
           make_array(np.random.default_rng(6), (3, 4)))


SHAPE_OPS = {
    "view": (lambda t: t.view(4, 6), lambda a: a.reshape(4, 6)),
    "view_minus_one": (lambda t: t.view(-1, 3), lambda a: a.reshape(-1, 3)),
    "squeeze_all": (lambda t: t.reshape(2, 1, 12, 1).squeeze(), lambda a: a.reshape(2, 12)),
    "squeeze_one": (lambda t: t.reshape(2, 1, 12, 1).squeeze(1), lambda a: a.reshape(2, 12, 1)),
    "squeeze_other_size": (lambda t: t.squeeze(0), lambda a: a),
    "unsqueeze_tuple": (lambda t: t.unsqueeze((0, -1)), lambda a: a[None, ..., None]),
    "expand": (lambda t: t[:, :1].expand(2, 5, 4), lambda a: np.broadcast_to(a[:, :1], (2, 5, 4))),
    "expand_new_dims": (lambda t: t.expand(3, -1, -1, -1), lambda a: np.broadcast_to(
        a, (3, 2, 3, 4))),
    "repeat": (lambda t: t.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
    "repeat_new_dims": (lambda t: t.repeat(2, 1, 1, 2), lambda a: np.tile(a, (2, 1, 1, 2))),
    "flip": (lambda t: t.flip(0), lambda a: np.flip(a, 0)),
    "flip_tuple": (lambda t: t.flip((0, 2)), lambda a: np.flip(a, (0, 2))),
    "flip_all": (lambda t: t.flip(), np.flip),
    "transpose": (lambda t: t.transpose(0, 1), lambda a: np.swapaxes(a, 0, 1)),
    "t": (lambda t: t[0].t(), lambda a: a[0].T),
    "contiguous": (lambda t: t.transpose(1, 2).contiguous(), lambda a: np.swapaxes(a, 1, 2)),
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_method(cpu_backend, name):
    _check(*SHAPE_OPS[name], make_array(np.random.default_rng(7), (2, 3, 4)))


def test_contiguous_gives_a_writable_copy_even_of_an_expanded_view(cpu_backend):
    x = leaf([1.0, 2.0])
    copy = x.expand(3, 2).contiguous()
    copy.copy_(np.zeros((3, 2)))
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(copy.numpy(), np.zeros((3, 2)))


def test_an_expanded_tensor_feeds_a_matrix_product(cpu_backend):
    w = make_array(np.random.default_rng(8), (1, 3))
    x = make_array(np.random.default_rng(9), (3, 2))
    _check(lambda s, t: s.expand(4, 3) @ t, lambda a, b: np.broadcast_to(a, (4, 3)) @ b, w, x)


@pytest.mark.parametrize("fn", [lambda t: t.sum(0), lambda t: t.sum(-1), lambda t: t.mean(0),
                                lambda t: t.max(-1), lambda t: t.min(0), lambda t: t.prod(0),
                                lambda t: t.softmax(), lambda t: t.log_softmax(0),
                                lambda t: t.logsumexp(0), lambda t: t.cumsum(0),
                                lambda t: t.sum(0, keepdims=True), lambda t: t.squeeze(0),
                                lambda t: t.flip(0), lambda t: t.transpose(0, -1)])
def test_a_0d_tensor_takes_axis_0_and_minus_1_as_in_pytorch(cpu_backend, fn):
    out = fn(leaf(1.5))
    assert out.shape == ()
    assert gradcheck(fn, [leaf(1.5)])


@pytest.mark.parametrize("shape, axis", [((0,), -1), ((2, 0), 1), ((0, 3), 0), ((0, 3), 1),
                                         ((0, 3), None)])
def test_reductions_over_an_empty_axis_give_pytorch_values(cpu_backend, shape, axis):
    """An empty sum is 0, an empty product 1, the mean of nothing NaN and the log of an empty
    sum of exponentials -inf, as in PyTorch; softmax of an empty axis is empty; the gradient
    of every input (there are none) has the input's shape."""
    a = np.zeros(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = {"sum": a.sum(axis), "prod": a.prod(axis), "mean": np.full(a.sum(axis).shape, np.nan),
                    "logsumexp": np.full(a.sum(axis).shape, -np.inf)}
        for name, value in expected.items():
            t = leaf(a)
            out = getattr(t, name)(axis)
            np.testing.assert_array_equal(out.numpy(), value)
            out.backward(Tensor(np.ones(out.shape)))
            assert t.grad.shape == shape
        assert leaf(a).softmax(axis).shape == shape
