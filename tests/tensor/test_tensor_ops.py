"""Op behaviour finite differences cannot check: gradients at ties and kinks (the values PyTorch
gives), numerical stability at extreme inputs, comparisons and dtype preservation."""

import numpy as np
import pytest

from tinygrad_edu import Tensor, cat, stack, where


def _grad(fn, values, dtype=np.float64):
    x = Tensor(np.array(values, dtype=dtype), requires_grad=True)
    fn(x).backward()
    return x.grad.numpy()


def test_max_splits_the_gradient_evenly_among_ties(cpu_backend):
    np.testing.assert_array_equal(_grad(lambda t: t.max(), [1.0, 3.0, 3.0, 2.0, 3.0]),
                                  [0, 1 / 3, 1 / 3, 0, 1 / 3])
    rows = [[1.0, 1.0, 0.0], [2.0, 5.0, 5.0], [4.0, 0.0, 1.0]]
    np.testing.assert_array_equal(_grad(lambda t: (t.max(axis=1) * Tensor([1.0, 2.0, 3.0])).sum(),
                                        rows),
                                  [[0.5, 0.5, 0], [0, 1, 1], [3, 0, 0]])
    np.testing.assert_array_equal(_grad(lambda t: t.max(axis=0, keepdims=True).sum(), rows),
                                  [[0, 0, 0], [0, 1, 1], [1, 0, 0]])


