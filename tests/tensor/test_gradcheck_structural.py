"""Reductions, matmul, shape ops, indexing, joins, softmax and the fused layer: values against
numpy and gradients against central differences, on every CPU backend."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, cat, gradcheck, linear_act, stack

from shape_strategies import broadcastable_shapes, leaf, make_array, seeds

REDUCTIONS = {
    "sum": (Tensor.sum, np.sum, "any"),
    "mean": (Tensor.mean, np.mean, "any"),
    "max": (Tensor.max, np.max, "distinct"),
    "min": (Tensor.min, np.min, "distinct"),
}
AXES = [None, 0, 1, -1, (0, 2), (-1, -3), (0, 1, 2), ()]


def _check(fn, reference, *arrays, rtol=1e-12):
    out = fn(*[leaf(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), reference(*arrays), rtol=rtol, atol=1e-14)
    assert out.shape == np.shape(reference(*arrays))
    assert gradcheck(fn, [leaf(a) for a in arrays])


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_over_each_axis_form(cpu_backend, name, axis, keepdims):
    fn, reference, kind = REDUCTIONS[name]
    x = make_array(np.random.default_rng(1), (2, 3, 4), kind)
    _check(lambda t: fn(t, axis=axis, keepdims=keepdims),
           lambda a: reference(a, axis=axis, keepdims=keepdims), x)


@st.composite
def _shape_and_axis(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    axes = draw(st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda a: a % max(
        len(shape), 1), max_size=len(shape))) if shape else []
    axis = draw(st.sampled_from([None, tuple(axes)] + ([axes[0]] if axes else [])))
    return shape, axis


@pytest.mark.parametrize("name", REDUCTIONS)
@given(case=_shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reduction_on_random_shapes_and_axes(cpu_backend, name, case, keepdims, seed):
    fn, reference, kind = REDUCTIONS[name]
    shape, axis = case
    x = make_array(np.random.default_rng(seed), shape, kind)
    _check(lambda t: fn(t, axis=axis, keepdims=keepdims),
           lambda a: reference(a, axis=axis, keepdims=keepdims), x)


MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((1, 1), (1, 1)), ((2, 2, 3), (3, 4)), ((3, 2), (2, 2, 3)),
                 ((2, 1, 2, 3), (3, 3, 2)), ((1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 2)),
                 ((2, 2, 3), (3,))]


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES, ids=str)
def test_matmul_over_vector_matrix_and_batched_shapes(cpu_backend, shape_a, shape_b):
    rng = np.random.default_rng(2)
    a, b = make_array(rng, shape_a), make_array(rng, shape_b)
    _check(lambda s, t: s @ t, np.matmul, a, b)
    _check(lambda s, t: s.matmul(t), np.matmul, a, b)


@given(batch=broadcastable_shapes(max_dims=2), sizes=st.tuples(*[st.integers(1, 3)] * 3),
       vector=st.sampled_from([None, "a", "b"]), seed=seeds)
def test_matmul_on_random_broadcast_batches(cpu_backend, batch, sizes, vector, seed):
    m, k, n = sizes
    shape_a = (k,) if vector == "a" else batch[0] + (m, k)
    shape_b = (k,) if vector == "b" else batch[1] + (k, n)
    rng = np.random.default_rng(seed)
    _check(lambda s, t: s @ t, np.matmul, make_array(rng, shape_a), make_array(rng, shape_b))


def test_matmul_with_a_constant_operand(cpu_backend):
    rng = np.random.default_rng(4)
    w, x = make_array(rng, (3, 2)), Tensor(make_array(rng, (4, 3)))
    assert gradcheck(lambda t: x @ t, [leaf(w)])
    assert gradcheck(lambda t: t.T @ x.T, [leaf(w)])


SHAPE_OPS = {
    "reshape": (lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6)),
    "reshape_tuple_minus_one": (lambda t: t.reshape((-1, 2)), lambda a: a.reshape(-1, 2)),
    "transpose_two_axes": (lambda t: t.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2)),
    "transpose_negative_axes": (lambda t: t.transpose(-1, 1), lambda a: np.swapaxes(a, -1, 1)),
    "permute": (lambda t: t.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    "permute_tuple": (lambda t: t.permute((2, 0, 1)), lambda a: a.transpose(2, 0, 1)),
    "T": (lambda t: t.T, lambda a: a.T),
    "flatten": (lambda t: t.flatten(), lambda a: a.flatten()),
    "flatten_from_1": (lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    "unsqueeze": (lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
}

INDEXES = {
    "int": 1, "negative_int": -1, "slice": slice(0, 2),
    "step_slice": (slice(None), slice(None, None, 2)), "int_and_slice": (1, slice(1, 3)),
    "none": (None, 0), "ellipsis": (Ellipsis, 1), "ellipsis_none": (0, Ellipsis, None),
    "int_array": [0, 1, 1], "int_arrays": ([0, 1], [2, 2]),
    "array_2d": np.array([[0, 1], [1, 0]]), "array_and_slice": (slice(None), [2, 2, 0]),
    "bool_mask": np.array([True, False]), "tensor_index": Tensor([1, 0]),
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op(cpu_backend, name):
    fn, reference = SHAPE_OPS[name]
    _check(fn, reference, make_array(np.random.default_rng(6), (2, 3, 4)))


@pytest.mark.parametrize("name", INDEXES)
def test_getitem(cpu_backend, name):
    index = INDEXES[name]
    numpy_index = index.numpy() if isinstance(index, Tensor) else index
    _check(lambda t: t[index], lambda a: a[numpy_index],
           make_array(np.random.default_rng(8), (2, 3, 4)))


def test_getitem_repeated_indices_accumulate_their_gradients(cpu_backend):
    x = leaf([1.0, 2.0, 3.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])
    assert gradcheck(lambda t: t[[0, 0, 2, 0]] * t[[2, 2, 1, 0]], [leaf([1.0, 2.0, 3.0])])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_along_each_axis(cpu_backend, axis):
    rng = np.random.default_rng(9)
    shapes = [(2, 3), (2, 3), (2, 3)]
    shapes = [tuple(s + i if d == axis % 2 else s for d, s in enumerate(shape))
              for i, shape in enumerate(shapes)]
    arrays = [make_array(rng, s) for s in shapes]
    _check(lambda *ts: cat(list(ts), axis=axis), lambda *a: np.concatenate(a, axis=axis),
           *arrays)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_along_each_axis(cpu_backend, axis):
    rng = np.random.default_rng(10)
    arrays = [make_array(rng, (2, 3)) for _ in range(3)]
    _check(lambda *ts: stack(ts, axis=axis), lambda *a: np.stack(a, axis=axis), *arrays)


def test_cat_and_stack_with_a_constant_member(cpu_backend):
    constant = Tensor(np.ones((2, 2)))
    assert gradcheck(lambda t: cat([t, constant], axis=1) * 2.0, [leaf(np.eye(2))])
    assert gradcheck(lambda t: stack([constant, t]).sum(0), [leaf(np.eye(2))])


def _log_softmax(a, axis):
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


SOFTMAX = {
    "softmax": (lambda t, ax: t.softmax(ax), lambda a, ax: np.exp(_log_softmax(a, ax))),
    "log_softmax": (lambda t, ax: t.log_softmax(ax), _log_softmax),
    "logsumexp": (lambda t, ax: t.logsumexp(ax),
                  lambda a, ax: np.log(np.exp(a).sum(axis=ax))),
    "logsumexp_keepdims": (lambda t, ax: t.logsumexp(ax, keepdims=True),
                           lambda a, ax: np.log(np.exp(a).sum(axis=ax, keepdims=True))),
}


@pytest.mark.parametrize("name", SOFTMAX)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family_along_each_axis(cpu_backend, name, axis):
    fn, reference = SOFTMAX[name]
    _check(lambda t: fn(t, axis), lambda a: reference(a, axis),
           make_array(np.random.default_rng(12), (2, 3, 4)))


def test_logsumexp_over_several_axes_and_of_a_vector(cpu_backend):
    x = make_array(np.random.default_rng(13), (2, 3, 2))
    _check(lambda t: t.logsumexp((0, 2)), lambda a: np.log(np.exp(a).sum(axis=(0, 2))), x)
    _check(lambda t: t.softmax(), lambda a: np.exp(a) / np.exp(a).sum(), x[0, 0])


ACTIVATIONS = [None, "identity", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "gelu_tanh",
               "silu"]


def _signed_weight(rng, nin, nout):
    # Every column has one sign and x is positive, so x @ w + b stays at least 0.4 away from
    # 0: relu and leaky_relu are never checked at their kink.
    return rng.choice([-1.0, 1.0], nout) * rng.uniform(0.4, 1.0, (nin, nout))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("x_shape", [(3,), (4, 3)], ids=["x1d", "x2d"])
def test_linear_act_matches_the_unfused_composition(cpu_backend, activation, with_bias,
                                                    x_shape):
    rng = np.random.default_rng(14)
    x, w = rng.uniform(0.5, 1.5, x_shape), _signed_weight(rng, 3, 2)
    b = rng.uniform(-0.1, 0.1, 2)
    arrays = [x, w, b] if with_bias else [x, w]

    def unfused(xt, wt, bt=None):
        z = xt @ wt if bt is None else xt @ wt + bt
        if activation in (None, "identity"):
            return z
        if activation == "gelu_tanh":
            return z.gelu(approximate="tanh")
        return getattr(z, activation)()

    def fused(*ts):
        return linear_act(*ts, activation=activation)

    out = fused(*[leaf(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), unfused(*[Tensor(a) for a in arrays]).numpy(),
                               rtol=1e-12, atol=1e-15)
    assert out.shape == x_shape[:-1] + (2,)
    assert gradcheck(fused, [leaf(a) for a in arrays])


def test_linear_act_leaky_slope_and_preactivation(cpu_backend):
    rng = np.random.default_rng(15)
    x, w = rng.uniform(0.5, 1.5, (2, 3)), _signed_weight(rng, 3, 4)
    out = linear_act(leaf(x), leaf(w), activation="leaky_relu", negative_slope=0.2)
    z = x @ w
    np.testing.assert_allclose(out.numpy(), np.where(z > 0, z, 0.2 * z), rtol=1e-13)
    np.testing.assert_allclose(out.grad_fn.details()["preactivation"].numpy(), z, rtol=1e-13)
    assert gradcheck(lambda s, t: linear_act(s, t, activation="leaky_relu", negative_slope=0.2),
                     [leaf(x), leaf(w)])
