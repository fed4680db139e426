"""backward(): seeding, accumulation, broadcasting adjoints, deep graphs, and no_grad."""

import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GradError, ShapeError, Tensor
from tinygrad_edu.tensor.context import module_scope


def _leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_one_element_output_seeds_with_one(cpu_backend):
    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 4.0], [6.0, 8.0]])
    y = _leaf([2.0])
    (y * 3.0).reshape(1, 1).backward()
    assert y.grad.tolist() == [3.0]


def test_non_scalar_output_without_grad_raises_grad_error_naming_the_shape():
    out = _leaf([1.0, 2.0]) * 2.0
    with pytest.raises(GradError, match=r"backward.*\(2,\).*grad"):
        out.backward()


def test_explicit_grad_is_used_as_the_seed(cpu_backend):
    x = _leaf([1.0, 2.0, 3.0])
    (x * x).backward(Tensor(np.array([1.0, 0.0, -1.0])))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, -6.0])
    x.grad = None
    (x * 2.0).backward([0.5, 0.5, 0.5])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("grad_shape", [(3, 1), (2,), (), (1, 3)])
def test_grad_of_the_wrong_shape_raises_shape_error(grad_shape):
    out = _leaf([1.0, 2.0, 3.0]) * 2.0
    with pytest.raises(ShapeError, match=r"backward.*grad has shape.*\(3,\)"):
        out.backward(np.ones(grad_shape))


def test_backward_on_a_tensor_without_grad_raises_grad_error():
    with pytest.raises(GradError, match="backward.*does not require grad"):
        (Tensor([1.0]) * 2).backward()


def test_intermediate_tensors_get_their_gradients(cpu_backend):
    x = _leaf([1.0, -2.0])
    h = x * 3.0
    out = (h * h).sum()
    out.backward()
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, -12.0])
    np.testing.assert_array_equal(x.grad.numpy(), [18.0, -36.0])
    assert out.grad.item() == 1.0
    assert h.inputs[0] is x and h.op == "mul" and x.op == "" and x.inputs == ()


def test_gradients_accumulate_across_backward_calls(cpu_backend):
    x = _leaf([1.0, 2.0])
    out = (x.exp() * x).sum()
    out.backward()
    first = x.grad.numpy().copy()
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first + 1)


def test_leaves_fed_the_same_gradient_do_not_share_storage(cpu_backend):
    a, b = _leaf([1.0]), _leaf([2.0])
    (a + b).sum().backward()
    a.grad.data[0] = 100.0
    assert b.grad.item() == 1.0


def test_broadcasting_gradients_are_summed_back_to_each_shape(cpu_backend):
    column, row, scalar = _leaf([[1.0], [2.0], [3.0]]), _leaf([1.0, 10.0]), _leaf(0.5)
    ((column * row) + scalar).sum().backward()
    np.testing.assert_array_equal(column.grad.numpy(), [[11.0], [11.0], [11.0]])
    np.testing.assert_array_equal(row.grad.numpy(), [6.0, 6.0])
    assert scalar.grad.shape == () and scalar.grad.item() == 6.0


def test_a_tensor_used_many_times_sums_its_gradients(cpu_backend):
    x = _leaf([1.5, -0.5])
    total = x
    for k in range(2, 50):
        total = total + x * float(k)
    total.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [sum(range(1, 50))] * 2)


def test_ten_thousand_deep_chain_backpropagates(cpu_backend):
    x = _leaf([1.0, 2.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000] * 2, rtol=1e-10)


def test_detach_and_constants_stop_the_gradient(cpu_backend):
    x = _leaf([2.0])
    (x * x.detach()).sum().backward()
    assert x.grad.item() == 2.0
    y = Tensor([3.0]) * Tensor([4.0])
    assert not y.requires_grad and y.grad_fn is None


def test_cast_between_float_dtypes_is_differentiable(cpu_backend):
    x = _leaf([1.0, 2.0])
    out = x.float() * 3.0
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [3.0, 3.0]


def test_no_grad_as_context_manager_records_nothing(cpu_backend):
    x = _leaf([1.0])
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.enable_grad():
            z = x * 3
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z._ctx is not None


def test_no_grad_as_decorator_and_restores_the_mode_after_an_exception():
    x = _leaf([1.0])

    @tg.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad and tg.is_grad_enabled()
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        raise ZeroDivisionError
    assert tg.is_grad_enabled()


def test_no_grad_in_another_thread_does_not_affect_this_one():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tg.no_grad():
            seen["worker"] = tg.is_grad_enabled()
            inside.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        assert tg.is_grad_enabled()
        assert (_leaf([1.0]) * 2).requires_grad
    finally:
        release.set()
        thread.join()
    assert seen["worker"] is False


def test_tensors_record_the_module_scope_they_were_made_in():
    x = _leaf([1.0])
    outer, inner = object(), object()
    with module_scope(outer):
        a = x * 2
        with module_scope(inner):
            b = a + 1
    c = b * 3
    assert a._scope == (outer,) and b._scope == (outer, inner) and c._scope == ()