def test_min_splits_the_gradient_evenly_among_ties(cpu_backend):
    np.testing.assert_array_equal(_grad(lambda t: t.min(), [[2.0, -1.0], [-1.0, 0.0]]),
                                  [[0, 0.5], [0.5, 0]])
    np.testing.assert_array_equal(_grad(lambda t: t.min(axis=-1).sum(), [[4.0, 4.0, 4.0, 4.0]]),
                                  [[0.25, 0.25, 0.25, 0.25]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_at_kinks_follow_pytorch(cpu_backend, dtype):
    # relu/leaky_relu take the left derivative at 0, abs has 0, clip passes the gradient at
    # its bounds (the interval is closed).
    np.testing.assert_array_equal(_grad(lambda t: t.relu().sum(), [0.0, 1.0, -1.0], dtype),
                                  [0, 1, 0])
    np.testing.assert_array_equal(
        _grad(lambda t: t.leaky_relu(0.2).sum(), [0.0, 1.0, -1.0], dtype),
        np.array([0.2, 1, 0.2], dtype=dtype))
    np.testing.assert_array_equal(_grad(lambda t: t.abs().sum(), [0.0, 2.0, -2.0], dtype),
                                  [0, 1, -1])
    np.testing.assert_array_equal(
        _grad(lambda t: t.clip(-1.0, 1.0).sum(), [-1.0, 1.0, 0.5, -1.5, 1.5], dtype),
        [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(_grad(lambda t: t.prelu(0.25).sum(), [0.0, 2.0], dtype),
                                  [0.25, 1])


# numpy warns about the 0 ** -1 it computes on the way; the result is what matters here.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
def test_pow_gradients_at_zero_follow_pytorch(cpu_backend):
    np.testing.assert_array_equal(_grad(lambda t: (t ** 0).sum(), [0.0, 2.0]), [0, 0])
    np.testing.assert_array_equal(_grad(lambda t: (t ** 2).sum(), [0.0, -3.0]), [0, -6])
    exponent = Tensor([2.0, 0.5], requires_grad=True, dtype=np.float64)
    (Tensor([0.0, 0.0], dtype=np.float64) ** exponent).sum().backward()
    np.testing.assert_array_equal(exponent.grad.numpy(), [0, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_is_stable_at_huge_inputs(cpu_backend, dtype):
    x = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    t = Tensor(x, requires_grad=True)
    softmax, log_softmax, logsumexp = t.softmax(), t.log_softmax(), t.logsumexp(-1)
    np.testing.assert_allclose(softmax.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    np.testing.assert_allclose(log_softmax.numpy(),
                               [[0, -1000, -2000], [-np.log(3)] * 3], rtol=1e-6)
    np.testing.assert_allclose(logsumexp.numpy(), [1000, -1000 + np.log(3)], rtol=1e-6)
    (softmax[:, 0].sum() + log_softmax.sum() + logsumexp.sum()).backward()
    assert np.isfinite(t.grad.numpy()).all()
    # d logsumexp / dx = s (the softmax); d sum(log_softmax) / dx = 1 - 3 s;
    # d s_0 / dx_j = s_0 (delta_0j - s_j).
    s = np.array([[1, 0, 0], [1 / 3] * 3])
    expected = s + 1 - 3 * s + s[:, :1] * (np.eye(3)[0] - s)
    np.testing.assert_allclose(t.grad.numpy(), expected, atol=1e-6)
    assert softmax.dtype == dtype and logsumexp.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_friends_are_finite_at_huge_inputs(cpu_backend, dtype):
    t = Tensor(np.array([1000.0, -1000.0], dtype=dtype), requires_grad=True)
    out = t.sigmoid()
    np.testing.assert_array_equal(out.numpy(), [1.0, 0.0])
    (out.sum() + t.tanh().sum() + t.silu().sum() + t.gelu().sum()).backward()
    np.testing.assert_allclose(t.grad.numpy(), [2.0, 0.0], atol=1e-30)
    np.testing.assert_array_equal(t.gelu("tanh").numpy(), [1000.0, -0.0])


def test_comparisons_give_boolean_tensors_outside_the_graph(cpu_backend):
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    results = {"<": a < 2, "<=": a <= 2, ">": a > 2.0, ">=": a >= Tensor([3.0]),
               "==": a == 2, "!=": a != 2}
    expected = {"<": [1, 0, 0], "<=": [1, 1, 0], ">": [0, 0, 1], ">=": [0, 0, 1],
                "==": [0, 1, 0], "!=": [1, 0, 1]}
    for op, result in results.items():
        assert result.dtype == np.bool_ and not result.requires_grad and result._ctx is None
        np.testing.assert_array_equal(result.numpy(), np.array(expected[op], dtype=bool))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_op_keeps_the_float_dtype(cpu_backend, dtype):
    t = Tensor(np.array([[0.5, 1.5], [2.0, 0.25]], dtype=dtype), requires_grad=True)
    results = [t + 1, 2 - t, t * 3, t / 4, 5 / t, t ** 2, 2 ** t, -t, t @ t, t.sum(0),
               t.mean(), t.max(1), t.min(), t.exp(), t.log(), t.sqrt(), t.abs(),
               t.clip(0.5, 1.0), t.reshape(4), t.T, t[0], cat([t, t]), stack([t, t]),
               where(t > 1, t, 0.0), t.relu(), t.leaky_relu(), t.sigmoid(), t.tanh(),
               t.gelu(), t.gelu("tanh"), t.silu(), t.prelu(0.1), t.softmax(),
               t.log_softmax(), t.logsumexp(0)]
    assert [r.dtype for r in results] == [np.dtype(dtype)] * len(results)
    sum(r.sum() for r in results).backward()
    assert t.grad.dtype == dtype


def test_float32_and_float64_tensors_combine_into_float64_with_matching_gradients():
    small = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    big = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = small * big
    assert out.dtype == np.float64
    out.sum().backward()
    assert small.grad.dtype == np.float32 and big.grad.dtype == np.float64
    np.testing.assert_array_equal(small.grad.numpy(), [3.0, 4.0])


def test_integer_tensors_work_for_indices_and_arithmetic(cpu_backend):
    labels = Tensor([2, 0, 1])
    logits = Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    picked = logits[Tensor.arange(3), labels]
    np.testing.assert_array_equal(picked.numpy(), [2.0, 3.0, 7.0])
    picked.sum().backward()
    np.testing.assert_array_equal(logits.grad.numpy(), np.eye(3)[[2, 0, 1]])
    assert (labels * 2 + 1).tolist() == [5, 1, 3] and labels.max().item() == 2
    assert labels.sum().item() == 3 and labels.abs().dtype == np.int64


def test_mixing_a_tensor_with_lists_and_arrays(cpu_backend):
    t = Tensor(np.array([1.0, 2.0]))
    np.testing.assert_array_equal((t + [1.0, 1.0]).numpy(), [2.0, 3.0])
    np.testing.assert_array_equal((np.array([2.0, 2.0]) * t).numpy(), [2.0, 4.0])
    assert isinstance(np.array([2.0, 2.0]) * t, Tensor)
    np.testing.assert_array_equal((np.eye(2) @ t).numpy(), [1.0, 2.0])
