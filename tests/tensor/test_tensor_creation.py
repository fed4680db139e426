"""Tensor construction: dtype rules (as in PyTorch), attributes, conversions, constructors and
reproducible random draws."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import DTypeError, ShapeError, Tensor


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1, 2.5]], np.float32),
    (3, np.int64), ([1, 2], np.int64), ([True, False], np.bool_),
    (np.array([1.0, 2.0]), np.float64), (np.float64(2.0), np.float64),
    (np.array([1.0], dtype=np.float32), np.float32), (np.array([1, 2], dtype=np.int32), np.int32),
])
def test_data_gets_pytorchs_default_dtype(data, dtype):
    assert Tensor(data).dtype == dtype


def test_tensor_from_tensor_keeps_dtype_and_copies():
    source = Tensor(np.array([1.0, 2.0]))
    copy = Tensor(source)
    copy.data[0] = 9.0
    assert copy.dtype == np.float64 and source.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, "float64"])
def test_dtype_argument_overrides_the_default(dtype):
    assert Tensor([1.0, 2.0], dtype=dtype).dtype == np.dtype(dtype)


def test_python_floats_with_float64_dtype_are_not_rounded_through_float32():
    assert Tensor(0.1, dtype=np.float64).item() == 0.1
    assert Tensor([0.1, 1 / 3], dtype=np.float64).tolist() == [0.1, 1 / 3]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scalar", [2.5, 2, np.float64(2.5), True])
def test_python_scalars_never_upcast_a_float_tensor(dtype, scalar):
    t = Tensor(np.ones(3, dtype=dtype))
    for result in [t * scalar, scalar * t, t + scalar, scalar - t, t / scalar, scalar / t,
                   t ** scalar, scalar ** t]:
        assert result.dtype == dtype


def test_integer_tensor_with_float_scalar_becomes_float32():
    t = Tensor([1, 2, 3])
    assert (t + 0.5).dtype == np.float32 and (0.5 * t).dtype == np.float32
    np.testing.assert_array_equal((t * 0.5).numpy(), [0.5, 1.0, 1.5])
    assert (t + 1).dtype == np.int64 and (t * t).dtype == np.int64


def test_integer_division_is_true_division_into_float32():
    result = Tensor([1, 2, 3]) / 2
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result.numpy(), [0.5, 1.0, 1.5])
    assert (Tensor([3]) / Tensor([2])).item() == 1.5 and (1 / Tensor([4])).item() == 0.25


def test_integer_tensor_with_float_tensor_takes_the_float_dtype():
    assert (Tensor([1, 2]) + Tensor(np.array([0.5, 0.5]))).dtype == np.float64
    assert (Tensor([1, 2]) * Tensor([0.5, 0.5])).dtype == np.float32


def test_bool_tensor_with_int_scalar_counts_as_int():
    assert (Tensor([True, False]) + 2).tolist() == [3, 2]


@pytest.mark.parametrize("data", [[1, 2], [True], 3])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    with pytest.raises(DTypeError, match=r"Tensor: only floating tensors can require grad.*"
                                         r"(int64|bool)"):
        Tensor(data, requires_grad=True)
    with pytest.raises(DTypeError, match="requires_grad_"):
        Tensor(data).requires_grad_()


@pytest.mark.parametrize("data, error, pattern", [
    ("abc", DTypeError, "str"), (["a", "b"], DTypeError, "strings"), (None, DTypeError, "None"),
    ([1 + 2j], DTypeError, "complex"), (np.array([1j]), DTypeError, "complex"),
    (object(), DTypeError, "objects"), ([[1.0, 2.0], [3.0]], ShapeError, "rectangular"),
    (np.zeros(2, dtype=np.float16), DTypeError, "float16"),
])
def test_non_numeric_or_ragged_data_raises_a_clear_error(data, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        Tensor(data)
    assert str(info.value).startswith("Tensor")


def test_data_is_writable_and_shared():
    t = Tensor([1.0, 2.0, 3.0])
    t.data[1] = 7.0
    assert t.tolist() == [1.0, 7.0, 3.0]
    detached = t.detach()
    detached.data[0] = -1.0
    assert t.tolist()[0] == -1.0 and not detached.requires_grad and detached.grad_fn is None


def test_numpy_is_the_array_itself_on_the_numpy_array_backends(cpu_backend):
    t = Tensor([1.0, 2.0, 3.0])
    # The strict backend boxes its arrays (a device's are not numpy arrays either).
    assert (t.numpy() is t.data) == (cpu_backend != "strict")


def test_a_full_reduction_converts_to_a_0d_array(cpu_backend):
    total = Tensor([1.5, 2.0]).sum()   # a numpy scalar inside, on the numpy backends
    for array in (total.numpy(), np.asarray(total), np.asarray(total, dtype=np.float64)):
        assert isinstance(array, np.ndarray) and array.shape == () and array == 3.5
    assert total.numpy().dtype == np.float32 and total == pytest.approx(3.5)


def test_attributes_and_conversions():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert (t.shape, t.ndim, t.dtype, t.numel(), len(t)) == ((2, 3), 2, np.float64, 6, 2)
    assert t.grad is None and t.requires_grad and t.is_leaf and t.device == "cpu"
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    np.testing.assert_array_equal(np.asarray(t), t.numpy())
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert Tensor([[4.5]]).item() == 4.5 and isinstance(Tensor(2).item(), int)
    assert float(Tensor(2.5)) == 2.5


def test_item_of_many_elements_and_len_of_0d_are_errors():
    with pytest.raises(ShapeError, match=r"item.*\(2,\)"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError):
        len(Tensor(1.0))


def test_repr_shows_values_dtype_and_grad_state():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.], dtype=float32)"
    leaf = Tensor([1.0], requires_grad=True, label="w")
    assert "requires_grad=True" in repr(leaf) and "label='w'" in repr(leaf)
    assert "op=mul" in repr(leaf * 2)


def test_grad_is_a_tensor_of_the_same_shape_after_backward():
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    (t * 3.0).sum().backward()
    assert isinstance(t.grad, Tensor) and t.grad.shape == (2, 3) and t.grad.dtype == np.float64
    np.testing.assert_array_equal(t.grad.numpy(), np.full((2, 3), 3.0))


@pytest.mark.parametrize("make, shape, fill", [
    (lambda: Tensor.zeros(2, 3), (2, 3), 0.0), (lambda: Tensor.zeros((2, 3)), (2, 3), 0.0),
    (lambda: Tensor.ones(4), (4,), 1.0), (lambda: Tensor.full((2, 2), 7.5), (2, 2), 7.5),
    (lambda: Tensor.full(3, -1.0), (3,), -1.0), (lambda: Tensor.zeros(), (), 0.0),
])
def test_filled_constructors_give_float32_of_the_shape(make, shape, fill):
    t = make()
    assert t.shape == shape and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full(shape, fill))


def test_constructors_take_dtype_and_requires_grad():
    t = Tensor.ones(2, dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    assert Tensor.zeros(2, dtype=np.int64).dtype == np.int64
    with pytest.raises(DTypeError):
        Tensor.zeros(2, dtype=np.int64, requires_grad=True)


def test_like_constructors_copy_shape_and_dtype():
    source = Tensor(np.arange(6).reshape(3, 2))
    zeros, ones = Tensor.zeros_like(source), Tensor.ones_like(source, dtype=np.float64)
    assert zeros.shape == (3, 2) and zeros.dtype == np.int64 and not zeros.numpy().any()
    assert ones.dtype == np.float64 and ones.numpy().sum() == 6


def test_arange_and_eye():
    assert Tensor.arange(4).tolist() == [0, 1, 2, 3] and Tensor.arange(4).dtype == np.int64
    assert Tensor.arange(1, 7, 2).tolist() == [1, 3, 5]
    floats = Tensor.arange(0.0, 1.0, 0.25)
    assert floats.dtype == np.float32 and floats.tolist() == [0.0, 0.25, 0.5, 0.75]
    np.testing.assert_array_equal(Tensor.eye(3).numpy(), np.eye(3))
    assert Tensor.eye(2, 3).shape == (2, 3) and Tensor.eye(2).dtype == np.float32
    with pytest.raises(ValueError, match="arange"):
        Tensor.arange(0, 3, 0)


def test_random_constructors_have_the_right_shape_dtype_and_range():
    uniform = Tensor.rand(1000)
    assert uniform.dtype == np.float32 and 0.0 <= uniform.numpy().min()
    assert uniform.numpy().max() < 1.0 and 0.4 < uniform.numpy().mean() < 0.6
    normal = Tensor.randn(2000, dtype=np.float64, requires_grad=True)
    assert normal.dtype == np.float64 and normal.requires_grad
    assert abs(normal.numpy().mean()) < 0.15 and 0.85 < normal.numpy().std() < 1.15
    assert Tensor.randn(2, 3).shape == (2, 3)
    with pytest.raises(DTypeError, match="randn"):
        Tensor.randn(2, dtype=np.int64)


def test_manual_seed_makes_random_draws_reproducible():
    tg.manual_seed(1234)
    first = (Tensor.randn(5).numpy(), Tensor.rand(2, 2).numpy())
    tg.manual_seed(1234)
    second = (Tensor.randn(5).numpy(), Tensor.rand(2, 2).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    tg.manual_seed(4321)
    assert not np.array_equal(Tensor.randn(5).numpy(), first[0])
    with pytest.raises(TypeError, match="manual_seed"):
        tg.manual_seed(-1)
