"""Ops whose results are indices, booleans or integers (argmax, any, isclose, // and % on
integers, min of integers and booleans) and the new constructors, against numpy, on every CPU
backend."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import ArgumentError, DTypeError, Tensor

from shape_strategies import make_array


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_and_argmin_match_numpy_with_ties_and_nan(cpu_backend, axis, keepdims):
    x = np.array([[1.0, 3.0, 3.0, -2.0], [np.nan, 0.5, np.nan, 9.0], [-4.0, -4.0, 7.0, 7.0]])
    for name in ("argmax", "argmin"):
        for data in (x, np.nan_to_num(x), np.array([[5, -2**62, 5], [0, 1, 1]]),
                     np.array([[True, False], [False, False]])):
            out = getattr(Tensor(data), name)(axis, keepdims)
            expected = getattr(np, name)(data, axis=axis, keepdims=keepdims)
            assert out.dtype == np.int64 and not out.requires_grad
            np.testing.assert_array_equal(out.numpy(), expected, err_msg=f"{name} of {data}")


def test_argmax_of_a_0d_tensor_is_0(cpu_backend):
    assert Tensor(2.5).argmax().item() == 0 and Tensor(2.5).argmin(0).item() == 0


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_any_and_all_match_numpy(cpu_backend, axis, keepdims):
    for data in (np.array([[0.0, 2.0, np.nan], [0.0, 0.0, -1.0]]),
                 np.array([[True, True], [False, True]]), np.zeros((0, 3)), np.ones((2, 0))):
        for name in ("any", "all"):
            out = getattr(Tensor(data), name)(axis, keepdims)
            assert out.dtype == np.bool_
            np.testing.assert_array_equal(
                out.numpy(), getattr(np, name)(data, axis=axis, keepdims=keepdims))


def test_min_of_integers_and_booleans_is_a_true_minimum(cpu_backend):
    assert Tensor([0, -2**31]).min().item() == -2**31
    assert Tensor(np.array([5, -2**63, 3], dtype=np.int64)).min().item() == -2**63
    assert Tensor(np.array([7, 250], dtype=np.uint8)).min().item() == 7
    assert Tensor([True, False]).min().item() is False and Tensor([True]).min().dtype == np.bool_
    np.testing.assert_array_equal(Tensor([[3, 1], [0, 4]]).min(1).numpy(), [1, 0])


def test_integer_floor_division_and_remainder_follow_python(cpu_backend):
    a = np.array([7, -7, 7, -7, 0, 2**40 + 3])
    b = np.array([2, 2, -2, -2, 5, 7])
    assert (Tensor(a) // Tensor(b)).tolist() == [x // y for x, y in zip(a.tolist(), b.tolist())]
    assert (Tensor(a) % Tensor(b)).tolist() == [x % y for x, y in zip(a.tolist(), b.tolist())]
    assert (Tensor(a) // 3).dtype == np.int64 and (17 % Tensor(b)).tolist() == [
        17 % y for y in b.tolist()]
    assert (Tensor([7.5, -7.5]) // 2).tolist() == [3.0, -4.0]
    assert (Tensor([5.5]) % -2.0).tolist() == [-0.5]


def test_integer_division_by_zero_and_boolean_division_are_errors(cpu_backend):
    with pytest.raises(ArgumentError, match="floor_divide: integer division by zero"):
        Tensor([1, 2]) // Tensor([1, 0])
    with pytest.raises(ArgumentError, match="mod: integer division by zero"):
        Tensor([1, 2]) % 0
    with pytest.raises(DTypeError, match="boolean"):
        Tensor([True]) // Tensor([True])


def test_rounding_and_sign_keep_integer_tensors_and_round_halves_to_even(cpu_backend):
    ints = Tensor([-3, 0, 4])
    assert ints.floor().tolist() == [-3, 0, 4] and ints.round().dtype == np.int64
    assert ints.sign().tolist() == [-1, 0, 1]
    halves = Tensor([0.5, 1.5, 2.5, -0.5, -1.5])
    np.testing.assert_array_equal(halves.round().numpy(), [0.0, 2.0, 2.0, -0.0, -2.0])
    specials = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, -2.5])
    for name in ("floor", "ceil", "round", "sign"):
        out = getattr(Tensor(specials, dtype=np.float64), name)().numpy()
        expected = getattr(np, name)(specials)
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf on the way
def test_isclose_and_allclose_match_numpy_at_infinities_and_nan(cpu_backend):
    a = np.array([1.0, 1.0 + 1e-9, np.inf, np.inf, -np.inf, np.nan, 1.0, 1e-9])
    b = np.array([1.0, 1.0, np.inf, -np.inf, 1e300, np.nan, np.inf, 0.0])
    for equal_nan in (False, True):
        np.testing.assert_array_equal(Tensor(a).isclose(Tensor(b), equal_nan=equal_nan).numpy(),
                                      np.isclose(a, b, equal_nan=equal_nan))
        assert tg.isclose(a, Tensor(b), rtol=0.5).dtype == np.bool_
    assert Tensor([1.0, 2.0]).allclose([1.0, 2.0 + 1e-7]) and not tg.allclose(a, b)
    assert Tensor([1, 2]).isclose(Tensor([1, 3])).tolist() == [True, False]


def test_full_like_linspace_and_randint(cpu_backend):
    x = Tensor(np.ones((2, 3)), dtype=np.float64)
    full = Tensor.full_like(x, 7)
    assert full.shape == (2, 3) and full.dtype == np.float64 and full.tolist() == [[7.0] * 3] * 2
    assert Tensor.full_like(x, 2, dtype=np.int64).dtype == np.int64
    line = Tensor.linspace(-1, 1, 5)
    assert line.dtype == np.float32
    np.testing.assert_array_equal(line.numpy(), np.linspace(-1, 1, 5, dtype=np.float32))
    assert Tensor.linspace(0, 1, 0).shape == (0,)
    tg.manual_seed(3)
    draw = Tensor.randint(-2, 5, (200,))
    tg.manual_seed(3)
    again = Tensor.randint(-2, 5, size=(200,))
    assert draw.dtype == np.int64 and draw.tolist() == again.tolist()
    assert set(draw.tolist()) == set(range(-2, 5))
    assert Tensor.randint(3, (2, 2)).shape == (2, 2)
    assert Tensor.randint(0, 3, (4,), dtype=np.int32).dtype == np.int32


@pytest.mark.parametrize("call, words", [
    (lambda: Tensor.randint(5), ["randint", "size"]),
    (lambda: Tensor.randint(5, 2, (3,)), ["randint", "low (5)", "high (2)"]),
    (lambda: Tensor.randint(0.5, 2, (3,)), ["randint", "low", "0.5"]),
    (lambda: Tensor.linspace(0, 1, -1), ["linspace", "steps", "-1"]),
])
def test_bad_constructor_arguments_name_the_argument(call, words):
    with pytest.raises(ArgumentError) as info:
        call()
    assert all(word in str(info.value) for word in words)


def test_cumsum_of_integers_and_booleans_counts_in_int64(cpu_backend):
    assert Tensor([True, False, True]).cumsum(0).tolist() == [1, 1, 2]
    assert Tensor(np.array([1, 2], dtype=np.int32)).cumsum().dtype == np.int64
    assert Tensor(np.array([[1, 2], [3, 4]])).prod(0).tolist() == [3, 8]


def test_pow_gradient_in_the_exponent_at_zero_base_is_minus_infinity_for_negative_powers(
        cpu_backend):
    exponent = Tensor([-1.0, -0.5, 0.0, 2.0], requires_grad=True, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        (Tensor(np.zeros(4)) ** exponent).backward(np.ones(4))
    np.testing.assert_array_equal(exponent.grad.numpy(), [-np.inf, -np.inf, 0.0, 0.0])


def test_everyday_ops_on_random_data_never_touch_the_host(cpu_backend):
    # On the strict backend any numpy use outside the backend raises: run every new op once.
    x = Tensor(make_array(np.random.default_rng(0), (3, 4)), requires_grad=True)
    y = Tensor(make_array(np.random.default_rng(1), (4,), "nonzero"))
    out = (x.sin() + x.cos() + (x * x + 0.5).log2() + x.exp2() + x.floor() + x.ceil() + x.round(1)
           + x.sign() + x.clamp(-1, 1) + x.maximum(y) + x.minimum(y) + x % y + x // y
           + x.prod(1, keepdims=True) + x.var(0) + x.std(1, keepdims=True) + x.cumsum(1)
           + x.flip(1) + x.repeat(1, 1) + x[:1].expand(3, 4) + x.t().t() + x.view(4, 3).T)
    out.sum().backward()
    assert x.grad.shape == (3, 4)
    assert x.argmax(1).shape == (3,) and x.any().item() and x.isclose(x).all().item()
